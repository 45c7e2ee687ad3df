/* context_delete.c: deleting an uploaded file, all or nothing (the
 * management API's DELETE /api/context/files/{id}, troika-admin file
 * delete): one transaction (the chatbot's row locked, as an upload locks
 * it, so deletes and uploads of one chatbot take turns and each index
 * holds exactly the committed chunks; the file row deleted, its chunks
 * with it by the foreign key's cascade), the chatbot's index rebuilt
 * over the chunks that remain under a staging name, COMMIT, then the
 * index renamed into place. Any failure before COMMIT rolls back and
 * removes the staging files: every row and index byte stays as it was.
 * Runs over the context store's calls, so a fake store can fail at any
 * step of it.
 *
 * The rebuilt index keeps the embedder and dimension of the index it
 * replaces (its meta file): the vectors that remain were written by that
 * embedder. Without a previous index none is made (chat reads full text
 * until the next upload builds one); when no chunk remains, the index
 * is removed at COMMIT. Memory: the remaining vectors are read into the
 * arena and copied into one malloc'd array for FAISS. */
#include "common/store/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store/context_index.h"
#include "index/vidx.h"

/* One delete's state, for its steps. */
struct cxd {
    struct store *s;
    arena_t *ar;
    const struct cx_delete *r;
    struct cx_deleted *out;
    char name[128], staging[160];
    int staged;                  /* a staging index was written */
    char *err;
    size_t errlen;
};

static int cxd_class(int strc)
{
    return strc == ST_ECONN ? CX_DEL_DBCONN : CX_DEL_DBQUERY;
}

static int cxd_fault(const struct cxd *d, const char *step)
{
    return d->r->fault && !strcmp(d->r->fault, step);
}

/* The chatbot locked, the file read again under the lock (another
 * request may have deleted it meanwhile), then its row deleted. */
static int cxd_rows(struct cxd *d)
{
    const struct cx_delete *r = d->r;
    int rc = cx_lock_chatbot(d->s, d->ar, r->chatbot, d->err, d->errlen);
    if (rc != ST_OK) return cxd_class(rc);
    cx_index_sweep(r->index_dir, d->name);
    struct cx_file_info f;
    rc = cx_file_get(d->s, d->ar, r->file_id, &f, d->err, d->errlen);
    if (rc < 0) return cxd_class(rc);
    if (rc == 0 || !f.chatbot || strcmp(f.chatbot, r->chatbot) != 0) {
        snprintf(d->err, d->errlen, "no file %lld for chatbot %s", r->file_id, r->chatbot);
        return CX_DEL_GONE;
    }
    d->out->chunks = f.chunks;
    rc = cx_delete_file(d->s, r->file_id, d->err, d->errlen);
    return rc == ST_OK ? CX_DEL_OK : cxd_class(rc);
}

/* The index over what remains, under the staging name; or the decision
 * to remove it (nothing remains, or the vectors do not fit it). */
static int cxd_index(struct cxd *d)
{
    const struct cx_delete *r = d->r;
    struct vidx_meta m;
    char verr[256];
    if (vidx_read_meta(r->index_dir, d->name, &m, verr, sizeof(verr)) < 0) {
        d->out->index = CX_IDX_NONE;   /* there was none: none is made */
        return CX_DEL_OK;
    }
    struct cx_vec *v;
    size_t n;
    int rc = cx_vectors(d->s, d->ar, r->chatbot, r->file_id, &v, &n, d->err, d->errlen);
    if (rc != ST_OK) return cxd_class(rc);
    size_t vbytes = (size_t)m.dim * sizeof(float);
    for (size_t i = 0; i < n; i++)
        if (v[i].bytes != vbytes) n = 0;   /* written by another embedder: no index fits them all */
    if (cxd_fault(d, "index")) {
        snprintf(d->err, d->errlen, "injected fault while writing the index (upload_fault = index)");
        return CX_DEL_FAULT;
    }
    if (!n) {
        d->out->index = CX_IDX_REMOVED;
        return CX_DEL_OK;
    }
    int64_t *ids = ar_alloc(d->ar, n * sizeof(*ids));
    float *vecs = malloc(n * vbytes);
    int ret = CX_DEL_OK;
    if (!ids || !vecs) {
        snprintf(d->err, d->errlen, "out of memory");
        ret = CX_DEL_INDEX;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = v[i].id;
        memcpy(vecs + i * (size_t)m.dim, v[i].data, vbytes);
    }
    d->staged = 1;
    if (vidx_build(r->index_dir, d->staging, vecs, ids, n, m.dim, m.embedder, verr, sizeof(verr)) < 0) {
        snprintf(d->err, d->errlen, "the vector index could not be written: %s", verr);
        ret = CX_DEL_INDEX;
        goto out;
    }
    d->out->index = CX_IDX_REBUILT;
    d->out->vectors = (long)n;
out:
    free(vecs);
    return ret;
}

/* COMMIT, then the index into place (or away). */
static int cxd_commit(struct cxd *d, int *in_tx)
{
    if (cxd_fault(d, "commit")) {
        snprintf(d->err, d->errlen, "injected fault at commit (upload_fault = commit)");
        return CX_DEL_FAULT;
    }
    int rc = st_commit(d->s, d->err, d->errlen);
    if (rc != ST_OK) return cxd_class(rc);
    *in_tx = 0;
    const char *dir = d->r->index_dir;
    if (d->out->index == CX_IDX_REMOVED) {
        cx_index_remove(dir, d->name);
    } else if (d->out->index == CX_IDX_REBUILT) {
        char e2[256];
        if (cx_index_rename(dir, d->staging, d->name, e2, sizeof(e2)) < 0) {
            /* the rows are gone: the old index must not return their chunks */
            cx_index_remove(dir, d->name);
            d->out->index = CX_IDX_REMOVED;
            d->out->vectors = 0;
        } else {
            d->staged = 0;
        }
    }
    return CX_DEL_OK;
}

int cx_delete(struct store *s, arena_t *ar, const struct cx_delete *r, struct cx_deleted *out, char *err,
              size_t errlen)
{
    struct cxd d = {.s = s, .ar = ar, .r = r, .out = out, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    cx_index_name(r->chatbot, d.name, sizeof(d.name));
    cx_index_staging(d.name, d.staging, sizeof(d.staging));
    int in_tx = 0, ret;

    int rc = st_begin(s, err, errlen);
    if (rc != ST_OK) return cxd_class(rc);
    in_tx = 1;
    if ((ret = cxd_rows(&d)) != CX_DEL_OK) goto out;
    if ((ret = cxd_index(&d)) != CX_DEL_OK) goto out;
    ret = cxd_commit(&d, &in_tx);
out:
    if (in_tx) st_rollback(s);
    if (d.staged) cx_index_unlink(r->index_dir, d.staging);
    return ret;
}
