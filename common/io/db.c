/* db.c: connection management and prepared statements over MariaDB
 * Connector/C. Prepared statements are kept per connection, keyed by their
 * SQL text (DB_CACHE of them, least recently used goes first), so a
 * statement a worker ran before costs one round trip instead of three
 * (prepare, execute, close); a failed statement is closed, and a lost
 * connection takes every kept statement with it. Results, binds and fetch
 * buffers live in the request arena (db_exec, which has none, binds on its
 * stack). The kept SQL texts are malloc'd: the connection's lifetime.
 *
 * A kept connection may have died while the worker was idle (MariaDB
 * restarted, wait_timeout, a proxy). Before a statement, a connection the
 * server closed is seen without a round trip (its socket polls readable
 * while no query is pending) and replaced; and a statement that fails with
 * a lost connection outside a transaction is run once more on a fresh one
 * when that is safe: a read (db_query), START TRANSACTION, or a write whose
 * failure came before the server had it (at prepare, or "gone away" on
 * sending). A write lost after it was sent, or anything inside a
 * transaction, is not repeated: the caller gets DB_ECONN. */
#include "common/io/db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>

#include "common/base/config.h"

/* Parameters db_exec binds on its stack; more go to the heap. */
enum { DB_SMALL_BINDS = 8 };

/* Prepared statements kept per connection. */
enum { DB_CACHE = 32 };

struct db_kept {
    char *sql;                /* NULL: a free slot */
    size_t len;
    MYSQL_STMT *st;
    unsigned long long used;  /* for LRU */
};

struct db {
    MYSQL *my;
    const struct cfg *cfg;
    struct db_kept kept[DB_CACHE];
    unsigned long long clock;
    int in_tx;                /* between a START TRANSACTION and its end */
    int sent;                 /* the failing statement reached the server (may have run) */
};

static void db_kept_drop(struct db_kept *k)
{
    if (k->st) mysql_stmt_close(k->st);
    free(k->sql);
    memset(k, 0, sizeof(*k));
}

/* Closes every kept statement and the connection. */
static void db_disconnect(struct db *d)
{
    for (int i = 0; i < DB_CACHE; i++) db_kept_drop(&d->kept[i]);
    if (d->my) mysql_close(d->my);
    d->my = NULL;
    d->in_tx = 0;   /* the server rolled it back */
}

static MYSQL *db_connect(const struct cfg *c, char *err, size_t errlen)
{
    MYSQL *my = mysql_init(NULL);
    if (!my) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned ct = (unsigned)(c->db_connect_timeout_ms + 999) / 1000;
    unsigned rt = (unsigned)(c->db_read_timeout_ms + 999) / 1000;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    const char *sock = c->db_socket[0] ? c->db_socket : NULL;
    const char *host = sock ? "localhost" : c->db_host;
    if (!mysql_real_connect(my, host, c->db_user, c->db_password, c->db_name,
                            (unsigned)c->db_port, sock, CLIENT_MULTI_RESULTS | CLIENT_FOUND_ROWS)) {
        snprintf(err, errlen, "%s", mysql_error(my));
        mysql_close(my);
        return NULL;
    }
    return my;
}

struct db *db_open(const struct cfg *c, char *err, size_t errlen)
{
    struct db *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->cfg = c;
    d->my = db_connect(c, err, errlen);
    if (!d->my) {
        free(d);
        return NULL;
    }
    return d;
}

void db_close(struct db *d)
{
    if (!d) return;
    db_disconnect(d);
    free(d);
}

int db_ping(struct db *d, char *err, size_t errlen)
{
    if (d->my && mysql_ping(d->my) == 0) return 0;
    db_disconnect(d);
    d->my = db_connect(d->cfg, err, errlen);
    return d->my ? 0 : -1;
}

int db_ensure(struct db **dp, const struct cfg *c, char *err, size_t errlen)
{
    if (!*dp) {
        *dp = db_open(c, err, errlen);
        return *dp ? 0 : -1;
    }
    if ((*dp)->my) return 0;
    return db_ping(*dp, err, errlen);
}

/* 1 when the server closed an idle connection (or wrote to it unasked:
 * an error packet before closing): nothing is pending on it between
 * statements, so a readable socket means it is gone. No round trip. */
static int db_dead(struct db *d)
{
    if (!d->my) return 1;
    int fd = (int)mysql_get_socket(d->my);
    if (fd < 0) return 1;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) != 0;
}

/* Before a statement: a connection that is gone (or was never made) is
 * replaced. DB_OK or DB_ECONN with err filled. */
static int db_live(struct db *d, char *err, size_t errlen)
{
    if (!d) {
        snprintf(err, errlen, "no database connection");
        return DB_ECONN;
    }
    if (d->my && (d->in_tx || !db_dead(d))) return DB_OK;   /* in a transaction: its failure is the caller's */
    db_disconnect(d);
    d->my = db_connect(d->cfg, err, errlen);
    return d->my ? DB_OK : DB_ECONN;
}

/* Connection-level errors: the server went away or cannot be reached. */
static int db_class(unsigned e)
{
    switch (e) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_LOST_EXTENDED:
    case 1053: /* ER_SERVER_SHUTDOWN */
    case 1927: /* ER_CONNECTION_KILLED */
        return DB_ECONN;
    default:
        return DB_EQUERY;
    }
}

/* Closes st, kept or not. */
static void db_stmt_drop(struct db *d, MYSQL_STMT *st)
{
    for (int i = 0; i < DB_CACHE; i++)
        if (d->kept[i].st == st) {
            db_kept_drop(&d->kept[i]);
            return;
        }
    mysql_stmt_close(st);
}

/* A statement failed: fills err, closes it (kept or not), and on a lost
 * connection forgets the connection (the next db_ensure reconnects).
 * Returns the failure class. */
static int db_fail(struct db *d, MYSQL_STMT *st, char *err, size_t errlen)
{
    unsigned e = mysql_stmt_errno(st);
    int cls = db_class(e);
    d->sent = e != CR_SERVER_GONE_ERROR;   /* "gone away": the request was not written */
    snprintf(err, errlen, "%s", mysql_stmt_error(st));
    db_stmt_drop(d, st);
    if (cls == DB_ECONN) db_disconnect(d);
    return cls;
}

/* The kept statement for sql, prepared (and kept) when new. NULL with err
 * filled and *rc set on failure. */
static MYSQL_STMT *db_stmt(struct db *d, const char *sql, char *err, size_t errlen, int *rc)
{
    size_t len = strlen(sql);
    struct db_kept *slot = &d->kept[0];
    for (int i = 0; i < DB_CACHE; i++) {
        struct db_kept *k = &d->kept[i];
        if (k->sql && k->len == len && memcmp(k->sql, sql, len) == 0) {
            k->used = ++d->clock;
            return k->st;
        }
        if (!k->sql ? slot->sql != NULL : (slot->sql && k->used < slot->used)) slot = k;
    }
    MYSQL_STMT *st = mysql_stmt_init(d->my);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        *rc = DB_EQUERY;
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, len)) {
        *rc = db_fail(d, st, err, errlen);
        d->sent = 0;   /* a prepare executes nothing */
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (!copy) return st;   /* runs, but is not kept: the caller closes it */
    memcpy(copy, sql, len + 1);
    db_kept_drop(slot);
    slot->sql = copy;
    slot->len = len;
    slot->st = st;
    slot->used = ++d->clock;
    return st;
}

/* After a successful run: a kept statement stays, another one is closed. */
static void db_stmt_done(struct db *d, MYSQL_STMT *st)
{
    for (int i = 0; i < DB_CACHE; i++)
        if (d->kept[i].st == st) {
            mysql_stmt_free_result(st);
            return;
        }
    mysql_stmt_close(st);
}

/* Prepares sql and binds p[0..np) through b (np zeroed binds, the
 * caller's: they must outlive the execute). */
static int db_prepare(struct db *d, const char *sql, const struct db_param *p, size_t np, MYSQL_BIND *b,
                      MYSQL_STMT **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!d || !d->my) {
        snprintf(err, errlen, "no database connection");
        return DB_ECONN;
    }
    int rc = DB_OK;
    MYSQL_STMT *st = db_stmt(d, sql, err, errlen, &rc);
    if (!st) return rc;
    if (mysql_stmt_param_count(st) != np) {
        snprintf(err, errlen, "statement wants %lu parameters, got %zu", mysql_stmt_param_count(st), np);
        db_stmt_drop(d, st);
        return DB_EQUERY;
    }
    for (size_t i = 0; i < np; i++) {
        switch (p[i].type) {
        case DBP_NULL: b[i].buffer_type = MYSQL_TYPE_NULL; break;
        case DBP_STR:
        case DBP_BLOB:
            b[i].buffer_type = p[i].type == DBP_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b[i].buffer = (void *)(p[i].s ? p[i].s : "");
            b[i].buffer_length = p[i].len ? p[i].len : (p[i].type == DBP_STR && p[i].s ? strlen(p[i].s) : 0);
            break;
        case DBP_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&p[i].i;
            break;
        case DBP_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = (void *)&p[i].d;
            break;
        }
    }
    if (np && mysql_stmt_bind_param(st, b)) {
        db_fail(d, st, err, errlen);
        return DB_EQUERY;
    }
    *out = st;
    return DB_OK;
}

/* Binds for np parameters: `small` when they fit (the usual case), else
 * the heap (*heap then owns them). NULL when out of memory. */
static MYSQL_BIND *db_binds(MYSQL_BIND *small, size_t nsmall, size_t np, MYSQL_BIND **heap)
{
    *heap = NULL;
    if (np <= nsmall) {
        memset(small, 0, nsmall * sizeof(*small));
        return small;
    }
    return *heap = calloc(np, sizeof(MYSQL_BIND));
}

static int db_exec_once(struct db *d, const char *sql, const struct db_param *p, size_t np,
                        unsigned long long *affected, unsigned long long *insert_id, char *err, size_t errlen)
{
    MYSQL_STMT *st;
    MYSQL_BIND small[DB_SMALL_BINDS], *heap;
    MYSQL_BIND *b = db_binds(small, DB_SMALL_BINDS, np, &heap);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    int rc = db_prepare(d, sql, p, np, b, &st, err, errlen);
    if (rc != DB_OK) goto out;
    if (mysql_stmt_execute(st)) {
        rc = db_fail(d, st, err, errlen);
        goto out;
    }
    if (affected) *affected = mysql_stmt_affected_rows(st);
    if (insert_id) *insert_id = mysql_stmt_insert_id(st);
    db_stmt_done(d, st);
out:
    free(heap);
    return rc;
}

static int db_query_once(struct db *d, arena_t *ar, const char *sql, const struct db_param *p, size_t np,
                         size_t max_rows, struct db_rows *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    MYSQL_STMT *st;
    MYSQL_BIND *rb = NULL;
    MYSQL_RES *meta = NULL;
    unsigned long *lens = NULL;
    my_bool *nulls = NULL;
    char (*numbuf)[64] = NULL;   /* FLOAT/DOUBLE columns, fetched directly */
    /* Binds and fetch buffers: the request arena (they go with the rows). */
    MYSQL_BIND *b = np ? ar_calloc(ar, np, sizeof(*b)) : NULL;
    if (np && !b) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    int rc = db_prepare(d, sql, p, np, b, &st, err, errlen);
    if (rc != DB_OK) return rc;
    if (mysql_stmt_execute(st)) return db_fail(d, st, err, errlen);
    meta = mysql_stmt_result_metadata(st);
    size_t nc = meta ? mysql_num_fields(meta) : 0;
    out->ncols = nc;
    if (nc) {
        out->names = ar_calloc(ar, nc, sizeof(char *));
        MYSQL_FIELD *f = mysql_fetch_fields(meta);
        for (size_t i = 0; out->names && i < nc; i++) out->names[i] = ar_strdup(ar, f[i].name);
        rb = ar_calloc(ar, nc, sizeof(*rb));
        lens = ar_calloc(ar, nc, sizeof(*lens));
        nulls = ar_calloc(ar, nc, sizeof(*nulls));
        numbuf = ar_calloc(ar, nc, sizeof(*numbuf));
        if (!out->names || !rb || !lens || !nulls || !numbuf) {
            snprintf(err, errlen, "out of memory");
            rc = DB_EQUERY;
            goto out;
        }
        for (size_t i = 0; i < nc; i++) {
            rb[i].buffer_type = MYSQL_TYPE_STRING;   /* everything as text */
            rb[i].buffer = NULL;
            rb[i].buffer_length = 0;
            /* Connector/C reports length 0 when it converts a FLOAT or DOUBLE
             * into a zero-length buffer, so those get a buffer of their own. */
            if (f[i].type == MYSQL_TYPE_FLOAT || f[i].type == MYSQL_TYPE_DOUBLE) {
                rb[i].buffer = numbuf[i];
                rb[i].buffer_length = sizeof(numbuf[i]);
            }
            rb[i].length = &lens[i];
            rb[i].is_null = &nulls[i];
        }
        if (mysql_stmt_bind_result(st, rb)) {
            snprintf(err, errlen, "%s", mysql_stmt_error(st));
            rc = DB_EQUERY;
            goto out;
        }
    }
    size_t cap = 0;
    for (;;) {
        int f = nc ? mysql_stmt_fetch(st) : MYSQL_NO_DATA;
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) {
            rc = db_fail(d, st, err, errlen);
            st = NULL;   /* closed */
            goto out;
        }
        if (max_rows && out->nrows >= max_rows) continue;
        if (out->nrows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **cells = ar_alloc(ar, ncap * nc * sizeof(char *));
            unsigned long *ls = ar_alloc(ar, ncap * nc * sizeof(unsigned long));
            if (!cells || !ls) {
                snprintf(err, errlen, "out of memory");
                rc = DB_EQUERY;
                goto out;
            }
            if (cap) {
                memcpy(cells, out->cells, cap * nc * sizeof(char *));
                memcpy(ls, out->lens, cap * nc * sizeof(unsigned long));
            }
            out->cells = cells;
            out->lens = ls;
            cap = ncap;
        }
        for (size_t i = 0; i < nc; i++) {
            size_t at = out->nrows * nc + i;
            out->lens[at] = nulls[i] ? 0 : lens[i];
            if (nulls[i]) {
                out->cells[at] = NULL;
                continue;
            }
            char *cell = ar_alloc(ar, lens[i] + 1);
            if (!cell) {
                snprintf(err, errlen, "out of memory");
                rc = DB_EQUERY;
                goto out;
            }
            if (rb[i].buffer) {
                size_t n = lens[i] < sizeof(numbuf[i]) ? lens[i] : sizeof(numbuf[i]) - 1;
                memcpy(cell, numbuf[i], n);
                out->lens[at] = n;
                cell[n] = '\0';
                out->cells[at] = cell;
                continue;
            }
            if (lens[i]) {
                MYSQL_BIND one = {0};
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = cell;
                one.buffer_length = lens[i] + 1;
                unsigned long l2;
                one.length = &l2;
                if (mysql_stmt_fetch_column(st, &one, (unsigned)i, 0)) {
                    snprintf(err, errlen, "%s", mysql_stmt_error(st));
                    rc = DB_EQUERY;
                    goto out;
                }
            }
            cell[lens[i]] = '\0';
            out->cells[at] = cell;
        }
        out->nrows++;
    }
    rc = DB_OK;
out:
    if (meta) mysql_free_result(meta);
    if (st && rc == DB_OK) db_stmt_done(d, st);
    else if (st) db_stmt_drop(d, st);   /* its results may be half read */
    return rc;
}

/* Runs a statement once more on a fresh connection after it failed with a
 * lost one, when that is safe (see the top of this file); `write`: it may
 * change data. */
static int db_retry(struct db *d, int rc, int write, int was_in_tx)
{
    return rc == DB_ECONN && !was_in_tx && (!write || !d->sent);
}

int db_exec(struct db *d, const char *sql, const struct db_param *p, size_t np,
            unsigned long long *affected, unsigned long long *insert_id, char *err, size_t errlen)
{
    int rc = db_live(d, err, errlen);
    if (rc != DB_OK) return rc;
    int in_tx = d->in_tx;
    rc = db_exec_once(d, sql, p, np, affected, insert_id, err, errlen);
    if (db_retry(d, rc, 1, in_tx) && db_live(d, err, errlen) == DB_OK)
        rc = db_exec_once(d, sql, p, np, affected, insert_id, err, errlen);
    return rc;
}

int db_query(struct db *d, arena_t *ar, const char *sql, const struct db_param *p, size_t np,
             size_t max_rows, struct db_rows *out, char *err, size_t errlen)
{
    int rc = db_live(d, err, errlen);
    if (rc != DB_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    int in_tx = d->in_tx;
    rc = db_query_once(d, ar, sql, p, np, max_rows, out, err, errlen);
    if (db_retry(d, rc, 0, in_tx) && db_live(d, err, errlen) == DB_OK)
        rc = db_query_once(d, ar, sql, p, np, max_rows, out, err, errlen);
    return rc;
}

static int db_simple(struct db *d, const char *sql, char *err, size_t errlen)
{
    if (!d || !d->my) {
        snprintf(err, errlen, "no database connection");
        return DB_ECONN;
    }
    if (mysql_query(d->my, sql)) {
        unsigned e = mysql_errno(d->my);
        snprintf(err, errlen, "%s", mysql_error(d->my));
        int cls = db_class(e);
        if (cls == DB_ECONN) db_disconnect(d);
        return cls;
    }
    return DB_OK;
}

int db_begin(struct db *d, char *err, size_t errlen)
{
    int rc = db_live(d, err, errlen);
    if (rc == DB_OK) rc = db_simple(d, "START TRANSACTION", err, errlen);
    /* nothing ran yet: once more on a fresh connection */
    if (rc == DB_ECONN && db_live(d, err, errlen) == DB_OK) rc = db_simple(d, "START TRANSACTION", err, errlen);
    if (rc == DB_OK) d->in_tx = 1;
    return rc;
}

int db_commit(struct db *d, char *err, size_t errlen)
{
    int rc = db_simple(d, "COMMIT", err, errlen);
    if (d) d->in_tx = 0;
    return rc;
}

int db_rollback(struct db *d)
{
    char err[8];
    int rc = db_simple(d, "ROLLBACK", err, sizeof(err));
    if (d) d->in_tx = 0;
    return rc;
}
