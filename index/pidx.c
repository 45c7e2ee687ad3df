/* pidx.c: the worker's product index; see pidx.h. */
#include "index/pidx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/config.h"
#include "index/embed.h"
#include "index/vidx.h"

struct pidx {
    struct vidx *vx;
};

enum pidx_state pidx_get(struct pidx **pp, const struct cfg *c, const struct embedder *emb, struct vidx **vx,
                         char *msg, size_t msglen)
{
    *vx = NULL;
    if (!emb) {
        snprintf(msg, msglen, "the embedder (embedding_provider = %s) could not be opened",
                 c->embedding_provider);
        return PIDX_NO_EMBEDDER;
    }
    if (!*pp && !(*pp = calloc(1, sizeof(**pp)))) {
        snprintf(msg, msglen, "out of memory");
        return PIDX_BROKEN;
    }
    struct pidx *p = *pp;
    char err[768];
    if (vidx_refresh(&p->vx, c->index_dir, PIDX_NAME, err, sizeof(err)) < 0) {
        if (!strncmp(err, "absent", 6)) {
            /* Removed (or never built): let an old copy go. */
            vidx_close(p->vx);
            p->vx = NULL;
            snprintf(msg, msglen, "no product index in %s yet (run troika-admin build-index)", c->index_dir);
            return PIDX_ABSENT;
        }
        if (!p->vx) {
            snprintf(msg, msglen, "the product index could not be read: %s", err);
            return PIDX_BROKEN;
        }
        /* A failed reload keeps the index we had. */
    }
    if (vidx_compatible(p->vx, emb->name, emb->dim, err, sizeof(err)) < 0) {
        snprintf(msg, msglen, "%s", err);
        return PIDX_MISMATCH;
    }
    *vx = p->vx;
    return PIDX_READY;
}

void pidx_close(struct pidx *p)
{
    if (!p) return;
    vidx_close(p->vx);
    free(p);
}
