/* embed.h: text embedding providers behind one interface.
 *
 * `builtin`: in-process, deterministic, no model files. `openai`: any
 * OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, llama.cpp
 * server, vLLM) through libcurl, batched, with a timeout. Vectors are
 * L2-normalised, so inner product is the cosine. An embedder is opened
 * once per process (after fork) and reused across requests. */
#ifndef TROIKA_EMBED_H
#define TROIKA_EMBED_H

#include <stddef.h>

struct cfg;

struct embedder {
    char name[160];   /* recorded in index metadata: "builtin-v1" or "openai:<model>" */
    int dim;
    /* Embeds n texts into out[n * dim]. 0, or -1 with err filled; *timeout
     * is set when the failure was a timeout (UPSTREAM_TIMEOUT). */
    int (*embed)(struct embedder *e, const char *const *texts, size_t n, float *out,
                 int *timeout, char *err, size_t errlen);
    void (*close)(struct embedder *e);
    /* Polled during slow (network) work; non-zero aborts the call. May be
     * NULL. Set per request (e.g. to the sink's client-gone check). */
    int (*cancel)(void *arg);
    void *cancel_arg;
    void *impl;
};

/* Opens the provider named by cfg (embedding_provider). NULL with err. */
struct embedder *emb_open(const struct cfg *c, char *err, size_t errlen);
void emb_close(struct embedder *e);

#endif
