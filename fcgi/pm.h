/* pm.h: the master process: opens the socket, forks and watches workers,
 * respawns them with back-off, drains on SIGTERM, reloads on SIGHUP. */
#ifndef TROIKA_PM_H
#define TROIKA_PM_H

struct app;

/* Runs the master until SIGTERM/SIGINT. Returns the exit status. */
int pm_run(struct app *app);

/* Opens the listen socket named by cfg.listen (unix path or host:port).
 * Returns the fd or -1. */
int pm_listen(const struct app *app);

/* The signal flags shared by master and worker code of this process. */
struct pm_flags *pm_flags(void);

#endif
