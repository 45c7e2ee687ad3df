/* health.c: GET /api/health: liveness and readiness. Each worker pings its
 * own database connection; 503 names the failing part. With full=1 it adds
 * the scoreboard (every serving process of the host: state, route, request
 * id, start, requests served) and the rate limiter's table, only for
 * ops_allowed_networks or an admin key; plain health answers anyone. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/host/rl.h"
#include "common/host/scoreboard.h"
#include "common/host/shm.h"
#include "common/store/store.h"
#include "fcgi/sse.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

static json_object *health_db(struct ctx *c, int *ok)
{
    json_object *o = json_object_new_object();
    char err[256] = "";
    int64_t t0 = clk_mono_ms();
    *ok = st_ping(c->app->store, err, sizeof(err)) == ST_OK;
    json_object_object_add(o, "ok", json_object_new_boolean(*ok));
    json_object_object_add(o, "latencyMs", json_object_new_int64(clk_mono_ms() - t0));
    if (!*ok) {
        /* Anyone may ask: the driver's words (socket path, host, errno)
         * stay in the log. */
        json_object_object_add(o, "error", json_object_new_string("The database is unreachable"));
        LOG_ERROR(c->route->name, c->req->id, NULL, "Database check failed: %s", err);
    }
    return o;
}

static json_object *health_iso(int64_t wall_ms)
{
    char ts[32];
    sse_timestamp(ts, wall_ms);
    return json_object_new_string(ts);
}

static json_object *health_scoreboard(struct ctx *c)
{
    void *sb = shm_region(&c->app->shm, SB_SHM_NAME);
    json_object *arr = json_object_new_array();
    int64_t now_mono = clk_mono_ms();
    struct sb_view v;
    for (uint32_t i = 0; i < sb_nslots(sb); i++) {
        if (sb_read(sb, (int)i, &v) < 0) continue;
        json_object *w = json_object_new_object();
        json_object_object_add(w, "pid", json_object_new_int(v.pid));
        json_object_object_add(w, "id", json_object_new_int(v.worker_id));
        json_object_object_add(w, "state", json_object_new_string(v.state == SB_BUSY ? "busy" : "idle"));
        json_object_object_add(w, "served", json_object_new_int64((int64_t)v.served));
        json_object_object_add(w, "processStarted", health_iso(v.proc_started_ms));
        if (v.state == SB_BUSY) {
            json_object_object_add(w, "route", json_object_new_string(v.route));
            json_object_object_add(w, "method", json_object_new_string(v.method));
            json_object_object_add(w, "requestId", json_object_new_string(v.rid));
            json_object_object_add(w, "stream", json_object_new_boolean(v.stream));
            json_object_object_add(w, "started", health_iso(v.req_started_ms));
            json_object_object_add(w, "runningMs", json_object_new_int64(now_mono - v.req_started_mono));
        }
        json_object_array_add(arr, w);
    }
    return arr;
}

static json_object *health_limiter(struct ctx *c)
{
    json_object *o = json_object_new_object();
    void *t = shm_region(&c->app->shm, RL_SHM_NAME);
    if (!t) return o;
    struct rl_stats st;
    rl_stats(t, &st);
    json_object_object_add(o, "limit", json_object_new_int((int)st.limit));
    json_object_object_add(o, "windowMs", json_object_new_int64(st.window_us / 1000));
    json_object_object_add(o, "tracked", json_object_new_int((int)st.used));
    json_object_object_add(o, "capacity", json_object_new_int((int)st.capacity));
    json_object_object_add(o, "refused", json_object_new_int64((int64_t)st.refused));
    json_object_object_add(o, "evictions", json_object_new_int64((int64_t)st.evictions));
    json_object_object_add(o, "tableFull", json_object_new_int64((int64_t)st.table_full));
    json_object_object_add(o, "lockRecoveries", json_object_new_int64((int64_t)st.recoveries));
    return o;
}

int h_health(struct ctx *c)
{
    const char *full = req_param(c->req, "full");
    int want_full = full && (!strcmp(full, "1") || !strcmp(full, "true"));
    if (want_full && hx_ops_allowed(c) < 0) return 0;   /* the internals: answered 403 / 401 */
    int db_ok;
    json_object *checks = json_object_new_object();
    json_object_object_add(checks, "database", health_db(c, &db_ok));

    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(db_ok ? "ok" : "unavailable"));
    json_object_object_add(o, "checks", checks);
    if (!db_ok) json_object_object_add(o, "failing", json_object_new_string("database"));
    if (want_full) {
        json_object *w = json_object_new_object();
        json_object_object_add(w, "pid", json_object_new_int(getpid()));
        json_object_object_add(w, "id", json_object_new_int(c->app->worker_id));
        json_object_object_add(w, "served", json_object_new_int64((int64_t)c->app->served));
        json_object_object_add(o, "worker", w);
        json_object_object_add(o, "scoreboard", health_scoreboard(c));
        json_object_object_add(o, "rateLimiter", health_limiter(c));
    }
    return sink_respond(c->sink, db_ok ? 200 : 503, o);
}
