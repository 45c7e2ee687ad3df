/* test_shm.c: the shared file (common/host/shm.c): its table of regions,
 * create, attach and replace, with the tenants as fcgi/ops.c lists them
 * (rate limiter, metrics, scoreboard) and a tenant of the test's own, so
 * shm is seen to know none of them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base/addr.h"
#include "common/host/metrics.h"
#include "common/host/rl.h"
#include "common/host/scoreboard.h"
#include "common/host/shm.h"
#include "test/unit/unit.h"

static int t_inits;   /* how many times a test region was initialised */

static int t_region_init(void *mem, const struct shm_region *r)
{
    t_inits++;
    memset(mem, (int)r->params[0], r->size);
    return 0;
}

static struct shm_region t_region(const char *name, uint64_t size, uint64_t fill)
{
    struct shm_region r = {.size = size, .params = {fill}, .init = t_region_init};
    snprintf(r.name, sizeof(r.name), "%s", name);
    return r;
}

static void t_layout(struct shm_layout *lay, uint32_t rl_limit)
{
    memset(lay, 0, sizeof(*lay));
    CU_ASSERT_FATAL(shm_layout_add(lay, rl_shm_region(64, rl_limit, 1000)) == 0);
    CU_ASSERT_FATAL(shm_layout_add(lay, mx_shm_region(4, 42)) == 0);
    CU_ASSERT_FATAL(shm_layout_add(lay, sb_shm_region(8)) == 0);
}

/* The table refuses what it cannot hold: a name twice, an empty or
 * unterminated name, a region without init, a ninth region. */
static void t_layout_add(void)
{
    struct shm_layout lay = {0};
    CU_ASSERT(shm_layout_add(&lay, t_region("a", 8, 1)) == 0);
    CU_ASSERT(shm_layout_add(&lay, t_region("a", 8, 1)) < 0);
    CU_ASSERT(shm_layout_add(&lay, t_region("", 8, 1)) < 0);
    struct shm_region r = t_region("b", 8, 1);
    r.init = NULL;
    CU_ASSERT(shm_layout_add(&lay, r) < 0);
    r = t_region("b", 8, 1);
    memset(r.name, 'x', sizeof(r.name));
    CU_ASSERT(shm_layout_add(&lay, r) < 0);
    for (int i = 1; i < SHM_REGIONS_MAX; i++) {
        char name[8];
        snprintf(name, sizeof(name), "r%d", i);
        CU_ASSERT(shm_layout_add(&lay, t_region(name, 8, 1)) == 0);
    }
    CU_ASSERT_EQUAL(lay.n, SHM_REGIONS_MAX);
    CU_ASSERT(shm_layout_add(&lay, t_region("last", 8, 1)) < 0);
}

static void t_attach_replace(void)
{
    char dir[] = "/tmp/troika-unit-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char path[256], err[300];
    snprintf(path, sizeof(path), "%s/t.shm", dir);
    struct shm_layout lay;
    t_layout(&lay, 3);
    struct shm a, b, c;
    CU_ASSERT_FATAL(shm_attach(&a, path, &lay, err, sizeof(err)) == 0);
    CU_ASSERT(a.created == 1);
    CU_ASSERT_FATAL(shm_attach(&b, path, &lay, err, sizeof(err)) == 0);
    CU_ASSERT(b.created == 0);
    /* Both see the same table. */
    uint8_t ip[16];
    CU_ASSERT_FATAL(addr_parse("192.0.2.50", ip) == 0);
    struct rl_decision d;
    for (int i = 0; i < 3; i++) CU_ASSERT(rl_decide(shm_region(&a, RL_SHM_NAME), ip, &d) == 0 && d.admitted);
    CU_ASSERT(rl_decide(shm_region(&b, RL_SHM_NAME), ip, &d) == 0 && !d.admitted);
    /* And the same scoreboard. */
    int slot = sb_claim(shm_region(&a, SB_SHM_NAME), getpid(), 3);
    CU_ASSERT(slot >= 0);
    struct sb_view v;
    CU_ASSERT(sb_read(shm_region(&b, SB_SHM_NAME), slot, &v) == 0 && v.worker_id == 3 && v.state == SB_IDLE);
    sb_busy(shm_region(&a, SB_SHM_NAME), slot, "/api/stream/selftest", "rid-1", "GET", SB_STREAM, NULL);
    CU_ASSERT(sb_read(shm_region(&b, SB_SHM_NAME), slot, &v) == 0 && v.state == SB_BUSY && !strcmp(v.rid, "rid-1"));
    /* Regions are where the table says, 64-byte aligned, one after the other. */
    unsigned char *rl = shm_region(&a, RL_SHM_NAME), *mx = shm_region(&a, MX_SHM_NAME),
                  *sb = shm_region(&a, SB_SHM_NAME);
    CU_ASSERT_FATAL(rl && mx && sb);
    CU_ASSERT(rl < mx && mx < sb && (size_t)(mx - rl) >= rl_table_size(64, 3) &&
              (size_t)(sb - mx) >= mx_region_size(4));
    CU_ASSERT((size_t)(rl - a.base) % 64 == 0 && (size_t)(mx - a.base) % 64 == 0 && (size_t)(sb - a.base) % 64 == 0);
    CU_ASSERT((size_t)(sb - a.base) + sb_region_size(8) <= a.size);
    CU_ASSERT_PTR_NULL(shm_region(&a, "nope"));
    /* Another limit replaces the file; the old mapping stays usable. */
    struct shm_layout lay2;
    t_layout(&lay2, 5);
    CU_ASSERT_FATAL(shm_attach(&c, path, &lay2, err, sizeof(err)) == 0);
    CU_ASSERT(c.created == 1 && shm_same_layout(&c, &lay2) && !shm_same_layout(&c, &lay));
    CU_ASSERT(rl_decide(shm_region(&c, RL_SHM_NAME), ip, &d) == 0 && d.admitted && d.remaining == 4);
    CU_ASSERT(rl_decide(shm_region(&a, RL_SHM_NAME), ip, &d) == 0 && !d.admitted);
    shm_detach(&c);
    /* So does a tenant more: shm builds it with the tenant's own init, and
     * a process with the same table attaches without building again. */
    CU_ASSERT_FATAL(shm_layout_add(&lay2, t_region("test", 100, 0x5a)) == 0);
    t_inits = 0;
    CU_ASSERT_FATAL(shm_attach(&c, path, &lay2, err, sizeof(err)) == 0);
    CU_ASSERT(c.created == 1 && t_inits == 1);
    unsigned char *mine = shm_region(&c, "test");
    CU_ASSERT_FATAL(mine != NULL);
    CU_ASSERT(mine[0] == 0x5a && mine[99] == 0x5a);
    struct shm e;
    CU_ASSERT_FATAL(shm_attach(&e, path, &lay2, err, sizeof(err)) == 0);
    CU_ASSERT(e.created == 0 && t_inits == 1 && ((unsigned char *)shm_region(&e, "test"))[50] == 0x5a);
    shm_detach(&e);
    shm_detach(&a);
    shm_detach(&b);
    shm_detach(&c);
    /* A path in a missing folder names the key. */
    snprintf(path, sizeof(path), "%s/missing/t.shm", dir);
    CU_ASSERT(shm_attach(&a, path, &lay, err, sizeof(err)) < 0);
    CU_ASSERT(strstr(err, "shm_path") != NULL);
    snprintf(path, sizeof(path), "%s/t.shm", dir);
    unlink(path);
    rmdir(dir);
}

/* A tenant whose init fails leaves no file another process would attach. */
static int t_region_fail(void *mem, const struct shm_region *r)
{
    (void)mem;
    (void)r;
    return -1;
}

static void t_init_fails(void)
{
    char dir[] = "/tmp/troika-unit-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char path[256], err[300];
    snprintf(path, sizeof(path), "%s/t.shm", dir);
    struct shm_layout lay = {0};
    struct shm_region r = t_region("bad", 16, 0);
    r.init = t_region_fail;
    CU_ASSERT_FATAL(shm_layout_add(&lay, r) == 0);
    struct shm s;
    CU_ASSERT(shm_attach(&s, path, &lay, err, sizeof(err)) < 0);
    CU_ASSERT(strstr(err, "shm_path") != NULL);
    unlink(path);
    rmdir(dir);
}

void register_shm(void)
{
    static const struct unit_case cases[] = {
        {"the region table refuses what it cannot hold", t_layout_add},
        {"create, attach, replace; tenants found by name", t_attach_replace},
        {"a tenant's failed init is an error", t_init_fails},
        {NULL, NULL},
    };
    unit_suite("shm", cases);
}
