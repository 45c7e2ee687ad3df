/* test_metrics.c: the shared counters (common/host/metrics.c) and their
 * Prometheus text rendering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/host/metrics.h"
#include "common/host/rl.h"
#include "test/unit/unit.h"

static const char *const labels[] = {"/api/a", "/api/a/stream", "other"};

static char *render(arena_t *ar, const struct mx_gauges *g)
{
    buf_t b;
    buf_init(&b, ar, 1 << 20);
    CU_ASSERT_FATAL(mx_render(&b, labels, 3, g) == 0);
    return b.p;
}

static void t_counts_and_render(void)
{
    void *mem = calloc(1, mx_region_size(3));
    CU_ASSERT_FATAL(mem && mx_region_init(mem, 3) == 0);
    mx_attach(mem);
    arena_t *ar = ar_new(4096);

    struct mx_req ok = {.route = 1, .status = 200, .stream_opened = 1, .events = 5, .bytes = 700,
                        .duration_ms = 300, .ttfe_ms = 2};
    mx_request(&ok);
    mx_request(&ok);
    struct mx_req gone = {.route = 1, .status = 200, .stream_opened = 1, .failed = 1, .disconnected = 1,
                          .events = 2, .bytes = 100, .duration_ms = 1500, .ttfe_ms = 3};
    mx_request(&gone);
    struct mx_req nf = {.route = 99, .status = 404, .bytes = 50, .ttfe_ms = -1};
    mx_request(&nf);
    mx_rate_limited(1);
    mx_worker_restart(MX_RESTART_RECYCLED);
    mx_worker_restart(MX_RESTART_CRASHED);
    mx_worker_restart(MX_RESTART_CRASHED);
    mx_upstream("openai-chat", 1, 120);
    mx_upstream("openai-chat", 0, 3000);
    mx_upstream("bad name\"}", 1, 1);
    mx_crash_storm(1);

    struct rl_stats rs = {.capacity = 64, .used = 3, .evictions = 4};
    struct mx_gauges g = {.busy = 1, .idle = 3, .active_streams = 1, .rl = &rs};
    char *out = render(ar, &g);
    const char *want[] = {
        "# TYPE troika_requests_total counter\n",
        "troika_requests_total{route=\"/api/a/stream\",status=\"200\"} 3\n",
        "troika_requests_total{route=\"other\",status=\"404\"} 1\n",
        "troika_streams_started_total{route=\"/api/a/stream\"} 3\n",
        "troika_streams_completed_total{route=\"/api/a/stream\"} 2\n",
        "troika_streams_failed_total{route=\"/api/a/stream\"} 1\n",
        "troika_streams_started_total{route=\"/api/a\"} 0\n",
        "troika_events_sent_total{route=\"/api/a/stream\"} 12\n",
        "troika_bytes_sent_total{route=\"other\"} 50\n",
        "troika_client_disconnects_total{route=\"/api/a/stream\"} 1\n",
        "troika_rate_limited_total{route=\"/api/a/stream\"} 1\n",
        "# TYPE troika_stream_duration_seconds histogram\n",
        "troika_stream_duration_seconds_bucket{route=\"/api/a/stream\",le=\"0.25\"} 0\n",
        "troika_stream_duration_seconds_bucket{route=\"/api/a/stream\",le=\"0.5\"} 2\n",
        "troika_stream_duration_seconds_bucket{route=\"/api/a/stream\",le=\"2.5\"} 3\n",
        "troika_stream_duration_seconds_bucket{route=\"/api/a/stream\",le=\"+Inf\"} 3\n",
        "troika_stream_duration_seconds_sum{route=\"/api/a/stream\"} 2.100000\n",
        "troika_stream_duration_seconds_count{route=\"/api/a/stream\"} 3\n",
        "troika_time_to_first_event_seconds_bucket{route=\"/api/a/stream\",le=\"0.0025\"} 2\n",
        "troika_time_to_first_event_seconds_count{route=\"/api/a/stream\"} 3\n",
        "troika_active_streams 1\n",
        "troika_workers{state=\"busy\"} 1\n",
        "troika_workers{state=\"idle\"} 3\n",
        "troika_worker_restarts_total{reason=\"recycled\"} 1\n",
        "troika_worker_restarts_total{reason=\"crashed\"} 2\n",
        "troika_crash_storm_active 1\n",
        "troika_crash_storms_total 1\n",
        "troika_rate_limit_entries 3\n",
        "troika_rate_limit_evictions_total 4\n",
        "troika_upstream_requests_total{upstream=\"openai-chat\",result=\"ok\"} 1\n",
        "troika_upstream_requests_total{upstream=\"openai-chat\",result=\"error\"} 1\n",
        "troika_upstream_errors_total{upstream=\"openai-chat\"} 1\n",
        "troika_upstream_latency_seconds_bucket{upstream=\"openai-chat\",le=\"0.1\"} 0\n",
        "troika_upstream_latency_seconds_bucket{upstream=\"openai-chat\",le=\"0.25\"} 1\n",
        "troika_upstream_latency_seconds_bucket{upstream=\"openai-chat\",le=\"5\"} 2\n",
        "troika_upstream_latency_seconds_sum{upstream=\"openai-chat\"} 3.120000\n",
        "troika_upstream_requests_total{upstream=\"bad_name__\",result=\"ok\"} 1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(out, want[i])) fprintf(stderr, "\nmissing: %s", want[i]);
        CU_ASSERT(strstr(out, want[i]) != NULL);
    }
    /* Every sample line belongs to a family announced by HELP and TYPE. */
    CU_ASSERT(strstr(out, "troika_requests_total{route=\"/api/a\"") == NULL);   /* zero statuses left out */
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        CU_ASSERT_FATAL(nl != NULL);
        if (*line != '#') {
            char name[128];
            size_t n = strcspn(line, "{ ");
            CU_ASSERT_FATAL(n < sizeof(name));
            memcpy(name, line, n);
            name[n] = '\0';
            char type_line[200];
            snprintf(type_line, sizeof(type_line), "# TYPE %s ", name);
            char *base = strstr(name, "_bucket");
            if (!base) base = strstr(name, "_sum");
            if (!base && strstr(name, "seconds_count")) base = strstr(name, "_count");
            if (base) {
                *base = '\0';
                snprintf(type_line, sizeof(type_line), "# TYPE %s histogram", name);
            }
            CU_ASSERT(strstr(out, type_line) != NULL);
        }
        line = nl + 1;
    }
    /* More than MX_UPSTREAMS names: the rest count under "other". */
    for (int i = 0; i < MX_UPSTREAMS + 3; i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "u%d", i);
        mx_upstream(nm, 1, 5);
    }
    ar_reset(ar);
    out = render(ar, NULL);
    CU_ASSERT(strstr(out, "troika_upstream_requests_total{upstream=\"other\",result=\"ok\"} 5\n") != NULL);
    mx_attach(NULL);
    ar_free(ar);
    free(mem);
}

/* Detached (unit tests, --check-config), every mx_ call does nothing: a
 * region attached before and again after has not moved. */
static void t_detached_is_silent(void)
{
    void *mem = calloc(1, mx_region_size(3));
    CU_ASSERT_FATAL(mem && mx_region_init(mem, 3) == 0);
    arena_t *ar = ar_new(4096);
    struct mx_req r = {.route = 0, .status = 200, .bytes = 10, .duration_ms = 1, .ttfe_ms = -1};
    mx_attach(mem);
    mx_request(&r);
    char *before = render(ar, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(before, "troika_requests_total{route=\"/api/a\",status=\"200\"} 1\n"));

    mx_attach(NULL);
    for (int i = 0; i < 5; i++) mx_request(&r);
    mx_upstream("detached", 1, 1);
    mx_rate_limited(0);
    mx_worker_restart(MX_RESTART_CRASHED);
    mx_crash_storm(1);

    mx_attach(mem);
    char *after = render(ar, NULL);
    CU_ASSERT_STRING_EQUAL(after, before);
    CU_ASSERT_PTR_NULL(strstr(after, "detached"));
    mx_attach(NULL);
    ar_free(ar);
    free(mem);
}

void register_metrics(void)
{
    static const struct unit_case cases[] = {
        {"counters, histograms and rendering", t_counts_and_render},
        {"no region: calls do nothing", t_detached_is_silent},
        {NULL, NULL},
    };
    unit_suite("metrics", cases);
}
