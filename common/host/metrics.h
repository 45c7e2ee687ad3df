/* metrics.h: SPEC section 7 counters, gauges and histograms, kept in the
 * shared mapping so that every process of the host adds to the same
 * numbers; rendered in the Prometheus text format by /api/metrics.
 *
 * Every counter is a lock-free C11 atomic (relaxed: a scrape may see one
 * request's counters half-added, never a torn value). Upstream names are
 * registered once under a robust mutex. Process-wide state: the region
 * pointer is set once at start-up by mx_attach(); before that (unit tests,
 * --check-config) every mx_ call does nothing. */
#ifndef TROIKA_METRICS_H
#define TROIKA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/host/shm.h"

struct rl_stats;

enum { MX_UPSTREAMS = 16, MX_NAME_MAX = 32 };

/* Why the master started a worker again. */
enum mx_restart { MX_RESTART_RECYCLED, MX_RESTART_CRASHED, MX_RESTART_TERMINATED, MX_RESTART_RELOADED, MX_RESTART_N };

size_t mx_region_size(uint32_t nroutes);
int mx_region_init(void *mem, uint32_t nroutes);

/* The metrics as a region of the shared file (common/host/shm.h), named
 * MX_SHM_NAME: `nroutes` rows (the route table's and "other");
 * routes_sig, a hash of the route paths in order, tells two route tables
 * of one length apart. */
#define MX_SHM_NAME "metrics"
struct shm_region mx_shm_region(uint32_t nroutes, uint64_t routes_sig);

/* Makes this process count into `region` (NULL: stop counting). */
void mx_attach(void *region);

/* One finished request. route: index in the route table, or nroutes-1
 * ("other") for requests that matched no route. */
struct mx_req {
    int route;
    int status;              /* HTTP status sent (200 for streams) */
    int stream_opened;       /* the SSE stream started */
    int failed;              /* an error event was sent, or the client left */
    int disconnected;        /* the client went away mid-response */
    unsigned long events;    /* SSE events written (0 for JSON) */
    unsigned long bytes;     /* response bytes written */
    int64_t duration_ms;
    int64_t ttfe_ms;         /* time to first event; -1 when none */
};
void mx_request(const struct mx_req *r);

/* A request refused by the rate limiter on `route`. */
void mx_rate_limited(int route);

void mx_worker_restart(enum mx_restart why);
/* The master's crash-storm guard switched on (1) or off (0). */
void mx_crash_storm(int on);

/* One call to an upstream (LLM, embedding, TTS, database, ...): `name` is a
 * short label (letters, digits, . _ - :), ok 0/1, latency in ms. Safe from
 * any process and thread; at most MX_UPSTREAMS distinct names are kept
 * (later ones count under "other"). */
void mx_upstream(const char *name, int ok, long ms);

/* Gauges that come from elsewhere (the scoreboard and the limiter). */
struct mx_gauges {
    int busy, idle, active_streams;
    const struct rl_stats *rl;   /* may be NULL */
};

/* Appends the whole exposition to b. route_labels[i] labels row i
 * (nroutes rows). 0 or -1 (b full). */
int mx_render(buf_t *b, const char *const *route_labels, uint32_t nroutes, const struct mx_gauges *g);

#endif
