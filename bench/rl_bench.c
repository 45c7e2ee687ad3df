/* rl_bench.c: cost of one rate-limiter decision (common/host/rl.c), in ns, on a
 * table in a shared file mapping as in production. Not a test: it prints
 * figures for bench/results/ops.md.
 *
 *   bench/rl_bench [decisions]        (default 2,000,000 per case)
 *
 * Cases: one address admitted each time (a tiny window), one address refused
 * each time (window full), 4,096 addresses cycling in an 8,192-entry table
 * (lookups among many), 100,000 addresses through a 8,192-entry table
 * (evicting an idle entry on every decision), and two processes deciding
 * at once on one address (lock contention across processes). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/host/rl.h"
#include "common/host/shm.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *table(uint32_t cap, uint32_t limit, int64_t window_us)
{
    size_t sz = rl_table_size(cap, limit);
    void *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || rl_table_init(m, cap, limit, window_us) < 0) {
        perror("table");
        exit(1);
    }
    return m;
}

static void addr_n(uint32_t n, uint8_t a[16])
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = 10;
    a[13] = (uint8_t)(n >> 16);
    a[14] = (uint8_t)(n >> 8);
    a[15] = (uint8_t)n;
}

static double run(void *t, long n, uint32_t naddr, int *admitted_out)
{
    uint8_t a[16];
    struct rl_decision d;
    int adm = 0;
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        addr_n(naddr > 1 ? (uint32_t)(i % naddr) : 1, a);
        rl_decide(t, a, &d);
        adm += d.admitted;
    }
    int64_t t1 = now_ns();
    if (admitted_out) *admitted_out = adm;
    return (double)(t1 - t0) / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int adm;
    printf("%-52s %10s %12s\n", "case", "ns/decision", "admitted");

    void *t = table(8192, 30, 5);   /* a 5 µs window: (almost) always admitted */
    double ns = run(t, n, 1, &adm);
    printf("%-52s %10.1f %12d\n", "one address, hot (limit 30, window 5 us)", ns, adm);
    munmap(t, rl_table_size(8192, 30));

    t = table(8192, 30, 3600000000LL);
    ns = run(t, n, 1, &adm);
    printf("%-52s %10.1f %12d\n", "one address, refused (limit 30, window 1 h)", ns, adm);
    munmap(t, rl_table_size(8192, 30));

    t = table(8192, 30, 5);
    ns = run(t, n, 4096, &adm);
    printf("%-52s %10.1f %12d\n", "4,096 addresses in an 8,192 table (limit 30)", ns, adm);
    munmap(t, rl_table_size(8192, 30));

    t = table(8192, 30, 100);
    run(t, 8192, 8192, NULL);   /* fill it */
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);    /* every entry idle */
    ns = run(t, n, 100000, &adm);
    struct rl_stats st;
    rl_stats(t, &st);
    printf("%-52s %10.1f %12d  (evictions %" PRIu64 ", table full %" PRIu64 ")\n",
           "100,000 addresses through an 8,192 table (evicting)", ns, adm, st.evictions, st.table_full);
    munmap(t, rl_table_size(8192, 30));

    t = table(8192, 30, 5);
    int64_t t0 = now_ns();
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            run(t, n, 1, NULL);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) waitpid(kids[k], NULL, 0);
    int64_t t1 = now_ns();
    printf("%-52s %10.1f %12s  (wall time / all decisions)\n", "two processes, one address, at once",
           (double)(t1 - t0) / (double)(2 * n), "-");
    munmap(t, rl_table_size(8192, 30));
    return 0;
}
