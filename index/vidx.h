/* vidx.h: the vector index (FAISS behind a C++ shim). Plain C; no C++
 * exception crosses this header.
 *
 * An index named NAME in DIR is three files: NAME.faiss (FAISS index; IVF
 * for large sets so it can be memory-mapped, flat for small ones), NAME.ids
 * (a 32-byte header, then int64 row ids in FAISS order, memory-mapped) and
 * NAME.meta.json (embedder, dim, count, kind, nlist, nprobe, built_at,
 * build_id). A build writes all three under temporary names and renames
 * them into place, meta last; readers reopen when the meta file changes.
 * The .faiss file (in a trailer after the FAISS data) and the .ids file (in
 * its header) carry the build id too, so a reader never pairs files of two
 * builds: it retries briefly while a rename is in flight, then refuses.
 *
 * Threads: FAISS runs with the caller's OpenMP setting (vidx_threads_init
 * makes it one). A struct vidx belongs to one thread at a time. */
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
    int nprobe;           /* default lists probed per search (IVF), 0 for Flat */
    char build_id[24];    /* random per build; the three files must agree on it */
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

/* Borrowed: valid until v is closed or replaced by vidx_refresh. */
const struct vidx_meta *vidx_meta(const struct vidx *v);
void vidx_close(struct vidx *v);

/* Reads NAME.meta.json alone (no index load): for stats and health. 0, or
 * -1 with err ("absent" when there is no index). */
int vidx_read_meta(const char *dir, const char *name, struct vidx_meta *m, char *err, size_t errlen);

/* 0 when v was built by this embedder and dimension; -1 with an err that
 * names both (SPEC: a mismatch is refused rather than searched). */
int vidx_compatible(const struct vidx *v, const char *embedder, int dim, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
