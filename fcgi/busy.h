/* busy.h: the master answers 503 BUSY (with Retry-After) for requests that
 * would wait with every worker taken; see busy.c. */
#ifndef TROIKA_BUSY_H
#define TROIKA_BUSY_H

#include <sys/types.h>

#include "common/base/arena.h"

struct app;

struct bz {
    arena_t *ar;                 /* one answer's request and response; reset after each */
    unsigned long answered;      /* 503 BUSY sent by this master */
};

/* Installs the SIGALRM handler that bounds accept() and the parameters'
 * read (no restart). */
void bz_init(struct bz *b);

/* With `pids` the serving workers: when every one is taken (none idle,
 * each on a request at least busy_timeout_ms old), waits up to wait_ms
 * for a connection and answers what waits with 503 BUSY. 1 when every
 * worker was taken (the master should look again at once), else 0 (it did
 * nothing and waited nothing). */
int bz_check(struct app *app, struct bz *b, const pid_t *pids, int n, int wait_ms);

void bz_close(struct bz *b);

#endif
