/* ops.c: the shared mapping on the request path; see ops.h.
 *
 * X-RateLimit-* semantics (docs/operations.md): Limit is
 * streaming_rate_limit; Remaining is how many more requests the window
 * would admit right after this one; Reset is the Unix time (seconds,
 * rounded up) at which the oldest admission in the window leaves it, i.e.
 * when Remaining next grows (now, when nothing is in the window). A 429's
 * Retry-After is the same moment in whole seconds from now (at least 1).
 * Whitelisted clients are not counted and see the full quota.
 *
 * Before the window, the per-client cap: a client may run at most
 * max_requests_per_client limited requests at once (half the workers by
 * default), counted in the scoreboard, so that one client cannot take
 * every worker with long streams; over it, 429 with Retry-After: 1
 * (not counted in the window). A trusted proxy whose header did not name
 * the client is never whitelisted: behind a local TLS proxy every client
 * would otherwise bypass the limits. */
#include "fcgi/ops.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/base/addr.h"
#include "common/base/clock.h"
#include "common/base/hash.h"
#include "common/base/log.h"
#include "common/host/metrics.h"
#include "common/host/rl.h"
#include "common/host/scoreboard.h"
#include "common/host/shm.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/route.h"
#include "fcgi/sink.h"

/* Index of a route in t (its metrics row); the "other" row (t->n) for
 * NULL or a route of another table. */
static int op_route_index(const struct rt_table *t, const struct route *route)
{
    if (route && route >= t->row && route < t->row + t->n) return (int)(route - t->row);
    return (int)t->n;
}

/* The regions this process asks the shared file for: the rate limiter's
 * table, the metrics (a row per route and "other"; the paths' hash tells
 * two tables of one length apart) and the scoreboard. */
static int op_layout(const struct app *app, struct shm_layout *out)
{
    const struct cfg *cfg = &app->cfg;
    const struct rt_table *t = &app->routes;
    uint64_t sig = HASH_FNV_BASIS;   /* over the paths, in order */
    for (size_t i = 0; i < t->n; i++)
        sig = hash_fnv1a(hash_fnv1a(sig, t->row[i].path, strlen(t->row[i].path)), "\xff", 1);
    memset(out, 0, sizeof(*out));
    if (shm_layout_add(out, rl_shm_region((uint32_t)cfg->rate_limit_table_size, (uint32_t)cfg->streaming_rate_limit,
                                          cfg->streaming_window_ms)) < 0 ||
        shm_layout_add(out, mx_shm_region((uint32_t)t->n + 1, sig)) < 0 ||
        shm_layout_add(out, sb_shm_region((uint32_t)cfg->scoreboard_slots)) < 0)
        return -1;
    return 0;
}

int op_attach(struct app *app, char *err, size_t errlen)
{
    char e[300];
    if (addr_nets_parse(app->cfg.streaming_rate_whitelist, &app->whitelist, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "streaming_rate_whitelist: %s", e);
        return -1;
    }
    if (addr_nets_parse(app->cfg.trusted_proxies, &app->trusted, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "trusted_proxies: %s", e);
        return -1;
    }
    if (addr_nets_parse(app->cfg.ops_allowed_networks, &app->ops_nets, e, sizeof(e)) < 0) {
        snprintf(err, errlen, "ops_allowed_networks: %s", e);
        return -1;
    }
    struct shm_layout lay;
    if (op_layout(app, &lay) < 0) {
        snprintf(err, errlen, "shm_path: the shared file's region table is full");
        return -1;
    }
    if (app->shm.hdr && shm_same_layout(&app->shm, &lay) && strcmp(app->shm.path, app->cfg.shm_path) == 0)
        return 0;
    struct shm fresh;
    if (shm_attach(&fresh, app->cfg.shm_path, &lay, err, errlen) < 0) return -1;
    if (app->shm.hdr) shm_detach(&app->shm);
    app->shm = fresh;
    mx_attach(shm_region(&app->shm, MX_SHM_NAME));
    return 0;
}

void op_client_ip(struct app *app, struct req *r)
{
    uint8_t a[16];
    const char *fwd = NULL;
    if (app->trusted.n && app->cfg.proxy_header[0]) {
        /* "X-Forwarded-For" -> HTTP_X_FORWARDED_FOR */
        char name[CFG_STR_MAX + 8];
        size_t o = (size_t)snprintf(name, sizeof(name), "HTTP_");
        for (const char *p = app->cfg.proxy_header; *p && o < sizeof(name) - 1; p++)
            name[o++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        name[o] = '\0';
        fwd = req_env(r, name);
    }
    if (addr_client(&app->trusted, r->remote_addr, fwd, a) < 0) return;   /* keep REMOTE_ADDR as it is */
    char text[ADDR_TEXT];
    addr_format(a, text);
    const char *ip = ar_strdup(r->ar, text);
    if (ip) r->client_ip = ip;
}

int op_limited(const struct route *route)
{
    return route && (route->flags & (RT_STREAM | RT_LIMITED)) != 0;
}

/* The client's address as the limiter keys it: 16 bytes, all zero when
 * there is none (a unix-socket peer without REMOTE_ADDR: one shared key). */
static int op_client_addr(const struct req *r, uint8_t a[16])
{
    if (addr_parse(r->client_ip, a) == 0) return 0;
    memset(a, 0, 16);
    return -1;
}

int op_client_cap(const struct cfg *cfg)
{
    if (cfg->max_requests_per_client > 0) return cfg->max_requests_per_client;
    return cfg->workers / 2 > 1 ? cfg->workers / 2 : 1;
}

static void op_header_num(struct sink *s, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    sink_header(s, name, buf);
}

int op_rate_limit(struct app *app, struct req *r, struct sink *s, const struct route *route)
{
    const int limit = app->cfg.streaming_rate_limit;
    int64_t wall_ms = clk_wall_ms();
    uint8_t a[16];
    void *table = shm_region(&app->shm, RL_SHM_NAME);
    int whitelisted = 0;
    /* No usable address (a unix-socket peer without REMOTE_ADDR): one
     * shared bucket, so the limit still holds. */
    if (op_client_addr(r, a) == 0) {
        /* a trusted proxy that did not say whose request it is, is not
         * its own client: whitelisting it would whitelist everyone */
        int unresolved = app->trusted.n && strcmp(r->client_ip, r->remote_addr) == 0 &&
                         addr_nets_match(&app->trusted, a);
        whitelisted = !unresolved && addr_nets_match(&app->whitelist, a);
    }
    if (whitelisted || !table) {
        op_header_num(s, "X-RateLimit-Limit", limit);
        op_header_num(s, "X-RateLimit-Remaining", limit);
        op_header_num(s, "X-RateLimit-Reset", (wall_ms + 999) / 1000);
        return 0;
    }
    int cap = op_client_cap(&app->cfg);
    int running = sb_client_busy(shm_region(&app->shm, SB_SHM_NAME), a, app->sb_slot);
    if (running >= cap) {
        op_header_num(s, "X-RateLimit-Limit", limit);
        op_header_num(s, "Retry-After", 1);
        mx_rate_limited(op_route_index(&app->routes, route));
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "retryAfter", json_object_new_int(1));
        json_object_object_add(extra, "concurrent", json_object_new_int(cap));
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "At most %d requests of one client may run at once (%d running); retry when one has ended", cap,
                 running);
        LOG_DEBUG(route->name, r->id, NULL, "Concurrency cap: %s runs %d", r->client_ip, running);
        sink_reject(s, 429, "RATE_LIMIT_EXCEEDED", msg, extra);
        return 429;
    }
    struct rl_decision d;
    if (rl_decide(table, a, &d) < 0) {
        LOG_ERROR(route->name, r->id, NULL, "Rate limiter lock unusable; request admitted");
        return 0;
    }
    /* The decision's own time, for operators and the exactness test. */
    LOG_DEBUG(route->name, r->id, NULL, "Rate limit %s %s remaining=%d at_us=%lld seq=%llu pid=%d",
              d.admitted ? "admitted" : "refused", r->client_ip, d.remaining, (long long)d.now_us,
              (unsigned long long)d.seq, (int)getpid());
    int64_t wait_ms = (d.free_at_us - d.now_us + 999) / 1000;
    if (wait_ms < 0) wait_ms = 0;
    op_header_num(s, "X-RateLimit-Limit", d.limit);
    op_header_num(s, "X-RateLimit-Remaining", d.remaining);
    op_header_num(s, "X-RateLimit-Reset", (wall_ms + wait_ms + 999) / 1000);
    if (d.admitted) return 0;

    int64_t retry = (wait_ms + 999) / 1000;
    op_header_num(s, "Retry-After", retry < 1 ? 1 : retry);
    mx_rate_limited(op_route_index(&app->routes, route));
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "retryAfter", json_object_new_int64(retry < 1 ? 1 : retry));
    json_object_object_add(extra, "limit", json_object_new_int(d.limit));
    json_object_object_add(extra, "windowMs", json_object_new_int(app->cfg.streaming_window_ms));
    char msg[200];
    if (d.table_full)
        snprintf(msg, sizeof(msg), "Too many clients are streaming right now; retry in %lld s", (long long)retry);
    else
        snprintf(msg, sizeof(msg), "At most %d streaming requests per %d ms; retry in %lld s", d.limit,
                 app->cfg.streaming_window_ms, (long long)(retry < 1 ? 1 : retry));
    /* DEBUG, not INFO: a flood of refusals must not flood the log (they are
     * counted in troika_rate_limited_total). */
    LOG_DEBUG(route->name, r->id, NULL, "Rate limited %s%s", r->client_ip, d.table_full ? " (table full)" : "");
    sink_reject(s, 429, "RATE_LIMIT_EXCEEDED", msg, extra);
    return 429;
}

void op_request_begin(struct app *app, const struct req *r, const struct route *route)
{
    uint8_t a[16];
    op_client_addr(r, a);
    int flags = (route && (route->flags & RT_STREAM) ? SB_STREAM : 0) | (op_limited(route) ? SB_LIMITED : 0);
    sb_busy(shm_region(&app->shm, SB_SHM_NAME), app->sb_slot, route ? route->path : r->path, r->id, r->method,
            flags, a);
}

void op_request_refused(struct app *app, const struct route *route, int status)
{
    struct mx_req m = {.route = op_route_index(&app->routes, route), .status = status, .ttfe_ms = -1};
    mx_request(&m);
}

void op_request_end(struct app *app, const struct req *r, const struct sink *s, const struct route *route,
                    int status)
{
    struct mx_req m = {
        .route = op_route_index(&app->routes, route),
        .status = s->responded ? s->http_status : status,
        .stream_opened = s->mode == SINK_SSE && s->started,
        .failed = s->error_sent || s->state == SINK_EGONE,
        .disconnected = s->state == SINK_EGONE,
        .events = s->mode == SINK_SSE ? s->stats.events : 0,
        .bytes = s->stats.bytes,
        .duration_ms = clk_mono_ms() - r->t0_ms,
        .ttfe_ms = s->stats.first_event_ms ? s->stats.first_event_ms - r->t0_ms : -1,
    };
    mx_request(&m);
    sb_idle(shm_region(&app->shm, SB_SHM_NAME), app->sb_slot, app->served + 1);
}
