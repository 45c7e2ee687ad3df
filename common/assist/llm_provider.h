/* llm_provider.h: what an LLM provider implements (common/assist/llm.h is
 * what callers use), the providers' constructors, and pieces they share:
 * the sentence gate of llm_task.keep, and the OpenAI-compatible SSE and
 * chunk parsers (exposed for unit tests). Private to common/assist and the
 * tests, whose fakes fill a struct llm of their own. */
#ifndef TROIKA_LLM_PROVIDER_H
#define TROIKA_LLM_PROVIDER_H

#include <stddef.h>

#include "common/assist/llm.h"
#include "common/base/arena.h"

struct llm {
    char name[160];        /* "builtin", "openai:<model>" */
    /* Same contracts as llm_stream / llm_json (res is zeroed by the caller). */
    int (*stream)(struct llm *l, arena_t *ar, const struct llm_task *task, const struct llm_cb *cb,
                  struct llm_result *res);
    int (*json)(struct llm *l, arena_t *ar, const struct llm_task *task, llm_tick_fn tick, void *arg, char **out,
                size_t *outlen, struct llm_result *res);
    void (*close)(struct llm *l);   /* frees impl (not l); may be NULL */
    void *impl;
};

/* Fill a zeroed *l. 0, or -1 with err; on failure nothing is left allocated.
 * hc: the worker's HTTP client slot (llm_open). */
int llm_builtin_init(struct llm *l, char *err, size_t errlen);
int llm_openai_init(struct llm *l, const struct cfg *c, struct hc **hc, char *err, size_t errlen);

/* Sets res's rc, code and a formatted message. */
void llm_fail(struct llm_result *res, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The task's messages (its static list, or what its builder makes). 0 or -1. */
int llm_task_messages(const struct llm_task *t, arena_t *ar, const struct llm_msg **msgs, size_t *n);

/* ---- the sentence gate (llm_task.keep) ------------------------------------------ */

/* Holds a model's text until a sentence is complete, then hands it to the
 * caller's delta (with the whitespace after it) if task->keep accepts it;
 * a refused sentence is dropped. Without keep, text passes at once. */
struct llm_gate {
    const struct llm_task *task;
    const struct llm_cb *cb;
    buf_t pend;
};
void llm_gate_init(struct llm_gate *g, arena_t *ar, const struct llm_task *task, const struct llm_cb *cb);
/* An llm_delta_fn over a struct llm_gate. */
int llm_gate_delta(void *gate, const char *text, size_t n);
/* The model finished: the last sentence, even without its end mark. 0 or
 * the delta's code. */
int llm_gate_end(struct llm_gate *g);

/* ---- the OpenAI-compatible wire (llm_openai.c) -------------------------------- */

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
 * boundary, on one line. Borrowed (arena). Speech uses it too. */
const char *llm_error_message(arena_t *ar, const char *body, size_t n, size_t max);

#endif
