/* rl.h: the streaming rate limiter: an exact sliding window per client
 * address, shared by every process of the host through the mapping.
 *
 * Rule (SPEC section 3): in no window of window_ms are more than `limit`
 * requests of one address admitted. Each tracked address keeps the times
 * of its last `limit` admissions in a ring; a request at time t is admitted
 * iff fewer than `limit` admissions lie in (t - window, t], i.e. iff the
 * limit-th most recent admission is at or before t - window. That is exact,
 * not an approximation.
 *
 * Bounded table: `capacity` addresses. A new address takes a free entry,
 * else the least recently admitted entry if it is idle (its newest
 * admission is at or before t - window: it holds nothing that could change
 * a future decision). When even that entry is not idle, every tracked
 * address is active, and the new address is refused (429, counted as
 * `table_full`) rather than let any tracked address exceed its limit.
 *
 * Locking: one robust process-shared mutex per table; a holder that died
 * leaves the indexes rebuilt from the entries by the next locker. The
 * clock is read under the lock, so admission times are ordered. */
#ifndef TROIKA_RL_H
#define TROIKA_RL_H

#include <stddef.h>
#include <stdint.h>

#include "common/host/shm.h"

/* ---- the shared table ---------------------------------------------------- */

/* Bytes of a table for this many addresses and this limit. */
size_t rl_table_size(uint32_t capacity, uint32_t limit);
/* Initialises a table in (shared) memory of rl_table_size() bytes. 0 or -1. */
int rl_table_init(void *mem, uint32_t capacity, uint32_t limit, int64_t window_us);

/* The table as a region of the shared file (common/host/shm.h), named
 * RL_SHM_NAME: `capacity` addresses, `limit` admissions per `window_ms`. */
#define RL_SHM_NAME "rl"
struct shm_region rl_shm_region(uint32_t capacity, uint32_t limit, int64_t window_ms);

struct rl_decision {
    int admitted;
    int limit;
    int remaining;          /* after this request */
    int table_full;         /* refused because every entry was active */
    int64_t now_us;         /* the decision's time (monotonic) */
    int64_t free_at_us;     /* when the next admission frees (monotonic) */
    uint64_t seq;           /* the table's decision count, this one included:
                             * the order decisions were taken in, even when
                             * two share a microsecond */
};

/* Decides for addr at now_us (tests inject the clock; times must not go
 * backwards). 0 or -1 (lock unrecoverable: the caller admits and logs). */
int rl_decide_at(void *table, const uint8_t addr[16], int64_t now_us, struct rl_decision *d);
/* The same, reading the monotonic clock under the lock. */
int rl_decide(void *table, const uint8_t addr[16], struct rl_decision *d);

struct rl_stats {
    uint32_t capacity, used, limit;
    int64_t window_us;
    uint64_t decisions, refused, evictions, table_full, recoveries;
};
void rl_stats(void *table, struct rl_stats *out);

/* Checks the index structures against the entries (tests). 0 when sound. */
int rl_table_check(void *table);

#endif
