/* sink.c: the SSE and JSON sinks; see sink.h.
 *
 * One watcher thread per worker process (started with the first stream)
 * sends heartbeats and enforces the deadline of the stream in progress.
 * It and the request thread write the stream only under sink_mu; the
 * watcher never touches the request arena (its events are built on the
 * stack). */
#include "fcgi/sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/base/u8.h"

static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sink_cv = PTHREAD_COND_INITIALIZER;
static struct sink *sink_cur;        /* the SSE stream being watched */
static int sink_watcher_up;
static pid_t sink_watcher_pid;       /* a forked child must start its own */

struct code_info {
    const char *code;
    int status;
    const char *describe;
};

static const struct code_info sink_codes[] = {
    {"INVALID_PARAMETERS", 400, "Invalid parameters"},
    {"UNAUTHORIZED", 401, "Unauthorized"},
    {"FORBIDDEN", 403, "Forbidden"},
    {"NOT_FOUND", 404, "Not found"},
    {"METHOD_NOT_ALLOWED", 405, "Method not allowed"},
    {"REQUEST_TIMEOUT", 408, "Request timeout"},
    {"PAYLOAD_TOO_LARGE", 413, "Payload too large"},
    {"UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported media type"},
    {"RATE_LIMIT_EXCEEDED", 429, "Streaming rate limit exceeded"},
    {"STREAMING_DISABLED", 503, "Streaming is disabled"},
    {"DB_CONNECTION_ERROR", 503, "Database connection error"},
    {"DB_QUERY_ERROR", 500, "Database query error"},
    {"INDEX_UNAVAILABLE", 503, "Vector index unavailable"},
    {"UPSTREAM_ERROR", 502, "Upstream error"},
    {"UPSTREAM_TIMEOUT", 504, "Upstream timeout"},
    {"STREAM_TIMEOUT", 504, "Stream timeout"},
    {"PROCESSING_ERROR", 500, "Processing error"},
    {"INVALID_UTF8", 422, "Invalid UTF-8"},
    {"NO_EXTRACTABLE_TEXT", 422, "No extractable text"},
    {"SHUTTING_DOWN", 503, "Server shutting down"},
    {"BUSY", 503, "Every worker is busy"},
    {"INTERNAL_ERROR", 500, "Internal error"},
};

static const struct code_info *sink_code(const char *code)
{
    for (size_t i = 0; i < sizeof(sink_codes) / sizeof(sink_codes[0]); i++)
        if (strcmp(sink_codes[i].code, code) == 0) return &sink_codes[i];
    return NULL;
}

int sink_status_for(const char *code)
{
    const struct code_info *ci = sink_code(code);
    return ci ? ci->status : 500;
}

const char *sink_describe(const char *code)
{
    const struct code_info *ci = sink_code(code);
    return ci ? ci->describe : "Error";
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

/* Every byte of the response (head, events, pings) passes here. */
static int sink_counted_write(void *ctx, const char *p, size_t n)
{
    struct sink *s = ctx;
    if (s->out.write(s->out.ctx, p, n) < 0) return -1;
    s->stats.bytes += n;
    return 0;
}

static int sink_counted_flush(void *ctx)
{
    struct sink *s = ctx;
    return s->out.flush(s->out.ctx);
}

void sink_init(struct sink *s, enum sink_mode mode, arena_t *ar, const struct cfg *cfg,
               const char *rid, const char *route, const struct sse_io *io, int64_t t0_ms)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->out = *io;
    s->io.write = sink_counted_write;
    s->io.flush = io->flush ? sink_counted_flush : NULL;
    s->io.ctx = s;
    s->ar = ar;
    s->cfg = cfg;
    s->rid = rid;
    s->route = route;
    s->deadline_ms = t0_ms + cfg->streaming_timeout;
    s->last_write_ms = t0_ms;
    s->http_status = 200;
}

int sink_header(struct sink *s, const char *name, const char *value)
{
    if (s->started || s->responded) return -1;
    /* "name: value\r\n", NUL-terminated, or nothing when it does not fit
     * (memcpy: the rate limiter adds three or four on every stream) */
    size_t nl = strlen(name), vl = strlen(value), room = sizeof(s->extra_headers) - s->extra_len;
    if (nl + vl + 4 >= room) return -1;
    char *p = s->extra_headers + s->extra_len;
    memcpy(p, name, nl);
    memcpy(p + nl, ": ", 2);
    memcpy(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 3);
    s->extra_len += nl + vl + 4;
    return 0;
}

static int sink_write(struct sink *s, const char *p, size_t n)
{
    if (s->io.write(s->io.ctx, p, n) < 0) return -1;
    return 0;
}

static int sink_write_head(struct sink *s, int status, const char *ctype, const char *cache)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "Status: %d %s\r\nContent-Type: %s\r\nCache-Control: %s\r\n"
                     "X-Request-Id: %s\r\n%s",
                     status, reason_phrase(status), ctype, cache, s->rid,
                     s->mode == SINK_SSE && status == 200 ? "X-Accel-Buffering: no\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head)) return -1;
    if (sink_write(s, head, (size_t)n) < 0) return -1;
    if (s->extra_len && sink_write(s, s->extra_headers, s->extra_len) < 0) return -1;
    if (s->late_headers && sink_write(s, s->late_headers, strlen(s->late_headers)) < 0) return -1;
    return sink_write(s, "\r\n", 2);
}

static void sink_stamp(struct sink *s, json_object *o)
{
    char ts[32];
    sse_timestamp(ts, clk_wall_ms());
    json_object_object_add(o, "requestId", json_object_new_string(s->rid));
    json_object_object_add(o, "timestamp", json_object_new_string(ts));
}

/* Serializes `o` to one line of valid UTF-8 (invalid bytes become U+FFFD). */
static const char *sink_serialize(struct sink *s, json_object *o, size_t *len)
{
    const char *js = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
    if (!js) return NULL;
    if (!u8_valid(js, *len, NULL)) js = u8_repair(s->ar, js, *len, len);
    return js;
}

int sink_reject(struct sink *s, int status, const char *code, const char *message, json_object *extra)
{
    int rc = -1;
    json_object *o = extra ? extra : json_object_new_object();
    if (!o || s->started || s->responded) goto out;
    json_object_object_add(o, "error", json_object_new_string(sink_describe(code)));
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "status", json_object_new_int(status));
    sink_stamp(s, o);
    size_t len;
    const char *js = sink_serialize(s, o, &len);
    if (!js) goto out;
    s->responded = 1;
    s->http_status = status;
    if (sink_write_head(s, status, "application/json; charset=utf-8", "no-store") < 0 ||
        sink_write(s, js, len) < 0 || sink_write(s, "\n", 1) < 0 ||
        (s->io.flush && s->io.flush(s->io.ctx) < 0))
        goto out;
    rc = 0;
out:
    if (o) json_object_put(o);
    return rc;
}

int sink_respond(struct sink *s, int status, json_object *doc)
{
    int rc = SINK_EIO;
    if (!doc || s->started || s->responded) goto out;
    sink_stamp(s, doc);
    size_t len;
    const char *js = sink_serialize(s, doc, &len);
    if (!js) goto out;
    s->responded = 1;
    s->http_status = status;
    if (sink_write_head(s, status, "application/json; charset=utf-8", "no-store") < 0 ||
        sink_write(s, js, len) < 0 || sink_write(s, "\n", 1) < 0 ||
        (s->io.flush && s->io.flush(s->io.ctx) < 0)) {
        rc = SINK_EGONE;
        goto out;
    }
    rc = 0;
out:
    if (doc) json_object_put(doc);
    return rc;
}

int sink_text(struct sink *s, int status, const char *ctype, const char *body, size_t len)
{
    if (s->started || s->responded) return SINK_EIO;
    s->responded = 1;
    s->http_status = status;
    if (sink_write_head(s, status, ctype, "no-store") < 0 || sink_write(s, body, len) < 0 ||
        (s->io.flush && s->io.flush(s->io.ctx) < 0))
        return SINK_EGONE;
    return 0;
}

/* ---- watcher thread ------------------------------------------------------- */

/* Writes a final event from the watcher: no arena, no json-c tree. Called
 * with sink_mu held. */
static void sink_watch_end(struct sink *s, const char *code, const char *message, int why)
{
    char data[512], ts[32], msg[256];
    sse_timestamp(ts, clk_wall_ms());
    sse_json_str(msg, sizeof(msg), message);
    int n = snprintf(data, sizeof(data),
                     "{\"message\":%s,\"error\":\"%s\",\"code\":\"%s\",\"partial\":%s,"
                     "\"requestId\":\"%s\",\"timestamp\":\"%s\"}",
                     msg, sink_describe(code), code, s->content_sent ? "true" : "false", s->rid, ts);
    s->state = why;
    LOG_ERROR(s->route, s->rid, NULL, "Stream failed: %s: %s", code, message);
    if (n > 0 && (size_t)n < sizeof(data) &&
        sse_write_event(&s->io, ++s->seq, "error", data, (size_t)n, (size_t)s->cfg->streaming_chunk_size) == 0) {
        s->error_sent = 1;
        s->stats.events++;
        n = snprintf(data, sizeof(data),
                     "{\"message\":\"Stream ended\",\"requestId\":\"%s\",\"timestamp\":\"%s\"}", s->rid, ts);
        if (sse_write_event(&s->io, ++s->seq, "close", data, (size_t)n,
                            (size_t)s->cfg->streaming_chunk_size) == 0)
            s->stats.events++;
    }
    s->closed = 1;   /* sent, or a failed write: nothing more can be sent */
}

static void *sink_watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&sink_mu);
    for (;;) {
        struct timespec ts = clk_wall_after(50);   /* deadline and abort checks every 50 ms */
        pthread_cond_timedwait(&sink_cv, &sink_mu, &ts);
        struct sink *s = sink_cur;
        if (!s || !s->started || s->closed || s->state == SINK_EGONE) continue;
        int64_t now = clk_mono_ms();
        /* Once the handler has sent its error event, ending the stream is
         * left to it (its close follows); only heartbeats go on. */
        int may_end = !s->error_sent;
        if (may_end && s->abort_flag && *s->abort_flag == SINK_ABORT_TERMINATE) {
            sink_watch_end(s, "STREAM_TIMEOUT", "The request exceeded request_terminate_timeout_ms", SINK_ETIMEOUT);
        } else if (may_end && s->abort_flag && *s->abort_flag) {
            sink_watch_end(s, "SHUTTING_DOWN", "The server is shutting down; the stream was stopped", SINK_EABORT);
        } else if (may_end && now >= s->deadline_ms) {
            char m[128];
            snprintf(m, sizeof(m), "The stream exceeded the %d ms limit", s->cfg->streaming_timeout);
            sink_watch_end(s, "STREAM_TIMEOUT", m, SINK_ETIMEOUT);
        } else if (now - s->last_write_ms >= s->cfg->streaming_heartbeat_ms) {
            if (sse_write_ping(&s->io) < 0) {
                s->state = SINK_EGONE;
                s->closed = 1;
            } else {
                s->last_write_ms = now;
            }
        }
    }
    return NULL;
}

static int sink_watch_start(void)
{
    pid_t me = getpid();
    if (sink_watcher_up && sink_watcher_pid == me) return 0;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    /* glibc carves the static TLS of every loaded library out of the
     * thread's stack: OpenBLAS (under FAISS) alone has 60 KiB, so a small
     * stack makes pthread_create fail with EINVAL. Ask for 512 KiB (only
     * touched pages cost memory); if even that is refused, the default. */
    pthread_attr_setstacksize(&at, 512 * 1024);
    int rc = pthread_create(&t, &at, sink_watch, NULL);
    if (rc) {
        pthread_attr_destroy(&at);
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &at, sink_watch, NULL);
    }
    pthread_attr_destroy(&at);
    if (rc) {
        LOG_ERROR("sink", NULL, NULL, "cannot start the heartbeat thread: %s", strerror(rc));
        return -1;
    }
    sink_watcher_up = 1;
    sink_watcher_pid = me;
    return 0;
}

/* ---- SSE ----------------------------------------------------------------- */

/* Called with sink_mu held. */
static int sink_sse_open(struct sink *s)
{
    if (s->started) return 0;
    if (sink_write_head(s, 200, "text/event-stream; charset=utf-8", "no-cache, no-transform") < 0) {
        s->state = SINK_EGONE;
        return -1;
    }
    s->started = 1;
    sink_cur = s;
    return 0;
}

int sink_check(struct sink *s)
{
    /* state is also written by the watcher (under sink_mu) */
    pthread_mutex_lock(&sink_mu);
    if (!s->state) {
        if (s->abort_flag && *s->abort_flag == SINK_ABORT_TERMINATE) s->state = SINK_ETIMEOUT;
        else if (s->abort_flag && *s->abort_flag) s->state = SINK_EABORT;
        else if (clk_mono_ms() >= s->deadline_ms) s->state = SINK_ETIMEOUT;
    }
    int rc = s->state;
    pthread_mutex_unlock(&sink_mu);
    return rc;
}

static int is_content_event(const char *event)
{
    return !strcmp(event, "results") || !strcmp(event, "text") || !strcmp(event, "audio") ||
           !strcmp(event, "intent") || !strcmp(event, "market") || !strcmp(event, "suggestions");
}

static int sink_sse_emit(struct sink *s, const char *event, json_object *data, int final)
{
    size_t len;
    const char *js = sink_serialize(s, data, &len);
    if (!js) return SINK_EIO;
    pthread_mutex_lock(&sink_mu);
    int rc = 0;
    if (!final && s->state) rc = s->state;
    else if (!final && s->error_sent) rc = SINK_EIO;   /* only `close` may follow `error` */
    else if (s->closed || s->state == SINK_EGONE) rc = s->state ? s->state : SINK_EGONE;
    else if (sink_sse_open(s) < 0) rc = SINK_EGONE;
    else if (sse_write_event(&s->io, ++s->seq, event, js, len, (size_t)s->cfg->streaming_chunk_size) < 0) {
        s->state = SINK_EGONE;
        s->closed = 1;
        rc = SINK_EGONE;
    } else {
        s->last_write_ms = clk_mono_ms();
        s->stats.events++;
        if (!s->stats.first_event_ms) s->stats.first_event_ms = s->last_write_ms;
        if (is_content_event(event)) s->content_sent = 1;
    }
    int first = rc == 0 && s->seq == 1;   /* seq: the watcher counts its events too */
    pthread_mutex_unlock(&sink_mu);
    if (first) sink_watch_start();
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_merge(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, k, v) {
        if (!strcmp(k, "requestId") || !strcmp(k, "timestamp") || !strcmp(k, "type") ||
            !strcmp(k, "message"))
            continue;
        json_object_object_add(dst, k, json_object_get(v));
    }
}

static json_object *json_strip(json_object *src)
{
    json_object *o = json_object_new_object();
    json_merge(o, src);
    return o;
}

static int sink_json_emit(struct sink *s, const char *event, json_object *data)
{
    int rc = sink_check(s);
    if (rc) return rc;
    if (s->error_sent) return SINK_EIO;
    if (!s->doc) {
        s->doc = json_object_new_object();
        if (!s->doc) return SINK_EIO;
    }
    json_object *doc = s->doc;
    if (!strcmp(event, "connected") || !strcmp(event, "results") || !strcmp(event, "complete")) {
        json_merge(doc, data);
    } else if (!strcmp(event, "progress")) {
        json_object *arr;
        if (!json_object_object_get_ex(doc, "steps", &arr)) {
            arr = json_object_new_array();
            json_object_object_add(doc, "steps", arr);
        }
        json_object *st = json_strip(data);
        json_object *msg;
        if (json_object_object_get_ex(data, "message", &msg))
            json_object_object_add(st, "message", json_object_get(msg));
        json_object_array_add(arr, st);
    } else if (!strcmp(event, "text")) {
        json_object *ft;
        if (json_object_object_get_ex(data, "fullText", &ft))
            json_object_object_add(doc, "text", json_object_get(ft));
    } else if (!strcmp(event, "audio")) {
        json_object *arr;
        if (!json_object_object_get_ex(doc, "audio", &arr)) {
            arr = json_object_new_array();
            json_object_object_add(doc, "audio", arr);
        }
        json_object_array_add(arr, json_strip(data));
    } else if (!strcmp(event, "suggestions")) {
        json_object *sg;
        if (json_object_object_get_ex(data, "suggestions", &sg))
            json_object_object_add(doc, "suggestions", json_object_get(sg));
    } else {
        json_object_object_add(doc, event, json_strip(data));
    }
    s->stats.events++;
    if (is_content_event(event)) s->content_sent = 1;
    return 0;
}

/* ---- public -------------------------------------------------------------- */

int sink_emit(struct sink *s, const char *event, json_object *data)
{
    if (!data) return SINK_EIO;
    int rc;
    if (s->responded) {
        rc = SINK_EIO;
    } else if (s->mode == SINK_SSE) {
        sink_stamp(s, data);
        rc = sink_sse_emit(s, event, data, 0);
    } else {
        /* No stamp: the JSON document drops every event's requestId and
         * timestamp (json_merge) and carries one pair of its own. */
        rc = sink_json_emit(s, event, data);
    }
    json_object_put(data);
    return rc;
}

/* The progress event: o's fields, step, message, count, percent, code. */
static int sink_progress_obj(struct sink *s, json_object *o, const char *code, const char *step, const char *message,
                             long count, int percent)
{
    if (!o) return SINK_EIO;
    json_object_object_add(o, "step", json_object_new_string(step));
    json_object_object_add(o, "message", json_object_new_string(message));
    if (count >= 0) json_object_object_add(o, "count", json_object_new_int64(count));
    if (percent >= 0) json_object_object_add(o, "percent", json_object_new_int(percent));
    if (code) json_object_object_add(o, "code", json_object_new_string(code));
    return sink_emit(s, "progress", o);
}

int sink_progress(struct sink *s, const char *step, const char *message, long count, int percent)
{
    return sink_progress_obj(s, json_object_new_object(), NULL, step, message, count, percent);
}

int sink_progressf(struct sink *s, struct json_object *extra, const char *code, const char *step, long count,
                   int percent, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sink_progress_obj(s, extra ? extra : json_object_new_object(), code, step, msg, count, percent);
}

int sink_cancelled(void *sink)
{
    return sink_check(sink) != 0;
}

int sink_error(struct sink *s, const char *code, const char *message)
{
    /* the watcher sets error_sent too (under sink_mu): one error event only */
    pthread_mutex_lock(&sink_mu);
    int skip = s->error_sent || s->responded;
    s->error_sent = 1;
    pthread_mutex_unlock(&sink_mu);
    if (skip) return 0;
    LOG_ERROR(s->route, s->rid, NULL, "Stream failed: %s: %s", code, message);
    json_object *o = json_object_new_object();
    if (!o) return SINK_EIO;
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "error", json_object_new_string(sink_describe(code)));
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "partial", json_object_new_boolean(s->content_sent));
    int rc;
    if (s->mode == SINK_SSE) {
        sink_stamp(s, o);
        rc = sink_sse_emit(s, "error", o, 1);
    } else {
        if (!s->doc) s->doc = json_object_new_object();
        json_merge(s->doc, o);
        json_object_object_add(s->doc, "message", json_object_new_string(message));
        s->http_status = sink_status_for(code);
        rc = 0;
    }
    json_object_put(o);
    return rc;
}

int sink_sleep(struct sink *s, int ms)
{
    int64_t until = clk_mono_ms() + ms;
    for (;;) {
        int rc = sink_check(s);
        if (rc) return rc;
        int64_t left = until - clk_mono_ms();
        if (left <= 0) return 0;
        if (left > 20) left = 20;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int sink_finish(struct sink *s)
{
    int rc = 0;
    if (s->mode == SINK_SSE) {
        pthread_mutex_lock(&sink_mu);   /* the watcher may have closed it */
        int open = s->started && !s->closed;
        pthread_mutex_unlock(&sink_mu);
        if (open) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "message", json_object_new_string("Stream ended"));
            sink_stamp(s, o);
            rc = sink_sse_emit(s, "close", o, 1);
            json_object_put(o);
        }
        pthread_mutex_lock(&sink_mu);
        s->closed = 1;
        if (sink_cur == s) sink_cur = NULL;
        pthread_mutex_unlock(&sink_mu);
    } else if (!s->responded) {
        if (!s->doc) s->doc = json_object_new_object();
        int ok = s->http_status < 400;
        json_object *out = json_object_new_object();
        json_object_object_add(out, "success", json_object_new_boolean(ok));
        json_merge(out, s->doc);
        if (!ok) {
            json_object *m;
            if (json_object_object_get_ex(s->doc, "message", &m))
                json_object_object_add(out, "message", json_object_get(m));
        }
        char ts[32];
        sse_timestamp(ts, clk_wall_ms());
        json_object_object_add(out, "requestId", json_object_new_string(s->rid));
        json_object_object_add(out, "timestamp", json_object_new_string(ts));
        size_t len;
        const char *js = sink_serialize(s, out, &len);
        s->responded = 1;
        if (!js || sink_write_head(s, s->http_status, "application/json; charset=utf-8", "no-store") < 0 ||
            sink_write(s, js, len) < 0 || sink_write(s, "\n", 1) < 0 ||
            (s->io.flush && s->io.flush(s->io.ctx) < 0))
            rc = SINK_EGONE;
        json_object_put(out);
    }
    if (s->doc) {
        json_object_put(s->doc);
        s->doc = NULL;
    }
    return rc;
}
