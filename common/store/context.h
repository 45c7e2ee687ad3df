/* context.h: the context store: chatbots, the files uploaded to them and
 * their chunks (text, page, vector), behind struct store (store.h).
 *
 * Readers: chat retrieval (full-text over a chatbot's chunks, chunks by
 * id), chat suggestions (topics), troika-admin (chatbots). The writer is
 * cx_upload (context_upload.c): one transaction for a file row and its
 * chunks, with the chatbot's vector index (index NAME chatbot-<id>)
 * rebuilt under a staging name, committed, then renamed into place.
 *
 * Memory: rows land in the arena given (borrowed until it is reset).
 * Returns ST_OK or ST_ECONN / ST_EQUERY with err filled, unless a
 * comment says otherwise. */
#ifndef TROIKA_CONTEXT_H
#define TROIKA_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/store/store.h"

/* A file already stored for a chatbot (the duplicate answer). */
struct cx_file {
    long long id;
    long chunks;
    long tokens;
    int pages;            /* -1 when NULL (not a PDF) */
    char tokenizer[40];
};

/* A file row to store. */
struct cx_file_row {
    const char *chatbot, *title, *filename, *mime, *sha256, *tokenizer, *embedder;
    size_t bytes, tokens, chunks;
    int pages;            /* 0: not a PDF (stored as NULL) */
};

/* A chunk row to store; seq is its position in the file. */
struct cx_chunk_row {
    const char *text;     /* len bytes, borrowed */
    size_t len;
    size_t char_off;      /* start in the file's text, in characters */
    int page;             /* 1-based; 0: not a PDF (NULL) */
    int tokens;
};

/* A stored vector: id and its bytes (dim * sizeof(float) when it was
 * written by the same embedder). data may be unaligned: copy it. */
struct cx_vec {
    long long id;
    const void *data;
    size_t bytes;
};

/* A retrieved chunk with its file's title. */
struct cx_chunk {
    long long id, file_id;
    int page;             /* 0 when the file has no pages */
    const char *text;     /* len bytes */
    size_t len;
    const char *title;
};

/* A stored file as the management API and troika-admin show it. Borrowed
 * strings (arena). */
struct cx_file_info {
    long long id;
    const char *chatbot, *title, *filename, *mime, *sha256, *tokenizer, *embedder;
    long long bytes;
    long tokens, chunks;
    int pages;                /* -1 when NULL (not a PDF) */
    long long uploaded_ms;    /* Unix time in ms (created_at) */
};

/* A chatbot as troika-admin lists it. */
struct cx_bot {
    const char *id, *name;    /* name "" when none */
    long files, chunks, tokens;
    const char *created_at;
};

/* What cx_chatbot_create did. */
enum { CX_BOT_CREATED = 1, CX_BOT_EXISTS = 2, CX_BOT_NAMED = 3 };

struct cx_ops {
    int (*find_file)(struct store *s, arena_t *ar, const char *chatbot, const char *sha256, struct cx_file *out,
                     char *err, size_t errlen);
    int (*lock_chatbot)(struct store *s, arena_t *ar, const char *chatbot, char *err, size_t errlen);
    int (*add_file)(struct store *s, const struct cx_file_row *f, long long *id, char *err, size_t errlen);
    int (*add_chunks)(struct store *s, arena_t *ar, long long file_id, const char *chatbot, size_t first_seq,
                      const struct cx_chunk_row *rows, const float *vecs, size_t n, int dim, char *err,
                      size_t errlen);
    int (*chunk_ids)(struct store *s, arena_t *ar, long long file_id, long long **ids, size_t *n, char *err,
                     size_t errlen);
    int (*vectors)(struct store *s, arena_t *ar, const char *chatbot, long long except_file, struct cx_vec **out,
                   size_t *n, char *err, size_t errlen);
    int (*delete_file)(struct store *s, long long file_id, char *err, size_t errlen);
    int (*text_search)(struct store *s, arena_t *ar, const char *chatbot, const char *query, int limit,
                       long long *ids, size_t *n, char *err, size_t errlen);
    int (*chunks)(struct store *s, arena_t *ar, const char *chatbot, const long long *ids, size_t nids,
                  struct cx_chunk **out, size_t *n, char *err, size_t errlen);
    int (*first_texts)(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***texts,
                       size_t **lens, size_t *n, char *err, size_t errlen);
    int (*file_titles)(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***titles,
                       size_t *n, char *err, size_t errlen);
    int (*chatbot_create)(struct store *s, const char *id, const char *name, int *what, char *err,
                          size_t errlen);
    int (*chatbot_list)(struct store *s, arena_t *ar, struct cx_bot **out, size_t *n, char *err, size_t errlen);
    int (*file_get)(struct store *s, arena_t *ar, long long id, struct cx_file_info *out, char *err, size_t errlen);
    int (*file_list)(struct store *s, arena_t *ar, const char *chatbot, long limit, long offset,
                     struct cx_file_info **out, size_t *n, long long *total, char *err, size_t errlen);
};

/* ---- pure helpers --------------------------------------------------------- */

/* 1 when id is 1-64 of [A-Za-z0-9_-] (it names the index file). */
int cx_chatbot_id_ok(const char *id);

/* The index name of a chatbot into out[cap]: "chatbot-<id>". */
void cx_index_name(const char *chatbot, char *out, size_t cap);

/* ---- reads and writes (through s->cx) ------------------------------------- */

/* Looks up (chatbot, sha256): 1 found (out filled), 0 not found, or
 * ST_ECONN / ST_EQUERY. */
static inline int cx_find_file(struct store *s, arena_t *ar, const char *chatbot, const char *sha256,
                               struct cx_file *out, char *err, size_t errlen)
{
    return s->cx->find_file(s, ar, chatbot, sha256, out, err, errlen);
}

/* Inside a transaction: creates the chatbot's row when missing and locks
 * it until the transaction ends, so uploads to one chatbot take turns. */
static inline int cx_lock_chatbot(struct store *s, arena_t *ar, const char *chatbot, char *err, size_t errlen)
{
    return s->cx->lock_chatbot(s, ar, chatbot, err, errlen);
}

/* Inserts a file row; *id gets its id. */
static inline int cx_add_file(struct store *s, const struct cx_file_row *f, long long *id, char *err,
                              size_t errlen)
{
    return s->cx->add_file(s, f, id, err, errlen);
}

/* Inserts rows[0..n) with their vectors vecs[0..n * dim) as chunks
 * first_seq.. of file_id (one statement). A failure's err never quotes
 * the text. */
static inline int cx_add_chunks(struct store *s, arena_t *ar, long long file_id, const char *chatbot,
                                size_t first_seq, const struct cx_chunk_row *rows, const float *vecs, size_t n,
                                int dim, char *err, size_t errlen)
{
    return s->cx->add_chunks(s, ar, file_id, chatbot, first_seq, rows, vecs, n, dim, err, errlen);
}

/* The ids of file_id's chunks in seq order (arena). */
static inline int cx_chunk_ids(struct store *s, arena_t *ar, long long file_id, long long **ids, size_t *n,
                               char *err, size_t errlen)
{
    return s->cx->chunk_ids(s, ar, file_id, ids, n, err, errlen);
}

/* The vectors of the chatbot's chunks of every file but except_file, by id. */
static inline int cx_vectors(struct store *s, arena_t *ar, const char *chatbot, long long except_file,
                             struct cx_vec **out, size_t *n, char *err, size_t errlen)
{
    return s->cx->vectors(s, ar, chatbot, except_file, out, n, err, errlen);
}

/* Deletes a file row and (cascade) its chunks. */
static inline int cx_delete_file(struct store *s, long long file_id, char *err, size_t errlen)
{
    return s->cx->delete_file(s, file_id, err, errlen);
}

/* Full-text search over the chatbot's chunks (natural language mode):
 * at most limit ids, best first, into ids[]. */
static inline int cx_text_search(struct store *s, arena_t *ar, const char *chatbot, const char *query, int limit,
                                 long long *ids, size_t *n, char *err, size_t errlen)
{
    return s->cx->text_search(s, ar, chatbot, query, limit, ids, n, err, errlen);
}

/* The chunks among ids[0..nids) that still exist, in any order. */
static inline int cx_chunks(struct store *s, arena_t *ar, const char *chatbot, const long long *ids, size_t nids,
                            struct cx_chunk **out, size_t *n, char *err, size_t errlen)
{
    return s->cx->chunks(s, ar, chatbot, ids, nids, out, n, err, errlen);
}

/* The texts of the chatbot's first `limit` chunks (upload order). */
static inline int cx_first_texts(struct store *s, arena_t *ar, const char *chatbot, int limit,
                                 const char ***texts, size_t **lens, size_t *n, char *err, size_t errlen)
{
    return s->cx->first_texts(s, ar, chatbot, limit, texts, lens, n, err, errlen);
}

/* The titles of the chatbot's first `limit` files (upload order). */
static inline int cx_file_titles(struct store *s, arena_t *ar, const char *chatbot, int limit,
                                 const char ***titles, size_t *n, char *err, size_t errlen)
{
    return s->cx->file_titles(s, ar, chatbot, limit, titles, n, err, errlen);
}

/* Creates chatbot id (name may be NULL), or names an existing one when
 * name is given; *what says which (CX_BOT_*). */
static inline int cx_chatbot_create(struct store *s, const char *id, const char *name, int *what, char *err,
                                    size_t errlen)
{
    return s->cx->chatbot_create(s, id, name, what, err, errlen);
}

/* Every chatbot with its files', chunks' and tokens' totals, by id. */
static inline int cx_chatbot_list(struct store *s, arena_t *ar, struct cx_bot **out, size_t *n, char *err,
                                  size_t errlen)
{
    return s->cx->chatbot_list(s, ar, out, n, err, errlen);
}

/* File id: 1 found (out filled), 0 none, or ST_E*. */
static inline int cx_file_get(struct store *s, arena_t *ar, long long id, struct cx_file_info *out, char *err,
                              size_t errlen)
{
    return s->cx->file_get(s, ar, id, out, err, errlen);
}

/* A chatbot's files, newest first: at most limit from offset, and *total
 * of them all. */
static inline int cx_file_list(struct store *s, arena_t *ar, const char *chatbot, long limit, long offset,
                               struct cx_file_info **out, size_t *n, long long *total, char *err, size_t errlen)
{
    return s->cx->file_list(s, ar, chatbot, limit, offset, out, n, total, err, errlen);
}

/* ---- the upload transaction (context_upload.c) ------------------------------ */

struct cx_upload {
    struct cx_file_row file;
    const struct cx_chunk_row *chunks;   /* file.chunks rows */
    const float *vecs;                   /* their vectors: file.chunks * dim floats */
    int dim;
    const char *index_dir;
    /* Called as the rows go in (percent 0-80), before the index (85) and
     * the commit (95); non-zero stops the upload (returned in *stop_rc). */
    int (*progress)(void *arg, const char *msg, int percent);
    void *arg;
    /* Test hooks (upload_fault, a key of --enable-test-hooks builds only):
     * "storing", "index" or "commit" fails there on purpose; NULL or "". */
    const char *fault;
};

enum {
    CX_UP_OK = 0,
    CX_UP_DUP = 1,         /* stored meanwhile by another request: *dup filled */
    CX_UP_DBCONN = -1,     /* DB_CONNECTION_ERROR */
    CX_UP_DBQUERY = -2,    /* DB_QUERY_ERROR */
    CX_UP_INDEX = -3,      /* INDEX_UNAVAILABLE: the index could not be written */
    CX_UP_FAULT = -4,      /* the fault test hook */
    CX_UP_STOP = -5,       /* progress asked to stop (client gone, deadline) */
    CX_UP_DIM = -6,        /* the chatbot's stored vectors have another dimension */
};

/* Stores the file row and its chunks in one transaction, then writes the
 * chatbot's index (chatbot-<id>, over all its chunks) under a staging
 * name, commits, and renames the index into place. Any failure rolls back
 * and removes the staging files: no rows remain and the previous index
 * stays. CX_UP_* with err filled (no uploaded content in it); *stop_rc
 * gets the progress callback's value on CX_UP_STOP. */
int cx_upload(struct store *s, arena_t *ar, const struct cx_upload *r, long long *file_id, struct cx_file *dup,
              int *stop_rc, char *err, size_t errlen);

/* ---- deleting a file (context_delete.c) ------------------------------------- */

struct cx_delete {
    long long file_id;
    const char *chatbot;      /* the chatbot the caller found it under (and was allowed) */
    const char *index_dir;
    /* Test hook (upload_fault of --enable-test-hooks builds): "index" or
     * "commit" fails there on purpose; NULL or "". */
    const char *fault;
};

/* What a delete did. */
struct cx_deleted {
    long chunks;              /* the file's chunks that went */
    long vectors;             /* vectors left in the chatbot's index (0: the index was removed) */
    int index;                /* CX_IDX_*: what became of the chatbot's index */
};

enum { CX_IDX_REBUILT = 1, CX_IDX_REMOVED = 2, CX_IDX_NONE = 3 };

enum {
    CX_DEL_OK = 0,
    CX_DEL_GONE = 1,          /* no such file (any more) for that chatbot: nothing done */
    CX_DEL_DBCONN = -1,       /* DB_CONNECTION_ERROR */
    CX_DEL_DBQUERY = -2,      /* DB_QUERY_ERROR */
    CX_DEL_INDEX = -3,        /* INDEX_UNAVAILABLE: the new index could not be written */
    CX_DEL_FAULT = -4,        /* the test hook */
};

/* Deletes file r->file_id of chatbot r->chatbot, all or nothing: one
 * transaction (the chatbot locked as an upload locks it, the file row
 * and, by cascade, its chunks deleted), the chatbot's index rebuilt over
 * the chunks that remain under a staging name, COMMIT, then the index
 * renamed into place (or removed when no chunk remains). Any failure
 * before COMMIT rolls back and removes the staging files: every row and
 * index byte stays as it was. When the rename fails after COMMIT (a
 * rename within one folder) the old index is removed instead, so that it
 * cannot return the deleted chunks; out->index says so. CX_DEL_* with err
 * filled. */
int cx_delete(struct store *s, arena_t *ar, const struct cx_delete *r, struct cx_deleted *out, char *err,
              size_t errlen);

#endif
