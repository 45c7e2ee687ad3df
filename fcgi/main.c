/* main.c: troika-fcgi: parses the command line and config, then runs the
 * master (prefork pool) or a single process on an inherited socket
 * (mod_fcgid, spawn-fcgi). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "troika_build.h"
#include "troika_paths.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "fcgi/app.h"
#include "fcgi/ops.h"
#include "fcgi/pm.h"
#include "fcgi/worker.h"
#include "handlers/handlers.h"
#include "index/vidx.h"

static const char usage[] =
    "Usage: troika-fcgi [-c FILE] [--check-config] [--single]\n"
    "\n"
    "Troika streaming search and shopping-assistant API, as a FastCGI server.\n"
    "\n"
    "  -c, --config FILE   config file (default: $TROIKA_CONFIG or " TROIKA_DEFAULT_CONFIG ")\n"
    "      --check-config  check the config file and the environment, then exit\n"
    "      --single        serve in this one process (no workers)\n"
    "  -h, --help          this text\n"
    "  -V, --version       print the version\n"
    "\n"
    "Started by a process manager with a listening socket on fd 0 (mod_fcgid,\n"
    "spawn-fcgi), it serves that socket in a single process. Otherwise it opens\n"
    "'listen' from the config and forks 'workers' processes.\n"
    "Signals (to the master): TERM drains in-flight streams and stops, HUP re-reads\n"
    "the config and replaces the workers gracefully, USR1 reopens the log.\n"
    "See troika-fcgi(8) and docs/operations.md.\n";

/* 1 when fd 0 is a listening socket handed to us by a process manager. */
static int inherited_socket(void)
{
    int type;
    socklen_t len = sizeof(type);
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return 0;
    int acc = 0;
    len = sizeof(acc);
    if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0) return 0;
    return acc;
}

static void write_pid(const char *path)
{
    if (!path[0]) return;
    FILE *f = fopen(path, "w");
    if (!f) {
        LOG_ERROR("master", NULL, NULL, "cannot write pid file %s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

/* A step that lets main go on; any other value is the exit status. */
enum { MAIN_GO = -1 };

struct main_opts {
    const char *path;   /* the config file, NULL: defaults + environment */
    int check;          /* --check-config */
    int single;         /* --single */
};

/* The command line: -c, --check-config, --single; --help and --version
 * answer and exit. */
static int main_args(int argc, char **argv, struct main_opts *m)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"single", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(m, 0, sizeof(*m));
    int o;
    while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c': m->path = optarg; break;
        case 'k': m->check = 1; break;
        case 's': m->single = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': puts(PACKAGE_STRING); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (!m->path) {
        /* No file at the built-in default (and none named): defaults + environment. */
        struct stat st;
        m->path = cfg_default_path();
        if (!getenv("TROIKA_CONFIG") && stat(m->path, &st) != 0) m->path = NULL;
    }
    return MAIN_GO;
}

/* The config (refused with the key and value named), --check-config's
 * answer, and the log. */
static int main_config(struct app *app, const struct main_opts *m)
{
    char err[700];
    cfg_defaults(&app->cfg);
    if (cfg_load(&app->cfg, m->path, err, sizeof(err)) < 0) {
        fprintf(stderr, "troika-fcgi: config error: %s\n", err);
        return 1;
    }
    if (m->check) {
        printf("troika-fcgi: config %s is valid\n", m->path ? m->path : "(defaults + environment)");
        return 0;
    }
    if (m->path) snprintf(app->cfg_path, sizeof(app->cfg_path), "%s", m->path);
    if (log_open(app->cfg.log_file, app->cfg.log_level) < 0) {
        fprintf(stderr, "troika-fcgi: cannot open log file %s: %s\n", app->cfg.log_file, strerror(errno));
        return 1;
    }
    return MAIN_GO;
}

/* What every process shares: the route table, the signal flags, the shared
 * file (created here by the master and inherited by every worker, or
 * attached by each process mod_fcgid spawns), FAISS kept single-threaded,
 * libfcgi. */
static int main_attach(struct app *app)
{
    char err[700];
    app->routes = h_routes();
    app->flags = pm_flags();
    app->sb_slot = -1;
    if (op_attach(app, err, sizeof(err)) < 0) {
        fprintf(stderr, "troika-fcgi: %s\n", err);
        return 1;
    }
    vidx_threads_init();
    if (FCGX_Init() != 0) {
        fprintf(stderr, "troika-fcgi: FCGX_Init failed\n");
        return 1;
    }
    return MAIN_GO;
}

/* mod_fcgid / spawn-fcgi: the manager owns the socket and the processes. */
static int main_serve_inherited(struct app *app)
{
    app->listen_fd = 0;
    app->single = 1;
    app->worker_id = 0;
    wk_signals(app);
    LOG_INFO("worker", NULL, NULL, "Serving the inherited socket in one process (pid %d)", (int)getpid());
    return wk_run(app);
}

/* Our own socket: the prefork pool (or --single), then the socket and pid
 * files go. */
static int main_serve(struct app *app, int single)
{
    app->listen_fd = pm_listen(app);
    if (app->listen_fd < 0) {
        fprintf(stderr, "troika-fcgi: cannot listen on %s: %s\n", app->cfg.listen, strerror(errno));
        return 1;
    }
    write_pid(app->cfg.pid_file);
    int rc;
    if (single) {
        app->single = 1;
        wk_signals(app);
        LOG_INFO("worker", NULL, NULL, "Serving %s in one process (pid %d)", app->cfg.listen, (int)getpid());
        rc = wk_run(app);
    } else {
        rc = pm_run(app);
    }
    if (app->cfg.listen[0] == '/') unlink(app->cfg.listen);
    if (app->cfg.pid_file[0]) unlink(app->cfg.pid_file);
    return rc;
}

int main(int argc, char **argv)
{
    static struct app app;   /* the one application struct: lives as long as the process */
    struct main_opts m;
    int rc;
    if ((rc = main_args(argc, argv, &m)) != MAIN_GO) return rc;
    if ((rc = main_config(&app, &m)) != MAIN_GO) return rc;
    if ((rc = main_attach(&app)) != MAIN_GO) return rc;
    if (inherited_socket()) return main_serve_inherited(&app);
    return main_serve(&app, m.single);
}
