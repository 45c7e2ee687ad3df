/* worker.h: the accept loop of one worker process and the handling of
 * one FastCGI request (request -> router -> sink). */
#ifndef TROIKA_WORKER_H
#define TROIKA_WORKER_H

struct app;

/* Installs the worker's signal handlers (after FCGX_Init). */
void wk_signals(struct app *app);

/* Serves requests on app->listen_fd until told to stop or max_requests is
 * reached. Returns the process exit status. */
int wk_run(struct app *app);

#endif
