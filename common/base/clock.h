/* clock.h: the one clock of the tree.
 *
 * Monotonic time is CLOCK_MONOTONIC, system-wide, so readings of different
 * processes of one boot compare (the scoreboard's request starts, the rate
 * limiter's admission times): durations, deadlines, timeouts. Wall time is
 * CLOCK_REALTIME: timestamps people and clients read (events, logs,
 * X-RateLimit-Reset). No state, no allocation. */
#ifndef TROIKA_CLOCK_H
#define TROIKA_CLOCK_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {   /* index/vidx_shim.cpp reads it too */
#endif

/* Monotonic milliseconds / microseconds. */
int64_t clk_mono_ms(void);
int64_t clk_mono_us(void);

/* Milliseconds / microseconds since the Unix epoch. */
int64_t clk_wall_ms(void);
int64_t clk_wall_us(void);

/* The wall-clock moment `ms` from now, as the absolute time
 * pthread_cond_timedwait takes (a default condition variable waits on
 * CLOCK_REALTIME). */
struct timespec clk_wall_after(int64_t ms);

#ifdef __cplusplus
}
#endif

#endif
