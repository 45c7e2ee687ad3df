/* sink.h: where a handler's typed events go.
 *
 * A handler emits events (`connected`, `progress`, `results`, ...) and never
 * formats a response itself. The SSE sink frames and flushes each event and
 * notices a gone client at the next write; the JSON sink gathers the same
 * events into the one document of the normal route. Everything after a
 * failure (client gone, deadline, shutdown) goes through one path: the emit
 * returns a SINK_E* code and the handler unwinds.
 *
 * The watcher: one thread per worker process, started by the first SSE
 * event the process sends (a forked child starts its own), wakes every
 * 50 ms and looks at the one stream in progress. It writes `: ping` when
 * nothing was written for streaming_heartbeat_ms (so a handler blocked on a
 * slow step still learns of a gone client), and past the deadline or on an
 * abort flag writes the `error` event and `close` itself, unless the
 * handler already sent its own error.
 *
 * Locking: one process-wide mutex in sink.c (not one per sink). The request
 * thread and the watcher write the stream, and touch the fields both use
 * (state, seq, closed, error_sent, content_sent, last_write_ms, stats),
 * only under it. The watcher never touches the request arena: it builds its
 * events on the stack. Memory: events are json-c objects the sink takes
 * ownership of. */
#ifndef TROIKA_SINK_H
#define TROIKA_SINK_H

#include <signal.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "fcgi/sse.h"

struct json_object;
struct cfg;

enum sink_mode { SINK_SSE, SINK_JSON };

enum {
    SINK_OK = 0,
    SINK_EGONE = -10,     /* the client disconnected */
    SINK_ETIMEOUT = -11,  /* STREAMING_TIMEOUT passed */
    SINK_EABORT = -12,    /* the server is stopping */
    SINK_EIO = -13,       /* other write failure / out of memory */
};

/* What *abort_flag holds (a worker's pm_flags.abort, set by SIGUSR2):
 * the stream ends with SHUTTING_DOWN (the drain deadline passed) or
 * STREAM_TIMEOUT (the master's request_terminate_timeout_ms). */
enum {
    SINK_ABORT_NONE = 0,
    SINK_ABORT_DRAIN = 1,
    SINK_ABORT_TERMINATE = 2,
};

struct sink_stats {
    unsigned long events;
    unsigned long bytes;
    int64_t first_event_ms;   /* monotonic time of the first event, 0 if none */
};

struct sink {
    enum sink_mode mode;
    struct sse_io io;          /* counts bytes into stats, then writes to `out` */
    struct sse_io out;         /* the caller's writer */
    arena_t *ar;
    const struct cfg *cfg;
    const char *rid;
    const char *route;
    volatile sig_atomic_t *abort_flag;   /* may be NULL; SINK_ABORT_* (pm_flags.abort) */

    unsigned long seq;
    int started;        /* status line and headers written */
    int responded;      /* a complete non-stream response was written */
    int closed;         /* `close` written (or cannot be) */
    int error_sent;
    int content_sent;   /* results/text/audio already reached the client */
    int state;          /* SINK_OK or the first SINK_E* that ended the stream */
    int64_t deadline_ms;
    int64_t last_write_ms;

    char extra_headers[1024];
    size_t extra_len;
    /* Header lines ("Name: value\r\n"...) decided while the request runs,
     * written after extra_headers when the response starts; may be
     * replaced or cleared until then (CORS, fcgi/cors.c: a handler that
     * learns the chatbot may take the allowed origin back). Borrowed. */
    const char *late_headers;

    struct json_object *doc;   /* JSON sink: the document being built */
    int http_status;

    struct sink_stats stats;
};

/* Sets up a sink; io writes the response bytes (FastCGI stream, or a buffer
 * in tests). t0_ms is the request's monotonic start. */
void sink_init(struct sink *s, enum sink_mode mode, arena_t *ar, const struct cfg *cfg,
               const char *rid, const char *route, const struct sse_io *io, int64_t t0_ms);

/* Adds a response header (before anything is sent). 0 or -1. */
int sink_header(struct sink *s, const char *name, const char *value);

/* A plain HTTP error before anything was sent: status + SPEC 2.2 body.
 * `extra` (taken, may be NULL) adds fields such as "field". */
int sink_reject(struct sink *s, int status, const char *code, const char *message,
                struct json_object *extra);

/* A plain JSON response (not a stream): status and `doc` (taken), with
 * requestId and timestamp added. For routes such as /api/health. */
int sink_respond(struct sink *s, int status, struct json_object *doc);

/* A plain response with its own content type (text/plain for
 * /api/metrics). `body` is borrowed. 0 or SINK_EGONE. */
int sink_text(struct sink *s, int status, const char *ctype, const char *body, size_t len);

/* Emits one event; takes `data` (also on failure). 0 or SINK_E*. */
int sink_emit(struct sink *s, const char *event, struct json_object *data);

/* Shorthand for a progress event. */
int sink_progress(struct sink *s, const char *step, const char *message, long count, int percent);

/* A progress event with a formatted message: extra's fields first (takes
 * extra; may be NULL), then step, message, count (< 0: left out), percent
 * (< 0: left out), then `code` when code is not NULL. 0 or SINK_E*. */
int sink_progressf(struct sink *s, struct json_object *extra, const char *code, const char *step, long count,
                   int percent, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A cancel callback for long library calls (embedder, extractor), arg the
 * request's sink: nonzero once the stream must end. */
int sink_cancelled(void *sink);

/* An error after the stream opened: `error` event (SSE) or an error
 * document (JSON). Only the first error is sent. */
int sink_error(struct sink *s, const char *code, const char *message);

/* 0 while the stream may go on, else the SINK_E* that stops it. */
int sink_check(struct sink *s);

/* Waits ms milliseconds (heartbeats keep going); stops early with
 * SINK_E* when the stream must end. */
int sink_sleep(struct sink *s, int ms);

/* Ends the response: `close` event, or the JSON document. Stops the
 * heartbeat thread. Safe to call more than once. */
int sink_finish(struct sink *s);

/* HTTP status for an in-stream error code (used by the JSON sink). */
int sink_status_for(const char *code);
/* Short description for a code ("Database connection error"). */
const char *sink_describe(const char *code);

#endif
