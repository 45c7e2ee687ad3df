/* scoreboard.h: one slot per serving process in the shared mapping: its
 * state, the request it is on, and how many it served; read by
 * /api/health?full=1, the metrics gauges, and the master (for
 * request_terminate_timeout_ms).
 *
 * A slot is claimed with a compare-and-swap on its pid and written only
 * by its owner, under a sequence counter (odd while writing) so readers
 * copy a consistent view without a lock. A slot whose process is gone is
 * released by the master when it reaps it, or reclaimed by the next
 * claimer (processes that mod_fcgid spawned have no master). */
#ifndef TROIKA_SCOREBOARD_H
#define TROIKA_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/host/shm.h"

enum sb_state { SB_FREE = 0, SB_IDLE = 1, SB_BUSY = 2 };

/* What a busy slot is on (sb_busy's flags). */
enum { SB_STREAM = 1, SB_LIMITED = 2 };

/* Why the master asked a worker to end its request (SIGUSR2). */
enum sb_kill { SB_KILL_NONE = 0, SB_KILL_DRAIN = 1, SB_KILL_TERMINATE = 2 };

struct sb_view {
    pid_t pid;
    int worker_id;           /* 0: a single process (mod_fcgid, --single) */
    int state;
    int stream;              /* busy with an SSE route */
    int limited;             /* busy with a route the rate limiter counts */
    int64_t proc_started_ms; /* wall */
    int64_t req_started_ms;  /* wall, when busy */
    int64_t req_started_mono;
    uint64_t served;
    char route[64];          /* route path, when busy */
    char rid[65];
    char method[8];
};

size_t sb_region_size(uint32_t nslots);

/* The scoreboard as a region of the shared file (common/host/shm.h),
 * named SB_SHM_NAME, with `nslots` slots (processes). */
#define SB_SHM_NAME "scoreboard"
struct shm_region sb_shm_region(uint32_t nslots);
uint32_t sb_nslots(const void *region);

/* Claims a slot for pid; -1 when all are taken by live processes. */
int sb_claim(void *region, pid_t pid, int worker_id);
/* Frees the slot if pid still owns it. */
void sb_release(void *region, int slot, pid_t pid);
/* Frees every slot owned by pid (the master, after reaping it). */
void sb_release_pid(void *region, pid_t pid);

/* Owner only. Strings are copied (truncated to fit); client is the
 * client's address (16 bytes, common/base/addr.h's form; NULL: none),
 * kept for sb_client_busy and never shown. flags: SB_STREAM, SB_LIMITED. */
void sb_busy(void *region, int slot, const char *route, const char *rid, const char *method, int flags,
             const uint8_t client[16]);
void sb_idle(void *region, int slot, uint64_t served);

/* A consistent copy of a slot; 0 when it belongs to a live process,
 * -1 when free or its process is gone. */
int sb_read(const void *region, int slot, struct sb_view *out);

/* The slot of pid, or -1. */
int sb_find(const void *region, pid_t pid);

/* Set by the master before it signals SIGUSR2; read by the worker's
 * signal handler (lock-free). */
void sb_set_kill(void *region, int slot, int why);
int sb_kill(const void *region, int slot);

/* How many live slots other than `self` are busy on a limited route for
 * `client`: the per-client cap on concurrent requests. Reads only the
 * slots ever claimed, and asks whether a process is alive only for a slot
 * that would count. */
int sb_client_busy(const void *region, const uint8_t client[16], int self);

/* Counts live slots. */
void sb_count(const void *region, int *busy, int *idle, int *streams);

#endif
