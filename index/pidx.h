/* pidx.h: this worker's product vector index.
 *
 * Opened lazily in the worker on the first search (never in the master, so
 * nothing FAISS or curl crosses fork), then checked on every search with
 * vidx_refresh (a stat of the meta file): a rebuilt index is picked up
 * without a restart, a removed one is let go. An index built by another
 * embedder or dimension than the configured one is refused, not searched.
 * One per process, owned by struct app; not thread-safe. */
#ifndef TROIKA_PIDX_H
#define TROIKA_PIDX_H

#include <stddef.h>

struct cfg;
struct embedder;
struct vidx;
struct pidx;

enum pidx_state {
    PIDX_READY = 0,      /* *vx usable with emb */
    PIDX_ABSENT,         /* no index built yet */
    PIDX_MISMATCH,       /* built by another embedder or dimension */
    PIDX_BROKEN,         /* the files could not be read */
    PIDX_NO_EMBEDDER,    /* the configured embedder could not be opened */
};

/* The index name in index_dir. */
#define PIDX_NAME "products"

/* Prepares the index for one search with embedder emb (the worker's, see
 * hx_embedder). On PIDX_READY, *vx is borrowed until the next call;
 * otherwise msg says why (for progress events and logs). *pp is created on
 * first use. emb NULL means the embedder could not be opened
 * (PIDX_NO_EMBEDDER). */
enum pidx_state pidx_get(struct pidx **pp, const struct cfg *c, const struct embedder *emb, struct vidx **vx,
                         char *msg, size_t msglen);

void pidx_close(struct pidx *p);

#endif
