/* fake_store.c: the in-memory store of fake_store.h. */
#include "test/unit/fakes/fake_store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/sha256.h"
#include "common/store/access.h"
#include "common/store/context.h"
#include "common/store/session.h"

#define FAKE(s) ((struct fake_store *)(s))

/* One step: the failure the test asked for, or ST_OK. */
static int fk_step(struct store *s, const char *op, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    if (f->steps < (int)(sizeof(f->ops) / sizeof(f->ops[0]))) f->ops[f->steps] = op;
    f->steps++;
    if (f->lost) {
        snprintf(err, errlen, "fake: the connection is lost (%s)", op);
        return ST_ECONN;
    }
    if (f->fail_at && f->steps == f->fail_at) {
        f->failed_step = f->steps;
        f->failed_op = op;
        f->lost = f->fail_rc == ST_ECONN;
        snprintf(err, errlen, "fake: %s failed at step %d", op, f->steps);
        return f->fail_rc;
    }
    return ST_OK;
}

#define STEP(s, op, err, errlen)                       \
    do {                                               \
        int step_rc_ = fk_step((s), (op), (err), (errlen)); \
        if (step_rc_ != ST_OK) return step_rc_;        \
    } while (0)

static void fk_rows_free(struct fake_rows *r)
{
    for (size_t i = 0; i < r->nchunks; i++) {
        free(r->chunks[i].text);
        free(r->chunks[i].vec);
    }
    memset(r, 0, sizeof(*r));
}

/* Removes file id and its chunks from r. */
static void fk_drop_file(struct fake_rows *r, long long file_id)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nfiles; i++)
        if (r->files[i].id != file_id) r->files[k++] = r->files[i];
    r->nfiles = k;
    k = 0;
    for (size_t i = 0; i < r->nchunks; i++) {
        if (r->chunks[i].file_id == file_id) {
            free(r->chunks[i].text);
            free(r->chunks[i].vec);
            continue;
        }
        r->chunks[k++] = r->chunks[i];
    }
    r->nchunks = k;
}

/* 1 when the open transaction deletes file id. */
static int fk_deleting(const struct fake_store *f, long long file_id)
{
    for (size_t i = 0; i < f->pending.ndeleted; i++)
        if (f->pending.deleted[i] == file_id) return 1;
    return 0;
}

/* ---- connection and transactions ------------------------------------------- */

static int fk_connect(struct store *s, char *err, size_t errlen)
{
    STEP(s, "connect", err, errlen);
    return ST_OK;
}

static int fk_begin(struct store *s, char *err, size_t errlen)
{
    STEP(s, "begin", err, errlen);
    FAKE(s)->in_tx = 1;
    return ST_OK;
}

static int fk_commit(struct store *s, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "commit", err, errlen);
    struct fake_rows *c = &f->committed, *p = &f->pending;
    for (size_t i = 0; i < p->ndeleted; i++) fk_drop_file(c, p->deleted[i]);
    for (size_t i = 0; i < p->nfiles && c->nfiles < FAKE_MAX_FILES; i++) c->files[c->nfiles++] = p->files[i];
    for (size_t i = 0; i < p->nchunks && c->nchunks < FAKE_MAX_CHUNKS; i++) c->chunks[c->nchunks++] = p->chunks[i];
    memset(p, 0, sizeof(*p));   /* the chunks' memory moved over */
    f->in_tx = 0;
    f->commits++;
    return ST_OK;
}

static void fk_rollback(struct store *s)
{
    struct fake_store *f = FAKE(s);
    fk_rows_free(&f->pending);
    f->in_tx = 0;
    f->rollbacks++;
}

static void fk_close(struct store *s)
{
    (void)s;
}

/* ---- the context store -------------------------------------------------------- */

static struct fake_file *fk_find(struct fake_rows *r, const char *chatbot, const char *sha)
{
    for (size_t i = 0; i < r->nfiles; i++)
        if (!strcmp(r->files[i].chatbot, chatbot) && !strcmp(r->files[i].sha256, sha)) return &r->files[i];
    return NULL;
}

static int fk_find_file(struct store *s, arena_t *ar, const char *chatbot, const char *sha256, struct cx_file *out,
                        char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "find_file", err, errlen);
    struct fake_file *x = fk_find(&f->committed, chatbot, sha256);
    if (!x) x = fk_find(&f->pending, chatbot, sha256);
    if (!x) return 0;
    memset(out, 0, sizeof(*out));
    out->id = x->id;
    out->chunks = x->chunks;
    out->tokens = x->tokens;
    out->pages = x->pages;
    snprintf(out->tokenizer, sizeof(out->tokenizer), "%s", x->tokenizer);
    return 1;
}

static int fk_lock_chatbot(struct store *s, arena_t *ar, const char *chatbot, char *err, size_t errlen)
{
    STEP(s, "lock_chatbot", err, errlen);
    return ST_OK;
}

static int fk_add_file(struct store *s, const struct cx_file_row *r, long long *id, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "add_file", err, errlen);
    if (f->pending.nfiles == FAKE_MAX_FILES) {
        snprintf(err, errlen, "fake: too many files");
        return ST_EQUERY;
    }
    struct fake_file *x = &f->pending.files[f->pending.nfiles++];
    memset(x, 0, sizeof(*x));
    x->id = *id = ++f->next_id;
    snprintf(x->chatbot, sizeof(x->chatbot), "%s", r->chatbot);
    snprintf(x->sha256, sizeof(x->sha256), "%s", r->sha256);
    snprintf(x->tokenizer, sizeof(x->tokenizer), "%s", r->tokenizer);
    snprintf(x->title, sizeof(x->title), "%s", r->title);
    x->chunks = (long)r->chunks;
    x->tokens = (long)r->tokens;
    x->pages = r->pages > 0 ? r->pages : -1;
    return ST_OK;
}

static int fk_add_chunks(struct store *s, arena_t *ar, long long file_id, const char *chatbot, size_t first_seq,
                         const struct cx_chunk_row *rows, const float *vecs, size_t n, int dim, char *err,
                         size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "add_chunks", err, errlen);
    if (f->pending.nchunks + n > FAKE_MAX_CHUNKS) {
        snprintf(err, errlen, "fake: too many chunks");
        return ST_EQUERY;
    }
    for (size_t i = 0; i < n; i++) {
        struct fake_chunk *c = &f->pending.chunks[f->pending.nchunks++];
        memset(c, 0, sizeof(*c));
        c->id = ++f->next_id;
        c->file_id = file_id;
        snprintf(c->chatbot, sizeof(c->chatbot), "%s", chatbot);
        c->seq = first_seq + i;
        c->page = rows[i].page;
        c->text = malloc(rows[i].len + 1);
        c->vec = malloc((size_t)dim * sizeof(float));
        if (c->text) memcpy(c->text, rows[i].text, rows[i].len), c->text[rows[i].len] = '\0';
        if (c->vec) memcpy(c->vec, vecs + i * (size_t)dim, (size_t)dim * sizeof(float));
        c->len = rows[i].len;
        c->dim = dim;
    }
    return ST_OK;
}

static int fk_chunk_ids(struct store *s, arena_t *ar, long long file_id, long long **ids, size_t *n, char *err,
                        size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "chunk_ids", err, errlen);
    *n = 0;
    *ids = ar_alloc(ar, (f->pending.nchunks + 1) * sizeof(**ids));
    for (size_t i = 0; i < f->pending.nchunks; i++)
        if (f->pending.chunks[i].file_id == file_id) (*ids)[(*n)++] = f->pending.chunks[i].id;
    return ST_OK;
}

static int fk_vectors(struct store *s, arena_t *ar, const char *chatbot, long long except_file, struct cx_vec **out,
                      size_t *n, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "vectors", err, errlen);
    *n = 0;
    *out = ar_alloc(ar, (f->committed.nchunks + 1) * sizeof(**out));
    for (size_t i = 0; i < f->committed.nchunks; i++) {
        const struct fake_chunk *c = &f->committed.chunks[i];
        if (strcmp(c->chatbot, chatbot) || c->file_id == except_file || fk_deleting(f, c->file_id)) continue;
        (*out)[(*n)++] = (struct cx_vec){c->id, c->vec, (size_t)c->dim * sizeof(float)};
    }
    return ST_OK;
}

static int fk_delete_file(struct store *s, long long file_id, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "delete_file", err, errlen);
    if (f->in_tx && f->pending.ndeleted < FAKE_MAX_FILES) f->pending.deleted[f->pending.ndeleted++] = file_id;
    else fk_drop_file(&f->committed, file_id);
    return ST_OK;
}

static void fk_file_info(arena_t *ar, const struct fake_file *x, struct cx_file_info *out)
{
    *out = (struct cx_file_info){.id = x->id, .chatbot = ar_strdup(ar, x->chatbot), .title = ar_strdup(ar, x->title),
                                 .filename = "", .mime = "text/markdown", .sha256 = ar_strdup(ar, x->sha256),
                                 .tokenizer = ar_strdup(ar, x->tokenizer), .embedder = "builtin-v1",
                                 .tokens = x->tokens, .chunks = x->chunks, .pages = x->pages,
                                 .uploaded_ms = 1700000000000LL};
}

static int fk_file_get(struct store *s, arena_t *ar, long long id, struct cx_file_info *out, char *err,
                       size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "file_get", err, errlen);
    if (fk_deleting(f, id)) return 0;
    for (size_t i = 0; i < f->committed.nfiles; i++)
        if (f->committed.files[i].id == id) {
            fk_file_info(ar, &f->committed.files[i], out);
            return 1;
        }
    return 0;
}

static int fk_file_list(struct store *s, arena_t *ar, const char *chatbot, long limit, long offset,
                        struct cx_file_info **out, size_t *n, long long *total, char *err, size_t errlen)
{
    struct fake_store *f = FAKE(s);
    STEP(s, "file_list", err, errlen);
    *n = 0;
    *total = 0;
    if (!(*out = ar_calloc(ar, f->committed.nfiles + 1, sizeof(**out)))) return ST_EQUERY;
    for (size_t i = f->committed.nfiles; i-- > 0;) {   /* newest first */
        const struct fake_file *x = &f->committed.files[i];
        if (strcmp(x->chatbot, chatbot)) continue;
        if (*total >= offset && (long)*n < limit) fk_file_info(ar, x, &(*out)[(*n)++]);
        (*total)++;
    }
    return ST_OK;
}

/* ---- chat's reads ------------------------------------------------------------------- */

/* 1 when text has a word of 3+ letters of query (case-insensitive). */
static int fk_shares_word(const char *text, const char *query)
{
    const char *q = query;
    while (*q) {
        while (*q && !isalnum((unsigned char)*q)) q++;
        const char *b = q;
        while (isalnum((unsigned char)*q)) q++;
        size_t n = (size_t)(q - b);
        if (n < 3) continue;
        for (const char *t = text; *t; t++)
            if (!strncasecmp(t, b, n) && (t == text || !isalnum((unsigned char)t[-1])) &&
                !isalnum((unsigned char)t[n]))
                return 1;
    }
    return 0;
}

static const struct fake_file *fk_file_of(const struct fake_rows *r, long long id)
{
    for (size_t i = 0; i < r->nfiles; i++)
        if (r->files[i].id == id) return &r->files[i];
    return NULL;
}

static int fk_text_search(struct store *s, arena_t *ar, const char *chatbot, const char *query, int limit,
                          long long *ids, size_t *n, char *err, size_t errlen)
{
    (void)ar;
    STEP(s, "text_search", err, errlen);
    const struct fake_rows *r = &FAKE(s)->committed;
    *n = 0;
    for (size_t i = 0; i < r->nchunks && (int)*n < limit; i++)
        if (!strcmp(r->chunks[i].chatbot, chatbot) && fk_shares_word(r->chunks[i].text, query))
            ids[(*n)++] = r->chunks[i].id;
    return ST_OK;
}

static int fk_chunks(struct store *s, arena_t *ar, const char *chatbot, const long long *ids, size_t nids,
                     struct cx_chunk **out, size_t *n, char *err, size_t errlen)
{
    STEP(s, "chunks", err, errlen);
    const struct fake_rows *r = &FAKE(s)->committed;
    *n = 0;
    if (!(*out = ar_calloc(ar, nids + 1, sizeof(**out)))) return ST_EQUERY;
    for (size_t k = 0; k < nids; k++)
        for (size_t i = 0; i < r->nchunks; i++) {
            const struct fake_chunk *c = &r->chunks[i];
            if (c->id != ids[k] || strcmp(c->chatbot, chatbot)) continue;
            const struct fake_file *x = fk_file_of(r, c->file_id);
            struct cx_chunk *o = &(*out)[(*n)++];
            o->id = c->id;
            o->file_id = c->file_id;
            o->page = c->page;
            o->text = ar_strndup(ar, c->text, c->len);
            o->len = c->len;
            o->title = ar_strdup(ar, x ? x->title : "");
        }
    return ST_OK;
}

static int fk_first_texts(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***texts,
                          size_t **lens, size_t *n, char *err, size_t errlen)
{
    STEP(s, "first_texts", err, errlen);
    const struct fake_rows *r = &FAKE(s)->committed;
    *n = 0;
    *texts = ar_calloc(ar, r->nchunks + 1, sizeof(**texts));
    *lens = ar_calloc(ar, r->nchunks + 1, sizeof(**lens));
    if (!*texts || !*lens) return ST_EQUERY;
    for (size_t i = 0; i < r->nchunks && (int)*n < limit; i++) {
        if (strcmp(r->chunks[i].chatbot, chatbot)) continue;
        (*texts)[*n] = ar_strndup(ar, r->chunks[i].text, r->chunks[i].len);
        (*lens)[(*n)++] = r->chunks[i].len;
    }
    return ST_OK;
}

static int fk_file_titles(struct store *s, arena_t *ar, const char *chatbot, int limit, const char ***titles,
                          size_t *n, char *err, size_t errlen)
{
    STEP(s, "file_titles", err, errlen);
    const struct fake_rows *r = &FAKE(s)->committed;
    *n = 0;
    if (!(*titles = ar_calloc(ar, r->nfiles + 1, sizeof(**titles)))) return ST_EQUERY;
    for (size_t i = 0; i < r->nfiles && (int)*n < limit; i++)
        if (!strcmp(r->files[i].chatbot, chatbot)) (*titles)[(*n)++] = ar_strdup(ar, r->files[i].title);
    return ST_OK;
}

static const struct cx_ops fk_cx = {
    .find_file = fk_find_file,
    .lock_chatbot = fk_lock_chatbot,
    .add_file = fk_add_file,
    .add_chunks = fk_add_chunks,
    .chunk_ids = fk_chunk_ids,
    .vectors = fk_vectors,
    .delete_file = fk_delete_file,
    .text_search = fk_text_search,
    .chunks = fk_chunks,
    .first_texts = fk_first_texts,
    .file_titles = fk_file_titles,
    .file_get = fk_file_get,
    .file_list = fk_file_list,
};

/* ---- the catalog: the test's products ----------------------------------------------- */

static int fk_cat_search(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f, int limit,
                          struct cat_product **out, size_t *n, struct cat_text_info *info, char *err, size_t errlen)
{
    struct fake_store *fs = FAKE(s);
    STEP(s, "text_search", err, errlen);
    memset(info, 0, sizeof(*info));
    info->mode = "boolean";
    info->expr = cat_boolean_query(ar, residual, f, 0);
    info->row_words = "";
    *n = fs->nproducts < (size_t)limit ? fs->nproducts : (size_t)limit;
    *out = ar_alloc(ar, (*n + 1) * sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        (*out)[i] = fs->products[i];
        (*out)[i].relevance = (double)(*n - i);
    }
    return ST_OK;
}

static int fk_filters_pass_any(struct store *s, arena_t *ar, const struct qp_filters *f, int *any, char *err,
                               size_t errlen)
{
    STEP(s, "filters_pass_any", err, errlen);
    *any = FAKE(s)->nproducts > 0;
    return ST_OK;
}

static int fk_text_bounds(struct store *s, arena_t *ar, const struct cat_text_info *info, const struct qp_filters *f,
                          long *count, double *min, double *max, char *err, size_t errlen)
{
    struct fake_store *fs = FAKE(s);
    STEP(s, "text_bounds", err, errlen);
    *count = (long)fs->nproducts;
    *min = *max = -1;
    for (size_t i = 0; i < fs->nproducts; i++) {
        if (*min < 0 || fs->products[i].price < *min) *min = fs->products[i].price;
        if (fs->products[i].price > *max) *max = fs->products[i].price;
    }
    return ST_OK;
}

static int fk_fetch(struct store *s, arena_t *ar, const int64_t *ids, size_t nids, const struct qp_filters *f,
                    struct cat_product **out, size_t *n, char *err, size_t errlen)
{
    struct fake_store *fs = FAKE(s);
    STEP(s, "fetch", err, errlen);
    *n = 0;
    *out = ar_alloc(ar, (fs->nproducts + 1) * sizeof(**out));
    for (size_t i = 0; i < fs->nproducts; i++)
        for (size_t j = 0; j < nids; j++)
            if (fs->products[i].id == ids[j]) {
                (*out)[(*n)++] = fs->products[i];
                break;
            }
    return ST_OK;
}

static int fk_count(struct store *s, arena_t *ar, const struct qp_filters *f, long *n, char *err, size_t errlen)
{
    STEP(s, "count", err, errlen);
    *n = (long)FAKE(s)->nproducts;
    return ST_OK;
}

static int fk_designers(struct store *s, arena_t *ar, int max, const char ***names, size_t *n, char *err,
                        size_t errlen)
{
    STEP(s, "designers", err, errlen);
    *names = NULL;
    *n = 0;
    return ST_OK;
}

static int fk_version(struct store *s, arena_t *ar, uint64_t *v, char *err, size_t errlen)
{
    STEP(s, "version", err, errlen);
    *v = 1;
    return ST_OK;
}

/* Every product as a match, best first (the text search's order). */
static int fk_cat_search_all(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f,
                             int limit, int cap, struct cat_product **out, size_t *n, struct cat_text_info *info,
                             struct cat_hits *all, char *err, size_t errlen)
{
    struct fake_store *fs = FAKE(s);
    int rc = fk_cat_search(s, ar, residual, f, limit, out, n, info, err, errlen);
    if (rc != ST_OK) return rc;
    size_t k = fs->nproducts < (size_t)cap ? fs->nproducts : (size_t)cap;
    all->v = ar_alloc(ar, (k + 1) * sizeof(*all->v));
    for (size_t i = 0; i < k; i++)
        all->v[i] = (struct cat_hit){fs->products[i].id, (double)(fs->nproducts - i), fs->products[i].popularity};
    all->n = k;
    all->complete = k == fs->nproducts;
    return ST_OK;
}

/* No snapshot: the search counts what it read (totalExact false). */
static int fk_snapshot(struct store *s, uint64_t version, struct cs_snap **out, char *err, size_t errlen)
{
    STEP(s, "snapshot", err, errlen);
    *out = NULL;
    return ST_OK;
}

/* The any-word search answers as the text search does. */
static int fk_text_any(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f, int limit,
                       struct cat_product **out, size_t *n, struct cat_text_info *info, char *err, size_t errlen)
{
    STEP(s, "text_any", err, errlen);
    int rc = fk_cat_search(s, ar, residual, f, limit, out, n, info, err, errlen);
    if (rc == ST_OK) info->mode = "natural";
    return rc;
}

/* The products' categories, each once. */
static int fk_categories(struct store *s, arena_t *ar, const char ***out, size_t *n, char *err, size_t errlen)
{
    struct fake_store *fs = FAKE(s);
    STEP(s, "categories", err, errlen);
    *n = 0;
    *out = ar_alloc(ar, (fs->nproducts + 1) * sizeof(**out));
    if (!*out) return ST_EQUERY;
    for (size_t i = 0; i < fs->nproducts; i++) {
        const char *c = fs->products[i].category;
        size_t j = 0;
        while (c && j < *n && strcmp((*out)[j], c)) j++;
        if (c && j == *n) (*out)[(*n)++] = c;
    }
    return ST_OK;
}

/* No vocabulary: nothing is corrected. */
static int fk_vocab(struct store *s, arena_t *ar, const char ***words, unsigned **docs, size_t *n, char *err,
                    size_t errlen)
{
    STEP(s, "vocab", err, errlen);
    *words = NULL;
    *docs = NULL;
    *n = 0;
    return ST_OK;
}

static const struct cat_ops fk_cat = {
    .text_any = fk_text_any,
    .categories = fk_categories,
    .vocab = fk_vocab,
    .text_search = fk_cat_search,
    .filters_pass_any = fk_filters_pass_any,
    .text_bounds = fk_text_bounds,
    .fetch = fk_fetch,
    .count = fk_count,
    .designers = fk_designers,
    .version = fk_version,
    .text_search_all = fk_cat_search_all,
    .snapshot = fk_snapshot,
};

/* ---- sessions: kept with their messages, every call a step ---------------------------- */

static struct fake_sess *fk_sess_row(struct fake_store *f, const char *id)
{
    for (size_t i = 0; i < f->nsessions; i++)
        if (!strcmp(f->sessions[i].id, id)) return &f->sessions[i];
    return NULL;
}

/* Creates session id for its owner unless it exists; fills out. */
static void fk_session(struct fake_store *f, const char *id, int kind, const char *chatbot, struct sess *out)
{
    struct fake_sess *x = fk_sess_row(f, id);
    int created = !x;
    if (created && f->nsessions < FAKE_MAX_SESSIONS) {
        x = &f->sessions[f->nsessions++];
        memset(x, 0, sizeof(*x));
        snprintf(x->id, sizeof(x->id), "%s", id);
        x->kind = kind;
        snprintf(x->chatbot, sizeof(x->chatbot), "%s", chatbot ? chatbot : "");
    }
    if (x) x->idle_s = 0;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    out->created = created;
}

static int fk_msg_add(struct fake_store *f, const char *id, const char *role, const char *content, size_t len,
                      int partial, char *err, size_t errlen)
{
    if (f->nmsgs == FAKE_MAX_MSGS) {
        snprintf(err, errlen, "fake: too many messages");
        return ST_EQUERY;
    }
    struct fake_msg *m = &f->msgs[f->nmsgs++];
    snprintf(m->sid, sizeof(m->sid), "%s", id);
    snprintf(m->role, sizeof(m->role), "%s", role);
    if ((m->content = malloc(len + 1))) memcpy(m->content, content, len), m->content[len] = '\0';
    m->partial = partial;
    return ST_OK;
}

static int fk_sess_find(struct store *s, arena_t *ar, const char *id, struct sess_info *out, char *err,
                        size_t errlen)
{
    (void)ar;
    STEP(s, "sess_find", err, errlen);
    const struct fake_sess *x = fk_sess_row(FAKE(s), id);
    if (!x) return 0;
    memset(out, 0, sizeof(*out));
    out->kind = x->kind;
    snprintf(out->chatbot, sizeof(out->chatbot), "%s", x->chatbot);
    out->idle_s = x->idle_s;
    return 1;
}

static int fk_sess_open(struct store *s, const char *id, int kind, const char *chatbot_id, struct sess *out,
                        char *err, size_t errlen)
{
    STEP(s, "sess_open", err, errlen);
    fk_session(FAKE(s), id, kind, chatbot_id, out);
    return ST_OK;
}

static int fk_sess_history(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out,
                           size_t *n, char *err, size_t errlen)
{
    (void)max_turns;
    STEP(s, "sess_history", err, errlen);
    struct fake_store *f = FAKE(s);
    *n = 0;
    if (!(*out = ar_calloc(ar, f->nmsgs + 1, sizeof(**out)))) return ST_EQUERY;
    for (size_t i = 0; i < f->nmsgs; i++) {
        if (strcmp(f->msgs[i].sid, id)) continue;
        struct sess_msg *m = &(*out)[(*n)++];
        m->role = ar_strdup(ar, f->msgs[i].role);
        m->content = ar_strdup(ar, f->msgs[i].content ? f->msgs[i].content : "");
        m->len = m->content ? strlen(m->content) : 0;
        m->partial = f->msgs[i].partial;
    }
    return ST_OK;
}

static int fk_sess_turn(struct store *s, const char *id, int kind, const char *chatbot_id, const char *user_text,
                        const char *entities, struct sess *out, char *err, size_t errlen)
{
    (void)entities;
    STEP(s, "sess_turn", err, errlen);   /* one transaction: the session and the question */
    fk_session(FAKE(s), id, kind, chatbot_id, out);
    return fk_msg_add(FAKE(s), out->id, "user", user_text, strlen(user_text), 0, err, errlen);
}

static int fk_sess_add(struct store *s, const char *id, const char *role, const char *content, size_t len,
                       int partial, const char *entities, char *err, size_t errlen)
{
    (void)entities;
    STEP(s, "sess_add", err, errlen);
    return fk_msg_add(FAKE(s), id, role, content, len, partial, err, errlen);
}

/* Deletes (or counts) the sessions idle at least idle_s, with their messages. */
static int fk_sess_prune(struct store *s, arena_t *ar, long long idle_s, int batch, int dry_run, long long *sessions,
                         long long *messages, char *err, size_t errlen)
{
    (void)ar, (void)batch;
    STEP(s, "sess_prune", err, errlen);
    struct fake_store *f = FAKE(s);
    *sessions = *messages = 0;
    size_t k = 0;
    for (size_t i = 0; i < f->nsessions; i++) {
        struct fake_sess *x = &f->sessions[i];
        if (x->idle_s < idle_s) {
            f->sessions[k++] = *x;
            continue;
        }
        (*sessions)++;
        size_t m = 0;
        for (size_t j = 0; j < f->nmsgs; j++) {
            if (!strcmp(f->msgs[j].sid, x->id)) {
                (*messages)++;
                if (!dry_run) {
                    free(f->msgs[j].content);
                    continue;
                }
            }
            f->msgs[m++] = f->msgs[j];
        }
        f->nmsgs = m;
        if (dry_run) f->sessions[k++] = *x;
    }
    f->nsessions = k;
    return ST_OK;
}

static const struct sess_ops fk_sess = {
    .find = fk_sess_find,
    .open = fk_sess_open,
    .history = fk_sess_history,
    .turn = fk_sess_turn,
    .add = fk_sess_add,
    .prune = fk_sess_prune,
};

/* ---- access: keys and origins --------------------------------------------------------- */

static int fk_key_find(struct store *s, arena_t *ar, const uint8_t hash[32], struct acc_key *out, char *err,
                       size_t errlen)
{
    (void)ar;
    STEP(s, "key_find", err, errlen);
    struct fake_store *f = FAKE(s);
    for (size_t i = 0; i < f->nkeys; i++) {
        if (memcmp(f->keys[i].hash, hash, 32)) continue;
        memset(out, 0, sizeof(*out));
        snprintf(out->id, sizeof(out->id), "%s", f->keys[i].id);
        out->scopes = f->keys[i].scopes;
        snprintf(out->chatbot, sizeof(out->chatbot), "%s", f->keys[i].chatbot);
        out->revoked = f->keys[i].revoked;
        out->stale = !f->keys[i].touched;
        return 1;
    }
    return 0;
}

static int fk_key_touch(struct store *s, const char *id, char *err, size_t errlen)
{
    STEP(s, "key_touch", err, errlen);
    struct fake_store *f = FAKE(s);
    for (size_t i = 0; i < f->nkeys; i++)
        if (!strcmp(f->keys[i].id, id)) f->keys[i].touched = 1;
    return ST_OK;
}

static int fk_origin_allowed(struct store *s, arena_t *ar, const char *chatbot, const char *origin, char *err,
                             size_t errlen)
{
    (void)ar;
    STEP(s, "origin_allowed", err, errlen);
    struct fake_store *f = FAKE(s);
    for (size_t i = 0; i < f->norigins; i++)
        if ((!chatbot || !strcmp(f->origins[i][0], chatbot)) && !strcmp(f->origins[i][1], origin)) return 1;
    return 0;
}

static const struct acc_ops fk_acc = {
    .key_find = fk_key_find,
    .key_touch = fk_key_touch,
    .origin_allowed = fk_origin_allowed,
};

/* ---- setup -------------------------------------------------------------------------- */

void fake_store_init(struct fake_store *f)
{
    memset(f, 0, sizeof(*f));
    f->base = (struct store){
        .name = "fake",
        .cat = &fk_cat,
        .cx = &fk_cx,
        .sess = &fk_sess,
        .acc = &fk_acc,
        .connect = fk_connect,
        .ping = fk_connect,
        .begin = fk_begin,
        .commit = fk_commit,
        .rollback = fk_rollback,
        .close = fk_close,
    };
    f->fail_rc = ST_ECONN;
}

void fake_store_free(struct fake_store *f)
{
    fk_rows_free(&f->committed);
    fk_rows_free(&f->pending);
    for (size_t i = 0; i < f->nmsgs; i++) free(f->msgs[i].content);
    f->nmsgs = 0;
}

void fake_store_reset(struct fake_store *f, int fail_at, int fail_rc)
{
    fk_rows_free(&f->pending);
    f->steps = f->failed_step = f->lost = f->in_tx = 0;
    f->failed_op = NULL;
    f->fail_at = fail_at;
    f->fail_rc = fail_rc;
    f->commits = f->rollbacks = 0;
}

long long fake_store_seed_file(struct fake_store *f, const char *chatbot, const char *sha256, size_t n, int dim)
{
    struct fake_rows *r = &f->committed;
    if (r->nfiles == FAKE_MAX_FILES || r->nchunks + n > FAKE_MAX_CHUNKS) return 0;
    struct fake_file *x = &r->files[r->nfiles++];
    memset(x, 0, sizeof(*x));
    x->id = ++f->next_id;
    snprintf(x->chatbot, sizeof(x->chatbot), "%s", chatbot);
    snprintf(x->sha256, sizeof(x->sha256), "%s", sha256);
    snprintf(x->tokenizer, sizeof(x->tokenizer), "estimate:chars/4");
    x->chunks = (long)n;
    x->pages = -1;
    for (size_t i = 0; i < n; i++) {
        struct fake_chunk *c = &r->chunks[r->nchunks++];
        memset(c, 0, sizeof(*c));
        c->id = ++f->next_id;
        c->file_id = x->id;
        snprintf(c->chatbot, sizeof(c->chatbot), "%s", chatbot);
        c->seq = i;
        c->text = strdup("seeded chunk");
        c->len = strlen("seeded chunk");
        c->vec = calloc((size_t)dim, sizeof(float));
        if (c->vec) c->vec[i % (size_t)dim] = 1.0f;
        c->dim = dim;
    }
    return x->id;
}

long long fake_store_seed_text(struct fake_store *f, const char *chatbot, const char *title, const char *text)
{
    struct fake_rows *r = &f->committed;
    if (r->nfiles == FAKE_MAX_FILES || r->nchunks == FAKE_MAX_CHUNKS) return 0;
    struct fake_file *x = &r->files[r->nfiles++];
    memset(x, 0, sizeof(*x));
    x->id = ++f->next_id;
    snprintf(x->chatbot, sizeof(x->chatbot), "%s", chatbot);
    snprintf(x->title, sizeof(x->title), "%s", title);
    snprintf(x->tokenizer, sizeof(x->tokenizer), "estimate:chars/4");
    x->chunks = 1;
    x->pages = -1;
    struct fake_chunk *c = &r->chunks[r->nchunks++];
    memset(c, 0, sizeof(*c));
    c->id = ++f->next_id;
    c->file_id = x->id;
    snprintf(c->chatbot, sizeof(c->chatbot), "%s", chatbot);
    c->text = strdup(text);
    c->len = c->text ? strlen(text) : 0;
    return x->id;
}

void fake_store_add_key(struct fake_store *f, const char *key, unsigned scopes, const char *chatbot)
{
    if (f->nkeys == FAKE_MAX_KEYS) return;
    struct fake_key *k = &f->keys[f->nkeys];
    memset(k, 0, sizeof(*k));
    sha256(key, strlen(key), k->hash);
    snprintf(k->id, sizeof(k->id), "kfake%zu", ++f->nkeys);
    k->scopes = scopes;
    snprintf(k->chatbot, sizeof(k->chatbot), "%s", chatbot ? chatbot : "");
}

void fake_store_add_origin(struct fake_store *f, const char *chatbot, const char *origin)
{
    if (f->norigins == FAKE_MAX_ORIGINS) return;
    snprintf(f->origins[f->norigins][0], sizeof(f->origins[0][0]), "%s", chatbot);
    snprintf(f->origins[f->norigins][1], sizeof(f->origins[0][1]), "%s", origin);
    f->norigins++;
}

void fake_store_add_session(struct fake_store *f, const char *id, int kind, const char *chatbot, long long idle_s)
{
    struct sess out;
    fk_session(f, id, kind, chatbot, &out);
    struct fake_sess *x = fk_sess_row(f, id);
    if (x) x->idle_s = idle_s;
}

const struct fake_sess *fake_store_session(const struct fake_store *f, const char *id)
{
    return fk_sess_row((struct fake_store *)f, id);
}

const char *fake_store_messages(const struct fake_store *f, const char *sid, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->nmsgs && o < cap; i++) {
        if (strcmp(f->msgs[i].sid, sid)) continue;
        int w = snprintf(out + o, cap - o, "%s%s/%d/%s", o ? "\n" : "", f->msgs[i].role, f->msgs[i].partial,
                         f->msgs[i].content ? f->msgs[i].content : "");
        if (w < 0) break;
        o += (size_t)w;
    }
    return out;
}

int fake_store_step_of(const struct fake_store *f, const char *op)
{
    for (int i = 0; i < f->steps && i < (int)(sizeof(f->ops) / sizeof(f->ops[0])); i++)
        if (!strcmp(f->ops[i], op)) return i + 1;
    return 0;
}

size_t fake_store_files(const struct fake_store *f)
{
    return f->committed.nfiles;
}

size_t fake_store_chunks(const struct fake_store *f)
{
    return f->committed.nchunks;
}
