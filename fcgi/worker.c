/* worker.c: one worker process: accept, build the request, pick the sink,
 * dispatch, finish; one arena reused across requests and reset after each.
 * The process holds a scoreboard slot while it serves (idle/busy, route,
 * request id), and counts every request into the shared metrics. */
#include "fcgi/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/store/store.h"
#include "common/io/hc.h"
#include "common/assist/llm.h"
#include "common/base/log.h"
#include "common/host/scoreboard.h"
#include "common/assist/tts.h"
#include "fcgi/app.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "common/text/tok.h"
#include "index/embed.h"
#include "index/pidx.h"
#include "index/vidx.h"

/* For the signal handlers only: the process's app (set once). */
static struct app *wk_app;

static void wk_on_term(int sig)
{
    (void)sig;
    wk_app->flags->stop = 1;
    FCGX_ShutdownPending();   /* makes a waiting FCGX_Accept_r return -1 */
}

/* SIGUSR2: the master says why in our scoreboard slot (lock-free read). */
static void wk_on_abort(int sig)
{
    (void)sig;
    int why = sb_kill(shm_region(&wk_app->shm, SB_SHM_NAME), wk_app->sb_slot);
    wk_app->flags->abort = why == SB_KILL_TERMINATE ? SINK_ABORT_TERMINATE : SINK_ABORT_DRAIN;
}

static void wk_on_usr1(int sig)
{
    (void)sig;
    wk_app->flags->reopen = 1;
}

void wk_signals(struct app *app)
{
    wk_app = app;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = wk_on_term;   /* no SA_RESTART: accept() is interrupted */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = wk_on_abort;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = wk_on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

/* The response's way out. A stream's writes may block when the client
 * reads slowly (the web server passes events on unbuffered and stops
 * reading from us when the client does); the sink's lock is held then, so
 * its watcher could not end the stream at its deadline. Each write is
 * bounded instead: the connection's send timeout is kept at the time left
 * until the stream's deadline (plus a second for its last events), and a
 * write that runs out fails like one to a client that went away. */
struct wk_out {
    FCGX_Request *fx;
    const int64_t *deadline_ms;   /* the sink's (an upload moves it); NULL: no bound */
    int64_t armed_ms;             /* the send timeout set last (0: none) */
};

enum { WK_WRITE_GRACE_MS = 1000 };

/* How long a finished connection is read before it is closed (req_finish). */
enum { WK_LINGER_MS = 500 };

static void wk_out_arm(struct wk_out *o)
{
    if (!o->deadline_ms || o->fx->ipcFd < 0) return;
    int64_t left = *o->deadline_ms + WK_WRITE_GRACE_MS - clk_mono_ms();
    if (left < 1) left = 1;
    /* a setsockopt only when the bound moved by more than 100 ms */
    if (o->armed_ms && o->armed_ms - left < 100 && o->armed_ms >= left) return;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    setsockopt(o->fx->ipcFd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    o->armed_ms = left;
}

static void wk_out_disarm(struct wk_out *o)
{
    if (!o->armed_ms || o->fx->ipcFd < 0) return;
    struct timeval tv = {0, 0};
    setsockopt(o->fx->ipcFd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    o->armed_ms = 0;
}

static int fx_write(void *ctx, const char *p, size_t n)
{
    struct wk_out *o = ctx;
    wk_out_arm(o);
    while (n > 0) {
        int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
        if (FCGX_PutStr(p, chunk, o->fx->out) != chunk) return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

static int fx_flush(void *ctx)
{
    struct wk_out *o = ctx;
    wk_out_arm(o);
    return FCGX_FFlush(o->fx->out) < 0 ? -1 : 0;
}

static void wk_handle(struct app *app, FCGX_Request *fx, arena_t *ar)
{
    struct req r = {.fx = fx};
    int prc = req_init(&r, ar, &app->cfg, fx->envp);
    op_client_ip(app, &r);
    struct wk_out out = {.fx = fx};
    struct sse_io io = {fx_write, fx_flush, &out};
    const struct route *route = NULL;
    char allow[64] = "";
    enum rt_result m = RT_NOT_FOUND;
    if (prc == REQ_OK) m = rt_match(&app->routes, r.path, r.method, &route, allow, sizeof(allow));
    op_request_begin(app, &r, route);

    struct sink s;
    int stream = m == RT_FOUND && (route->flags & RT_STREAM);
    sink_init(&s, stream ? SINK_SSE : SINK_JSON, ar, &app->cfg, r.id, route ? route->name : "http", &io,
              r.t0_ms);
    s.abort_flag = &app->flags->abort;
    if (stream) out.deadline_ms = &s.deadline_ms;

    int status;
    if (prc == REQ_ETOOBIG) {
        char msg[128];
        snprintf(msg, sizeof(msg), "The query string is longer than %ld bytes", app->cfg.max_query_string);
        sink_reject(&s, 413, "PAYLOAD_TOO_LARGE", msg, NULL);
        status = 413;
    } else if (prc != REQ_OK) {
        sink_reject(&s, 400, "INVALID_PARAMETERS", "The request could not be parsed", NULL);
        status = 400;
    } else if (m == RT_NOT_FOUND) {
        char msg[160];
        snprintf(msg, sizeof(msg), "No route for %s", r.path);
        sink_reject(&s, 404, "NOT_FOUND", msg, NULL);
        status = 404;
    } else if (m == RT_BAD_METHOD) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s is not allowed on %s (allowed: %s)", r.method, r.path, allow);
        sink_header(&s, "Allow", allow);
        sink_reject(&s, 405, "METHOD_NOT_ALLOWED", msg, NULL);
        status = 405;
    } else if (m == RT_OPTIONS) {
        status = rt_options(app, &r, &s, route, allow);
    } else {
        status = rt_dispatch(app, &r, &s, route);
    }
    wk_out_disarm(&out);
    op_request_end(app, &r, &s, route, status);
    LOG_DEBUG(route ? route->name : "http", r.id, NULL, "%s %s %d %lldms events=%lu bytes=%lu", r.method,
              r.path ? r.path : "?", status, (long long)(clk_mono_ms() - r.t0_ms), s.stats.events,
              s.stats.bytes);
}

int wk_run(struct app *app)
{
    vidx_threads_init();
    FCGX_Request fx;
    if (FCGX_InitRequest(&fx, app->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        LOG_ERROR("worker", NULL, NULL, "FCGX_InitRequest failed");
        return 1;
    }
    arena_t *ar = ar_new(64 * 1024);
    if (!ar) return 1;
    char serr[256];
    app->store = st_open(&app->cfg, serr, sizeof(serr));
    if (!app->store) {
        LOG_ERROR("worker", NULL, NULL, "The store could not be set up: %s", serr);
        ar_free(ar);
        return 1;
    }
    void *sb = shm_region(&app->shm, SB_SHM_NAME);
    app->sb_slot = sb_claim(sb, getpid(), app->worker_id);
    if (app->sb_slot < 0 && sb)
        LOG_ERROR("worker", NULL, NULL, "No free scoreboard slot (scoreboard_slots = %d): serving unlisted",
                  app->cfg.scoreboard_slots);
    while (!app->flags->stop) {
        int rc = FCGX_Accept_r(&fx);
        if (app->flags->reopen) {
            app->flags->reopen = 0;
            log_reopen();
        }
        if (rc < 0) {
            if (app->flags->stop) break;
            if (errno == EINTR) continue;
            LOG_ERROR("worker", NULL, NULL, "accept failed: %s", strerror(errno));
            break;
        }
        wk_handle(app, &fx, ar);
        req_finish(&fx, WK_LINGER_MS);
        ar_reset(ar);
        app->served++;
        if (app->flags->abort == SINK_ABORT_TERMINATE) {
            LOG_ERROR("worker", NULL, NULL, "Request ended by request_terminate_timeout_ms; recycling this worker");
            break;
        }
        if (app->cfg.max_requests && app->served >= (unsigned long)app->cfg.max_requests) {
            LOG_INFO("worker", NULL, NULL, "Recycling after %lu requests", app->served);
            break;
        }
    }
    sb_release(sb, app->sb_slot, getpid());
    app->sb_slot = -1;
    ar_free(ar);
    tts_close(app->tts);
    llm_close(app->llm);
    hc_close(app->hc);
    app->tts = NULL;
    app->llm = NULL;
    app->hc = NULL;
    st_close(app->store);
    app->store = NULL;
    emb_close(app->emb);
    app->emb = NULL;
    pidx_close(app->pidx);
    app->pidx = NULL;
    tok_close(app->tok);
    app->tok = NULL;
    return 0;
}
