/* store.h: the seam between the code and its data. Every read and write of
 * products, chatbots' context, sessions and market figures goes through
 * one struct of function pointers, chosen once from the config (st_open:
 * MariaDB, the only backend today) and held by the worker (struct app)
 * and troika-admin (struct adm). Handlers and tools call the wrappers of
 * each store module (context.h, session.h, market.h, products.h,
 * access.h), never
 * the database; a unit test hands them a fake (test/unit/fakes/), which
 * can fail at step N.
 *
 * Cost: a call is one indirect call through a const table; nothing is
 * allocated. The backend opens its connection on first use (after fork)
 * and keeps it; results land in the arena the caller gives.
 *
 * Every operation returns ST_OK (0) or a negative failure class, with err
 * filled: ST_ECONN when the store cannot be reached (the connection is
 * lost: DB_CONNECTION_ERROR), ST_EQUERY when a statement failed
 * (DB_QUERY_ERROR). Some return a positive count or flag, as their
 * comment says. No err ever holds a password or stored content. */
#ifndef TROIKA_STORE_H
#define TROIKA_STORE_H

#include <stddef.h>

struct cfg;
struct cat_ops;
struct cx_ops;
struct sess_ops;
struct mk_ops;
struct pr_ops;
struct acc_ops;

enum { ST_OK = 0, ST_ECONN = -1, ST_EQUERY = -2 };

struct store {
    const char *name;               /* the backend: "mariadb", or a fake's name */
    const struct cat_ops *cat;      /* the catalog's reads for search (catalog.h) */
    const struct cx_ops *cx;        /* chatbots, context files, chunks (context.h) */
    const struct sess_ops *sess;    /* sessions and messages (session.h) */
    const struct mk_ops *mk;        /* market figures' rows (market.h) */
    const struct pr_ops *pr;        /* the catalog's writes and figures for troika-admin (products.h) */
    const struct acc_ops *acc;      /* API keys and chatbots' origins (access.h) */
    /* A live connection (opened, or reopened when it was lost); no round
     * trip when it is open. */
    int (*connect)(struct store *s, char *err, size_t errlen);
    /* One round trip (health); reconnects once when the connection was lost. */
    int (*ping)(struct store *s, char *err, size_t errlen);
    /* A transaction over the next calls (uploads, imports). rollback
     * cannot fail in a way the caller can act on. */
    int (*begin)(struct store *s, char *err, size_t errlen);
    int (*commit)(struct store *s, char *err, size_t errlen);
    void (*rollback)(struct store *s);
    void (*close)(struct store *s);
};

/* The store the config names (MariaDB). Opens no connection: the first
 * call does, so it may run before fork. c is borrowed for the store's
 * life. NULL with err filled when out of memory. */
struct store *st_open(const struct cfg *c, char *err, size_t errlen);

/* Closes the connection and frees the store; NULL is a no-op. */
void st_close(struct store *s);

static inline int st_connect(struct store *s, char *err, size_t errlen)
{
    return s->connect(s, err, errlen);
}

static inline int st_ping(struct store *s, char *err, size_t errlen)
{
    return s->ping(s, err, errlen);
}

static inline int st_begin(struct store *s, char *err, size_t errlen)
{
    return s->begin(s, err, errlen);
}

static inline int st_commit(struct store *s, char *err, size_t errlen)
{
    return s->commit(s, err, errlen);
}

static inline void st_rollback(struct store *s)
{
    s->rollback(s);
}

/* "DB_CONNECTION_ERROR" for ST_ECONN, else "DB_QUERY_ERROR". */
static inline const char *st_code(int rc)
{
    return rc == ST_ECONN ? "DB_CONNECTION_ERROR" : "DB_QUERY_ERROR";
}

#endif
