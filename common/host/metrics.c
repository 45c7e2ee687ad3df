/* metrics.c: the counters in the shared mapping and their Prometheus text
 * rendering; see metrics.h. Histograms keep per-bucket counts (made
 * cumulative when rendered), a count, and a sum in microseconds. */
#include "common/host/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/host/rl.h"
#include "common/host/shm.h"

enum { MX_HB = 12 };   /* histogram buckets, the last one +Inf */

static const double mx_dur_le[MX_HB - 1] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
static const double mx_ttfe_le[MX_HB - 1] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const double mx_up_le[MX_HB - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* HTTP statuses counted one by one; anything else is "other". */
static const int mx_statuses[] = {200, 400, 401, 404, 405, 413, 415, 422, 429, 500, 502, 503, 504};
enum { MX_NSTATUS = sizeof(mx_statuses) / sizeof(mx_statuses[0]) + 1 };

static const char *const mx_restart_names[MX_RESTART_N] = {"recycled", "crashed", "terminated", "reloaded"};

struct mx_hist {
    _Atomic uint64_t b[MX_HB];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
};

struct mx_route {
    _Atomic uint64_t status[MX_NSTATUS];
    _Atomic uint64_t streams_started, streams_completed, streams_failed;
    _Atomic uint64_t disconnects, rate_limited, events, bytes;
    struct mx_hist duration, ttfe;
};

struct mx_up {
    _Atomic uint32_t state;   /* 0 free, 1 published */
    char name[MX_NAME_MAX];
    _Atomic uint64_t ok, err;
    struct mx_hist latency;
};

struct mx_region {
    uint32_t nroutes;
    uint32_t pad;
    pthread_mutex_t reg_mu;
    _Atomic uint64_t restarts[MX_RESTART_N];
    _Atomic uint64_t crash_storms;
    _Atomic uint32_t storm_active;
    uint32_t pad2;
    int64_t started_wall_ms;
    struct mx_up up[MX_UPSTREAMS + 1];   /* the last: "other" */
    struct mx_route routes[];
};

static struct mx_region *mx_mem;   /* set once per process by mx_attach */

size_t mx_region_size(uint32_t nroutes)
{
    return sizeof(struct mx_region) + (size_t)nroutes * sizeof(struct mx_route);
}

static int mx_shm_init(void *mem, const struct shm_region *r)
{
    return mx_region_init(mem, (uint32_t)r->params[0]);
}

struct shm_region mx_shm_region(uint32_t nroutes, uint64_t routes_sig)
{
    return (struct shm_region){
        .name = MX_SHM_NAME, .size = mx_region_size(nroutes), .params = {nroutes, routes_sig}, .init = mx_shm_init};
}

int mx_region_init(void *mem, uint32_t nroutes)
{
    struct mx_region *m = mem;
    memset(m, 0, mx_region_size(nroutes));
    m->nroutes = nroutes;
    if (shm_mutex_init(&m->reg_mu) < 0) return -1;
    snprintf(m->up[MX_UPSTREAMS].name, MX_NAME_MAX, "other");
    atomic_store(&m->up[MX_UPSTREAMS].state, 1);
    return 0;
}

void mx_attach(void *region)
{
    mx_mem = region;
}

static void mx_inc(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void mx_observe(struct mx_hist *h, const double *le, int64_t us)
{
    if (us < 0) us = 0;
    double s = (double)us / 1e6;
    int i = 0;
    while (i < MX_HB - 1 && s > le[i]) i++;
    mx_inc(&h->b[i], 1);
    mx_inc(&h->count, 1);
    mx_inc(&h->sum_us, (uint64_t)us);
}

static struct mx_route *mx_route_at(int route)
{
    if (!mx_mem || mx_mem->nroutes == 0) return NULL;
    if (route < 0 || (uint32_t)route >= mx_mem->nroutes) route = (int)mx_mem->nroutes - 1;
    return &mx_mem->routes[route];
}

void mx_request(const struct mx_req *r)
{
    struct mx_route *m = mx_route_at(r->route);
    if (!m) return;
    int si = MX_NSTATUS - 1;
    for (int i = 0; i < MX_NSTATUS - 1; i++)
        if (mx_statuses[i] == r->status) si = i;
    mx_inc(&m->status[si], 1);
    mx_inc(&m->events, r->events);
    mx_inc(&m->bytes, r->bytes);
    if (r->disconnected) mx_inc(&m->disconnects, 1);
    if (!r->stream_opened) return;
    mx_inc(&m->streams_started, 1);
    mx_inc(r->failed ? &m->streams_failed : &m->streams_completed, 1);
    mx_observe(&m->duration, mx_dur_le, r->duration_ms * 1000);
    if (r->ttfe_ms >= 0) mx_observe(&m->ttfe, mx_ttfe_le, r->ttfe_ms * 1000);
}

void mx_rate_limited(int route)
{
    struct mx_route *m = mx_route_at(route);
    if (m) mx_inc(&m->rate_limited, 1);
}

void mx_worker_restart(enum mx_restart why)
{
    if (mx_mem && why < MX_RESTART_N) mx_inc(&mx_mem->restarts[why], 1);
}

void mx_crash_storm(int on)
{
    if (!mx_mem) return;
    if (on && !atomic_exchange(&mx_mem->storm_active, 1)) mx_inc(&mx_mem->crash_storms, 1);
    if (!on) atomic_store(&mx_mem->storm_active, 0);
}

static void mx_clean_name(char out[MX_NAME_MAX], const char *name)
{
    size_t o = 0;
    for (const char *p = name; *p && o < MX_NAME_MAX - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-' || c == ':';
        out[o++] = ok ? c : '_';
    }
    if (o == 0) out[o++] = '_';
    out[o] = '\0';
}

static struct mx_up *mx_up_find(const char *name)
{
    for (int i = 0; i < MX_UPSTREAMS; i++) {
        struct mx_up *u = &mx_mem->up[i];
        if (!atomic_load_explicit(&u->state, memory_order_acquire)) return NULL;   /* filled in order */
        if (strcmp(u->name, name) == 0) return u;
    }
    return NULL;
}

void mx_upstream(const char *name, int ok, long ms)
{
    if (!mx_mem || !name) return;
    char clean[MX_NAME_MAX];
    mx_clean_name(clean, name);
    struct mx_up *u = mx_up_find(clean);
    if (!u) {
        int lk = shm_lock(&mx_mem->reg_mu);
        if (lk >= 0) {
            if (lk == 1) shm_mutex_consistent(&mx_mem->reg_mu);   /* names are written before publishing */
            u = mx_up_find(clean);
            for (int i = 0; !u && i < MX_UPSTREAMS; i++) {
                struct mx_up *c = &mx_mem->up[i];
                if (atomic_load_explicit(&c->state, memory_order_acquire)) continue;
                memcpy(c->name, clean, sizeof(clean));
                atomic_store_explicit(&c->state, 1, memory_order_release);
                u = c;
            }
            shm_unlock(&mx_mem->reg_mu);
        }
        if (!u) u = &mx_mem->up[MX_UPSTREAMS];
    }
    mx_inc(ok ? &u->ok : &u->err, 1);
    mx_observe(&u->latency, mx_up_le, (int64_t)ms * 1000);
}

/* ---- rendering ----------------------------------------------------------- */

static uint64_t mx_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static int mx_head(buf_t *b, const char *name, const char *type, const char *help)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int mx_hist_render(buf_t *b, const char *name, const char *labels, struct mx_hist *h, const double *le)
{
    uint64_t cum = 0;
    int rc = 0;
    for (int i = 0; i < MX_HB; i++) {
        cum += mx_get(&h->b[i]);
        if (i < MX_HB - 1)
            rc |= buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, le[i], (unsigned long long)cum);
        else
            rc |= buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
    }
    rc |= buf_printf(b, "%s_sum{%s} %.6f\n", name, labels, (double)mx_get(&h->sum_us) / 1e6);
    rc |= buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    return rc;
}

/* One counter line per route. */
static int mx_per_route(buf_t *b, const char *name, const char *help, const char *const *labels, uint32_t n,
                        size_t field)
{
    int rc = mx_head(b, name, "counter", help);
    for (uint32_t i = 0; i < n; i++) {
        _Atomic uint64_t *c = (_Atomic uint64_t *)((char *)&mx_mem->routes[i] + field);
        rc |= buf_printf(b, "%s{route=\"%s\"} %llu\n", name, labels[i], (unsigned long long)mx_get(c));
    }
    return rc;
}

/* troika_requests_total: a line per route and status seen. */
static int mx_render_requests(buf_t *b, const char *const *labels, uint32_t n)
{
    int rc = mx_head(b, "troika_requests_total", "counter", "Requests answered, by route and HTTP status.");
    for (uint32_t i = 0; i < n; i++)
        for (int s = 0; s < MX_NSTATUS; s++) {
            uint64_t v = mx_get(&mx_mem->routes[i].status[s]);
            if (!v) continue;
            char st[16];
            if (s < MX_NSTATUS - 1) snprintf(st, sizeof(st), "%d", mx_statuses[s]);
            else snprintf(st, sizeof(st), "other");
            rc |= buf_printf(b, "troika_requests_total{route=\"%s\",status=\"%s\"} %llu\n", labels[i], st,
                             (unsigned long long)v);
        }
    return rc;
}

/* The per-route stream counters. */
static int mx_render_streams(buf_t *b, const char *const *labels, uint32_t n)
{
    int rc = 0;
#define MXF(f) offsetof(struct mx_route, f)
    rc |= mx_per_route(b, "troika_streams_started_total", "SSE streams opened.", labels, n, MXF(streams_started));
    rc |= mx_per_route(b, "troika_streams_completed_total", "SSE streams that ended without an error event.",
                       labels, n, MXF(streams_completed));
    rc |= mx_per_route(b, "troika_streams_failed_total",
                       "SSE streams that ended with an error event or a gone client.", labels, n,
                       MXF(streams_failed));
    rc |= mx_per_route(b, "troika_events_sent_total", "SSE events written.", labels, n, MXF(events));
    rc |= mx_per_route(b, "troika_bytes_sent_total", "Response bytes written (headers and body).", labels, n,
                       MXF(bytes));
    rc |= mx_per_route(b, "troika_client_disconnects_total", "Responses cut short because the client went away.",
                       labels, n, MXF(disconnects));
    rc |= mx_per_route(b, "troika_rate_limited_total", "Requests refused with 429 by the streaming rate limiter.",
                       labels, n, MXF(rate_limited));
#undef MXF
    return rc;
}

/* The per-route histograms: stream duration, time to the first event. */
static int mx_render_timings(buf_t *b, const char *const *labels, uint32_t n)
{
    char lab[160];
    int rc = mx_head(b, "troika_stream_duration_seconds", "histogram", "Duration of SSE streams.");
    for (uint32_t i = 0; i < n; i++) {
        snprintf(lab, sizeof(lab), "route=\"%s\"", labels[i]);
        rc |= mx_hist_render(b, "troika_stream_duration_seconds", lab, &mx_mem->routes[i].duration, mx_dur_le);
    }
    rc |= mx_head(b, "troika_time_to_first_event_seconds", "histogram",
                  "Time from the request's arrival to the first SSE event.");
    for (uint32_t i = 0; i < n; i++) {
        snprintf(lab, sizeof(lab), "route=\"%s\"", labels[i]);
        rc |= mx_hist_render(b, "troika_time_to_first_event_seconds", lab, &mx_mem->routes[i].ttfe, mx_ttfe_le);
    }
    return rc;
}

/* The processes: streams in progress and busy/idle workers (gauges from
 * the scoreboard, when given), restarts and the crash-storm guard. */
static int mx_render_workers(buf_t *b, const struct mx_gauges *g)
{
    int rc = 0;
    if (g) {
        rc |= mx_head(b, "troika_active_streams", "gauge", "SSE streams in progress.");
        rc |= buf_printf(b, "troika_active_streams %d\n", g->active_streams);
        rc |= mx_head(b, "troika_workers", "gauge", "Serving processes by state (from the scoreboard).");
        rc |= buf_printf(b, "troika_workers{state=\"busy\"} %d\ntroika_workers{state=\"idle\"} %d\n", g->busy,
                         g->idle);
    }
    rc |= mx_head(b, "troika_worker_restarts_total", "counter", "Workers started again by the master, by reason.");
    for (int i = 0; i < MX_RESTART_N; i++)
        rc |= buf_printf(b, "troika_worker_restarts_total{reason=\"%s\"} %llu\n", mx_restart_names[i],
                         (unsigned long long)mx_get(&mx_mem->restarts[i]));
    rc |= mx_head(b, "troika_crash_storms_total", "counter", "Times the master's crash-storm guard engaged.");
    rc |= buf_printf(b, "troika_crash_storms_total %llu\n", (unsigned long long)mx_get(&mx_mem->crash_storms));
    rc |= mx_head(b, "troika_crash_storm_active", "gauge", "1 while respawns are held back by the crash-storm guard.");
    rc |= buf_printf(b, "troika_crash_storm_active %u\n", (unsigned)atomic_load(&mx_mem->storm_active));
    return rc;
}

/* The rate limiter's table (gauges from rl_stats). */
static int mx_render_limiter(buf_t *b, const struct rl_stats *r)
{
    int rc = mx_head(b, "troika_rate_limit_entries", "gauge", "Client addresses tracked by the rate limiter.");
    rc |= buf_printf(b, "troika_rate_limit_entries %u\n", r->used);
    rc |= mx_head(b, "troika_rate_limit_capacity", "gauge", "Client addresses the rate limiter can track.");
    rc |= buf_printf(b, "troika_rate_limit_capacity %u\n", r->capacity);
    rc |= mx_head(b, "troika_rate_limit_evictions_total", "counter",
                  "Idle client entries evicted to make room for new addresses.");
    rc |= buf_printf(b, "troika_rate_limit_evictions_total %llu\n", (unsigned long long)r->evictions);
    rc |= mx_head(b, "troika_rate_limit_table_full_total", "counter",
                  "New addresses refused because every tracked address was active.");
    rc |= buf_printf(b, "troika_rate_limit_table_full_total %llu\n", (unsigned long long)r->table_full);
    rc |= mx_head(b, "troika_shm_lock_recoveries_total", "counter",
                  "Rate-limiter locks recovered from a process that died holding them.");
    rc |= buf_printf(b, "troika_shm_lock_recoveries_total %llu\n", (unsigned long long)r->recoveries);
    return rc;
}

/* The upstream row i, or NULL when it is not shown: a name never
 * registered, or the "other" row while nothing counted there. */
static struct mx_up *mx_up_shown(int i)
{
    struct mx_up *u = &mx_mem->up[i];
    if (!atomic_load_explicit(&u->state, memory_order_acquire)) return NULL;
    if (i == MX_UPSTREAMS && !mx_get(&u->ok) && !mx_get(&u->err)) return NULL;
    return u;
}

/* Calls to upstreams: counts by result, errors, latency. */
static int mx_render_upstreams(buf_t *b)
{
    struct mx_up *u;
    char lab[160];
    int rc = mx_head(b, "troika_upstream_requests_total", "counter", "Calls to upstreams, by name and result.");
    for (int i = 0; i <= MX_UPSTREAMS; i++) {
        if (!(u = mx_up_shown(i))) continue;
        rc |= buf_printf(b, "troika_upstream_requests_total{upstream=\"%s\",result=\"ok\"} %llu\n", u->name,
                         (unsigned long long)mx_get(&u->ok));
        rc |= buf_printf(b, "troika_upstream_requests_total{upstream=\"%s\",result=\"error\"} %llu\n", u->name,
                         (unsigned long long)mx_get(&u->err));
    }
    rc |= mx_head(b, "troika_upstream_errors_total", "counter", "Failed calls to upstreams.");
    for (int i = 0; i <= MX_UPSTREAMS; i++) {
        if (!(u = mx_up_shown(i))) continue;
        rc |= buf_printf(b, "troika_upstream_errors_total{upstream=\"%s\"} %llu\n", u->name,
                         (unsigned long long)mx_get(&u->err));
    }
    rc |= mx_head(b, "troika_upstream_latency_seconds", "histogram", "Latency of calls to upstreams.");
    for (int i = 0; i <= MX_UPSTREAMS; i++) {
        if (!(u = mx_up_shown(i))) continue;
        snprintf(lab, sizeof(lab), "upstream=\"%s\"", u->name);
        rc |= mx_hist_render(b, "troika_upstream_latency_seconds", lab, &u->latency, mx_up_le);
    }
    return rc;
}

int mx_render(buf_t *b, const char *const *labels, uint32_t n, const struct mx_gauges *g)
{
    if (!mx_mem) return buf_adds(b, "# no shared metrics in this process\n");
    if (n > mx_mem->nroutes) n = mx_mem->nroutes;
    int rc = mx_render_requests(b, labels, n);
    rc |= mx_render_streams(b, labels, n);
    rc |= mx_render_timings(b, labels, n);
    rc |= mx_render_workers(b, g);
    if (g && g->rl) rc |= mx_render_limiter(b, g->rl);
    rc |= mx_render_upstreams(b);
    return rc ? -1 : 0;
}
