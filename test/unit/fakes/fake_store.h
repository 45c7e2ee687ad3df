/* fake_store.h: an in-memory struct store (common/store/store.h) for unit
 * tests, which can fail at step N.
 *
 * Every call through the store counts as one step (connect, begin, each
 * read and write, commit; not rollback, which cannot fail). With fail_at =
 * N, step N returns fail_rc (ST_ECONN: the connection is lost, every later
 * step fails the same way until fake_store_reset; ST_EQUERY: that one
 * statement fails). The context tables (files, chunks) are held as a
 * committed state and a transaction's pending rows: commit moves them over,
 * rollback drops them, so a test can see that a failure stored nothing.
 * A delete inside a transaction takes effect at commit, so a test can see
 * that a failed delete removed nothing.
 * Sessions keep their owner and messages (role, content, partial) as the
 * real store does, so a test can see what a cut-short answer left and whose
 * history a request read; keys and origins answer the access store's
 * reads. Chat's reads (the
 * full-text search: chunks sharing a word of 3+ letters with the query;
 * chunks by id; topics) read the committed chunks.
 * The catalog's reads answer from `products` (sorted by id), whatever the
 * query: a text search returns them all (up to its limit), a fetch those
 * whose ids it names, the designers none.
 *
 * Memory: malloc'd, freed by fake_store_free; rows handed to callers are
 * copied into the caller's arena, as the real store does. */
#ifndef TROIKA_TEST_FAKE_STORE_H
#define TROIKA_TEST_FAKE_STORE_H

#include <stddef.h>

#include "common/store/catalog.h"
#include "common/store/store.h"

enum { FAKE_MAX_FILES = 16, FAKE_MAX_CHUNKS = 512, FAKE_MAX_MSGS = 64, FAKE_MAX_SESSIONS = 16, FAKE_MAX_PRODUCTS = 32 };

struct fake_file {
    long long id;
    char chatbot[65], sha256[65], tokenizer[40], title[256];
    long chunks, tokens;
    int pages;
};

struct fake_chunk {
    long long id, file_id;
    char chatbot[65];
    size_t seq;
    int page;
    char *text;          /* malloc'd */
    size_t len;
    float *vec;          /* malloc'd, dim floats */
    int dim;
};

struct fake_msg {
    char sid[65];
    char role[16];
    char *content;       /* malloc'd */
    int partial;
};

struct fake_rows {
    struct fake_file files[FAKE_MAX_FILES];
    size_t nfiles;
    struct fake_chunk chunks[FAKE_MAX_CHUNKS];
    size_t nchunks;
    long long deleted[FAKE_MAX_FILES];   /* pending only: files a transaction deletes at commit */
    size_t ndeleted;
};

/* A session: its owner and how long it has been idle (a test sets it). */
struct fake_sess {
    char id[65];
    int kind;            /* SESS_* (common/store/session.h) */
    char chatbot[65];
    long long idle_s;
};

/* An API key (common/store/access.h), by its SHA-256. */
struct fake_key {
    unsigned char hash[32];
    char id[16];
    unsigned scopes;
    char chatbot[65];
    int revoked;
    int touched;
};

enum { FAKE_MAX_KEYS = 8, FAKE_MAX_ORIGINS = 8 };

struct fake_store {
    struct store base;          /* first: a struct store * is a struct fake_store * */
    int steps;                  /* calls so far */
    const char *ops[128];       /* the name of each step's call (the first 128) */
    int fail_at;                /* 1-based step that fails; 0: none */
    int fail_rc;                /* ST_ECONN or ST_EQUERY */
    int failed_step;            /* the step that failed (0: none yet) */
    const char *failed_op;      /* its name */
    int lost;                   /* the connection is lost (after an ST_ECONN) */
    int in_tx;
    struct fake_rows committed, pending;   /* pending: the open transaction's new rows */
    struct cat_product products[FAKE_MAX_PRODUCTS];   /* by id; strings borrowed from the test */
    size_t nproducts;
    long long next_id;
    int commits, rollbacks;
    struct fake_sess sessions[FAKE_MAX_SESSIONS];
    size_t nsessions;
    struct fake_key keys[FAKE_MAX_KEYS];
    size_t nkeys;
    char origins[FAKE_MAX_ORIGINS][2][256];   /* (chatbot, origin) */
    size_t norigins;
    struct fake_msg msgs[FAKE_MAX_MSGS];
    size_t nmsgs;
};

/* A fresh fake: no rows, no failure. */
void fake_store_init(struct fake_store *f);
/* Frees every row. */
void fake_store_free(struct fake_store *f);
/* Back to step 0 and a live connection; the committed rows stay. */
void fake_store_reset(struct fake_store *f, int fail_at, int fail_rc);

/* Adds a committed file with n chunks of dim-dimensional vectors (the
 * state an earlier upload left). Returns the file's id. */
long long fake_store_seed_file(struct fake_store *f, const char *chatbot, const char *sha256, size_t n, int dim);

/* Adds a committed file titled `title` with one chunk of `text` (no
 * vector). Returns the file's id. */
long long fake_store_seed_text(struct fake_store *f, const char *chatbot, const char *title, const char *text);

/* Adds a key (its SHA-256 is stored) of scopes for chatbot (NULL: every
 * chatbot). */
void fake_store_add_key(struct fake_store *f, const char *key, unsigned scopes, const char *chatbot);

/* Adds origin to chatbot's list. */
void fake_store_add_origin(struct fake_store *f, const char *chatbot, const char *origin);

/* Adds a session of owner (kind, chatbot) idle idle_s seconds. */
void fake_store_add_session(struct fake_store *f, const char *id, int kind, const char *chatbot, long long idle_s);

/* Session id's row, or NULL. */
const struct fake_sess *fake_store_session(const struct fake_store *f, const char *id);

/* Session sid's messages in order, as "role/partial/content" lines joined
 * by "\n", into out. */
const char *fake_store_messages(const struct fake_store *f, const char *sid, char *out, size_t cap);

/* The 1-based step at which call `op` was made first (0: never). */
int fake_store_step_of(const struct fake_store *f, const char *op);

/* Counts of the committed rows (every chatbot). */
size_t fake_store_files(const struct fake_store *f);
size_t fake_store_chunks(const struct fake_store *f);

#endif
