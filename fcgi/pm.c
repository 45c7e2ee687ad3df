/* pm.c: prefork process manager, measured against php-fpm's static pool.
 *
 * Signals only set flags (pm_flags); all work happens in the main loop,
 * which wakes at least every 100 ms.
 * - Respawn: a worker that exits cleanly (recycled after max_requests, or
 *   after request_terminate_timeout_ms) is replaced at once. One that dies
 *   within a second of its start is respawned after a doubling back-off
 *   (100 ms ... respawn_backoff_max_ms).
 * - Crash-storm guard: more than crash_storm_deaths abnormal deaths within
 *   crash_storm_window_ms log CRASH STORM and hold every respawn at the
 *   maximum back-off until the rate drops (php-fpm's
 *   emergency_restart_threshold, without restarting the master).
 * - request_terminate_timeout_ms: a worker busy on one request for longer
 *   (seen in the shared scoreboard) is told why in its slot and gets
 *   SIGUSR2: its stream ends with an error event and `close`, and it exits
 *   after the request; still busy request_terminate_grace_ms later, it is
 *   killed.
 * - SIGTERM: every worker finishes its request and exits; after
 *   drain_timeout_ms the rest get SIGUSR2 (end the stream with an error
 *   event), and after one more second SIGKILL.
 * - SIGHUP: re-reads and checks the config (a bad one is refused and the
 *   running one kept), re-maps the shared file if its layout changed, then
 *   starts a new set of workers and SIGTERMs the old ones, which finish
 *   their requests; the socket never lacks a listener.
 * - SIGUSR1: reopens the log here and in every worker.
 * - Every worker taken (none idle, each on a request busy_timeout_ms old):
 *   the master answers the waiting connections itself with 503 BUSY and
 *   Retry-After (fcgi/busy.c) instead of leaving them in the backlog. */
#include "fcgi/pm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/host/metrics.h"
#include "common/host/scoreboard.h"
#include "fcgi/app.h"
#include "fcgi/busy.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"

static struct pm_flags pm_sig;

struct pm_flags *pm_flags(void)
{
    return &pm_sig;
}

struct pm_slot {
    pid_t pid;
    int64_t started_ms;
    int64_t respawn_at_ms;   /* 0: not scheduled */
    int64_t term_at_ms;      /* when request_terminate_timeout_ms was enforced; 0: not */
    int quick_deaths;
    int id;                  /* 1..workers; -1: an old worker draining after a reload */
};

/* Recent abnormal deaths, for the crash-storm guard. */
struct pm_storm {
    int64_t *at;             /* ring of death times (ms), crash_storm_deaths + 1 long */
    int cap, n, head;
    int active;
};

static void pm_on_term(int sig) { (void)sig; pm_sig.stop = 1; }
static void pm_on_hup(int sig) { (void)sig; pm_sig.reload = 1; }
static void pm_on_usr1(int sig) { (void)sig; pm_sig.reopen = 1; }
static void pm_on_chld(int sig) { (void)sig; pm_sig.child = 1; }

static void pm_master_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = pm_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = pm_on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = pm_on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = pm_on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
}

int pm_listen(const struct app *app)
{
    const char *l = app->cfg.listen;
    int unix_path = l[0] == '/' || l[0] == '.';
    if (unix_path) {
        struct stat st;
        if (lstat(l, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(l);   /* stale socket */
    }
    int fd = FCGX_OpenSocket(l, app->cfg.listen_backlog);
    if (fd < 0) return -1;
    if (unix_path) chmod(l, (mode_t)app->cfg.listen_mode);
    fcntl(fd, F_SETFD, 0);   /* inherited by the workers */
    return fd;
}

static pid_t pm_spawn(struct app *app, struct pm_slot *slot)
{
    pid_t pid = fork();
    if (pid < 0) {
        LOG_ERROR("master", NULL, NULL, "fork failed: %s", strerror(errno));
        slot->respawn_at_ms = clk_mono_ms() + 1000;
        return -1;
    }
    if (pid == 0) {
        app->worker_id = slot->id;
        wk_signals(app);
        /* A signal that arrived between fork and here was meant for us too. */
        if (pm_sig.stop) _exit(0);
        memset((void *)&pm_sig, 0, sizeof(pm_sig));
        _exit(wk_run(app));
    }
    slot->pid = pid;
    slot->started_ms = clk_mono_ms();
    slot->respawn_at_ms = 0;
    slot->term_at_ms = 0;
    return pid;
}

static int64_t pm_backoff(const struct app *app, int quick_deaths)
{
    int64_t max = app->cfg.respawn_backoff_max_ms, ms = 100;
    for (int i = 1; i < quick_deaths && ms < max; i++) ms *= 2;
    return ms > max ? max : ms;
}

/* Records an abnormal death; returns 1 while the storm guard is on. */
static int pm_storm_note(struct app *app, struct pm_storm *st, int64_t now)
{
    int64_t win = app->cfg.crash_storm_window_ms;
    st->at[st->head] = now;
    st->head = (st->head + 1) % st->cap;
    if (st->n < st->cap) st->n++;
    int recent = 0;
    for (int i = 0; i < st->n; i++)
        if (now - st->at[i] < win) recent++;
    if (recent > app->cfg.crash_storm_deaths && !st->active) {
        st->active = 1;
        mx_crash_storm(1);
        LOG_ERROR("master", NULL, NULL,
                  "CRASH STORM: %d workers died abnormally in the last %d ms (limit %d); holding every respawn "
                  "at %d ms until it calms down. Check the log above for the cause.",
                  recent, (int)win, app->cfg.crash_storm_deaths, app->cfg.respawn_backoff_max_ms);
    }
    return st->active;
}

/* Ends the storm once the window holds no more than the limit. */
static void pm_storm_check(struct app *app, struct pm_storm *st, int64_t now)
{
    if (!st->active) return;
    int recent = 0;
    for (int i = 0; i < st->n; i++)
        if (now - st->at[i] < app->cfg.crash_storm_window_ms) recent++;
    if (recent <= app->cfg.crash_storm_deaths) {
        st->active = 0;
        mx_crash_storm(0);
        LOG_INFO("master", NULL, NULL, "Crash storm over: %d abnormal deaths in the last %d ms", recent,
                 app->cfg.crash_storm_window_ms);
    }
}

static void pm_reap(struct app *app, struct pm_slot *slots, int n, struct pm_storm *st, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        sb_release_pid(shm_region(&app->shm, SB_SHM_NAME), pid);
        for (int i = 0; i < n; i++) {
            if (slots[i].pid != pid) continue;
            int64_t now = clk_mono_ms();
            int64_t lived = now - slots[i].started_ms;
            int terminated = slots[i].term_at_ms != 0;
            slots[i].pid = 0;
            slots[i].term_at_ms = 0;
            if (stopping || slots[i].id < 0) break;   /* draining: not replaced */
            int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (terminated) {
                mx_worker_restart(MX_RESTART_TERMINATED);
                slots[i].quick_deaths = 0;
                slots[i].respawn_at_ms = now;
            } else if (clean) {
                mx_worker_restart(MX_RESTART_RECYCLED);
                slots[i].quick_deaths = 0;
                slots[i].respawn_at_ms = now;   /* recycled: replace at once */
            } else {
                mx_worker_restart(MX_RESTART_CRASHED);
                if (lived < 1000) slots[i].quick_deaths++;
                else slots[i].quick_deaths = 0;
                int storm = pm_storm_note(app, st, now);
                int64_t wait = storm ? app->cfg.respawn_backoff_max_ms
                                     : slots[i].quick_deaths ? pm_backoff(app, slots[i].quick_deaths) : 0;
                slots[i].respawn_at_ms = now + wait;
                if (WIFSIGNALED(status))
                    LOG_ERROR("master", NULL, NULL, "Worker %d (pid %d) killed by signal %d; respawn in %lld ms",
                              slots[i].id, (int)pid, WTERMSIG(status), (long long)wait);
                else
                    LOG_ERROR("master", NULL, NULL, "Worker %d (pid %d) exited with %d; respawn in %lld ms",
                              slots[i].id, (int)pid, WEXITSTATUS(status), (long long)wait);
            }
            break;
        }
    }
}

static int pm_alive(const struct pm_slot *slots, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0) k++;
    return k;
}

static void pm_signal_all(const struct pm_slot *slots, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0) kill(slots[i].pid, sig);
}

/* The pids of the workers that take new requests (not the draining ones). */
static int pm_serving(const struct pm_slot *slots, int n, pid_t *out)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0 && slots[i].id > 0) out[k++] = slots[i].pid;
    return k;
}

static void pm_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);   /* a signal ends it early */
}

/* request_terminate_timeout_ms, from the scoreboard. */
static void pm_enforce_terminate(struct app *app, struct pm_slot *slots, int n)
{
    int limit = app->cfg.request_terminate_timeout_ms;
    void *sb = shm_region(&app->shm, SB_SHM_NAME);
    if (!sb) return;
    int64_t now = clk_mono_ms();
    for (int i = 0; i < n; i++) {
        if (slots[i].pid <= 0) continue;
        if (slots[i].term_at_ms) {
            if (now - slots[i].term_at_ms >= app->cfg.request_terminate_grace_ms) {
                LOG_ERROR("master", NULL, NULL, "Worker %d (pid %d) still busy %d ms after SIGUSR2: killing it",
                          slots[i].id, (int)slots[i].pid, app->cfg.request_terminate_grace_ms);
                kill(slots[i].pid, SIGKILL);
                slots[i].term_at_ms = now + 3600 * 1000;   /* once */
            }
            continue;
        }
        if (limit <= 0) continue;
        int k = sb_find(sb, slots[i].pid);
        struct sb_view v;
        if (k < 0 || sb_read(sb, k, &v) < 0 || v.state != SB_BUSY) continue;
        if (now - v.req_started_mono < limit) continue;
        LOG_ERROR(v.route[0] ? v.route : "master", v.rid, NULL,
                  "Request ran %lld ms, over request_terminate_timeout_ms (%d): ending it and recycling worker %d "
                  "(pid %d)",
                  (long long)(now - v.req_started_mono), limit, slots[i].id, (int)slots[i].pid);
        sb_set_kill(sb, k, SB_KILL_TERMINATE);
        kill(slots[i].pid, SIGUSR2);
        slots[i].term_at_ms = now;
    }
}

static void pm_drain(struct app *app, struct pm_slot *slots, int n, struct pm_storm *st)
{
    LOG_INFO("master", NULL, NULL, "Stopping: draining %d workers (deadline %d ms)", pm_alive(slots, n),
             app->cfg.drain_timeout_ms);
    pm_signal_all(slots, n, SIGTERM);
    int64_t deadline = clk_mono_ms() + app->cfg.drain_timeout_ms;
    int phase = 0;
    void *sb = shm_region(&app->shm, SB_SHM_NAME);
    while (pm_alive(slots, n) > 0) {
        pm_reap(app, slots, n, st, 1);
        if (!pm_alive(slots, n)) break;
        int64_t now = clk_mono_ms();
        if (phase == 0 && now >= deadline) {
            LOG_ERROR("master", NULL, NULL, "Drain deadline passed: ending %d streams", pm_alive(slots, n));
            for (int i = 0; i < n; i++)
                if (slots[i].pid > 0) sb_set_kill(sb, sb_find(sb, slots[i].pid), SB_KILL_DRAIN);
            pm_signal_all(slots, n, SIGUSR2);
            deadline = now + 1000;
            phase = 1;
        } else if (phase == 1 && now >= deadline) {
            pm_signal_all(slots, n, SIGKILL);
            phase = 2;
        }
        pm_nap(20);
    }
}

static void pm_reload(struct app *app, struct pm_slot **slotsp, int *np)
{
    struct cfg fresh;
    char err[700];
    cfg_defaults(&fresh);
    if (cfg_load(&fresh, app->cfg_path[0] ? app->cfg_path : NULL, err, sizeof(err)) < 0) {
        LOG_ERROR("master", NULL, NULL, "Reload refused, keeping the running config: %s", err);
        return;
    }
    if (strcmp(fresh.listen, app->cfg.listen) != 0) {
        LOG_ERROR("master", NULL, NULL, "Reload: 'listen' cannot change without a restart; keeping %s",
                  app->cfg.listen);
        snprintf(fresh.listen, sizeof(fresh.listen), "%s", app->cfg.listen);
    }
    struct cfg old_cfg = app->cfg;
    app->cfg = fresh;
    if (op_attach(app, err, sizeof(err)) < 0) {
        app->cfg = old_cfg;
        op_attach(app, err, sizeof(err));
        LOG_ERROR("master", NULL, NULL, "Reload refused, keeping the running config: %s", err);
        return;
    }
    log_open(app->cfg.log_file, app->cfg.log_level);
    /* New workers start first, then the old ones are told to finish their
     * request and exit, so the socket always has listeners and no request
     * is refused. */
    struct pm_slot *old = *slotsp;
    int oldn = *np;
    int n = app->cfg.workers;
    struct pm_slot *slots = calloc((size_t)(n + oldn), sizeof(*slots));
    if (!slots) {
        LOG_ERROR("master", NULL, NULL, "Reload: out of memory; keeping the running workers");
        return;
    }
    for (int i = 0; i < n; i++) {
        slots[i].id = i + 1;
        pm_spawn(app, &slots[i]);
    }
    int draining = 0;
    for (int i = 0; i < oldn; i++) {
        slots[n + i] = old[i];
        if (old[i].pid <= 0) continue;
        kill(old[i].pid, SIGTERM);
        if (old[i].id > 0) mx_worker_restart(MX_RESTART_RELOADED);
        slots[n + i].id = -1;   /* draining: not respawned */
        draining++;
    }
    /* Keep only live draining slots. */
    int m = n;
    for (int i = n; i < n + oldn; i++)
        if (slots[i].pid > 0) slots[m++] = slots[i];
    free(old);
    *slotsp = slots;
    *np = m;
    LOG_INFO("master", NULL, NULL, "Reloaded configuration: %d new workers, %d old ones finishing", n, draining);
}

int pm_run(struct app *app)
{
    pm_master_signals();
    int n = app->cfg.workers;
    struct pm_slot *slots = calloc((size_t)n, sizeof(*slots));
    struct pm_storm st = {0};
    st.cap = app->cfg.crash_storm_deaths + 1;
    st.at = calloc((size_t)st.cap, sizeof(*st.at));
    if (!slots || !st.at) return 1;
    for (int i = 0; i < n; i++) {
        slots[i].id = i + 1;
        pm_spawn(app, &slots[i]);
    }
    LOG_INFO("master", NULL, NULL, "Started %d workers on %s (pid %d)", n, app->cfg.listen, (int)getpid());

    struct bz bz;
    bz_init(&bz);
    while (!pm_sig.stop) {
        /* a nap, or a watch on the socket while every worker is taken */
        pid_t *pids = calloc((size_t)n + 1, sizeof(*pids));
        int k = pids ? pm_serving(slots, n, pids) : 0;
        if (!pids || !bz_check(app, &bz, pids, k, 100)) pm_nap(100);
        free(pids);
        if (pm_sig.child) pm_sig.child = 0;
        pm_reap(app, slots, n, &st, 0);
        if (pm_sig.reopen) {
            pm_sig.reopen = 0;
            log_reopen();
            pm_signal_all(slots, n, SIGUSR1);
        }
        if (pm_sig.reload) {
            pm_sig.reload = 0;
            pm_reload(app, &slots, &n);
            if (st.cap != app->cfg.crash_storm_deaths + 1) {
                int64_t *at = calloc((size_t)app->cfg.crash_storm_deaths + 1, sizeof(*at));
                if (at) {
                    free(st.at);
                    st = (struct pm_storm){.at = at, .cap = app->cfg.crash_storm_deaths + 1};
                    mx_crash_storm(0);
                }
            }
        }
        pm_enforce_terminate(app, slots, n);
        int64_t now = clk_mono_ms();
        pm_storm_check(app, &st, now);
        for (int i = 0; i < n; i++) {
            if (slots[i].pid == 0 && slots[i].id > 0 && slots[i].respawn_at_ms && now >= slots[i].respawn_at_ms &&
                !pm_sig.stop)
                pm_spawn(app, &slots[i]);
        }
        /* Forget draining slots whose worker is gone. */
        int m = 0;
        for (int i = 0; i < n; i++)
            if (slots[i].id > 0 || slots[i].pid > 0) slots[m++] = slots[i];
        n = m;
    }
    pm_drain(app, slots, n, &st);
    bz_close(&bz);
    free(slots);
    free(st.at);
    LOG_INFO("master", NULL, NULL, "Stopped");
    return 0;
}
