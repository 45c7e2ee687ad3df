/* vidx.h: the vector index (FAISS behind a C++ shim). Plain C; no C++
 * exception crosses this header.
 *
 * An index named NAME in DIR is three files: NAME.faiss (FAISS index; IVF
 * for large sets so it can be memory-mapped, flat for small ones), NAME.ids
 * (int64 row ids in FAISS order, unless the index stores ids itself) and
 * NAME.meta.json (embedder, dim, count, kind, nlist, built_at). A build
 * writes all three under temporary names and renames them into place, meta
 * last; readers reopen when the meta file changes. */
#ifndef TROIKA_VIDX_H
#define TROIKA_VIDX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Keeps FAISS single-threaded in this process (DESIGN: a forked child's
 * multi-threaded search hangs after OpenMP ran in the parent). Call before
 * any FAISS use and in every worker. */
void vidx_threads_init(void);

struct vidx;

struct vidx_meta {
    char embedder[160];
    int dim;
    long count;
    long long built_at;   /* Unix seconds */
    char kind[32];        /* "IVFFlat", "Flat", ... */
    int nlist;
};

/* Builds NAME in DIR from n vectors (n * dim floats, L2-normalised) with
 * row ids. Chooses the index kind from n. Atomic: on failure the previous
 * files are untouched. 0 or -1 with err. */
int vidx_build(const char *dir, const char *name, const float *vecs, const int64_t *ids, size_t n,
               int dim, const char *embedder, char *err, size_t errlen);

/* Opens NAME in DIR, memory-mapping the inverted lists where the kind
 * allows. NULL with err (err says "absent" when there is no index). */
struct vidx *vidx_open(const char *dir, const char *name, char *err, size_t errlen);

/* Reopens *v when the files changed since it was opened. 1 reloaded, 0
 * unchanged, -1 error (the old index, if any, stays usable). */
int vidx_refresh(struct vidx **v, const char *dir, const char *name, char *err, size_t errlen);

/* k nearest by inner product. ids/scores have room for k; *nout gets the
 * count found. nprobe <= 0 uses the build default. 0 or -1. */
int vidx_search(struct vidx *v, const float *q, int k, int nprobe, int64_t *ids, float *scores,
                int *nout);

const struct vidx_meta *vidx_meta(const struct vidx *v);
void vidx_close(struct vidx *v);

#ifdef __cplusplus
}
#endif

#endif
