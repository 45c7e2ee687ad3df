/* metrics.c: GET /api/metrics: SPEC section 7 in the Prometheus text
 * exposition format (version 0.0.4), for every process of the host (the
 * numbers live in the shared mapping). Only for ops_allowed_networks or
 * an admin key (docs/operations.md). */
#include <stdio.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/host/metrics.h"
#include "common/host/rl.h"
#include "common/host/scoreboard.h"
#include "common/host/shm.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

int h_metrics(struct ctx *c)
{
    if (hx_ops_allowed(c) < 0) return 0;   /* answered 403 / 401 */
    const struct rt_table *t = &c->app->routes;
    size_t n = t->n;
    const char **labels = ar_calloc(c->ar, n + 1, sizeof(*labels));
    if (!labels) return SINK_EIO;
    for (size_t i = 0; i < n; i++) labels[i] = t->row[i].path;
    labels[n] = "other";

    struct mx_gauges g = {0};
    sb_count(shm_region(&c->app->shm, SB_SHM_NAME), &g.busy, &g.idle, &g.active_streams);
    struct rl_stats rs;
    void *rl = shm_region(&c->app->shm, RL_SHM_NAME);
    if (rl) {
        rl_stats(rl, &rs);
        g.rl = &rs;
    }
    buf_t b;
    buf_init(&b, c->ar, 4u << 20);
    if (mx_render(&b, labels, (uint32_t)n + 1, &g) < 0 || !b.p) {
        sink_reject(c->sink, 500, "INTERNAL_ERROR", "The metrics did not fit in 4 MiB", NULL);
        return 0;
    }
    return sink_text(c->sink, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}
