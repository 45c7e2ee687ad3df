/* upload_store.c: the `storing` step of an upload: one transaction for the
 * file row and its chunks, the chatbot's vector index rebuilt over all its
 * chunks under a staging name, COMMIT, then the index renamed into place.
 * Any failure before the rename rolls back and removes the staging files,
 * so no rows remain and the previous index stays.
 *
 * Concurrency: the chatbot's row is locked (SELECT ... FOR UPDATE) for the
 * whole transaction, so two uploads for one chatbot take turns and each
 * index holds every committed chunk. Memory: row ids and the chatbot's
 * older vectors are read into the arena; a combined vector array is
 * malloc'd only when older vectors exist. */
#include "handlers/upload/upload.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/io/db.h"
#include "index/vidx.h"

enum { UP_BATCH = 64 };   /* chunk rows per INSERT statement */

static const char *const up_index_exts[] = {".faiss", ".ids", ".meta.json"};   /* meta last */

void up_index_name(const char *chatbot, char *out, size_t cap)
{
    snprintf(out, cap, "chatbot-%s", chatbot);
}

static int st_class(int dbrc)
{
    return dbrc == DB_ECONN ? UP_ST_DBCONN : UP_ST_DBQUERY;
}

int up_store_find(struct db *d, arena_t *ar, const char *chatbot, const char *sha256, struct up_existing *out,
                  char *err, size_t errlen)
{
    struct db_rows rs;
    struct db_param p[] = {DB_STR(chatbot), DB_STR(sha256)};
    int rc = db_query(d, ar,
                      "SELECT id, chunks, tokens, pages, tokenizer FROM context_files "
                      "WHERE chatbot_id = ? AND sha256 = ?",
                      p, 2, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (rs.nrows == 0) return 0;
    memset(out, 0, sizeof(*out));
    out->file_id = strtoll(db_cell(&rs, 0, 0), NULL, 10);
    out->chunks = strtol(db_cell(&rs, 0, 1), NULL, 10);
    out->tokens = strtol(db_cell(&rs, 0, 2), NULL, 10);
    out->pages = db_cell(&rs, 0, 3) ? (int)strtol(db_cell(&rs, 0, 3), NULL, 10) : -1;
    snprintf(out->tokenizer, sizeof(out->tokenizer), "%s", db_cell(&rs, 0, 4) ? db_cell(&rs, 0, 4) : "");
    return 1;
}

static void unlink_index(const char *dir, const char *name)
{
    char path[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, up_index_exts[i]);
        unlink(path);
    }
}

/* "(?,?,?,?,?,?,?,?)" k times after the INSERT head, in the arena. */
static char *insert_sql(arena_t *ar, size_t k)
{
    static const char head[] =
        "INSERT INTO context_chunks (file_id, chatbot_id, seq, page, char_offset, text, tokens, vector) VALUES ";
    static const char row[] = "(?,?,?,?,?,?,?,?)";
    size_t len = sizeof(head) - 1 + k * sizeof(row);
    char *sql = ar_alloc(ar, len + 1);
    if (!sql) return NULL;
    char *p = sql;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    for (size_t i = 0; i < k; i++) {
        if (i) *p++ = ',';
        memcpy(p, row, sizeof(row) - 1);
        p += sizeof(row) - 1;
    }
    *p = '\0';
    return sql;
}

static int report(const struct up_store_req *r, int *stop_rc, const char *msg, int pct)
{
    if (!r->progress) return 0;
    int rc = r->progress(r->arg, msg, pct);
    if (rc) *stop_rc = rc;
    return rc;
}

static int insert_chunks(struct db *d, arena_t *ar, const struct up_store_req *r, long long file_id,
                         int *stop_rc, char *err, size_t errlen)
{
    const struct up_chunking *ch = r->ch;
    struct db_param *p = ar_alloc(ar, UP_BATCH * 8 * sizeof(*p));
    char *full = insert_sql(ar, UP_BATCH);
    if (!p || !full) {
        snprintf(err, errlen, "out of memory");
        return UP_ST_DBQUERY;
    }
    size_t vbytes = (size_t)r->dim * sizeof(float);
    int last_pct = -1;
    for (size_t at = 0; at < ch->n; at += UP_BATCH) {
        size_t k = ch->n - at < UP_BATCH ? ch->n - at : UP_BATCH;
        for (size_t i = 0; i < k; i++) {
            const struct up_chunk *c = &ch->chunks[at + i];
            struct db_param *q = p + i * 8;
            q[0] = DB_INT(file_id);
            q[1] = DB_STR(r->chatbot);
            q[2] = DB_INT((long long)(at + i));
            q[3] = c->page > 0 ? DB_INT(c->page) : DB_NULL;
            q[4] = DB_INT((long long)c->char_off);
            q[5] = DB_STRN(r->text->s + c->off, c->len);
            q[6] = DB_INT(c->tokens);
            q[7] = DB_BLOB(r->vecs + (at + i) * (size_t)r->dim, vbytes);
        }
        const char *sql = k == UP_BATCH ? full : insert_sql(ar, k);
        if (!sql) {
            snprintf(err, errlen, "out of memory");
            return UP_ST_DBQUERY;
        }
        char dberr[256];
        int rc = db_exec(d, sql, p, k * 8, NULL, NULL, dberr, sizeof(dberr));
        if (rc != DB_OK) {
            /* The server's message may quote the text: not passed on. */
            snprintf(err, errlen, "inserting chunk rows failed (%s)",
                     rc == DB_ECONN ? "connection lost" : "query error");
            return st_class(rc);
        }
        if (r->fault && !strcmp(r->fault, "storing")) {
            snprintf(err, errlen, "injected fault after storing %zu chunk rows (upload_fault = storing)", at + k);
            return UP_ST_FAULT;
        }
        int pct = (int)((at + k) * 80 / ch->n);
        if (pct / 10 != last_pct / 10) {
            char msg[96];
            snprintf(msg, sizeof(msg), "Stored %zu of %zu chunks", at + k, ch->n);
            if (report(r, stop_rc, msg, pct)) return UP_ST_STOP;
            last_pct = pct;
        }
    }
    return UP_ST_OK;
}

/* Reads the ids of the new chunks (by seq) and the chatbot's older vectors,
 * then builds the index under `staging`. */
static int build_index(struct db *d, arena_t *ar, const struct up_store_req *r, long long file_id,
                       const char *staging, int *stop_rc, char *err, size_t errlen)
{
    const struct up_chunking *ch = r->ch;
    struct db_rows ids, old;
    struct db_param p1[] = {DB_INT(file_id)};
    int rc = db_query(d, ar, "SELECT id FROM context_chunks WHERE file_id = ? ORDER BY seq", p1, 1, 0, &ids, err,
                      errlen);
    if (rc != DB_OK) return st_class(rc);
    if (ids.nrows != ch->n) {
        snprintf(err, errlen, "read back %zu chunk ids, stored %zu", ids.nrows, ch->n);
        return UP_ST_DBQUERY;
    }
    struct db_param p2[] = {DB_STR(r->chatbot), DB_INT(file_id)};
    rc = db_query(d, ar, "SELECT id, vector FROM context_chunks WHERE chatbot_id = ? AND file_id <> ? ORDER BY id",
                  p2, 2, 0, &old, err, errlen);
    if (rc != DB_OK) return st_class(rc);

    size_t n = old.nrows + ch->n, vbytes = (size_t)r->dim * sizeof(float);
    int64_t *allids = ar_alloc(ar, n * sizeof(*allids));
    float *vecs = old.nrows ? malloc(n * vbytes) : (float *)r->vecs;
    if (!allids || !vecs) {
        snprintf(err, errlen, "out of memory");
        return UP_ST_INDEX;
    }
    int ret = UP_ST_OK;
    for (size_t i = 0; i < old.nrows; i++) {
        if (old.lens[i * 2 + 1] != vbytes) {
            snprintf(err, errlen,
                     "the chatbot's stored vectors have %lu dimensions and the embedder %d: re-upload its files "
                     "after changing the embedder",
                     old.lens[i * 2 + 1] / (unsigned long)sizeof(float), r->dim);
            ret = UP_ST_DIM;
            goto out;
        }
        allids[i] = strtoll(db_cell(&old, i, 0), NULL, 10);
        memcpy(vecs + i * (size_t)r->dim, db_cell(&old, i, 1), vbytes);
    }
    for (size_t i = 0; i < ch->n; i++) allids[old.nrows + i] = strtoll(db_cell(&ids, i, 0), NULL, 10);
    if (old.nrows) memcpy(vecs + old.nrows * (size_t)r->dim, r->vecs, ch->n * vbytes);

    char msg[128];
    snprintf(msg, sizeof(msg), "Writing the chatbot's vector index (%zu vectors)", n);
    if (report(r, stop_rc, msg, 85)) {
        ret = UP_ST_STOP;
        goto out;
    }
    if (r->fault && !strcmp(r->fault, "index")) {
        snprintf(err, errlen, "injected fault while writing the index (upload_fault = index)");
        ret = UP_ST_FAULT;
        goto out;
    }
    char verr[256];
    if (vidx_build(r->index_dir, staging, vecs, allids, n, r->dim, r->embedder, verr, sizeof(verr)) < 0) {
        snprintf(err, errlen, "the vector index could not be written: %s", verr);
        ret = UP_ST_INDEX;
        goto out;
    }
out:
    if (vecs != r->vecs) free(vecs);
    return ret;
}

static int rename_index(const char *dir, const char *from, const char *to, char *err, size_t errlen)
{
    char a[1024], b[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(a, sizeof(a), "%s/%s%s", dir, from, up_index_exts[i]);
        snprintf(b, sizeof(b), "%s/%s%s", dir, to, up_index_exts[i]);
        if (rename(a, b) < 0) {
            snprintf(err, errlen, "renaming the new index into place failed: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* A worker killed between building an index and renaming it into place
 * leaves its staging files (<name>.staging-<pid>.faiss, ...). The next
 * upload to the same chatbot, holding the chatbot's row lock, removes those
 * whose process is gone. A live pid's files stay: that upload committed
 * (its lock ended there) and may be renaming right now. */
static void sweep_staging(const char *dir, const char *name)
{
    char prefix[160];
    int pl = snprintf(prefix, sizeof(prefix), "%s.staging-", name);
    DIR *dp = opendir(dir);
    if (!dp || pl <= 0 || (size_t)pl >= sizeof(prefix)) {
        if (dp) closedir(dp);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)pl) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + pl, &end, 10);
        if (end == e->d_name + pl || pid <= 0 || pid == (long)getpid()) continue;
        int ours = 0;
        for (size_t i = 0; i < sizeof(up_index_exts) / sizeof(up_index_exts[0]); i++)
            ours |= !strcmp(end, up_index_exts[i]);
        if (!ours || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        unlinkat(dirfd(dp), e->d_name, 0);
    }
    closedir(dp);
}

int up_store(struct db *d, arena_t *ar, const struct up_store_req *r, long long *file_id, struct up_existing *dup,
             int *stop_rc, char *err, size_t errlen)
{
    char name[128], staging[160];
    up_index_name(r->chatbot, name, sizeof(name));
    snprintf(staging, sizeof(staging), "%s.staging-%ld", name, (long)getpid());
    *file_id = 0;
    *stop_rc = 0;
    int in_tx = 0, built = 0, ret;
    unsigned long long id = 0;

    int rc = db_begin(d, err, errlen);
    if (rc != DB_OK) return st_class(rc);
    in_tx = 1;
    struct db_param pc[] = {DB_STR(r->chatbot)};
    rc = db_exec(d, "INSERT IGNORE INTO chatbots (id) VALUES (?)", pc, 1, NULL, NULL, err, errlen);
    struct db_rows lock;
    if (rc == DB_OK)
        rc = db_query(d, ar, "SELECT id FROM chatbots WHERE id = ? FOR UPDATE", pc, 1, 1, &lock, err, errlen);
    if (rc != DB_OK) {
        ret = st_class(rc);
        goto fail;
    }
    sweep_staging(r->index_dir, name);
    /* With the chatbot locked, look again: another upload of the same
     * content may have committed since the first look. */
    rc = up_store_find(d, ar, r->chatbot, r->sha256, dup, err, errlen);
    if (rc < 0) {
        ret = st_class(rc);
        goto fail;
    }
    if (rc == 1) {
        db_rollback(d);
        return UP_ST_DUP;
    }
    struct db_param pf[] = {
        DB_STR(r->chatbot), DB_STR(r->title),       DB_STR(r->filename),          DB_STR(r->mime),
        DB_INT((long long)r->bytes), DB_STR(r->sha256), DB_INT((long long)r->tokens), DB_INT((long long)r->ch->n),
        r->pages > 0 ? DB_INT(r->pages) : DB_NULL,   DB_STR(r->tokenizer),          DB_STR(r->embedder),
    };
    rc = db_exec(d,
                 "INSERT INTO context_files (chatbot_id, title, filename, mime, bytes, sha256, tokens, chunks, pages, "
                 "tokenizer, embedder) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 pf, sizeof(pf) / sizeof(pf[0]), NULL, &id, err, errlen);
    if (rc != DB_OK) {
        ret = st_class(rc);
        goto fail;
    }
    ret = insert_chunks(d, ar, r, (long long)id, stop_rc, err, errlen);
    if (ret != UP_ST_OK) goto fail;
    ret = build_index(d, ar, r, (long long)id, staging, stop_rc, err, errlen);
    if (ret != UP_ST_OK) goto fail;
    built = 1;
    if (report(r, stop_rc, "Committing", 95)) {
        ret = UP_ST_STOP;
        goto fail;
    }
    if (r->fault && !strcmp(r->fault, "commit")) {
        snprintf(err, errlen, "injected fault at commit (upload_fault = commit)");
        ret = UP_ST_FAULT;
        goto fail;
    }
    rc = db_commit(d, err, errlen);
    if (rc != DB_OK) {
        ret = st_class(rc);
        goto fail;
    }
    in_tx = 0;
    if (rename_index(r->index_dir, staging, name, err, errlen) < 0) {
        /* Committed but the index is not in place: take the rows back out
         * so that the upload failed as a whole. */
        struct db_param pd[] = {DB_INT((long long)id)};
        char e2[256];
        db_exec(d, "DELETE FROM context_files WHERE id = ?", pd, 1, NULL, NULL, e2, sizeof(e2));
        ret = UP_ST_INDEX;
        goto fail;
    }
    *file_id = (long long)id;
    return UP_ST_OK;
fail:
    if (in_tx) db_rollback(d);
    if (built || ret == UP_ST_INDEX) unlink_index(r->index_dir, staging);
    return ret;
}
