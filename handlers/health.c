/* health.c: GET /api/health: liveness and readiness. Each worker pings its
 * own database connection; 503 names the failing part. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/db.h"
#include "common/log.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

static json_object *health_db(struct ctx *c, int *ok)
{
    json_object *o = json_object_new_object();
    char err[256] = "";
    int64_t t0 = req_mono_ms();
    int rc = db_ensure(&c->app->db, &c->app->cfg, err, sizeof(err));
    if (rc == 0) rc = db_ping(c->app->db, err, sizeof(err));
    *ok = rc == 0;
    json_object_object_add(o, "ok", json_object_new_boolean(*ok));
    json_object_object_add(o, "latencyMs", json_object_new_int64(req_mono_ms() - t0));
    if (!*ok) {
        json_object_object_add(o, "error", json_object_new_string(err));
        LOG_ERROR(c->route->name, c->req->id, NULL, "Database check failed: %s", err);
    }
    return o;
}

int h_health(struct ctx *c)
{
    int db_ok;
    json_object *checks = json_object_new_object();
    json_object_object_add(checks, "database", health_db(c, &db_ok));

    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(db_ok ? "ok" : "unavailable"));
    json_object_object_add(o, "checks", checks);
    json_object *w = json_object_new_object();
    json_object_object_add(w, "pid", json_object_new_int(getpid()));
    json_object_object_add(w, "id", json_object_new_int(c->app->worker_id));
    json_object_object_add(w, "served", json_object_new_int64((int64_t)c->app->served));
    json_object_object_add(o, "worker", w);
    if (!db_ok) json_object_object_add(o, "failing", json_object_new_string("database"));
    return sink_respond(c->sink, db_ok ? 200 : 503, o);
}
