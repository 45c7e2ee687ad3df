/* test_arena.c: the request arena and its capped buffer (common/base/arena.c):
 * growth past the first block, alignment, cleanups in reverse order on
 * reset and free, and buf_t's cap turning into `toobig`. */
#include <stdint.h>
#include <string.h>

#include "common/base/arena.h"
#include "test/unit/unit.h"

static void t_alloc_growth(void)
{
    arena_t *ar = ar_new(1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    enum { N = 500 };
    unsigned char *p[N];
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 37) + 1;
        p[i] = ar_alloc(ar, n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
        CU_ASSERT_EQUAL((uintptr_t)p[i] % 16, 0);
        memset(p[i], i & 0xFF, n);
        total += n;
    }
    /* far more than one 1 KiB block, and nothing overwrote anything */
    CU_ASSERT(ar_used(ar) >= total);
    CU_ASSERT(ar_used(ar) > 1024);
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 37) + 1;
        for (size_t k = 0; k < n; k++)
            if (p[i][k] != (i & 0xFF)) {
                CU_FAIL("allocation overwritten");
                i = N;
                break;
            }
    }
    /* one allocation larger than any block so far */
    unsigned char *big = ar_alloc(ar, 100000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 0xAB, 100000);
    CU_ASSERT_EQUAL(p[N - 1][0], (N - 1) & 0xFF);
    /* an impossible size fails instead of wrapping */
    CU_ASSERT_PTR_NULL(ar_alloc(ar, SIZE_MAX - 3));
    CU_ASSERT_PTR_NULL(ar_alloc(ar, SIZE_MAX - 100));
    CU_ASSERT_PTR_NULL(ar_alloc(ar, SIZE_MAX / 2 + 100));
    CU_ASSERT_PTR_NULL(ar_calloc(ar, SIZE_MAX / 2, 4));

    ar_reset(ar);
    CU_ASSERT_EQUAL(ar_used(ar), 0);
    /* usable after reset, from the kept first block */
    char *s = ar_strdup(ar, "again");
    CU_ASSERT_STRING_EQUAL(s, "again");
    ar_free(ar);
}

static void t_strings(void)
{
    arena_t *ar = ar_new(64);   /* below the minimum block: still works */
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    CU_ASSERT_STRING_EQUAL(ar_strndup(ar, "abcdef", 3), "abc");
    CU_ASSERT_PTR_NULL(ar_strdup(ar, NULL));
    CU_ASSERT_STRING_EQUAL(ar_printf(ar, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
    char longer[3000];
    memset(longer, 'q', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    char *l = ar_printf(ar, "<%s>", longer);
    CU_ASSERT_EQUAL(strlen(l), sizeof(longer) + 1);
    CU_ASSERT_EQUAL(l[0], '<');
    CU_ASSERT_EQUAL(l[sizeof(longer)], '>');
    int *z = ar_calloc(ar, 100, sizeof(int));
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    int sum = 0;
    for (int i = 0; i < 100; i++) sum |= z[i];
    CU_ASSERT_EQUAL(sum, 0);
    ar_free(ar);
}

struct order {
    int seen[8];
    int n;
};

struct mark {
    struct order *o;
    int id;
};

static void record(void *p)
{
    struct mark *m = p;
    m->o->seen[m->o->n++] = m->id;
}

static void t_cleanups(void)
{
    arena_t *ar = ar_new(1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    struct order o = {{0}, 0};
    struct mark m[4] = {{&o, 1}, {&o, 2}, {&o, 3}, {&o, 4}};
    for (int i = 0; i < 3; i++) CU_ASSERT_EQUAL(ar_defer(ar, record, &m[i]), 0);
    ar_alloc(ar, 5000);   /* cleanups survive the arena growing */
    ar_reset(ar);
    CU_ASSERT_EQUAL(o.n, 3);
    CU_ASSERT_EQUAL(o.seen[0], 3);   /* last registered runs first */
    CU_ASSERT_EQUAL(o.seen[1], 2);
    CU_ASSERT_EQUAL(o.seen[2], 1);
    /* a second reset runs nothing again */
    ar_reset(ar);
    CU_ASSERT_EQUAL(o.n, 3);
    /* free runs the cleanups registered since */
    CU_ASSERT_EQUAL(ar_defer(ar, record, &m[3]), 0);
    ar_free(ar);
    CU_ASSERT_EQUAL(o.n, 4);
    CU_ASSERT_EQUAL(o.seen[3], 4);
    ar_free(NULL);
    ar_reset(NULL);
}

static void t_buf_growth(void)
{
    arena_t *ar = ar_new(1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    buf_t b;
    buf_init(&b, ar, 0);   /* no cap */
    for (int i = 0; i < 1000; i++) CU_ASSERT_EQUAL_FATAL(buf_printf(&b, "%03d,", i), 0);
    CU_ASSERT_EQUAL(b.len, 4000);
    CU_ASSERT_EQUAL(strlen(b.p), 4000);   /* NUL-terminated */
    CU_ASSERT(strncmp(b.p, "000,001,", 8) == 0);
    CU_ASSERT(strcmp(b.p + 3996, "999,") == 0);
    CU_ASSERT(b.cap > b.len);
    CU_ASSERT_EQUAL(b.toobig, 0);
    CU_ASSERT_EQUAL(buf_adds(&b, "!"), 0);
    CU_ASSERT_EQUAL(buf_addc(&b, '?'), 0);
    CU_ASSERT_EQUAL(b.p[4000], '!');
    CU_ASSERT_EQUAL(b.p[4001], '?');
    CU_ASSERT_EQUAL(buf_add(&b, "\0x", 2), 0);   /* binary-safe */
    CU_ASSERT_EQUAL(b.len, 4004);
    CU_ASSERT_EQUAL(b.p[4003], 'x');
    buf_clear(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_STRING_EQUAL(b.p, "");
    ar_free(ar);
}

static void t_buf_cap(void)
{
    arena_t *ar = ar_new(1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    buf_t b;
    buf_init(&b, ar, 10);
    CU_ASSERT_EQUAL(buf_adds(&b, "0123456789"), 0);   /* exactly the cap */
    CU_ASSERT_EQUAL(b.toobig, 0);
    CU_ASSERT_EQUAL(buf_addc(&b, 'x'), -1);
    CU_ASSERT_EQUAL(b.toobig, 1);
    CU_ASSERT_EQUAL(b.len, 10);                        /* unchanged */
    CU_ASSERT_STRING_EQUAL(b.p, "0123456789");
    buf_clear(&b);
    CU_ASSERT_EQUAL(b.toobig, 0);
    CU_ASSERT_EQUAL(buf_adds(&b, "01234"), 0);
    CU_ASSERT_EQUAL(buf_printf(&b, "%s", "abcdef"), -1);  /* 11 > 10 */
    CU_ASSERT_EQUAL(b.toobig, 1);
    CU_ASSERT_STRING_EQUAL(b.p, "01234");
    CU_ASSERT_EQUAL(buf_add(&b, "abcdefghijklmnop", 16), -1);
    CU_ASSERT_STRING_EQUAL(b.p, "01234");
    ar_free(ar);
}

void register_arena(void)
{
    static const struct unit_case cases[] = {
        {"alloc: growth, alignment, big blocks, reset", t_alloc_growth},
        {"strings: strndup, printf, calloc", t_strings},
        {"cleanups: reverse order on reset and free", t_cleanups},
        {"buf: growth and contents", t_buf_growth},
        {"buf: cap sets toobig and keeps the contents", t_buf_cap},
        {NULL, NULL},
    };
    unit_suite("arena", cases);
}
