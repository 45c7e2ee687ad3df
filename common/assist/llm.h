/* llm.h: the LLM behind one interface, for chat (issue 7) and the sales
 * agent (issue 9).
 *
 * `openai`: any OpenAI-compatible /v1/chat/completions (OpenAI, Ollama,
 * llama.cpp server, vLLM) through the worker's HTTP client (common/io/hc):
 * llm_stream() asks with stream: true and stream_options.include_usage,
 * parses the upstream's SSE (`data: {...}` lines, `[DONE]`) and hands each
 * delta to a callback as it arrives (an unfinished UTF-8 character is held
 * back until its rest arrives); finish_reason and usage come back in the
 * result. llm_json() is one non-streaming call with response_format
 * json_object (refinements, suggestions).
 * `builtin`: no network; the caller composes the text and llm_words()
 * streams it word by word through the same callback.
 *
 * Failures map to the SPEC codes: connect, total and stall timeouts ->
 * UPSTREAM_TIMEOUT; HTTP errors, a broken stream, an error object in the
 * stream -> UPSTREAM_ERROR with the upstream's status and (truncated)
 * message. A non-zero return of the callback or of `tick` (polled at least
 * every 20 ms, e.g. with sink_check) aborts the transfer at once and closes
 * the upstream connection. The API key is never logged nor put in messages.
 * One struct llm per worker process, opened after fork; memory of a call
 * comes from the request arena. */
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

struct llm_opts {
    const struct llm_msg *msgs;
    size_t nmsgs;
    int max_tokens;        /* 0: llm_max_tokens */
    double temperature;    /* < 0: llm_temperature */
};

/* Called with each piece of answer text (complete UTF-8). Non-zero aborts
 * the call and becomes its return value. */
typedef int (*llm_delta_fn)(void *arg, const char *text, size_t n);
/* Polled while waiting; non-zero aborts (e.g. sink_check's SINK_E*). */
typedef int (*llm_tick_fn)(void *arg);

enum {
    LLM_OK = 0,
    LLM_ETIMEOUT = -1,     /* UPSTREAM_TIMEOUT */
    LLM_EUPSTREAM = -2,    /* UPSTREAM_ERROR */
    LLM_EINTERNAL = -3,    /* out of memory, bad arguments */
    /* any other value: what the callback or tick returned */
};

struct llm_usage {
    long prompt_tokens, completion_tokens, total_tokens;
    int reported;          /* the upstream sent a usage object */
};

struct llm_result {
    int rc;                        /* LLM_OK, LLM_E*, or the callback's code */
    long http_status;              /* upstream status (0: none) */
    char stop_reason[32];          /* finish_reason: "stop", "length", ... ("" if none) */
    struct llm_usage usage;
    size_t text_len;               /* bytes handed to the callback */
    int64_t first_delta_ms;        /* monotonic time of the first delta (0: none) */
    int64_t upstream_first_byte_ms;/* monotonic time the upstream's first body byte came */
    char code[24];                 /* "UPSTREAM_TIMEOUT" / "UPSTREAM_ERROR" on failure */
    char err[320];                 /* a key-free description for the error event */
};

/* Opens the provider named by cfg->llm_provider for this worker. The client
 * `hc` is borrowed (owned by the worker). NULL with err filled. */
struct llm *llm_open(const struct cfg *c, struct hc *hc, char *err, size_t errlen);
void llm_close(struct llm *l);
/* 1 when the provider is `openai` (a network model), 0 for `builtin`. */
int llm_is_remote(const struct llm *l);
/* "builtin" or "openai:<model>" (for logs and `complete`). */
const char *llm_name(const struct llm *l);

/* Streams one chat completion (openai only). Returns res->rc. */
int llm_stream(struct llm *l, arena_t *ar, const struct llm_opts *o, llm_delta_fn on_delta,
               llm_tick_fn tick, void *arg, struct llm_result *res);

/* One non-streaming call in JSON mode (openai only): *out receives the
 * message content (a JSON text), NUL-terminated, in the arena. Returns
 * res->rc. */
int llm_json(struct llm *l, arena_t *ar, const struct llm_opts *o, llm_tick_fn tick, void *arg,
             char **out, size_t *outlen, struct llm_result *res);

/* Streams `text` word by word through on_delta: each piece is one word with
 * the whitespace before it. Returns 0 or the callback's non-zero code. */
int llm_words(const char *text, size_t len, llm_delta_fn on_delta, void *arg);

/* ---- the upstream SSE parser (exposed for unit tests) --------------------- */

/* Incremental WHATWG SSE parser: bytes in, one callback per dispatched
 * event's data (data lines joined by "\n"). Lines may end in LF, CRLF or
 * CR; comments and other fields are skipped. A line longer than max is an
 * error. Memory from the arena. */
struct llm_sse {
    buf_t line;        /* the line being read */
    buf_t data;        /* the event's data so far */
    int have_data;
    int cr;            /* the last byte was CR (a following LF belongs to it) */
};
typedef int (*llm_sse_fn)(void *arg, const char *data, size_t n);
void llm_sse_init(struct llm_sse *p, arena_t *ar, size_t max);
/* 0, -1 (line too long / no memory) or the callback's non-zero code. */
int llm_sse_feed(struct llm_sse *p, const char *bytes, size_t n, llm_sse_fn fn, void *arg);
/* The stream ended: a last line without its newline, and an event without
 * its blank line, are dispatched. Same returns as llm_sse_feed. */
int llm_sse_end(struct llm_sse *p, llm_sse_fn fn, void *arg);

/* One chat.completion.chunk. Borrowed strings point into `ar`. */
struct llm_chunk {
    const char *content;     /* delta.content (NULL when none) */
    size_t content_len;
    const char *finish;      /* finish_reason (NULL when null) */
    int has_usage;
    struct llm_usage usage;
    const char *error;       /* an {"error": {...}} object's message */
    int done;                /* the data was [DONE] */
};
/* Parses one event's data. 0, or -1 when it is not JSON. */
int llm_chunk_parse(arena_t *ar, const char *data, size_t n, struct llm_chunk *out);

/* The message of an upstream error body ({"error":{"message":...}}, or
 * {"error": "..."}, or the raw text), cut at max bytes on a character
 * boundary. Borrowed (arena). */
const char *llm_error_message(arena_t *ar, const char *body, size_t n, size_t max);

#endif
