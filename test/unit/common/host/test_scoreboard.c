/* test_scoreboard.c: the scoreboard's per-client count (sb_client_busy),
 * which the per-client cap on concurrent requests reads: what counts (a
 * busy slot on a limited route of the same client, a live process, not
 * the asker's own slot) and what does not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/base/addr.h"
#include "common/host/scoreboard.h"
#include "common/host/shm.h"
#include "test/unit/unit.h"

/* A pid that belonged to a process and does not any more. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void t_client_busy(void)
{
    struct shm_region r = sb_shm_region(8);
    void *sb = aligned_alloc(64, (r.size + 63) & ~(size_t)63);
    CU_ASSERT_FATAL(sb && r.init(sb, &r) == 0);
    uint8_t a[16], b[16];
    CU_ASSERT_FATAL(addr_parse("203.0.113.7", a) == 0 && addr_parse("2001:db8::7", b) == 0);
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, -1), 0);
    int me = sb_claim(sb, getpid(), 1), parent = sb_claim(sb, getppid(), 2), init = sb_claim(sb, 1, 3);
    int gone = sb_claim(sb, dead_pid(), 4);
    CU_ASSERT_FATAL(me >= 0 && parent >= 0 && init >= 0 && gone >= 0);
    sb_busy(sb, me, "/api/stream/selftest", "r1", "GET", SB_STREAM | SB_LIMITED, a);
    sb_busy(sb, parent, "/api/products/search", "r2", "GET", SB_LIMITED, a);
    sb_busy(sb, init, "/api/health", "r3", "GET", 0, a);   /* not a limited route */
    sb_busy(sb, gone, "/aza/search/stream", "r4", "POST", SB_STREAM | SB_LIMITED, a);   /* its process is gone */
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, -1), 2);
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, me), 1);      /* the asker's own request is not another */
    CU_ASSERT_EQUAL(sb_client_busy(sb, b, -1), 0);      /* another client */
    sb_busy(sb, init, "/aza/search", "r5", "POST", SB_LIMITED, b);
    CU_ASSERT_EQUAL(sb_client_busy(sb, b, -1), 1);
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, -1), 2);
    sb_idle(sb, parent, 1);                              /* done: no longer counts */
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, me), 0);
    struct sb_view v;
    CU_ASSERT(sb_read(sb, me, &v) == 0 && v.stream && v.limited);
    CU_ASSERT(sb_read(sb, parent, &v) == 0 && !v.stream && !v.limited);
    sb_release(sb, me, getpid());
    CU_ASSERT_EQUAL(sb_client_busy(sb, a, -1), 0);
    free(sb);
}

void register_scoreboard(void)
{
    static const struct unit_case cases[] = {
        {"per-client count: limited, busy, alive, not one's own", t_client_busy},
        {NULL, NULL},
    };
    unit_suite("scoreboard", cases);
}
