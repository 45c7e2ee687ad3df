/* test_rank.c: rank fusion maths (RRF and the weighted blend), and the
 * order of ties. */
#include <math.h>

#include "common/search/rank.h"
#include "test/unit/unit.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

static void t_rrf_values(void)
{
    CU_ASSERT(NEAR(rk_rrf(1, 60), 1.0 / 61));
    CU_ASSERT(NEAR(rk_rrf(10, 60), 1.0 / 70));
    CU_ASSERT(NEAR(rk_rrf(1, 1), 0.5));
    CU_ASSERT(NEAR(rk_rrf(0, 60), 0.0));
}

static void t_rrf_fuse(void)
{
    /* A: text 1 only. B: text 3 + vector 2. C: vector 1 only. D: text 2 + vector 5. */
    struct rk_item it[] = {
        {.id = 1, .text_rank = 1},
        {.id = 2, .text_rank = 3, .vec_rank = 2},
        {.id = 3, .vec_rank = 1},
        {.id = 4, .text_rank = 2, .vec_rank = 5},
    };
    struct rk_params p = {RK_RRF, 60, 0.5};
    rk_fuse(it, 4, 3, &p);
    /* B = 1/63 + 1/62, D = 1/62 + 1/65, A = 1/61, C = 1/61 */
    CU_ASSERT_EQUAL(it[0].id, 2);
    CU_ASSERT(NEAR(it[0].score, 1.0 / 63 + 1.0 / 62));
    CU_ASSERT_EQUAL(it[1].id, 4);
    CU_ASSERT(NEAR(it[1].score, 1.0 / 62 + 1.0 / 65));
    /* A and C tie at 1/61: the one with a text rank goes first. */
    CU_ASSERT_EQUAL(it[2].id, 1);
    CU_ASSERT_EQUAL(it[3].id, 3);
    CU_ASSERT(NEAR(it[2].score, it[3].score));
}

static void t_rrf_k_matters(void)
{
    /* With a small k the top of one list beats a middle place in both. */
    struct rk_item a[] = {{.id = 1, .text_rank = 1}, {.id = 2, .text_rank = 4, .vec_rank = 4}};
    struct rk_params small = {RK_RRF, 1, 0};
    rk_fuse(a, 2, 4, &small);   /* 1/2 = 0.5 vs 2/5 = 0.4 */
    CU_ASSERT_EQUAL(a[0].id, 1);
    struct rk_item b[] = {{.id = 1, .text_rank = 1}, {.id = 2, .text_rank = 4, .vec_rank = 4}};
    struct rk_params big = {RK_RRF, 60, 0};
    rk_fuse(b, 2, 4, &big);     /* 1/61 < 2/64 */
    CU_ASSERT_EQUAL(b[0].id, 2);
}

static void t_ties_total_order(void)
{
    /* Same score, same ranks: popularity, then the larger (newer) id. */
    struct rk_item it[] = {
        {.id = 7, .vec_rank = 3, .tiebreak = 5},
        {.id = 9, .vec_rank = 3, .tiebreak = 5},
        {.id = 8, .vec_rank = 3, .tiebreak = 50},
    };
    struct rk_params p = {RK_RRF, 60, 0.5};
    rk_fuse(it, 3, 0, &p);
    CU_ASSERT_EQUAL(it[0].id, 8);
    CU_ASSERT_EQUAL(it[1].id, 9);
    CU_ASSERT_EQUAL(it[2].id, 7);
}

static void t_weighted(void)
{
    /* text relevance normalised by the best (8.0); cosine clipped to 0..1 */
    struct rk_item it[] = {
        {.id = 1, .text_rank = 1, .text_score = 8.0},
        {.id = 2, .text_rank = 2, .text_score = 4.0, .vec_rank = 1, .vec_score = 0.9},
        {.id = 3, .vec_rank = 2, .vec_score = 1.7},
        {.id = 4, .vec_rank = 3, .vec_score = -0.2},
    };
    struct rk_params p = {RK_WEIGHTED, 60, 0.25};
    rk_fuse(it, 4, 2, &p);
    /* 1: .25; 2: .25*.5 + .75*.9 = .8; 3: .75*1 = .75; 4: 0 */
    CU_ASSERT_EQUAL(it[0].id, 2);
    CU_ASSERT(NEAR(it[0].score, 0.8));
    CU_ASSERT_EQUAL(it[1].id, 3);
    CU_ASSERT(NEAR(it[1].score, 0.75));
    CU_ASSERT_EQUAL(it[2].id, 1);
    CU_ASSERT(NEAR(it[2].score, 0.25));
    CU_ASSERT_EQUAL(it[3].id, 4);
    CU_ASSERT(NEAR(it[3].score, 0.0));
}

static void t_weighted_without_relevance(void)
{
    /* A browse list (no relevance): t = 1 - (rank - 1) / n. */
    struct rk_item it[] = {
        {.id = 1, .text_rank = 1},
        {.id = 2, .text_rank = 3},
        {.id = 3, .text_rank = 2},
    };
    struct rk_params p = {RK_WEIGHTED, 60, 1.0};
    rk_fuse(it, 3, 4, &p);
    CU_ASSERT_EQUAL(it[0].id, 1);
    CU_ASSERT(NEAR(it[0].score, 1.0));
    CU_ASSERT_EQUAL(it[1].id, 3);
    CU_ASSERT(NEAR(it[1].score, 0.75));
    CU_ASSERT_EQUAL(it[2].id, 2);
    CU_ASSERT(NEAR(it[2].score, 0.5));
}

static void t_method_parse(void)
{
    CU_ASSERT_EQUAL(rk_method_parse("rrf"), RK_RRF);
    CU_ASSERT_EQUAL(rk_method_parse("weighted"), RK_WEIGHTED);
    CU_ASSERT_EQUAL(rk_method_parse("borda"), -1);
}

void register_rank(void)
{
    static const struct unit_case cases[] = {
        {"rrf values", t_rrf_values},
        {"rrf fusion and order", t_rrf_fuse},
        {"rrf constant", t_rrf_k_matters},
        {"ties are a total order", t_ties_total_order},
        {"weighted blend", t_weighted},
        {"weighted without relevance", t_weighted_without_relevance},
        {"method names", t_method_parse},
        {NULL, NULL},
    };
    unit_suite("rank", cases);
}
