/* mariadb.c: the MariaDB backend of struct store (store.h): st_open picks
 * it (the only backend today) and fills struct store with its function
 * tables; the connection-level calls (connect, ping, transactions). */
#include "common/store/mariadb.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/store/store.h"

static int stm_connect(struct store *s, char *err, size_t errlen)
{
    return stm_db(s, err, errlen) ? ST_OK : ST_ECONN;
}

static int stm_ping(struct store *s, char *err, size_t errlen)
{
    struct stm *m = (struct stm *)s;
    if (!m->db) return stm_connect(s, err, errlen);
    return db_ping(m->db, err, errlen) == 0 ? ST_OK : ST_ECONN;
}

static int stm_begin(struct store *s, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    return d ? db_begin(d, err, errlen) : ST_ECONN;
}

/* No reconnect: a transaction lives and dies with its connection. */
static int stm_commit(struct store *s, char *err, size_t errlen)
{
    struct stm *m = (struct stm *)s;
    if (!m->db) {
        snprintf(err, errlen, "no connection");
        return ST_ECONN;
    }
    return db_commit(m->db, err, errlen);
}

static void stm_rollback(struct store *s)
{
    struct stm *m = (struct stm *)s;
    if (m->db) db_rollback(m->db);
}

static void stm_close(struct store *s)
{
    struct stm *m = (struct stm *)s;
    db_close(m->db);
    free(m);
}

struct store *st_open(const struct cfg *c, char *err, size_t errlen)
{
    struct stm *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = c;
    m->base = (struct store){
        .name = "mariadb",
        .cat = &cat_mariadb,
        .cx = &cx_mariadb,
        .sess = &sess_mariadb,
        .mk = &mk_mariadb,
        .pr = &pr_mariadb,
        .acc = &acc_mariadb,
        .connect = stm_connect,
        .ping = stm_ping,
        .begin = stm_begin,
        .commit = stm_commit,
        .rollback = stm_rollback,
        .close = stm_close,
    };
    return &m->base;
}

void st_close(struct store *s)
{
    if (s) s->close(s);
}
