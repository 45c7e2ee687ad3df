/* context_upload.c: storing an uploaded file, all or nothing: one
 * transaction for the file row and its chunks, the chatbot's vector index
 * rebuilt over all its chunks under a staging name, COMMIT, then the index
 * renamed into place. Any failure before the rename rolls back and
 * removes the staging files, so no rows remain and the previous index
 * stays. Runs over the context store's calls (context.h), so a fake store
 * can fail at any step of it.
 *
 * Concurrency: the chatbot's row is locked (cx_lock_chatbot) for the whole
 * transaction, so two uploads for one chatbot take turns and each index
 * holds every committed chunk. Memory: row ids and the chatbot's older
 * vectors are read into the arena; a combined vector array is malloc'd
 * only when older vectors exist. */
#include "common/store/context.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/store/context_index.h"
#include "index/vidx.h"

enum { CX_BATCH = 64 };   /* chunk rows per INSERT statement */

const char *const cx_index_exts[3] = {".faiss", ".ids", ".meta.json"};   /* meta last */

/* One upload's state, for its steps. */
struct cxu {
    struct store *s;
    arena_t *ar;
    const struct cx_upload *r;
    char name[128], staging[160];
    long long file_id;
    int *stop_rc;
    char *err;
    size_t errlen;
};

static int cxu_class(int strc)
{
    return strc == ST_ECONN ? CX_UP_DBCONN : CX_UP_DBQUERY;
}

static int cxu_fault(const struct cxu *u, const char *step)
{
    return u->r->fault && !strcmp(u->r->fault, step);
}

static int cxu_report(struct cxu *u, const char *msg, int pct)
{
    if (!u->r->progress) return 0;
    int rc = u->r->progress(u->r->arg, msg, pct);
    if (rc) *u->stop_rc = rc;
    return rc;
}

void cx_index_unlink(const char *dir, const char *name)
{
    char path[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, cx_index_exts[i]);
        unlink(path);
    }
}

int cx_index_rename(const char *dir, const char *from, const char *to, char *err, size_t errlen)
{
    char a[1024], b[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(a, sizeof(a), "%s/%s%s", dir, from, cx_index_exts[i]);
        snprintf(b, sizeof(b), "%s/%s%s", dir, to, cx_index_exts[i]);
        if (rename(a, b) < 0) {
            snprintf(err, errlen, "renaming the new index into place failed: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

void cx_index_remove(const char *dir, const char *name)
{
    char path[1024];
    for (size_t i = 3; i-- > 0;) {   /* meta first: a reader then finds no index at all */
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, cx_index_exts[i]);
        unlink(path);
    }
}

void cx_index_staging(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s.staging-%ld", name, (long)getpid());
}

/* A worker killed between building an index and renaming it into place
 * leaves its staging files (<name>.staging-<pid>.faiss, ...). The next
 * upload to the same chatbot, holding the chatbot's row lock, removes those
 * whose process is gone. A live pid's files stay: that upload committed
 * (its lock ended there) and may be renaming right now. */
void cx_index_sweep(const char *dir, const char *name)
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
        for (size_t i = 0; i < sizeof(cx_index_exts) / sizeof(cx_index_exts[0]); i++)
            ours |= !strcmp(end, cx_index_exts[i]);
        if (!ours || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        unlinkat(dirfd(dp), e->d_name, 0);
    }
    closedir(dp);
}

/* The chatbot locked, stale staging files swept, and a second look for
 * the same content (another upload may have committed it since the
 * first look): CX_UP_DUP then. */
static int cxu_lock(struct cxu *u, struct cx_file *dup)
{
    const struct cx_upload *r = u->r;
    int rc = cx_lock_chatbot(u->s, u->ar, r->file.chatbot, u->err, u->errlen);
    if (rc != ST_OK) return cxu_class(rc);
    cx_index_sweep(r->index_dir, u->name);
    rc = cx_find_file(u->s, u->ar, r->file.chatbot, r->file.sha256, dup, u->err, u->errlen);
    if (rc < 0) return cxu_class(rc);
    return rc == 1 ? CX_UP_DUP : CX_UP_OK;
}

/* The file row, then its chunks CX_BATCH a statement (0-80%). */
static int cxu_rows(struct cxu *u)
{
    const struct cx_upload *r = u->r;
    size_t n = r->file.chunks;
    int rc = cx_add_file(u->s, &r->file, &u->file_id, u->err, u->errlen);
    if (rc != ST_OK) return cxu_class(rc);
    int last_pct = -1;
    for (size_t at = 0; at < n; at += CX_BATCH) {
        size_t k = n - at < CX_BATCH ? n - at : CX_BATCH;
        rc = cx_add_chunks(u->s, u->ar, u->file_id, r->file.chatbot, at, r->chunks + at,
                           r->vecs + at * (size_t)r->dim, k, r->dim, u->err, u->errlen);
        if (rc != ST_OK) return cxu_class(rc);
        if (cxu_fault(u, "storing")) {
            snprintf(u->err, u->errlen, "injected fault after storing %zu chunk rows (upload_fault = storing)",
                     at + k);
            return CX_UP_FAULT;
        }
        int pct = (int)((at + k) * 80 / n);
        if (pct / 10 != last_pct / 10) {
            char msg[96];
            snprintf(msg, sizeof(msg), "Stored %zu of %zu chunks", at + k, n);
            if (cxu_report(u, msg, pct)) return CX_UP_STOP;
            last_pct = pct;
        }
    }
    return CX_UP_OK;
}

/* Every vector of the chatbot, older files' first, then the new chunks'
 * (ids read back by seq). *vecs is r->vecs itself when there are no older
 * ones, else a malloc'd array the caller frees. */
static int cxu_gather(struct cxu *u, int64_t **ids, float **vecs, size_t *n)
{
    const struct cx_upload *r = u->r;
    size_t nnew = r->file.chunks, nold = 0, vbytes = (size_t)r->dim * sizeof(float);
    long long *newids;
    struct cx_vec *old;
    size_t got;
    int rc = cx_chunk_ids(u->s, u->ar, u->file_id, &newids, &got, u->err, u->errlen);
    if (rc != ST_OK) return cxu_class(rc);
    if (got != nnew) {
        snprintf(u->err, u->errlen, "read back %zu chunk ids, stored %zu", got, nnew);
        return CX_UP_DBQUERY;
    }
    rc = cx_vectors(u->s, u->ar, r->file.chatbot, u->file_id, &old, &nold, u->err, u->errlen);
    if (rc != ST_OK) return cxu_class(rc);
    *n = nold + nnew;
    *ids = ar_alloc(u->ar, *n * sizeof(**ids));
    *vecs = nold ? malloc(*n * vbytes) : (float *)r->vecs;
    if (!*ids || !*vecs) {
        snprintf(u->err, u->errlen, "out of memory");
        return CX_UP_INDEX;
    }
    for (size_t i = 0; i < nold; i++) {
        if (old[i].bytes != vbytes) {
            snprintf(u->err, u->errlen,
                     "the chatbot's stored vectors have %zu dimensions and the embedder %d: re-upload its files "
                     "after changing the embedder",
                     old[i].bytes / sizeof(float), r->dim);
            return CX_UP_DIM;
        }
        (*ids)[i] = old[i].id;
        memcpy(*vecs + i * (size_t)r->dim, old[i].data, vbytes);
    }
    for (size_t i = 0; i < nnew; i++) (*ids)[nold + i] = newids[i];
    if (nold) memcpy(*vecs + nold * (size_t)r->dim, r->vecs, nnew * vbytes);
    return CX_UP_OK;
}

/* The chatbot's index over all its chunks, under the staging name (85%). */
static int cxu_index(struct cxu *u)
{
    const struct cx_upload *r = u->r;
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    int ret = cxu_gather(u, &ids, &vecs, &n);
    if (ret != CX_UP_OK) goto out;
    char msg[128];
    snprintf(msg, sizeof(msg), "Writing the chatbot's vector index (%zu vectors)", n);
    if (cxu_report(u, msg, 85)) {
        ret = CX_UP_STOP;
        goto out;
    }
    if (cxu_fault(u, "index")) {
        snprintf(u->err, u->errlen, "injected fault while writing the index (upload_fault = index)");
        ret = CX_UP_FAULT;
        goto out;
    }
    char verr[256];
    if (vidx_build(r->index_dir, u->staging, vecs, ids, n, r->dim, r->file.embedder, verr, sizeof(verr)) < 0) {
        snprintf(u->err, u->errlen, "the vector index could not be written: %s", verr);
        ret = CX_UP_INDEX;
    }
out:
    if (vecs != r->vecs) free(vecs);
    return ret;
}

/* COMMIT (95%), then the index renamed into place; when the rename fails
 * the committed rows are taken back out, so the upload failed as a whole. */
static int cxu_commit(struct cxu *u, int *in_tx)
{
    if (cxu_report(u, "Committing", 95)) return CX_UP_STOP;
    if (cxu_fault(u, "commit")) {
        snprintf(u->err, u->errlen, "injected fault at commit (upload_fault = commit)");
        return CX_UP_FAULT;
    }
    int rc = st_commit(u->s, u->err, u->errlen);
    if (rc != ST_OK) return cxu_class(rc);
    *in_tx = 0;
    if (cx_index_rename(u->r->index_dir, u->staging, u->name, u->err, u->errlen) < 0) {
        char e2[256];
        cx_delete_file(u->s, u->file_id, e2, sizeof(e2));
        return CX_UP_INDEX;
    }
    return CX_UP_OK;
}

int cx_upload(struct store *s, arena_t *ar, const struct cx_upload *r, long long *file_id, struct cx_file *dup,
              int *stop_rc, char *err, size_t errlen)
{
    struct cxu u = {.s = s, .ar = ar, .r = r, .stop_rc = stop_rc, .err = err, .errlen = errlen};
    cx_index_name(r->file.chatbot, u.name, sizeof(u.name));
    cx_index_staging(u.name, u.staging, sizeof(u.staging));
    *file_id = 0;
    *stop_rc = 0;
    int in_tx = 0, ret;

    int rc = st_begin(s, err, errlen);
    if (rc != ST_OK) return cxu_class(rc);
    in_tx = 1;
    if ((ret = cxu_lock(&u, dup)) != CX_UP_OK) goto out;
    if ((ret = cxu_rows(&u)) != CX_UP_OK) goto out;
    if ((ret = cxu_index(&u)) != CX_UP_OK) goto out;
    if ((ret = cxu_commit(&u, &in_tx)) != CX_UP_OK) goto out;
    *file_id = u.file_id;
out:
    if (in_tx) st_rollback(s);
    if (ret != CX_UP_OK && ret != CX_UP_DUP) cx_index_unlink(r->index_dir, u.staging);
    return ret;
}
