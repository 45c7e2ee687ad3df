/* test_catbits.c: the attribute bitmaps' set operations, survivor
 * listing, keys, cost model and tier widening (common/store/catbits.c). */
#include <string.h>

#include "common/base/arena.h"
#include "common/store/catbits.h"
#include "test/unit/unit.h"

static void set(uint8_t *b, int id)
{
    b[id / 8] |= (uint8_t)(1u << (id % 8));
}

static void test_count_and_ops(void)
{
    uint8_t a[40] = {0}, b[40] = {0};
    int in_a[] = {0, 1, 7, 8, 63, 64, 100, 319};
    for (size_t i = 0; i < sizeof(in_a) / sizeof(in_a[0]); i++) set(a, in_a[i]);
    set(b, 7);
    set(b, 64);
    set(b, 200);
    CU_ASSERT_EQUAL(cb_count(a, sizeof(a)), 8);
    CU_ASSERT_EQUAL(cb_count(a, 1), 3);   /* 0, 1, 7 */
    CU_ASSERT_EQUAL(cb_count_and(a, sizeof(a), b, sizeof(b)), 2);
    CU_ASSERT_EQUAL(cb_count_and(a, sizeof(a), b, 8), 1);   /* only 7 within b's first 8 bytes */

    uint8_t w[40];
    memcpy(w, a, sizeof(w));
    cb_and(w, sizeof(w), b, sizeof(b));
    int64_t ids[16];
    CU_ASSERT_EQUAL(cb_list(w, sizeof(w), ids, 16), 2);
    CU_ASSERT_EQUAL(ids[0], 7);
    CU_ASSERT_EQUAL(ids[1], 64);

    /* a shorter source: the bytes it lacks are zero */
    memcpy(w, a, sizeof(w));
    cb_and(w, sizeof(w), b, 1);
    CU_ASSERT_EQUAL(cb_list(w, sizeof(w), ids, 16), 1);
    CU_ASSERT_EQUAL(ids[0], 7);

    memcpy(w, a, sizeof(w));
    cb_andnot(w, sizeof(w), b, sizeof(b));
    CU_ASSERT_EQUAL(cb_count(w, sizeof(w)), 6);
    CU_ASSERT_EQUAL(w[0], (uint8_t)0x03);   /* 0 and 1 left, 7 gone */

    memcpy(w, a, sizeof(w));
    cb_or(w, sizeof(w), b, sizeof(b));
    CU_ASSERT_EQUAL(cb_count(w, sizeof(w)), 9);   /* 200 added */
    memcpy(w, a, sizeof(w));
    cb_or(w, 8, b, sizeof(b));   /* dst shorter than src: only its bytes */
    CU_ASSERT_EQUAL(cb_count(w, sizeof(w)), 8);
}

static void test_list_order_and_cap(void)
{
    uint8_t b[1000] = {0};
    int want[] = {3, 9, 17, 4000, 7999};
    for (int i = 0; i < 5; i++) set(b, want[i]);
    int64_t ids[8];
    CU_ASSERT_EQUAL(cb_list(b, sizeof(b), ids, 8), 5);
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(ids[i], want[i]);
    CU_ASSERT_EQUAL(cb_list(b, sizeof(b), ids, 2), 2);   /* the first (smallest) ids */
    CU_ASSERT_EQUAL(ids[1], 9);
    CU_ASSERT_EQUAL(cb_max_id(b, sizeof(b)), 7999);
    memset(b, 0, sizeof(b));
    CU_ASSERT_EQUAL(cb_max_id(b, sizeof(b)), -1);
    CU_ASSERT_EQUAL(cb_list(b, sizeof(b), ids, 8), 0);
    set(b, 0);
    CU_ASSERT_EQUAL(cb_max_id(b, sizeof(b)), 0);
}

static void test_keys(void)
{
    arena_t *ar = ar_new(4096);
    CU_ASSERT_STRING_EQUAL(cb_key(ar, "tag:", "velvet"), "tag:velvet");
    /* no folding here: the key column's collation compares as the child tables do */
    CU_ASSERT_STRING_EQUAL(cb_key(ar, "des:", "Ritu Kumar"), "des:Ritu Kumar");
    CU_ASSERT_STRING_EQUAL(cb_key(ar, "col:", "\xc3\xa9" "cru"), "col:\xc3\xa9" "cru");
    char longv[300];
    memset(longv, 'x', 196);
    longv[196] = '\0';
    CU_ASSERT_PTR_NOT_NULL(cb_key(ar, "des:", longv));   /* 200 characters */
    longv[196] = 'x';
    longv[197] = '\0';
    CU_ASSERT_PTR_NULL(cb_key(ar, "des:", longv));       /* 201 */
    /* characters, not bytes: 196 two-byte characters fit */
    for (int i = 0; i < 98; i++) memcpy(longv + 2 * i, "\xc3\xa9", 2);
    longv[196] = '\0';
    CU_ASSERT_PTR_NOT_NULL(cb_key(ar, "des:", longv));
    ar_free(ar);
}

static void test_cost_model(void)
{
    /* "maroon velvet bridal lehenga" at 100k: 227 of 17,020 lehengas */
    struct cb_cost c = {.base = 17020, .survivors = 227, .read = 227, .limit = 200, .nexists = 3};
    CU_ASSERT_TRUE(cb_prefer_bits(&c));
    CU_ASSERT_TRUE(cb_cost_walk(&c) > 10 * cb_cost_bits(&c));
    /* plain "lehenga": the walk stops after 200 entries, no probes */
    c = (struct cb_cost){.base = 17020, .survivors = 17020, .read = 255, .limit = 200, .nexists = 0};
    CU_ASSERT_FALSE(cb_prefer_bits(&c));
    CU_ASSERT_DOUBLE_EQUAL(cb_cost_walk(&c), 200 * CB_C_ENTRY, 1e-9);
    /* no survivor: the walk would read the whole category */
    c = (struct cb_cost){.base = 5000, .survivors = 0, .read = 0, .limit = 200, .nexists = 1};
    CU_ASSERT_DOUBLE_EQUAL(cb_cost_walk(&c), 5000 * (CB_C_ENTRY + CB_C_PROBE) + CB_C_SEMIJOIN, 1e-9);
    CU_ASSERT_TRUE(cb_prefer_bits(&c));
    /* many survivors to read (no tier small enough) and no EXISTS filter: walk */
    c = (struct cb_cost){.base = 100000, .survivors = 60000, .read = 60000, .limit = 200, .nexists = 0};
    CU_ASSERT_FALSE(cb_prefer_bits(&c));
    /* the bitmap cost counts what it reads, the probes only on the kept */
    c = (struct cb_cost){.base = 100000, .survivors = 5000, .read = 300, .limit = 200, .nexists = 2};
    CU_ASSERT_DOUBLE_EQUAL(cb_cost_bits(&c), CB_C_FIXED + 300 * CB_C_READ + 200 * 2 * CB_C_PROBE, 1e-9);
}

static void test_widen(void)
{
    arena_t *ar = ar_new(4096);
    enum { LEN = 128 };   /* ids 0..1023 */
    static uint8_t w[LEN], scratch[LEN], t1[LEN], t2[LEN];
    memset(w, 0, LEN);
    memset(t1, 0, LEN);
    memset(t2, 0, LEN);
    for (int id = 1; id < 1000; id += 2) set(w, id);   /* 500 survivors: odd ids */
    for (int id = 0; id < 20; id++) set(t1, id);       /* tier 1: 10 of them */
    for (int id = 0; id < 200; id++) set(t2, id);      /* tier 2: 100 of them */
    struct cb_plan pl;
    memset(&pl, 0, sizeof(pl));
    pl.ar = ar;
    pl.w = w;
    pl.scratch = scratch;
    pl.wlen = LEN;
    pl.tier[0] = t1;
    pl.tierlen[0] = LEN;
    pl.tier[1] = t2;
    pl.tierlen[1] = 25;   /* trimmed: ids 0..199 */
    pl.cost.survivors = 500;
    pl.at = -1;
    /* want 5: tier 1 holds 10 */
    CU_ASSERT_EQUAL(cb_plan_widen(&pl, 5), 1);
    CU_ASSERT_EQUAL(pl.at, 0);
    CU_ASSERT_EQUAL(pl.nids, 10);
    CU_ASSERT_EQUAL(pl.ids[0], 1);
    CU_ASSERT_EQUAL(pl.ids[9], 19);
    /* then tier 2 (100), then all 500, then nothing more */
    CU_ASSERT_EQUAL(cb_plan_widen(&pl, 5), 1);
    CU_ASSERT_EQUAL(pl.nids, 100);
    CU_ASSERT_EQUAL(cb_plan_widen(&pl, 5), 1);
    CU_ASSERT_EQUAL(pl.at, CB_TIERS);
    CU_ASSERT_EQUAL(pl.nids, 500);
    CU_ASSERT_EQUAL(pl.ids[499], 999);
    CU_ASSERT_EQUAL(cb_plan_widen(&pl, 5), 0);
    /* want 50 from scratch: tier 1 is too small, tier 2 is the first */
    pl.at = -1;
    pl.ids = NULL;
    pl.nids = 0;
    CU_ASSERT_EQUAL(cb_plan_widen(&pl, 50), 1);
    CU_ASSERT_EQUAL(pl.at, 1);
    CU_ASSERT_EQUAL(pl.nids, 100);
    ar_free(ar);
}

void register_catbits(void)
{
    static const struct unit_case cases[] = {
        {"count and set operations", test_count_and_ops},
        {"survivors listed in id order", test_list_order_and_cap},
        {"keys", test_keys},
        {"cost model decides", test_cost_model},
        {"tiers widen until all survivors", test_widen},
        {NULL, NULL},
    };
    unit_suite("catbits", cases);
}
