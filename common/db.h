/* db.h: this worker's MariaDB/MySQL connection.
 *
 * One connection per worker process, opened after fork on first use and
 * reopened when a ping fails. Prepared statements only: db_exec and
 * db_query take parameters as strings/ints through MYSQL_BIND. */
#ifndef TROIKA_DB_H
#define TROIKA_DB_H

#include <stddef.h>

struct cfg;
typedef struct st_mysql MYSQL;

struct db;

/* Connects; NULL with err filled on failure (no password in err). */
struct db *db_open(const struct cfg *c, char *err, size_t errlen);
void db_close(struct db *d);
MYSQL *db_handle(struct db *d);

/* Pings, reconnecting once if the connection was lost. 0 or -1 with err. */
int db_ping(struct db *d, char *err, size_t errlen);

/* Ensures *dp is a live connection (opening it when NULL). 0 or -1. */
int db_ensure(struct db **dp, const struct cfg *c, char *err, size_t errlen);

#endif
