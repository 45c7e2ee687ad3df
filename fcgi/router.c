/* router.c: the request pipeline in front of handlers: route lookup
 * (literal paths and {name} segments; OPTIONS of a known path is the CORS
 * preflight), CORS, rate limit, streaming switch, body limits, content
 * type, then the handler, then the one place that turns a handler's
 * failure into an error event. The route table is the handlers'
 * (handlers/routes.c). */
#include "fcgi/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/base/config.h"
#include "common/base/log.h"
#include "fcgi/app.h"
#include "fcgi/cors.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"

static unsigned method_bit(const char *m)
{
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) return RT_GET;
    if (!strcmp(m, "POST")) return RT_POST;
    if (!strcmp(m, "DELETE")) return RT_DELETE;
    return 0;
}

/* One segment of a pattern against one of a path: [p, pe) and [q, qe). */
static int rt_seg_match(const char *p, const char *pe, const char *q, const char *qe)
{
    if (pe - p >= 2 && p[0] == '{' && pe[-1] == '}') return qe > q;   /* a {name}: any non-empty segment */
    return pe - p == qe - q && memcmp(p, q, (size_t)(pe - p)) == 0;
}

/* Walks pat and path segment by segment; when name is not NULL, the
 * value of {name} goes to *val, *vlen. 1 on a match. */
static int rt_walk(const char *pat, const char *path, const char *name, const char **val, size_t *vlen)
{
    const char *p = pat, *q = path;
    if (*p != '/' || *q != '/') return 0;
    while (*p && *q) {
        if (*p != '/' || *q != '/') return 0;
        p++, q++;
        const char *pe = strchr(p, '/'), *qe = strchr(q, '/');
        if (!pe) pe = p + strlen(p);
        if (!qe) qe = q + strlen(q);
        if (!rt_seg_match(p, pe, q, qe)) return 0;
        if (name && pe - p >= 2 && *p == '{' && strlen(name) == (size_t)(pe - p - 2) &&
            !memcmp(p + 1, name, (size_t)(pe - p - 2))) {
            *val = q;
            *vlen = (size_t)(qe - q);
        }
        p = pe, q = qe;
    }
    return !*p && !*q;
}

int rt_path_match(const char *pat, const char *path)
{
    if (!strchr(pat, '{')) return strcmp(pat, path) == 0;   /* the common case: one strcmp */
    return rt_walk(pat, path, NULL, NULL, NULL);
}

int rt_param(const struct route *route, const char *path, const char *name, char *out, size_t cap)
{
    const char *v = NULL;
    size_t n = 0;
    if (!route || !rt_walk(route->path, path, name, &v, &n) || !v || n >= cap) return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static void rt_allow(unsigned have, char *allow, size_t cap)
{
    if (!allow || !cap) return;
    snprintf(allow, cap, "%s%s%s%s%s", (have & RT_GET) ? "GET, HEAD" : "",
             (have & RT_GET) && (have & (RT_POST | RT_DELETE)) ? ", " : "", (have & RT_POST) ? "POST" : "",
             (have & RT_POST) && (have & RT_DELETE) ? ", " : "", (have & RT_DELETE) ? "DELETE" : "");
}

enum rt_result rt_match(const struct rt_table *t, const char *path, const char *method, const struct route **out,
                        char *allow, size_t cap)
{
    unsigned have = 0, want = method_bit(method);
    const struct route *first = NULL;
    *out = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct route *r = &t->row[i];
        if (!rt_path_match(r->path, path)) continue;
        if (!first) first = r;
        have |= r->methods;
        if (r->methods & want) {
            *out = r;
            return RT_FOUND;
        }
    }
    if (!have) return RT_NOT_FOUND;
    rt_allow(have, allow, cap);
    if (!strcmp(method, "OPTIONS")) {
        *out = first;
        return RT_OPTIONS;
    }
    return RT_BAD_METHOD;
}

int rt_options(struct app *app, struct req *r, struct sink *s, const struct route *route, const char *allow)
{
    return cors_preflight(app, r, s, route, allow);
}

static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int rt_dispatch(struct app *app, struct req *r, struct sink *s, const struct route *route)
{
    const struct cfg *cfg = &app->cfg;
    const char *name = route->name;

    /* CORS first, so that every answer (a 429, a 400) a browser page on
     * another origin gets is one it may read when its origin is allowed. */
    cors_request(app, r, s, route);

    /* Rate limit first, so that every response of a limited route carries
     * X-RateLimit-*. The rule: every RT_STREAM route is limited, and so is
     * any route flagged RT_LIMITED (op_limited). */
    if (op_limited(route)) {
        int st = op_rate_limit(app, r, s, route);
        if (st) return st;
    }
    if ((route->flags & RT_STREAM) && !cfg->streaming_enabled) {
        sink_reject(s, 503, "STREAMING_DISABLED",
                    "Streaming is disabled on this server; use the route without /stream", NULL);
        return 503;
    }
    if (route->flags & RT_BODY_JSON) {
        if (!is_json_type(r->content_type)) {
            sink_reject(s, 415, "UNSUPPORTED_MEDIA_TYPE", "The body must be application/json", NULL);
            return 415;
        }
        int rc = req_read_body(r, (size_t)cfg->max_json_body);
        if (rc == REQ_ETOOBIG) {
            char m[128];
            snprintf(m, sizeof(m), "The JSON body is larger than %ld bytes", cfg->max_json_body);
            sink_reject(s, 413, "PAYLOAD_TOO_LARGE", m, NULL);
            return 413;
        }
        if (rc == REQ_ETIMEOUT) {
            char m[128];
            snprintf(m, sizeof(m), "The request body did not arrive within %d ms", cfg->body_timeout_ms);
            sink_reject(s, 408, "REQUEST_TIMEOUT", m, NULL);
            return 408;
        }
        if (rc != REQ_OK) {
            sink_reject(s, 400, "INVALID_PARAMETERS", "The request body could not be read", NULL);
            return 400;
        }
    }

    struct ctx c = {.app = app, .req = r, .sink = s, .ar = r->ar, .route = route};
    int rc = route->fn(&c);

    if (s->responded) {
        sink_finish(s);   /* writes nothing more; releases a JSON document events may have begun */
        return s->http_status;
    }
    if (!s->started && s->mode == SINK_SSE && rc == 0) {
        /* A handler that ended without a single event: still a valid stream. */
        json_object *o = json_object_new_object();
        json_object_object_add(o, "message", json_object_new_string("Stream started"));
        sink_emit(s, "connected", o);
    }
    if (rc < 0 && !s->error_sent) {
        if (rc == SINK_ETIMEOUT) {
            char m[160];
            if (app->flags && app->flags->abort == SINK_ABORT_TERMINATE)
                snprintf(m, sizeof(m), "The request exceeded request_terminate_timeout_ms (%d ms)",
                         cfg->request_terminate_timeout_ms);
            else
                snprintf(m, sizeof(m), "The stream exceeded the %d ms limit", cfg->streaming_timeout);
            sink_error(s, "STREAM_TIMEOUT", m);
        } else if (rc == SINK_EABORT) {
            sink_error(s, "SHUTTING_DOWN", "The server is shutting down; the stream was stopped");
        } else if (rc != SINK_EGONE) {
            sink_error(s, "PROCESSING_ERROR", "The request failed");
        }
    }
    if (rc == SINK_EGONE || s->state == SINK_EGONE)
        LOG_INFO(name, r->id, NULL, "Client disconnected");
    sink_finish(s);
    if (s->mode == SINK_SSE) return 200;
    return s->http_status;
}
