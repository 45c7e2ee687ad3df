/* scoreboard.c: slots claimed by CAS on the pid, written under a seqlock;
 * see scoreboard.h. */
#include "common/host/scoreboard.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/base/clock.h"
#include "common/host/shm.h"

struct sb_slot {
    _Atomic int32_t pid;
    _Atomic uint32_t seq;
    _Atomic int32_t kill;
    int32_t worker_id;
    int32_t state;
    int32_t stream;
    int32_t limited;
    uint8_t client[16];
    int64_t proc_started_ms;
    int64_t req_started_ms;
    int64_t req_started_mono;
    uint64_t served;
    char route[64];
    char rid[65];
    char method[8];
};

struct sb_region {
    uint32_t nslots;
    _Atomic uint32_t used;   /* slots [0, used) were claimed at some time */
    struct sb_slot slots[];
};

size_t sb_region_size(uint32_t nslots)
{
    return sizeof(struct sb_region) + (size_t)nslots * sizeof(struct sb_slot);
}

static int sb_region_init(void *mem, uint32_t nslots)
{
    memset(mem, 0, sb_region_size(nslots));
    ((struct sb_region *)mem)->nslots = nslots;
    return 0;
}

static int sb_shm_init(void *mem, const struct shm_region *r)
{
    return sb_region_init(mem, (uint32_t)r->params[0]);
}

struct shm_region sb_shm_region(uint32_t nslots)
{
    return (struct shm_region){
        .name = SB_SHM_NAME, .size = sb_region_size(nslots), .params = {nslots}, .init = sb_shm_init};
}


uint32_t sb_nslots(const void *region)
{
    return region ? ((const struct sb_region *)region)->nslots : 0;
}

static int sb_gone(pid_t pid)
{
    return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

static void sb_write_begin(struct sb_slot *s)
{
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void sb_write_end(struct sb_slot *s)
{
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
}

int sb_claim(void *region, pid_t pid, int worker_id)
{
    struct sb_region *r = region;
    if (!r) return -1;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < r->nslots; i++) {
            struct sb_slot *s = &r->slots[i];
            int32_t cur = atomic_load_explicit(&s->pid, memory_order_acquire);
            if (cur != 0 && (pass == 0 || !sb_gone(cur))) continue;
            if (!atomic_compare_exchange_strong(&s->pid, &cur, (int32_t)pid)) continue;
            uint32_t used = atomic_load_explicit(&r->used, memory_order_relaxed);
            while (used < i + 1 && !atomic_compare_exchange_weak(&r->used, &used, i + 1)) {
            }
            sb_write_begin(s);
            s->worker_id = worker_id;
            s->state = SB_IDLE;
            s->stream = s->limited = 0;
            memset(s->client, 0, sizeof(s->client));
            s->proc_started_ms = clk_wall_ms();
            s->req_started_ms = s->req_started_mono = 0;
            s->served = 0;
            s->route[0] = s->rid[0] = s->method[0] = '\0';
            atomic_store_explicit(&s->kill, SB_KILL_NONE, memory_order_relaxed);
            sb_write_end(s);
            return (int)i;
        }
    }
    return -1;
}

void sb_release(void *region, int slot, pid_t pid)
{
    struct sb_region *r = region;
    if (!r || slot < 0 || (uint32_t)slot >= r->nslots) return;
    int32_t cur = (int32_t)pid;
    atomic_compare_exchange_strong(&r->slots[slot].pid, &cur, 0);
}

void sb_release_pid(void *region, pid_t pid)
{
    struct sb_region *r = region;
    if (!r) return;
    for (uint32_t i = 0; i < r->nslots; i++) sb_release(r, (int)i, pid);
}

/* snprintf(dst, cap, "%s", src) without printf (three per request). */
static void sb_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

void sb_busy(void *region, int slot, const char *route, const char *rid, const char *method, int flags,
             const uint8_t client[16])
{
    struct sb_region *r = region;
    if (!r || slot < 0) return;
    struct sb_slot *s = &r->slots[slot];
    sb_write_begin(s);
    s->state = SB_BUSY;
    s->stream = (flags & SB_STREAM) != 0;
    s->limited = (flags & SB_LIMITED) != 0;
    if (client) memcpy(s->client, client, sizeof(s->client));
    else memset(s->client, 0, sizeof(s->client));
    s->req_started_ms = clk_wall_ms();
    s->req_started_mono = clk_mono_us() / 1000;
    sb_copy(s->route, sizeof(s->route), route);
    sb_copy(s->rid, sizeof(s->rid), rid);
    sb_copy(s->method, sizeof(s->method), method);
    sb_write_end(s);
}

void sb_idle(void *region, int slot, uint64_t served)
{
    struct sb_region *r = region;
    if (!r || slot < 0) return;
    struct sb_slot *s = &r->slots[slot];
    sb_write_begin(s);
    s->state = SB_IDLE;
    s->stream = s->limited = 0;
    s->served = served;
    sb_write_end(s);
}

int sb_read(const void *region, int slot, struct sb_view *out)
{
    const struct sb_region *r = region;
    if (!r || slot < 0 || (uint32_t)slot >= r->nslots) return -1;
    struct sb_slot *s = (struct sb_slot *)&r->slots[slot];
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t a = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (a & 1) continue;
        pid_t pid = atomic_load_explicit(&s->pid, memory_order_acquire);
        if (pid == 0) return -1;
        out->pid = pid;
        out->worker_id = s->worker_id;
        out->state = s->state;
        out->stream = s->stream;
        out->limited = s->limited;
        out->proc_started_ms = s->proc_started_ms;
        out->req_started_ms = s->req_started_ms;
        out->req_started_mono = s->req_started_mono;
        out->served = s->served;
        memcpy(out->route, s->route, sizeof(out->route));
        memcpy(out->rid, s->rid, sizeof(out->rid));
        memcpy(out->method, s->method, sizeof(out->method));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != a) continue;
        out->route[sizeof(out->route) - 1] = out->rid[sizeof(out->rid) - 1] = '\0';
        out->method[sizeof(out->method) - 1] = '\0';
        return sb_gone(pid) ? -1 : 0;
    }
    return -1;
}

int sb_find(const void *region, pid_t pid)
{
    const struct sb_region *r = region;
    if (!r) return -1;
    for (uint32_t i = 0; i < r->nslots; i++)
        if (atomic_load_explicit((_Atomic int32_t *)&r->slots[i].pid, memory_order_acquire) == pid)
            return (int)i;
    return -1;
}

void sb_set_kill(void *region, int slot, int why)
{
    struct sb_region *r = region;
    if (!r || slot < 0 || (uint32_t)slot >= r->nslots) return;
    atomic_store_explicit(&r->slots[slot].kill, why, memory_order_release);
}

int sb_kill(const void *region, int slot)
{
    const struct sb_region *r = region;
    if (!r || slot < 0 || (uint32_t)slot >= r->nslots) return SB_KILL_NONE;
    return atomic_load_explicit((_Atomic int32_t *)&r->slots[slot].kill, memory_order_acquire);
}

int sb_client_busy(const void *region, const uint8_t client[16], int self)
{
    const struct sb_region *r = region;
    if (!r) return 0;
    uint32_t used = atomic_load_explicit((_Atomic uint32_t *)&r->used, memory_order_acquire);
    if (used > r->nslots) used = r->nslots;
    int n = 0;
    for (uint32_t i = 0; i < used; i++) {
        struct sb_slot *s = (struct sb_slot *)&r->slots[i];
        if ((int)i == self) continue;
        pid_t pid = atomic_load_explicit(&s->pid, memory_order_acquire);
        if (pid == 0) continue;
        for (int tries = 0; tries < 100; tries++) {
            uint32_t a = atomic_load_explicit(&s->seq, memory_order_acquire);
            if (a & 1) continue;
            int counts = s->state == SB_BUSY && s->limited && memcmp(s->client, client, sizeof(s->client)) == 0;
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&s->seq, memory_order_relaxed) != a) continue;
            if (counts && !sb_gone(pid)) n++;
            break;
        }
    }
    return n;
}

void sb_count(const void *region, int *busy, int *idle, int *streams)
{
    *busy = *idle = *streams = 0;
    struct sb_view v;
    for (uint32_t i = 0; i < sb_nslots(region); i++) {
        if (sb_read(region, (int)i, &v) < 0) continue;
        if (v.state == SB_BUSY) {
            (*busy)++;
            if (v.stream) (*streams)++;
        } else {
            (*idle)++;
        }
    }
}
