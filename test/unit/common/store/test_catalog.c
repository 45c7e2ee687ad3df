/* test_catalog.c: the catalog's filter clause (common/store/catalog.c
 * cat_filter_sql), written from the filter table: the exact SQL text and
 * parameters the hand-written builder produced before the table (so
 * statement caches and plans are unchanged), and room for every filter at
 * once. */
#include <string.h>

#include "common/base/arena.h"
#include "common/io/db.h"
#include "common/search/filters.h"
#include "common/store/catalog.h"
#include "test/unit/unit.h"

static void t_filter_sql_all(void)
{
    arena_t *ar = ar_new(1 << 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    struct qp_filters f;
    qp_filters_init(&f);
    qp_filter_put(&f, QPF_SIZE, "M", NULL);
    qp_filter_put(&f, QPF_COLOR, "maroon", "red");
    qp_filter_put(&f, QPF_CATEGORY, "lehenga", NULL);
    qp_filter_put(&f, QPF_DESIGNER, "Studio Kesar", NULL);
    qp_filter_put(&f, QPF_OCCASION, "festive", NULL);
    qp_filter_put(&f, QPF_FABRIC, "silk", NULL);
    qp_filter_put(&f, QPF_WORK, "zardozi", NULL);
    f.min_price = 1000;
    f.max_price = 5000;
    f.in_stock = 1;
    buf_t sql;
    buf_init(&sql, ar, 8192);
    struct db_param p[CAT_MAX_FILTER_PARAMS];
    size_t np = 0;
    cat_filter_sql(&f, &sql, p, &np);
    CU_ASSERT_STRING_EQUAL(
        sql.p,
        " AND EXISTS (SELECT 1 FROM product_sizes fs WHERE fs.product_id = p.id AND fs.size = ?)"
        " AND EXISTS (SELECT 1 FROM product_colors fc WHERE fc.product_id = p.id AND fc.family = ?)"
        " AND p.category = ?"
        " AND p.designer = ?"
        " AND EXISTS (SELECT 1 FROM product_tags ft WHERE ft.product_id = p.id AND ft.tag IN (?, ?, ?, ?))"
        " AND EXISTS (SELECT 1 FROM product_tags fb WHERE fb.product_id = p.id AND fb.tag IN (?, ?, ?, ?, ?))"
        " AND EXISTS (SELECT 1 FROM product_tags fw WHERE fw.product_id = p.id AND fw.tag = ?)"
        " AND p.price >= ?"
        " AND p.price <= ?"
        " AND p.in_stock = ?");
    CU_ASSERT_EQUAL(np, 17);
    CU_ASSERT_STRING_EQUAL(p[0].s, "M");
    CU_ASSERT_STRING_EQUAL(p[1].s, "red");
    CU_ASSERT_STRING_EQUAL(p[4].s, "festive");
    CU_ASSERT_STRING_EQUAL(p[8].s, "silk");
    CU_ASSERT_STRING_EQUAL(p[13].s, "zardozi");
    CU_ASSERT_EQUAL(p[14].type, DBP_DOUBLE);
    CU_ASSERT_EQUAL(p[14].d, 1000);
    CU_ASSERT_EQUAL(p[15].d, 5000);
    CU_ASSERT_EQUAL(p[16].type, DBP_INT);
    CU_ASSERT_EQUAL(p[16].i, 1);
    ar_free(ar);
}

static void t_filter_sql_alt(void)
{
    arena_t *ar = ar_new(1 << 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    struct qp_filters f;
    qp_filters_init(&f);
    qp_filter_put(&f, QPF_COLOR, "peacock-ish", NULL);   /* no family: the colour's own column */
    qp_filter_put(&f, QPF_OCCASION, "picnic", NULL);     /* unknown: itself, still a list */
    f.in_stock = 0;
    buf_t sql;
    buf_init(&sql, ar, 8192);
    struct db_param p[CAT_MAX_FILTER_PARAMS];
    size_t np = 0;
    cat_filter_sql(&f, &sql, p, &np);
    CU_ASSERT_STRING_EQUAL(
        sql.p,
        " AND EXISTS (SELECT 1 FROM product_colors fc WHERE fc.product_id = p.id AND fc.color = ?)"
        " AND EXISTS (SELECT 1 FROM product_tags ft WHERE ft.product_id = p.id AND ft.tag IN (?))"
        " AND p.in_stock = ?");
    CU_ASSERT_EQUAL(np, 3);
    CU_ASSERT_STRING_EQUAL(p[0].s, "peacock-ish");
    CU_ASSERT_EQUAL(p[2].i, 0);
    /* nothing set: nothing written */
    qp_filters_init(&f);
    buf_clear(&sql);
    np = 0;
    cat_filter_sql(&f, &sql, p, &np);
    CU_ASSERT_EQUAL(np, 0);
    CU_ASSERT(!sql.p || !sql.p[0]);
    ar_free(ar);
}

/* A category matched by its words: the column, or the words in the text. */
static void t_filter_sql_broad(void)
{
    arena_t *ar = ar_new(1 << 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    struct qp_filters f;
    qp_filters_init(&f);
    qp_filter_put(&f, QPF_CATEGORY, "anarkali", NULL);
    f.broad = QPF_BIT(QPF_CATEGORY);
    buf_t sql;
    buf_init(&sql, ar, 8192);
    struct db_param p[CAT_MAX_FILTER_PARAMS];
    size_t np = 0;
    cat_filter_sql(&f, &sql, p, &np);
    CU_ASSERT_STRING_EQUAL(sql.p, " AND (p.category = ? OR MATCH(p.title, p.description, p.tags, p.designer, "
                                  "p.category) AGAINST (? IN BOOLEAN MODE))");
    CU_ASSERT_EQUAL(np, 2);
    CU_ASSERT_STRING_EQUAL(p[0].s, "anarkali");
    CU_ASSERT_STRING_EQUAL(p[1].s, "anarkali anarkalis");
    /* a category with no words known stays the column */
    qp_filter_put(&f, QPF_CATEGORY, "palazzos", NULL);
    buf_clear(&sql);
    np = 0;
    cat_filter_sql(&f, &sql, p, &np);
    CU_ASSERT_STRING_EQUAL(sql.p, " AND p.category = ?");
    ar_free(ar);
}

/* CAT_MAX_FILTER_PARAMS holds every filter's most values at once. */
static void t_filter_params_room(void)
{
    int most = 0;
    for (int id = 0; id < QPF_N; id++)
        most += (qp_filter_defs[id].accepts ? qp_filter_defs[id].max_values : 1) + (qp_filter_defs[id].broad ? 1 : 0);
    CU_ASSERT(most <= CAT_MAX_FILTER_PARAMS);
}

void register_catalog(void)
{
    static const struct unit_case cases[] = {
        {"filter clause: every filter", t_filter_sql_all},
        {"filter clause: unknown values", t_filter_sql_alt},
        {"filter clause: a category by its words", t_filter_sql_broad},
        {"filter clause: room for parameters", t_filter_params_room},
        {NULL, NULL},
    };
    unit_suite("catalog", cases);
}
