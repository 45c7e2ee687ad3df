/* mariadb.h: the MariaDB backend of struct store (store.h), private to
 * common/store/: each store module keeps its SQL next to the function
 * table it fills (cx_mariadb, sess_mariadb, ...), and reaches this
 * worker's connection through stm_db. */
#ifndef TROIKA_STORE_MARIADB_H
#define TROIKA_STORE_MARIADB_H

#include <stddef.h>
#include <stdint.h>

#include "common/io/db.h"
#include "common/store/store.h"

_Static_assert((int)ST_OK == (int)DB_OK && (int)ST_ECONN == (int)DB_ECONN && (int)ST_EQUERY == (int)DB_EQUERY,
               "the store's failure classes are the database's");

struct stm {
    struct store base;        /* first: a struct store * is a struct stm * */
    const struct cfg *cfg;    /* borrowed */
    struct db *db;            /* NULL until the first call */
};

/* The live connection: opened on first use, reopened after a loss. NULL
 * with err filled when the server cannot be reached (ST_ECONN). */
static inline struct db *stm_db(struct store *s, char *err, size_t errlen)
{
    struct stm *m = (struct stm *)s;
    return db_ensure(&m->db, m->cfg, err, errlen) == 0 ? m->db : NULL;
}

extern const struct cat_ops cat_mariadb;

/* The catalog table's snapshot call (catsnap.c: cs_load over this
 * connection), kept there so that catalog.c need not include catsnap.h. */
struct cs_snap;
int cs_store_load(struct store *s, uint64_t version, struct cs_snap **out, char *err, size_t errlen);
extern const struct cx_ops cx_mariadb;
extern const struct sess_ops sess_mariadb;
extern const struct mk_ops mk_mariadb;
extern const struct pr_ops pr_mariadb;
extern const struct acc_ops acc_mariadb;

#endif
