/* rl.c: the shared sliding-window table; see rl.h for the rule.
 *
 * Table layout (one block in the mapping): struct rl_table, the hash
 * buckets (int32 entry indexes, -1 empty), then `capacity` entries of
 * `stride` bytes: struct rl_entry followed by its ring of `limit` int64
 * admission times (µs, monotonic). Entries are on a hash chain and on the
 * LRU list (most recently admitted first) while in use, else on the free
 * list. Only the entries themselves are authoritative: after a holder of
 * the lock died, the chains and lists are rebuilt from them (rl_repair). */
#include "common/host/rl.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/base/clock.h"
#include "common/host/shm.h"

/* ---- the table ----------------------------------------------------------- */

struct rl_entry {
    uint8_t addr[16];
    int32_t hnext;      /* next on the hash chain */
    int32_t prev, next; /* LRU neighbours (prev: more recent); next also links the free list */
    uint32_t count;     /* admissions held in the ring (<= limit) */
    uint32_t head;      /* ring index of the oldest held admission */
    uint32_t inuse;
    uint32_t pad;
    int64_t last_us;    /* newest admission */
};

struct rl_table {
    pthread_mutex_t mu;
    uint32_t capacity, limit, nbuckets, stride;
    int64_t window_us;
    uint64_t seed;
    uint64_t ent_off;
    int32_t free_head, lru_head, lru_tail;
    uint32_t used;
    _Atomic uint64_t decisions, refused, evictions, table_full, recoveries;
};

static size_t rl_stride(uint32_t limit)
{
    return (sizeof(struct rl_entry) + (size_t)limit * sizeof(int64_t) + 7) & ~(size_t)7;
}

static uint32_t rl_nbuckets(uint32_t capacity)
{
    uint32_t n = 16;
    while (n < capacity * 2u && n < (1u << 30)) n <<= 1;
    return n;
}

static size_t rl_ent_off(uint32_t capacity)
{
    size_t off = sizeof(struct rl_table) + (size_t)rl_nbuckets(capacity) * sizeof(int32_t);
    return (off + 63) & ~(size_t)63;
}

size_t rl_table_size(uint32_t capacity, uint32_t limit)
{
    return rl_ent_off(capacity) + (size_t)capacity * rl_stride(limit);
}

static int32_t *rl_buckets(struct rl_table *t)
{
    return (int32_t *)(t + 1);
}

static struct rl_entry *rl_ent(struct rl_table *t, int32_t i)
{
    return (struct rl_entry *)((unsigned char *)t + t->ent_off + (size_t)i * t->stride);
}

static int64_t *rl_ring(struct rl_entry *e)
{
    return (int64_t *)(e + 1);
}

static uint32_t rl_hash(const struct rl_table *t, const uint8_t a[16])
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    uint64_t h = t->seed ^ (x * 0x9e3779b97f4a7c15ULL);
    h ^= y + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    return (uint32_t)h & (t->nbuckets - 1);
}

static int rl_shm_init(void *mem, const struct shm_region *r)
{
    return rl_table_init(mem, (uint32_t)r->params[0], (uint32_t)r->params[1], (int64_t)r->params[2] * 1000);
}

struct shm_region rl_shm_region(uint32_t capacity, uint32_t limit, int64_t window_ms)
{
    return (struct shm_region){.name = RL_SHM_NAME,
                               .size = rl_table_size(capacity, limit),
                               .params = {capacity, limit, (uint64_t)window_ms},
                               .init = rl_shm_init};
}

int rl_table_init(void *mem, uint32_t capacity, uint32_t limit, int64_t window_us)
{
    if (capacity < 1 || limit < 1 || window_us < 1) return -1;
    struct rl_table *t = mem;
    memset(t, 0, sizeof(*t));
    if (shm_mutex_init(&t->mu) < 0) return -1;
    t->capacity = capacity;
    t->limit = limit;
    t->nbuckets = rl_nbuckets(capacity);
    t->stride = (uint32_t)rl_stride(limit);
    t->window_us = window_us;
    t->ent_off = rl_ent_off(capacity);
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed))
        t->seed = (uint64_t)clk_mono_us() * 0x9e3779b97f4a7c15ULL;
    int32_t *b = rl_buckets(t);
    for (uint32_t i = 0; i < t->nbuckets; i++) b[i] = -1;
    for (uint32_t i = 0; i < capacity; i++) {
        struct rl_entry *e = rl_ent(t, (int32_t)i);
        memset(e, 0, sizeof(*e));
        e->hnext = e->prev = -1;
        e->next = i + 1 < capacity ? (int32_t)(i + 1) : -1;
    }
    t->free_head = 0;
    t->lru_head = t->lru_tail = -1;
    return 0;
}

static int32_t rl_find(struct rl_table *t, const uint8_t a[16])
{
    for (int32_t i = rl_buckets(t)[rl_hash(t, a)]; i >= 0; i = rl_ent(t, i)->hnext)
        if (memcmp(rl_ent(t, i)->addr, a, 16) == 0) return i;
    return -1;
}

static void rl_hash_insert(struct rl_table *t, int32_t i)
{
    int32_t *b = &rl_buckets(t)[rl_hash(t, rl_ent(t, i)->addr)];
    rl_ent(t, i)->hnext = *b;
    *b = i;
}

static void rl_hash_unlink(struct rl_table *t, int32_t i)
{
    int32_t *p = &rl_buckets(t)[rl_hash(t, rl_ent(t, i)->addr)];
    while (*p >= 0 && *p != i) p = &rl_ent(t, *p)->hnext;
    if (*p == i) *p = rl_ent(t, i)->hnext;
    rl_ent(t, i)->hnext = -1;
}

static void rl_lru_unlink(struct rl_table *t, int32_t i)
{
    struct rl_entry *e = rl_ent(t, i);
    if (e->prev >= 0) rl_ent(t, e->prev)->next = e->next;
    else t->lru_head = e->next;
    if (e->next >= 0) rl_ent(t, e->next)->prev = e->prev;
    else t->lru_tail = e->prev;
    e->prev = e->next = -1;
}

static void rl_lru_push(struct rl_table *t, int32_t i)
{
    struct rl_entry *e = rl_ent(t, i);
    e->prev = -1;
    e->next = t->lru_head;
    if (t->lru_head >= 0) rl_ent(t, t->lru_head)->prev = i;
    t->lru_head = i;
    if (t->lru_tail < 0) t->lru_tail = i;
}

struct rl_sortkey {
    int64_t last;
    int32_t idx;
};

static int rl_sortkey_cmp(const void *a, const void *b)
{
    const struct rl_sortkey *x = a, *y = b;
    return x->last < y->last ? -1 : x->last > y->last ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Rebuilds the chains and lists from the entries (after a holder died). */
static void rl_repair(struct rl_table *t)
{
    int32_t *b = rl_buckets(t);
    for (uint32_t i = 0; i < t->nbuckets; i++) b[i] = -1;
    t->free_head = t->lru_head = t->lru_tail = -1;
    t->used = 0;
    struct rl_sortkey *keys = malloc((size_t)t->capacity * sizeof(*keys));
    size_t nk = 0;
    for (uint32_t k = t->capacity; k-- > 0;) {
        int32_t i = (int32_t)k;
        struct rl_entry *e = rl_ent(t, i);
        e->hnext = e->prev = e->next = -1;
        if (e->inuse && (e->count > t->limit || e->head >= t->limit)) e->count = e->head = 0;
        if (e->inuse && rl_find(t, e->addr) >= 0) e->inuse = 0;   /* a duplicate */
        if (!e->inuse) {
            e->next = t->free_head;
            t->free_head = i;
            continue;
        }
        rl_hash_insert(t, i);
        t->used++;
        if (keys) keys[nk++] = (struct rl_sortkey){e->last_us, i};
        else rl_lru_push(t, i);   /* unsorted: the tail may not be the oldest, which only refuses more */
    }
    if (keys) {
        qsort(keys, nk, sizeof(*keys), rl_sortkey_cmp);
        for (size_t k = 0; k < nk; k++) rl_lru_push(t, keys[k].idx);
        free(keys);
    }
}

/* Admissions of e within (ws, ...]: index k (0-based from head) of the
 * first ring entry after ws. The ring is ascending from head. */
static uint32_t rl_first_after(struct rl_table *t, struct rl_entry *e, int64_t ws)
{
    int64_t *r = rl_ring(e);
    uint32_t lo = 0, hi = e->count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r[(e->head + mid) % t->limit] > ws) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static void rl_decide_locked(struct rl_table *t, const uint8_t addr[16], int64_t now, struct rl_decision *d)
{
    const int64_t ws = now - t->window_us;
    memset(d, 0, sizeof(*d));
    d->limit = (int)t->limit;
    d->now_us = now;
    d->seq = atomic_fetch_add_explicit(&t->decisions, 1, memory_order_relaxed) + 1;
    int32_t i = rl_find(t, addr);
    if (i < 0) {
        if (t->free_head >= 0) {
            i = t->free_head;
            t->free_head = rl_ent(t, i)->next;
        } else {
            i = t->lru_tail;
            struct rl_entry *old = rl_ent(t, i);
            if (old->last_us > ws) {   /* every entry is active: refuse the newcomer */
                d->table_full = 1;
                d->free_at_us = old->last_us + t->window_us;
                atomic_fetch_add_explicit(&t->table_full, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
                return;
            }
            rl_hash_unlink(t, i);
            rl_lru_unlink(t, i);
            t->used--;
            atomic_fetch_add_explicit(&t->evictions, 1, memory_order_relaxed);
        }
        struct rl_entry *e = rl_ent(t, i);
        e->inuse = 0;
        memcpy(e->addr, addr, 16);
        e->count = e->head = 0;
        e->last_us = 0;
        e->prev = e->next = -1;
        rl_hash_insert(t, i);
        rl_lru_push(t, i);
        e->inuse = 1;
        t->used++;
    }
    struct rl_entry *e = rl_ent(t, i);
    int64_t *ring = rl_ring(e);
    if (e->count && now < e->last_us) {
        /* never backwards: another process read a later clock and took
         * the lock first. The decision is then at its time, and says so
         * (the log's and the replay's time is the one recorded). */
        now = e->last_us;
        d->now_us = now;
    }
    int admit = e->count < t->limit || ring[e->head] <= ws;
    if (admit) {
        if (e->count < t->limit) {
            ring[(e->head + e->count) % t->limit] = now;
            e->count++;
        } else {
            ring[e->head] = now;
            e->head = (e->head + 1) % t->limit;
        }
        e->last_us = now;
        if (t->lru_head != i) {
            rl_lru_unlink(t, i);
            rl_lru_push(t, i);
        }
    } else {
        atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
    }
    uint32_t k = rl_first_after(t, e, ws);
    uint32_t inwin = e->count - k;
    d->admitted = admit;
    d->remaining = (int)(t->limit - inwin);
    d->free_at_us = inwin ? ring[(e->head + k) % t->limit] + t->window_us : now;
}

static int rl_run(void *table, const uint8_t addr[16], int64_t now_us, int read_clock, struct rl_decision *d)
{
    struct rl_table *t = table;
    int lk = shm_lock(&t->mu);
    if (lk < 0) return -1;
    if (lk == 1) {
        rl_repair(t);
        atomic_fetch_add_explicit(&t->recoveries, 1, memory_order_relaxed);
        shm_mutex_consistent(&t->mu);
    }
    rl_decide_locked(t, addr, read_clock ? clk_mono_us() : now_us, d);
    shm_unlock(&t->mu);
    return 0;
}

int rl_decide_at(void *table, const uint8_t addr[16], int64_t now_us, struct rl_decision *d)
{
    return rl_run(table, addr, now_us, 0, d);
}

int rl_decide(void *table, const uint8_t addr[16], struct rl_decision *d)
{
    return rl_run(table, addr, 0, 1, d);
}

void rl_stats(void *table, struct rl_stats *o)
{
    struct rl_table *t = table;
    memset(o, 0, sizeof(*o));
    o->capacity = t->capacity;
    o->limit = t->limit;
    o->window_us = t->window_us;
    o->used = __atomic_load_n(&t->used, __ATOMIC_RELAXED);
    o->decisions = atomic_load_explicit(&t->decisions, memory_order_relaxed);
    o->refused = atomic_load_explicit(&t->refused, memory_order_relaxed);
    o->evictions = atomic_load_explicit(&t->evictions, memory_order_relaxed);
    o->table_full = atomic_load_explicit(&t->table_full, memory_order_relaxed);
    o->recoveries = atomic_load_explicit(&t->recoveries, memory_order_relaxed);
}

int rl_table_check(void *table)
{
    struct rl_table *t = table;
    uint32_t n = 0, nfree = 0;
    int64_t prev = INT64_MAX;
    int32_t last = -1;
    for (int32_t i = t->lru_head; i >= 0; i = rl_ent(t, i)->next) {
        struct rl_entry *e = rl_ent(t, i);
        if (!e->inuse || e->prev != last || e->last_us > prev || rl_find(t, e->addr) != i) return -1;
        prev = e->last_us;
        last = i;
        if (++n > t->capacity) return -1;
    }
    if (last != t->lru_tail || n != t->used) return -1;
    for (int32_t i = t->free_head; i >= 0; i = rl_ent(t, i)->next) {
        if (rl_ent(t, i)->inuse) return -1;
        if (++nfree > t->capacity) return -1;
    }
    return n + nfree == t->capacity ? 0 : -1;
}
