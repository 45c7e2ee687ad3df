/* busy.c: the master's answer when every worker is taken (503 BUSY).
 *
 * A prefork worker serves one request at a time, so once every worker is
 * on a long request (a stream runs for seconds to tens of seconds) a new
 * request waits in the listen backlog with nothing sent, and a full
 * backlog makes the web server answer a bare 502. No worker can say so:
 * none is free. The master can: it watches the scoreboard, and when no
 * worker is idle and every busy one has been on its request for at least
 * busy_timeout_ms, it takes the waiting connections off the socket itself
 * and answers each with the SPEC's JSON 503 BUSY and Retry-After.
 *
 * Short requests never trip it (a search takes milliseconds, so some
 * worker's request is always younger than busy_timeout_ms under load), and
 * a worker that frees up takes the next connection as usual: the master
 * only looks at the socket while the condition holds. The accept and the
 * read of the request's parameters run under an interval timer (SIGALRM,
 * no restart), so the master never blocks on a connection a worker took
 * first or on a slow peer; the answer is a few hundred bytes. */
#include "fcgi/busy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/host/scoreboard.h"
#include "fcgi/app.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"

/* Connections answered per look at the socket, before the scoreboard is
 * read again. */
enum { BZ_BATCH = 32 };

/* The accept and the parameters of one connection: at most this long. */
enum { BZ_READ_MS = 200 };

static void bz_on_alarm(int sig)
{
    (void)sig;   /* only interrupts accept() or read() */
}

void bz_init(struct bz *b)
{
    memset(b, 0, sizeof(*b));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = bz_on_alarm;   /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
}

/* Whether every worker of `pids` is taken: none idle, each busy one on its
 * request for busy_timeout_ms or more. *retry_s: when one is sure to be
 * free (its request's own deadline), in seconds, 1..60. */
static int bz_saturated(const struct app *app, const pid_t *pids, int n, int *retry_s)
{
    const struct cfg *cfg = &app->cfg;
    void *sb = shm_region((struct shm *)&app->shm, SB_SHM_NAME);
    if (!sb || n <= 0) return 0;
    int64_t now = clk_mono_ms(), soonest = INT64_MAX;
    int busy = 0;
    for (int i = 0; i < n; i++) {
        struct sb_view v;
        int k = sb_find(sb, pids[i]);
        if (k < 0 || sb_read(sb, k, &v) < 0) continue;   /* starting or gone: not serving */
        if (v.state != SB_BUSY) return 0;                 /* an idle worker takes it */
        int64_t age = now - v.req_started_mono;
        if (age < cfg->busy_timeout_ms) return 0;         /* may well be done in a moment */
        int64_t limit = v.stream ? cfg->streaming_timeout
                        : cfg->request_terminate_timeout_ms ? cfg->request_terminate_timeout_ms
                                                            : cfg->streaming_timeout;
        int64_t left = limit - age;
        if (left < soonest) soonest = left;
        busy++;
    }
    if (!busy) return 0;
    int64_t s = (soonest + 999) / 1000;
    *retry_s = s < 1 ? 1 : s > 60 ? 60 : (int)s;
    return 1;
}

static void bz_timer(int ms)
{
    struct itimerval it = {{0, ms ? 50 * 1000 : 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static int bz_write(void *ctx, const char *p, size_t n)
{
    return FCGX_PutStr(p, (int)n, ((FCGX_Request *)ctx)->out) == (int)n ? 0 : -1;
}

static int bz_flush(void *ctx)
{
    return FCGX_FFlush(((FCGX_Request *)ctx)->out) < 0 ? -1 : 0;
}

/* Takes one waiting connection and answers it 503 BUSY. 0, or -1 when
 * none could be taken (a worker was faster, or the peer too slow). */
static int bz_answer(struct app *app, struct bz *b, int retry_s)
{
    FCGX_Request fx;
    if (FCGX_InitRequest(&fx, app->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) return -1;
    bz_timer(BZ_READ_MS);   /* then every 50 ms, until cleared */
    int rc = FCGX_Accept_r(&fx);
    bz_timer(0);
    if (rc < 0) {
        FCGX_Free(&fx, 1);
        return -1;
    }
    if (!b->ar) b->ar = ar_new(16 * 1024);
    struct req r = {.fx = &fx};
    int prc = b->ar ? req_init(&r, b->ar, &app->cfg, fx.envp) : -1;
    const struct route *route = NULL;
    if (prc == REQ_OK) rt_match(&app->routes, r.path, r.method, &route, NULL, 0);
    struct sse_io io = {bz_write, bz_flush, &fx};
    struct sink s;
    sink_init(&s, SINK_JSON, b->ar, &app->cfg, prc == REQ_OK ? r.id : "busy", route ? route->name : "http", &io,
              clk_mono_ms());
    char v[16], m[200];
    snprintf(v, sizeof(v), "%d", retry_s);
    sink_header(&s, "Retry-After", v);
    snprintf(m, sizeof(m), "Every worker is busy with a long request; retry in %d s", retry_s);
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "retryAfter", json_object_new_int(retry_s));
    sink_reject(&s, 503, "BUSY", m, extra);
    sink_finish(&s);
    req_finish(&fx, 100);
    op_request_refused(app, route, 503);
    if (prc == REQ_OK)
        LOG_INFO(route ? route->name : "master", r.id, NULL, "503 BUSY for %s %s: every worker is busy", r.method,
                 r.path);
    if (b->ar) ar_reset(b->ar);
    b->answered++;
    return 0;
}

int bz_check(struct app *app, struct bz *b, const pid_t *pids, int n, int wait_ms)
{
    int retry_s = 1;
    if (app->cfg.busy_timeout_ms <= 0 || app->listen_fd < 0 || !bz_saturated(app, pids, n, &retry_s)) return 0;
    struct pollfd p = {.fd = app->listen_fd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) <= 0 || !(p.revents & POLLIN)) return 1;
    for (int i = 0; i < BZ_BATCH; i++) {
        if (!bz_saturated(app, pids, n, &retry_s)) break;   /* a worker came free: it takes the rest */
        if (bz_answer(app, b, retry_s) < 0) break;
        p.revents = 0;
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    }
    return 1;
}

void bz_close(struct bz *b)
{
    if (b->ar) ar_free(b->ar);
    b->ar = NULL;
}
