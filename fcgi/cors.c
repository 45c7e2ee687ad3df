/* cors.c: CORS for browser pages on other origins; see cors.h. */
#include "fcgi/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/base/config.h"
#include "common/base/log.h"
#include "common/base/origin.h"
#include "common/store/access.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/route.h"
#include "fcgi/sink.h"

/* The origin's permission on the sink (allowed: "*" or the origin). */
static void cors_grant(struct sink *s, arena_t *ar, const char *value)
{
    s->late_headers = value ? ar_printf(ar, "Access-Control-Allow-Origin: %s\r\nAccess-Control-Expose-Headers: "
                                            CORS_EXPOSE_HEADERS "\r\n", value)
                            : NULL;
}

/* Whether a chatbot lists the origin (chatbot NULL: any chatbot). A store
 * failure is no permission (logged at DEBUG: the request itself will
 * report the database if it needs it). */
static int cors_listed_by(struct app *app, struct req *r, const char *chatbot)
{
    char low[ORG_MAX], err[256];
    if (!app->store || org_lower(r->origin, low, sizeof(low)) < 0) return 0;
    int rc = acc_origin_allowed(app->store, r->ar, chatbot, low, err, sizeof(err));
    if (rc < 0) LOG_DEBUG("cors", r->id, NULL, "Origin lookup failed: %s", err);
    return rc == 1;
}

/* Decides an origin for a request: CORS_CONFIG, CORS_CHATBOT or CORS_NONE;
 * *value the Access-Control-Allow-Origin to send. chatbot: the one the
 * request names when known, else NULL (any chatbot's list will do). */
static int cors_decide(struct app *app, struct req *r, const char *chatbot, const char **value)
{
    int how = org_listed(app->cfg.cors_allowed_origins, r->origin);
    *value = NULL;
    if (how != ORG_NO) {
        *value = how == ORG_STAR ? "*" : r->origin;
        return CORS_CONFIG;
    }
    if (cors_listed_by(app, r, chatbot)) {
        *value = r->origin;
        return CORS_CHATBOT;
    }
    return CORS_NONE;
}

static const char *cors_origin_of(struct req *r)
{
    const char *o = req_env(r, "HTTP_ORIGIN");
    return o && *o ? o : NULL;
}

void cors_request(struct app *app, struct req *r, struct sink *s, const struct route *route)
{
    (void)route;
    sink_header(s, "Vary", "Origin");
    if (!(r->origin = cors_origin_of(r))) return;
    const char *value;
    r->cors = cors_decide(app, r, NULL, &value);
    cors_grant(s, r->ar, value);
}

void cors_chatbot(struct app *app, struct req *r, struct sink *s, const char *chatbot)
{
    if (r->cors != CORS_CHATBOT || !chatbot) return;
    if (cors_listed_by(app, r, chatbot)) return;
    r->cors = CORS_NONE;
    cors_grant(s, r->ar, NULL);
}

/* 1 when `word` (n bytes) is one of the comma-separated tokens of list,
 * compared without regard to ASCII case. */
static int cors_in_list(const char *list, const char *word, size_t n)
{
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        const char *b = p;
        while (*p && *p != ',') p++;
        const char *e = p;
        while (e > b && e[-1] == ' ') e--;
        if ((size_t)(e - b) == n && n && !strncasecmp(b, word, n)) return 1;
    }
    return 0;
}

/* The first requested header the API does not accept, or NULL; into
 * bad (cap bytes). */
static const char *cors_bad_header(const char *requested, char *bad, size_t cap)
{
    const char *p = requested;
    while (p && *p) {
        while (*p == ',' || *p == ' ' || *p == '\t') p++;
        const char *b = p;
        while (*p && *p != ',') p++;
        const char *e = p;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (e > b && !cors_in_list(CORS_ALLOW_HEADERS, b, (size_t)(e - b))) {
            snprintf(bad, cap, "%.*s", (int)(e - b > 80 ? 80 : e - b), b);
            return bad;
        }
    }
    return NULL;
}

static int cors_refuse(struct sink *s, const char *fmt, const char *what)
{
    char m[512];
    snprintf(m, sizeof(m), fmt, what);
    sink_reject(s, 403, "FORBIDDEN", m, NULL);
    return 403;
}

int cors_preflight(struct app *app, struct req *r, struct sink *s, const struct route *route, const char *allow)
{
    (void)route;
    char methods[96];
    snprintf(methods, sizeof(methods), "%s, OPTIONS", allow);
    sink_header(s, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    sink_header(s, "Allow", methods);
    r->origin = cors_origin_of(r);
    const char *method = req_env(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
    const char *value = NULL;
    /* a preflight may name its chatbot in the query (GET routes) */
    const char *bot = req_param(r, "chatbotId");
    if (r->origin) r->cors = cors_decide(app, r, bot && *bot ? bot : NULL, &value);
    if (!r->origin || !method) {   /* not a preflight: the methods, and the origin's permission */
        cors_grant(s, r->ar, value);
        sink_text(s, 204, "text/plain; charset=utf-8", "", 0);
        return 204;
    }
    if (r->cors == CORS_NONE)
        return cors_refuse(s, "The origin %.200s may not call this API (cors_allowed_origins, or the chatbot's "
                              "origins: troika-admin origin add)", r->origin);
    if (!cors_in_list(allow, method, strlen(method)))
        return cors_refuse(s, "%.40s is not a method of this path", method);
    char bad[96];
    if (cors_bad_header(req_env(r, "HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), bad, sizeof(bad)))
        return cors_refuse(s, "The request header %s is not one this API reads", bad);
    char age[24];
    snprintf(age, sizeof(age), "%d", app->cfg.cors_max_age);
    sink_header(s, "Access-Control-Allow-Methods", allow);
    sink_header(s, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    sink_header(s, "Access-Control-Max-Age", age);
    cors_grant(s, r->ar, value);
    sink_text(s, 204, "text/plain; charset=utf-8", "", 0);
    return 204;
}
