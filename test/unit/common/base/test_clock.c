/* test_clock.c: the one clock (common/base/clock). */
#include <time.h>

#include "common/base/clock.h"
#include "test/unit/unit.h"

/* The two monotonic readings agree, never go back, and measure a sleep. */
static void t_monotonic(void)
{
    int64_t ms0 = clk_mono_ms(), us0 = clk_mono_us();
    CU_ASSERT(us0 / 1000 - ms0 >= 0 && us0 / 1000 - ms0 <= 1000);   /* read after: not before, and soon */
    struct timespec d = {0, 20 * 1000000L};
    nanosleep(&d, NULL);
    int64_t ms1 = clk_mono_ms(), us1 = clk_mono_us();
    CU_ASSERT(ms1 - ms0 >= 20 && ms1 - ms0 < 2000);
    CU_ASSERT(us1 - us0 >= 20000 && us1 >= us0);
}

/* Wall time is the Unix epoch's, in both units. */
static void t_wall(void)
{
    int64_t ms = clk_wall_ms(), us = clk_wall_us();
    time_t now = time(NULL);
    CU_ASSERT(ms / 1000 - (int64_t)now >= -1 && ms / 1000 - (int64_t)now <= 1);
    CU_ASSERT(us / 1000 - ms >= 0 && us / 1000 - ms <= 1000);
    CU_ASSERT(ms > 1600000000000LL);   /* after 2020: not a monotonic reading */
}

/* clk_wall_after carries nanoseconds into seconds and stays normalised. */
static void t_after(void)
{
    for (int64_t ms = 0; ms <= 2999; ms += 37) {
        int64_t before = clk_wall_ms();
        struct timespec ts = clk_wall_after(ms);
        int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        CU_ASSERT(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
        CU_ASSERT(at - before >= ms && at - before <= ms + 1000);
    }
}

void register_clock(void)
{
    static const struct unit_case cases[] = {
        {"monotonic ms and us", t_monotonic},
        {"wall ms and us", t_wall},
        {"absolute deadline for a condvar", t_after},
        {NULL, NULL},
    };
    unit_suite("clock", cases);
}
