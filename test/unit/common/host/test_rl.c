/* test_rl.c: the rate limiter (common/host/rl.c) with an injected clock, its
 * eviction rule, lock recovery after a holder died, and the rule that
 * every streaming route is limited. Addresses and CIDRs: test_addr.c; the
 * shared file the table lives in: test_shm.c. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/base/addr.h"
#include "common/host/rl.h"
#include "common/host/shm.h"
#include "fcgi/ops.h"
#include "fcgi/route.h"
#include "handlers/handlers.h"
#include "test/unit/unit.h"

#define MS 1000LL

static void *table_new(uint32_t cap, uint32_t limit, int64_t window_ms)
{
    /* A shared anonymous mapping, so a forked child can hold the lock. */
    size_t sz = rl_table_size(cap, limit);
    void *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CU_ASSERT_FATAL(m != MAP_FAILED);
    CU_ASSERT_FATAL(rl_table_init(m, cap, limit, window_ms * MS) == 0);
    return m;
}

static void table_free(void *t, uint32_t cap, uint32_t limit)
{
    munmap(t, rl_table_size(cap, limit));
}

static void addr(const char *s, uint8_t out[16])
{
    CU_ASSERT_FATAL(addr_parse(s, out) == 0);
}

static int decide(void *t, const char *ip, int64_t now_ms, struct rl_decision *d)
{
    uint8_t a[16];
    addr(ip, a);
    CU_ASSERT_FATAL(rl_decide_at(t, a, now_ms * MS, d) == 0);
    return d->admitted;
}

static void t_window_exact(void)
{
    void *t = table_new(16, 3, 1000);
    struct rl_decision d;
    CU_ASSERT(decide(t, "192.0.2.1", 0, &d) && d.remaining == 2);
    CU_ASSERT(decide(t, "192.0.2.1", 100, &d) && d.remaining == 1);
    CU_ASSERT(decide(t, "192.0.2.1", 200, &d) && d.remaining == 0);
    CU_ASSERT(d.free_at_us == 1000 * MS);   /* the admission at 0 leaves at 1000 */
    CU_ASSERT(!decide(t, "192.0.2.1", 999, &d) && d.remaining == 0);
    CU_ASSERT(d.free_at_us == 1000 * MS);
    /* (now - window, now]: at 1000 the admission at 0 is out of the window. */
    CU_ASSERT(decide(t, "192.0.2.1", 1000, &d) && d.remaining == 0);
    CU_ASSERT(d.free_at_us == 1100 * MS);
    CU_ASSERT(!decide(t, "192.0.2.1", 1099, &d));
    CU_ASSERT(decide(t, "192.0.2.1", 1100, &d));
    /* Refusals are not admissions: they never push the window. */
    for (int i = 0; i < 50; i++) CU_ASSERT(!decide(t, "192.0.2.1", 1150 + i, &d));
    CU_ASSERT(decide(t, "192.0.2.1", 1200, &d));
    /* Much later everything has left: the full quota again. */
    CU_ASSERT(decide(t, "192.0.2.1", 10000, &d) && d.remaining == 2 && d.free_at_us == 11000 * MS);
    /* Another address is independent. */
    CU_ASSERT(decide(t, "192.0.2.2", 10001, &d) && d.remaining == 2);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, 16, 3);
}

/* Two processes read the clock, and the later reader takes the lock first:
 * the earlier reading is decided at the time already recorded, and the
 * decision says that time (it is what the log and the window count). */
static void t_clock_never_backwards(void)
{
    void *t = table_new(16, 3, 1000);
    struct rl_decision d;
    CU_ASSERT(decide(t, "192.0.2.7", 500, &d) && d.now_us == 500 * MS);
    CU_ASSERT(decide(t, "192.0.2.7", 499, &d) && d.now_us == 500 * MS && d.remaining == 1);
    /* both admissions are recorded at 500: both leave the window at 1500 */
    CU_ASSERT(decide(t, "192.0.2.7", 1000, &d) && d.remaining == 0 && d.free_at_us == 1500 * MS);
    CU_ASSERT(!decide(t, "192.0.2.7", 1499, &d));
    CU_ASSERT(decide(t, "192.0.2.7", 1500, &d));
    /* a new address has no past: its reading stands */
    CU_ASSERT(decide(t, "192.0.2.8", 1501, &d) && d.now_us == 1501 * MS);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, 16, 3);
}

/* Decisions in one microsecond (a quick lock hand-off between workers):
 * `seq` gives their order, refusals and new addresses included. */
static void t_seq_orders_ties(void)
{
    void *t = table_new(16, 2, 1000);
    struct rl_decision d;
    CU_ASSERT(decide(t, "192.0.2.9", 700, &d) && d.seq == 1 && d.remaining == 1);
    CU_ASSERT(decide(t, "192.0.2.9", 700, &d) && d.seq == 2 && d.remaining == 0);
    CU_ASSERT(!decide(t, "192.0.2.9", 700, &d) && d.seq == 3);
    CU_ASSERT(decide(t, "192.0.2.10", 700, &d) && d.seq == 4 && d.now_us == 700 * MS);
    struct rl_stats st;
    rl_stats(t, &st);
    CU_ASSERT(st.decisions == 4);
    table_free(t, 16, 2);
}

/* A reference model: every admission time kept, windows counted directly. */
static void t_matches_reference(void)
{
    enum { LIMIT = 5, WIN = 700, N = 4000, IPS = 6 };
    void *t = table_new(64, LIMIT, WIN);
    static int64_t adm[IPS][N];
    int nadm[IPS] = {0};
    unsigned seed = 12345;
    int64_t now = 0;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        now += (seed >> 16) % 60;   /* 0..59 ms apart, bursts included */
        int ip = (int)((seed >> 8) % IPS);
        char s[32];
        snprintf(s, sizeof(s), "2001:db8::%x", ip + 1);
        int inwin = 0;
        for (int k = 0; k < nadm[ip]; k++)
            if (adm[ip][k] > now - WIN) inwin++;
        int want = inwin < LIMIT;
        struct rl_decision d;
        int got = decide(t, s, now, &d);
        CU_ASSERT_EQUAL_FATAL(got, want);
        if (got) adm[ip][nadm[ip]++] = now;
        CU_ASSERT_EQUAL(d.remaining, LIMIT - (inwin + got));
    }
    /* No window of WIN ms holds more than LIMIT admissions of one address. */
    for (int ip = 0; ip < IPS; ip++)
        for (int k = LIMIT; k < nadm[ip]; k++) CU_ASSERT(adm[ip][k] - adm[ip][k - LIMIT] >= WIN);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, 64, LIMIT);
}

static void t_eviction_rule(void)
{
    void *t = table_new(16, 2, 1000);
    struct rl_decision d;
    char ip[32];
    /* Fill the table: 16 addresses admitted at 0..15 ms. */
    for (int i = 0; i < 16; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
        CU_ASSERT(decide(t, ip, i, &d));
    }
    /* All active: a newcomer is refused (never evicts an active window)
     * and told when the least recent one goes idle. */
    CU_ASSERT(!decide(t, "203.0.113.1", 500, &d) && d.table_full);
    CU_ASSERT(d.free_at_us == 1000 * MS);
    /* Address .1 uses its second admission: it stays active the longest. */
    CU_ASSERT(decide(t, "198.51.100.1", 600, &d));
    /* At 1001 ms, .2 (admitted at 1) is the oldest idle entry: evicted. */
    CU_ASSERT(decide(t, "203.0.113.1", 1001, &d) && !d.table_full);
    /* .1 kept its window: one admission at 600 is still inside at 1001,
     * and two more would exceed the limit of 2. */
    CU_ASSERT(decide(t, "198.51.100.1", 1001, &d) && d.remaining == 0);
    CU_ASSERT(!decide(t, "198.51.100.1", 1002, &d));
    /* .2 comes back as a new address with a full quota (its old window was
     * empty, so nothing was lost by evicting it). */
    CU_ASSERT(decide(t, "198.51.100.2", 1003, &d) && d.remaining == 1);
    struct rl_stats st;
    rl_stats(t, &st);
    CU_ASSERT(st.evictions == 2 && st.table_full == 1 && st.used == 16);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, 16, 2);
}

static void t_flood_never_exceeds(void)
{
    /* A flood of distinct addresses larger than the table, mixed with a
     * steady client: the steady client's limit holds throughout. */
    enum { CAP = 32, LIMIT = 4, WIN = 100 };
    void *t = table_new(CAP, LIMIT, WIN);
    int64_t adm[4096];
    int n = 0;
    struct rl_decision d;
    for (int64_t now = 0; now < 2000; now++) {
        char ip[48];
        snprintf(ip, sizeof(ip), "2001:db8:1::%x", (unsigned)now + 1);
        decide(t, ip, now, &d);
        if (now % 7 == 0 && decide(t, "192.0.2.77", now, &d)) adm[n++] = now;
    }
    for (int k = LIMIT; k < n; k++) CU_ASSERT(adm[k] - adm[k - LIMIT] >= WIN);
    CU_ASSERT(n > 0);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, CAP, LIMIT);
}

static void t_lock_holder_dies(void)
{
    void *t = table_new(16, 2, 1000);
    struct rl_decision d;
    CU_ASSERT(decide(t, "192.0.2.9", 0, &d));
    pid_t pid = fork();
    if (pid == 0) {
        /* Take the lock (it is the first member) and die holding it. */
        pthread_mutex_lock((pthread_mutex_t *)t);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    /* The next decision recovers the lock and keeps the state. */
    CU_ASSERT(decide(t, "192.0.2.9", 10, &d) && d.remaining == 0);
    CU_ASSERT(!decide(t, "192.0.2.9", 20, &d));
    struct rl_stats s;
    rl_stats(t, &s);
    CU_ASSERT(s.recoveries == 1);
    CU_ASSERT(rl_table_check(t) == 0);
    table_free(t, 16, 2);
}

/* The rule that makes the limiter cover routes added later: every route
 * whose path has a `stream` segment is a streaming route, and every
 * streaming route is limited. */
static void t_stream_routes_are_limited(void)
{
    const struct rt_table tab = h_routes();
    const struct route *t = tab.row;
    size_t n = tab.n;
    int streams = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = t[i].path;
        int seg = strstr(p, "/stream/") != NULL || (strlen(p) >= 7 && !strcmp(p + strlen(p) - 7, "/stream"));
        if (seg) {
            streams++;
            if (!(t[i].flags & RT_STREAM)) fprintf(stderr, "\n%s is not RT_STREAM\n", p);
            CU_ASSERT(t[i].flags & RT_STREAM);
        }
        CU_ASSERT_EQUAL(op_limited(&t[i]), (t[i].flags & (RT_STREAM | RT_LIMITED)) != 0);
        if (t[i].flags & RT_STREAM) CU_ASSERT(op_limited(&t[i]));
    }
    CU_ASSERT(streams >= 1);
    CU_ASSERT(!op_limited(NULL));
}

void register_rl(void)
{
    static const struct unit_case cases[] = {
        {"sliding window is exact at the edges", t_window_exact},
        {"decisions match a reference model", t_matches_reference},
        {"the clock never goes backwards, and the decision says so", t_clock_never_backwards},
        {"decisions in one microsecond are ordered by seq", t_seq_orders_ties},
        {"eviction takes only idle entries", t_eviction_rule},
        {"a flood of addresses never lifts a tracked limit", t_flood_never_exceeds},
        {"a lock holder that dies is recovered", t_lock_holder_dies},
        {"every /stream route is limited", t_stream_routes_are_limited},
        {NULL, NULL},
    };
    unit_suite("rl", cases);
}
