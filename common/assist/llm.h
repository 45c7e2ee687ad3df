/* llm.h: the answer generator behind one interface, for chat and the
 * sales agent. Handlers never ask which provider they have: they describe
 * a task (what a model would be sent, and how to compose the answer
 * without one) and every provider answers it through the same callbacks.
 *
 * Providers (common/assist/llm_provider.h), chosen once by llm_provider:
 * `builtin`: no network; it streams the task's composed answer word by
 * word and has no model for JSON-mode tasks (LLM_ENOMODEL).
 * `openai`: any OpenAI-compatible /v1/chat/completions (OpenAI, Ollama,
 * llama.cpp server, vLLM) over the worker's HTTP client (common/io/hc):
 * the task's messages with stream: true and stream_options.include_usage,
 * each delta handed on as it arrives (an unfinished UTF-8 character held
 * back until its rest arrives); finish_reason and usage come back in the
 * result; JSON mode is one non-streaming call with response_format
 * json_object. Each call is counted in the `llm` upstream metrics.
 *
 * Failures map to the SPEC codes: connect, total and stall timeouts ->
 * UPSTREAM_TIMEOUT; HTTP errors, a broken stream, an error object in the
 * stream -> UPSTREAM_ERROR with the upstream's status and (truncated)
 * message. A non-zero return of a callback (or of `tick`, polled at least
 * every 20 ms) aborts the call at once (closing the upstream connection)
 * and becomes its return value. The API key is never logged nor put in
 * messages. One struct llm per worker process, opened after fork; memory
 * of a call comes from the request arena. */
#ifndef TROIKA_LLM_H
#define TROIKA_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct cfg;
struct hc;

struct llm;

struct llm_msg {
    const char *role;      /* "system", "user", "assistant" */
    const char *content;
};

/* One thing asked of the generator. Only what the provider needs is built:
 * a model's messages or the composed answer. */
struct llm_task {
    /* What a model is sent: msgs[0..nmsgs), or, when `messages` is set, what
     * it builds (borrowed from the arena; 0 or -1 when out of memory). */
    const struct llm_msg *msgs;
    size_t nmsgs;
    int (*messages)(void *arg, arena_t *ar, const struct llm_msg **msgs, size_t *n);
    /* The answer without a model (streaming tasks): text[0..*len) in the
     * arena. 0 or -1. */
    int (*compose)(void *arg, arena_t *ar, const char **text, size_t *len);
    /* Optional: a model's text is released a whole sentence at a time, and
     * only sentences for which keep() returns 1 reach the delta callback
     * (composed text is the caller's own and is not checked). */
    int (*keep)(void *arg, const char *sentence, size_t n);
    void *arg;             /* for messages, compose and keep */
    int max_tokens;        /* 0: llm_max_tokens */
    double temperature;    /* < 0: llm_temperature */
};

/* Called with each piece of answer text (complete UTF-8). Non-zero aborts
 * the call and becomes its return value. */
typedef int (*llm_delta_fn)(void *arg, const char *text, size_t n);
/* Polled while waiting; non-zero aborts (e.g. sink_check's SINK_E*). */
typedef int (*llm_tick_fn)(void *arg);

/* What a streaming call tells its caller. */
struct llm_cb {
    llm_delta_fn delta;
    llm_tick_fn tick;      /* may be NULL */
    /* May be NULL. Called once when the request is on its way, before the
     * first token: work that can overlap the model's first-token time. A
     * provider without a network calls it at once. Non-zero aborts. */
    int (*sent)(void *arg);
    void *arg;
};

enum {
    LLM_OK = 0,
    LLM_ETIMEOUT = -1,     /* UPSTREAM_TIMEOUT */
    LLM_EUPSTREAM = -2,    /* UPSTREAM_ERROR */
    LLM_EINTERNAL = -3,    /* out of memory, bad arguments (PROCESSING_ERROR) */
    LLM_ENOMODEL = -4,     /* the provider has no model for this (builtin JSON mode):
                              the caller keeps its own result; not an error */
    /* any other value: what a callback or tick returned */
};

/* 1 when rc is a callback's own code (the caller's abort: client gone,
 * deadline) rather than LLM_OK or an LLM_E* outcome. */
int llm_aborted(int rc);

struct llm_usage {
    long prompt_tokens, completion_tokens, total_tokens;
    int reported;          /* the upstream sent a usage object */
};

struct llm_result {
    int rc;                        /* LLM_OK, LLM_E*, or the callback's code */
    long http_status;              /* upstream status (0: none) */
    char stop_reason[32];          /* finish_reason: "stop", "length", ...; "stop" for a composed answer */
    struct llm_usage usage;
    size_t text_len;               /* bytes the provider produced */
    int64_t first_delta_ms;        /* monotonic time of the first delta (0: none) */
    int64_t upstream_first_byte_ms;/* monotonic time the upstream's first body byte came (0: none) */
    char code[24];                 /* "UPSTREAM_TIMEOUT" / "UPSTREAM_ERROR" / "PROCESSING_ERROR" on failure */
    char err[320];                 /* a key-free description for the error event */
};

/* Opens the provider named by cfg->llm_provider for this worker. `hc` is
 * the worker's HTTP client slot: a network provider opens the client there
 * when it is NULL and shares it (speech runs on the same client); the
 * slot's owner closes it after the providers. NULL with err filled. */
struct llm *llm_open(const struct cfg *c, struct hc **hc, char *err, size_t errlen);
void llm_close(struct llm *l);
/* "builtin" or "openai:<model>" (for logs and `complete`). */
const char *llm_name(const struct llm *l);

/* Streams the answer to `task` through cb. Returns res->rc. */
int llm_stream(struct llm *l, arena_t *ar, const struct llm_task *task, const struct llm_cb *cb,
               struct llm_result *res);

/* One JSON-mode call for `task`: *out receives the message content (a JSON
 * text), NUL-terminated, in the arena. Returns res->rc; LLM_ENOMODEL when
 * the provider has no model. */
int llm_json(struct llm *l, arena_t *ar, const struct llm_task *task, llm_tick_fn tick, void *arg, char **out,
             size_t *outlen, struct llm_result *res);

/* Streams `text` word by word through on_delta: each piece is one word with
 * the whitespace before it. Returns 0 or the callback's non-zero code. */
int llm_words(const char *text, size_t len, llm_delta_fn on_delta, void *arg);

#endif
