/* app.h: the application struct owned by main and passed down, and the
 * per-request context handlers receive. */
#ifndef TROIKA_APP_H
#define TROIKA_APP_H

#include <signal.h>

#include "common/base/arena.h"
#include "common/base/config.h"
#include "common/base/addr.h"
#include "common/host/shm.h"
#include "fcgi/route.h"

struct store;
struct hc;
struct llm;
struct tts;
struct embedder;
struct tok;
struct pidx;
struct req;
struct sink;
struct hx_catalog;
struct pq_vocab_cache;

struct pm_flags {
    volatile sig_atomic_t stop;     /* SIGTERM: finish the request, then exit */
    volatile sig_atomic_t abort;    /* SIGUSR2: end the request now (fcgi/sink.h):
                                       SINK_ABORT_DRAIN the drain deadline passed,
                                       SINK_ABORT_TERMINATE request_terminate_timeout_ms
                                       (then recycle) */
    volatile sig_atomic_t reopen;   /* SIGUSR1: reopen the log */
    volatile sig_atomic_t reload;   /* SIGHUP (master) */
    volatile sig_atomic_t child;    /* SIGCHLD (master) */
};

struct app {
    struct cfg cfg;                 /* read-only after start-up */
    struct rt_table routes;         /* the route table main hands down (handlers/routes.c) */
    char cfg_path[512];
    int listen_fd;
    int single;                     /* one process on an inherited socket */
    int worker_id;                  /* 0 in the master */
    unsigned long served;           /* requests served by this worker */
    struct pm_flags *flags;
    struct store *store;            /* this worker's store (common/store/store.h): opened after fork, its
                                       connection on first use */
    struct embedder *emb;           /* this worker's embedder; NULL until used (hx_embedder) */
    struct tok *tok;                /* this worker's tokenizer; NULL until used (hx_tokenizer) */
    struct pidx *pidx;              /* this worker's product index + embedder (index/pidx.h); NULL until used */
    struct shm shm;                 /* the host's shared mapping (rate limits, metrics, scoreboard) */
    struct addr_nets whitelist;       /* parsed streaming_rate_whitelist */
    struct addr_nets trusted;         /* parsed trusted_proxies */
    struct addr_nets ops_nets;        /* parsed ops_allowed_networks */
    int sb_slot;                    /* this process's scoreboard slot, -1 when none */
    struct hc *hc;                  /* this worker's HTTP client (common/io/hc); NULL until used */
    struct llm *llm;                /* LLM provider (common/assist/llm); NULL until used: hx_llm() */
    struct tts *tts;                /* TTS provider (common/assist/tts); NULL until used: hx_tts() */
    struct hx_catalog *catalog;     /* what this worker derived from the catalog, tied to its version
                                       (handlers/hx.c: hx_catalog_version, hx_designers) */
    struct pq_vocab_cache *vocab;          /* the catalog's vocabulary (handlers/search/ps_query.c) */
};

/* What a handler gets for one request. */
struct ctx {
    struct app *app;
    struct req *req;
    struct sink *sink;
    arena_t *ar;
    const struct route *route;
};

#endif
