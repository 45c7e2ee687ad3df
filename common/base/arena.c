/* arena.c: bump allocator with cleanup list; see arena.h.
 * Blocks are malloc'd and chained; a request that needs more than the
 * first block grows by doubling, so allocations per request stay few. */
#include "common/base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AR_ALIGN 16

struct ar_block {
    struct ar_block *next;
    size_t size;
    size_t used;
    _Alignas(AR_ALIGN) unsigned char data[];
};

struct ar_cleanup {
    struct ar_cleanup *next;
    void (*fn)(void *);
    void *p;
};

struct arena {
    struct ar_block *head;   /* current block (newest) */
    struct ar_block *first;  /* kept across resets */
    struct ar_cleanup *cleanups;
    size_t block;
    size_t used;
};

static struct ar_block *ar_block_new(size_t size)
{
    struct ar_block *b = malloc(sizeof(*b) + size);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena_t *ar_new(size_t block)
{
    arena_t *ar = calloc(1, sizeof(*ar));
    if (!ar) return NULL;
    ar->block = block < 1024 ? 1024 : block;
    ar->first = ar->head = ar_block_new(ar->block);
    if (!ar->first) {
        free(ar);
        return NULL;
    }
    return ar;
}

static void ar_run_cleanups(arena_t *ar)
{
    while (ar->cleanups) {
        struct ar_cleanup *c = ar->cleanups;
        ar->cleanups = c->next;   /* unlink first: fn may allocate nothing here */
        c->fn(c->p);
    }
}

void ar_reset(arena_t *ar)
{
    if (!ar) return;
    ar_run_cleanups(ar);
    struct ar_block *b = ar->head;
    while (b && b != ar->first) {
        struct ar_block *next = b->next;
        free(b);
        b = next;
    }
    ar->head = ar->first;
    ar->first->next = NULL;
    ar->first->used = 0;
    ar->used = 0;
}

void ar_free(arena_t *ar)
{
    if (!ar) return;
    ar_reset(ar);
    free(ar->first);
    free(ar);
}

void *ar_alloc(arena_t *ar, size_t n)
{
    size_t need = (n + AR_ALIGN - 1) & ~(size_t)(AR_ALIGN - 1);
    if (need < n) return NULL;
    struct ar_block *b = ar->head;
    if (b->size - b->used < need) {
        size_t size = b->size * 2;
        if (size < ar->block) size = ar->block;
        while (size < need) {
            if (size > SIZE_MAX / 2) return NULL;   /* doubling would wrap to 0 */
            size *= 2;
        }
        b = ar_block_new(size);
        if (!b) return NULL;
        b->next = ar->head;
        ar->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    ar->used += need;
    return p;
}

void *ar_calloc(arena_t *ar, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = ar_alloc(ar, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

char *ar_strndup(arena_t *ar, const char *s, size_t n)
{
    char *p = ar_alloc(ar, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ar_strdup(arena_t *ar, const char *s)
{
    return s ? ar_strndup(ar, s, strlen(s)) : NULL;
}

char *ar_vprintf(arena_t *ar, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return NULL;
    char *p = ar_alloc(ar, (size_t)n + 1);
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *ar_printf(arena_t *ar, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = ar_vprintf(ar, fmt, ap);
    va_end(ap);
    return p;
}

int ar_defer(arena_t *ar, void (*fn)(void *), void *p)
{
    struct ar_cleanup *c = ar_alloc(ar, sizeof(*c));
    if (!c) return -1;
    c->fn = fn;
    c->p = p;
    c->next = ar->cleanups;
    ar->cleanups = c;
    return 0;
}

size_t ar_used(const arena_t *ar)
{
    return ar->used;
}

/* ---- buf_t ------------------------------------------------------------- */

void buf_init(buf_t *b, arena_t *ar, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->ar = ar;
    b->max = max ? max : SIZE_MAX / 2;
}

static int buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra > b->max) {
        b->toobig = 1;
        return -1;
    }
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    /* Arena memory is not reallocated in place; the old copy stays until the
     * request ends, which doubling keeps to less than the final size. */
    char *p = ar_alloc(b->ar, cap);
    if (!p) return -1;
    if (b->len) memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_add(buf_t *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int buf_adds(buf_t *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_addc(buf_t *b, char c)
{
    return buf_add(b, &c, 1);
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0) {
        va_end(ap);
        return -1;
    }
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_clear(buf_t *b)
{
    b->len = 0;
    b->toobig = 0;
    if (b->p) b->p[0] = '\0';
}
