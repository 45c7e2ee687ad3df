/* hc.h: this worker's HTTP client (libcurl) for the LLM, TTS and embedding
 * upstreams.
 *
 * One curl multi handle per worker process (opened after fork) keeps the
 * connection cache; a small pool of easy handles is reused across requests.
 * Several transfers may run at once (an LLM stream while a sentence is being
 * spoken): hc_step() drives them all, and never from inside a curl callback,
 * so a caller may start or finish other transfers between steps.
 *
 * A transfer's response body lands in a capped buffer in the request arena;
 * a streaming consumer takes what arrived since its last look with
 * hc_take(). Timeouts (connect, total, and a stall: no byte for stall_ms)
 * end the transfer with HC_ETIMEOUT and say which one. Ending a transfer that
 * is still running (hc_end) closes its connection at once, so the upstream
 * sees the hang-up. Not thread-safe: only the worker's request thread uses
 * it. Request headers (API keys) are never logged or put in messages. */
#ifndef TROIKA_HC_H
#define TROIKA_HC_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct hc;
struct hc_xfer;

enum {
    HC_RUNNING = 1,
    HC_OK = 0,          /* the transfer completed (any HTTP status) */
    HC_ETIMEOUT = -1,   /* connect, total or stall timeout: see hc_timeout_kind */
    HC_ECONNECT = -2,   /* could not resolve or connect */
    HC_EIO = -3,        /* the connection failed mid-way (reset, bad framing) */
    HC_ETOOBIG = -4,    /* more unread body than max_body */
    HC_ENOMEM = -5,
};

enum hc_timeout { HC_TO_NONE, HC_TO_CONNECT, HC_TO_TOTAL, HC_TO_STALL };

struct hc_req {
    const char *url;
    const char *body;          /* POST when non-NULL (borrowed until hc_end) */
    size_t body_len;
    const char *content_type;  /* NULL: application/json */
    const char *accept;        /* NULL: no Accept header */
    const char *bearer;        /* API key for `Authorization: Bearer`; NULL or "": none */
    long connect_timeout_ms;   /* 0: curl's default */
    long timeout_ms;           /* whole transfer; 0: none */
    long stall_ms;             /* no byte received for this long; 0: none */
    size_t max_body;           /* cap on unread response bytes; 0: 16 MiB */
};

/* Opens the worker's client (after fork). NULL with err filled. */
struct hc *hc_open(char *err, size_t errlen);
/* Ends every transfer and frees the client. NULL is fine. */
void hc_close(struct hc *h);

/* Starts a transfer; it makes progress inside hc_step(). The transfer lives
 * in `ar` and is ended when the arena is reset, if not before (hc_end).
 * 0 and *out, or -1 with err filled. */
int hc_start(struct hc *h, arena_t *ar, const struct hc_req *rq, struct hc_xfer **out, char *err,
             size_t errlen);

/* Drives every transfer: returns as soon as something happened (bytes
 * arrived, a transfer ended) or after max_ms. 0, or -1 when curl failed. */
int hc_step(struct hc *h, int max_ms);

/* HC_RUNNING, HC_OK or an HC_E* code. */
int hc_state(const struct hc_xfer *x);
/* The HTTP status once the response head arrived, else 0. */
long hc_status(const struct hc_xfer *x);
/* Which timeout ended the transfer (HC_ETIMEOUT). */
enum hc_timeout hc_timeout_kind(const struct hc_xfer *x);
/* A short, key-free description of a failure ("" when none). */
const char *hc_error(const struct hc_xfer *x);
/* Monotonic ms when the first body byte arrived (0: none yet). */
int64_t hc_first_byte_ms(const struct hc_xfer *x);

/* Body bytes that arrived since the last hc_take. Borrowed: valid until
 * the next hc_step. Returns the count (0: nothing new). */
size_t hc_take(struct hc_xfer *x, const char **p);
/* The unread body (everything not yet taken), NUL-terminated. Borrowed:
 * valid until the next hc_step or the arena's reset. */
const char *hc_body(const struct hc_xfer *x, size_t *len);

/* Ends the transfer: detaches it and, if it was still running, closes its
 * connection. The body stays readable until the arena is reset. Safe to
 * call more than once. */
void hc_end(struct hc *h, struct hc_xfer *x);

/* Runs one transfer to its end. tick (may be NULL) is called between
 * steps, at least every 20 ms; a non-zero return aborts the transfer and
 * is returned. Otherwise returns hc_state() of the ended transfer; *out
 * (may be NULL) receives it for hc_status / hc_body / hc_error. */
int hc_perform(struct hc *h, arena_t *ar, const struct hc_req *rq, int (*tick)(void *arg), void *arg,
               struct hc_xfer **out, char *err, size_t errlen);

/* Joins a base URL and a /v1 endpoint: "http://h" or "http://h/v1" +
 * "/v1/chat/completions" -> "http://h/v1/chat/completions". A base that
 * already ends with the endpoint is kept as it is. Borrowed (arena). */
char *hc_url_join(arena_t *ar, const char *base, const char *endpoint);

#endif
