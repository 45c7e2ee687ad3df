/* router.c: the request pipeline in front of handlers: route lookup,
 * rate limit, streaming switch, body limits, content type, then the
 * handler, then the one place that turns a handler's failure into an
 * error event. The route table is the handlers' (handlers/routes.c). */
#include "fcgi/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/base/config.h"
#include "common/base/log.h"
#include "fcgi/app.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"

static unsigned method_bit(const char *m)
{
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) return RT_GET;
    if (!strcmp(m, "POST")) return RT_POST;
    return 0;
}

enum rt_result rt_match(const struct rt_table *t, const char *path, const char *method, const struct route **out,
                        char *allow, size_t cap)
{
    unsigned have = 0, want = method_bit(method);
    *out = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct route *r = &t->row[i];
        if (strcmp(r->path, path) != 0) continue;
        have |= r->methods;
        if (r->methods & want) {
            *out = r;
            return RT_FOUND;
        }
    }
    if (!have) return RT_NOT_FOUND;
    if (allow && cap) {
        snprintf(allow, cap, "%s%s%s", (have & RT_GET) ? "GET, HEAD" : "",
                 (have & RT_GET) && (have & RT_POST) ? ", " : "", (have & RT_POST) ? "POST" : "");
    }
    return RT_BAD_METHOD;
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
