/* embed_provider.h: the providers behind emb_open (index/embed.h). Private
 * to index/: handlers use emb_open, never these. */
#ifndef TROIKA_EMBED_PROVIDER_H
#define TROIKA_EMBED_PROVIDER_H

#include <stddef.h>

struct cfg;
struct embedder;

/* Fill a zeroed *e (name, dim, embed, close, impl). 0, or -1 with err;
 * on failure nothing is left allocated. */
int emb_builtin_init(struct embedder *e, int dim, char *err, size_t errlen);
int emb_openai_init(struct embedder *e, const struct cfg *c, char *err, size_t errlen);

/* 1 when the builtin lexicon and stopword tables are sorted (bsearch needs
 * it); for the unit tests. */
int emb_builtin_lexicon_sorted(void);

/* Scales v[0..dim) to unit length. A zero vector is left as it is; returns
 * the norm it had. */
float emb_normalize(float *v, int dim);

#endif
