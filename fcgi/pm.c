/* pm.c: prefork process manager, modelled on php-fpm's static pool.
 *
 * Signals only set flags (pm_flags); all work happens in the main loop.
 * Workers that die are respawned; one that dies within a second of its
 * start is respawned after a doubling back-off (capped at 30 s), so a
 * crash loop costs little. SIGTERM: every worker is told to finish its
 * request and exit; after drain_timeout_ms the rest get SIGUSR2 (end the
 * stream with an error event), and after one more second SIGKILL. */
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

#include "common/log.h"
#include "fcgi/app.h"
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
    int quick_deaths;
    int id;
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
    slot->started_ms = req_mono_ms();
    slot->respawn_at_ms = 0;
    return pid;
}

static int64_t pm_backoff(int quick_deaths)
{
    int64_t ms = 100;
    for (int i = 1; i < quick_deaths && ms < 30000; i++) ms *= 2;
    return ms > 30000 ? 30000 : ms;
}

static void pm_reap(struct pm_slot *slots, int n, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n; i++) {
            if (slots[i].pid != pid) continue;
            int64_t now = req_mono_ms();
            int64_t lived = now - slots[i].started_ms;
            slots[i].pid = 0;
            if (stopping) break;
            int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (clean) {
                slots[i].quick_deaths = 0;
                slots[i].respawn_at_ms = now;   /* recycled: replace at once */
            } else {
                if (lived < 1000) slots[i].quick_deaths++;
                else slots[i].quick_deaths = 0;
                int64_t wait = slots[i].quick_deaths ? pm_backoff(slots[i].quick_deaths) : 0;
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

static void pm_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);   /* a signal ends it early */
}

static void pm_drain(struct app *app, struct pm_slot *slots, int n)
{
    LOG_INFO("master", NULL, NULL, "Stopping: draining %d workers (deadline %d ms)", pm_alive(slots, n),
             app->cfg.drain_timeout_ms);
    pm_signal_all(slots, n, SIGTERM);
    int64_t deadline = req_mono_ms() + app->cfg.drain_timeout_ms;
    int phase = 0;
    while (pm_alive(slots, n) > 0) {
        pm_reap(slots, n, 1);
        if (!pm_alive(slots, n)) break;
        int64_t now = req_mono_ms();
        if (phase == 0 && now >= deadline) {
            LOG_ERROR("master", NULL, NULL, "Drain deadline passed: ending %d streams", pm_alive(slots, n));
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
    app->cfg = fresh;
    log_open(app->cfg.log_file, app->cfg.log_level);
    /* Old workers finish their request and exit; new ones start now, so the
     * socket always has listeners and no request is refused. */
    struct pm_slot *old = *slotsp;
    int oldn = *np;
    int n = app->cfg.workers;
    struct pm_slot *slots = calloc((size_t)(n + oldn), sizeof(*slots));
    if (!slots) return;
    for (int i = 0; i < oldn; i++) {
        if (old[i].pid > 0) kill(old[i].pid, SIGTERM);
        slots[n + i] = old[i];
        slots[n + i].id = -1;   /* draining: not respawned */
    }
    for (int i = 0; i < n; i++) {
        slots[i].id = i + 1;
        pm_spawn(app, &slots[i]);
    }
    free(old);
    *slotsp = slots;
    *np = n + oldn;
    LOG_INFO("master", NULL, NULL, "Reloaded configuration: %d new workers", n);
}

int pm_run(struct app *app)
{
    pm_master_signals();
    int n = app->cfg.workers;
    struct pm_slot *slots = calloc((size_t)n, sizeof(*slots));
    if (!slots) return 1;
    for (int i = 0; i < n; i++) {
        slots[i].id = i + 1;
        pm_spawn(app, &slots[i]);
    }
    LOG_INFO("master", NULL, NULL, "Started %d workers on %s (pid %d)", n, app->cfg.listen, (int)getpid());

    while (!pm_sig.stop) {
        pm_nap(200);
        if (pm_sig.child) pm_sig.child = 0;
        pm_reap(slots, n, 0);
        if (pm_sig.reopen) {
            pm_sig.reopen = 0;
            log_reopen();
            pm_signal_all(slots, n, SIGUSR1);
        }
        if (pm_sig.reload) {
            pm_sig.reload = 0;
            pm_reload(app, &slots, &n);
        }
        int64_t now = req_mono_ms();
        for (int i = 0; i < n; i++) {
            if (slots[i].pid == 0 && slots[i].id > 0 && slots[i].respawn_at_ms && now >= slots[i].respawn_at_ms &&
                !pm_sig.stop)
                pm_spawn(app, &slots[i]);
        }
    }
    pm_drain(app, slots, n);
    free(slots);
    LOG_INFO("master", NULL, NULL, "Stopped");
    return 0;
}
