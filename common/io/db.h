/* db.h: this worker's MariaDB/MySQL connection and prepared statements.
 *
 * One connection per worker process, opened after fork on first use. One
 * the server closed is replaced before the next statement, and a statement
 * that loses its connection outside a transaction is run once more on a
 * fresh one when that cannot apply it twice (db.c says when). Every query is a prepared statement: values
 * travel as db_param binds, never inside the SQL text. Result rows come
 * back as strings in the request arena (NULL for SQL NULL). */
#ifndef TROIKA_DB_H
#define TROIKA_DB_H

#include <stddef.h>

#include "common/base/arena.h"

struct cfg;

struct db;

/* Connects; NULL with err filled on failure (no password in err). */
struct db *db_open(const struct cfg *c, char *err, size_t errlen);
void db_close(struct db *d);

/* Pings, reconnecting once if the connection was lost. 0 or -1 with err. */
int db_ping(struct db *d, char *err, size_t errlen);

/* Ensures *dp is a live connection (opening it when NULL). 0 or -1. */
int db_ensure(struct db **dp, const struct cfg *c, char *err, size_t errlen);

enum db_type { DBP_NULL, DBP_STR, DBP_INT, DBP_DOUBLE, DBP_BLOB };

struct db_param {
    enum db_type type;
    const char *s;        /* DBP_STR, DBP_BLOB (borrowed) */
    size_t len;           /* length of s; 0 with DBP_STR means strlen(s) */
    long long i;
    double d;
};

#define DB_STR(v) ((struct db_param){.type = DBP_STR, .s = (v)})
#define DB_STRN(v, n) ((struct db_param){.type = DBP_STR, .s = (v), .len = (n)})
#define DB_BLOB(v, n) ((struct db_param){.type = DBP_BLOB, .s = (const char *)(v), .len = (n)})
#define DB_INT(v) ((struct db_param){.type = DBP_INT, .i = (v)})
#define DB_DOUBLE(v) ((struct db_param){.type = DBP_DOUBLE, .d = (v)})
#define DB_NULL ((struct db_param){.type = DBP_NULL})

struct db_rows {
    size_t nrows, ncols;
    const char **names;       /* ncols column names */
    char **cells;             /* nrows * ncols, row-major; NULL = SQL NULL */
    unsigned long *lens;      /* byte lengths, same layout */
};

/* Cell (r, c) or NULL. */
static inline const char *db_cell(const struct db_rows *rs, size_t r, size_t c)
{
    return rs->cells[r * rs->ncols + c];
}

/* Failure classes, so handlers can pick DB_CONNECTION_ERROR or DB_QUERY_ERROR. */
enum { DB_OK = 0, DB_ECONN = -1, DB_EQUERY = -2 };

/* Runs a statement that returns no rows. affected / insert_id may be NULL.
 * DB_OK or DB_ECONN / DB_EQUERY with err filled. */
int db_exec(struct db *d, const char *sql, const struct db_param *p, size_t np,
            unsigned long long *affected, unsigned long long *insert_id, char *err, size_t errlen);

/* Runs a SELECT; rows land in the arena (borrowed until it is reset).
 * max_rows caps what is kept (0: no cap). DB_OK or DB_ECONN / DB_EQUERY. */
int db_query(struct db *d, arena_t *ar, const char *sql, const struct db_param *p, size_t np,
             size_t max_rows, struct db_rows *out, char *err, size_t errlen);

/* Transactions. DB_OK or DB_E*. */
int db_begin(struct db *d, char *err, size_t errlen);
int db_commit(struct db *d, char *err, size_t errlen);
int db_rollback(struct db *d);

#endif
