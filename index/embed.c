/* embed.c: emb_open picks the embedding provider named in config; both
 * providers fill the same struct embedder (index/embed.h). An embedder
 * belongs to one process: open it after fork. */
#include "index/embed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/config.h"
#include "index/embed_provider.h"

float emb_normalize(float *v, int dim)
{
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)v[i] * v[i];
    double norm = sqrt(ss);
    if (norm > 0) {
        float inv = (float)(1.0 / norm);
        for (int i = 0; i < dim; i++) v[i] *= inv;
    }
    return (float)norm;
}

struct embedder *emb_open(const struct cfg *c, char *err, size_t errlen)
{
    struct embedder *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "embedder: out of memory");
        return NULL;
    }
    int rc;
    if (!strcmp(c->embedding_provider, "builtin")) {
        rc = emb_builtin_init(e, c->embedding_dim, err, errlen);
    } else if (!strcmp(c->embedding_provider, "openai")) {
        rc = emb_openai_init(e, c, err, errlen);
    } else {
        snprintf(err, errlen, "embedding_provider: '%s' is not one of builtin, openai",
                 c->embedding_provider);
        rc = -1;
    }
    if (rc < 0) {
        free(e);
        return NULL;
    }
    return e;
}

void emb_close(struct embedder *e)
{
    if (!e) return;
    if (e->close) e->close(e);
    free(e);
}
