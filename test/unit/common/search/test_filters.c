/* test_filters.c: the filter table (common/search/filters.c): its rows
 * agree with struct qp_filters and struct qp_given, every reader
 * (override, set/clear, values, groups, JSON) follows it, and the
 * relaxation groups cover every filter once. */
#include <stddef.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/filters.h"
#include "common/search/qparse.h"
#include "test/unit/unit.h"

/* Every row: its id is its place, names are unique, fields lie inside the
 * structs at their real widths, text filters say where the catalog keeps
 * them. */
static void t_rows(void)
{
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        CU_ASSERT_EQUAL(d->id, id);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d->name);
        for (int j = 0; j < id; j++) CU_ASSERT(strcmp(qp_filter_defs[j].name, d->name) != 0);
        CU_ASSERT(d->off < sizeof(struct qp_filters));
        CU_ASSERT(d->given < sizeof(struct qp_given));
        CU_ASSERT_PTR_NOT_NULL(d->column);
        CU_ASSERT_PTR_NOT_NULL(d->bits);
        CU_ASSERT((int)d->group >= 0 && d->group < QPG_N);
        if (d->kind == QPF_TEXT || d->kind == QPF_COLOUR) {
            CU_ASSERT(d->cap >= 32);
            CU_ASSERT(d->off + d->cap <= sizeof(struct qp_filters));
            CU_ASSERT(d->accepts ? d->max_values > 0 && d->max_values <= QPF_MAX_VALUES : d->op != NULL);
        } else {
            CU_ASSERT_PTR_NOT_NULL(d->op);
            CU_ASSERT_EQUAL(d->from_words, QPF_HARD);   /* prices and stock words are unambiguous */
        }
    }
    /* the widths are the struct's */
    struct qp_filters f;
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_SIZE].cap, sizeof(f.size));
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_COLOR].cap, sizeof(f.color));
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_COLOR].alt_cap, sizeof(f.color_family));
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_DESIGNER].cap, sizeof(f.designer));
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_WORK].off, offsetof(struct qp_filters, work));
    CU_ASSERT_EQUAL(qp_filter_defs[QPF_WORK].given, offsetof(struct qp_given, work));
    /* every group has a filter, names unique */
    for (int g = 0; g < QPG_N; g++) {
        int n = 0;
        for (int id = 0; id < QPF_N; id++) n += qp_filter_defs[id].group == (enum qp_group)g;
        CU_ASSERT(n >= 1);
        CU_ASSERT_EQUAL(qp_group_defs[g].id, g);
        CU_ASSERT_PTR_NOT_NULL(qp_group_defs[g].what);
        for (int h = 0; h < g; h++) CU_ASSERT(strcmp(qp_group_defs[h].name, qp_group_defs[g].name) != 0);
    }
}

/* Set, clear, is_set and the groups, for every filter in turn. */
static void t_set_clear(void)
{
    struct qp_filters f;
    qp_filters_init(&f);
    CU_ASSERT(!qp_filters_any(&f));
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        struct qp_filters one;
        qp_filters_init(&one);
        if (d->kind == QPF_TEXT || d->kind == QPF_COLOUR) qp_filter_put(&one, d->id, "x", NULL);
        else if (d->kind == QPF_BOOL) one.in_stock = 0;
        else if (d->kind == QPF_MIN) one.min_price = 0;
        else one.max_price = 0;
        CU_ASSERT(qp_filter_is_set(&one, d->id));
        CU_ASSERT(qp_filters_any(&one));
        CU_ASSERT(qp_group_is_set(&one, d->group));
        for (int other = 0; other < QPF_N; other++)
            if (other != id) CU_ASSERT(!qp_filter_is_set(&one, (enum qp_filter_id)other));
        CU_ASSERT_EQUAL(qp_group_clear(&one, d->group), 1);
        CU_ASSERT(!qp_filters_any(&one));
        CU_ASSERT_EQUAL(memcmp(&one, &f, sizeof(f)), 0);
        CU_ASSERT_EQUAL(qp_group_clear(&one, d->group), 0);
    }
    /* a colour with only a family is set; clearing takes both */
    qp_filter_put(&f, QPF_COLOR, "", "red");
    CU_ASSERT(qp_filter_is_set(&f, QPF_COLOR));
    qp_filter_clear(&f, QPF_COLOR);
    CU_ASSERT(!qp_filters_any(&f));
    /* the price group is both bounds */
    f.min_price = 100;
    f.max_price = 200;
    CU_ASSERT_EQUAL(qp_group_clear(&f, QPG_PRICE), 1);
    CU_ASSERT(f.min_price < 0 && f.max_price < 0);
    /* a value longer than its field is cut */
    char longname[300];
    memset(longname, 'd', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    qp_filter_put(&f, QPF_DESIGNER, longname, NULL);
    CU_ASSERT_EQUAL(strlen(f.designer), sizeof(f.designer) - 1);
}

/* The values SQL and the bitmaps match: a family for a known colour, the
 * colour's name in the other column for an unknown one, an occasion's and
 * a fabric's accepted tags (capped), a value alone otherwise. */
static void t_values(void)
{
    struct qp_filters f;
    const char *v[QPF_MAX_VALUES];
    int alt;
    qp_filters_init(&f);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_SIZE, v, &alt), 0);
    qp_filter_put(&f, QPF_COLOR, "maroon", "red");
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_COLOR, v, &alt), 1);
    CU_ASSERT_STRING_EQUAL(v[0], "red");
    CU_ASSERT_EQUAL(alt, 0);
    qp_filter_put(&f, QPF_COLOR, "peacock-ish", NULL);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_COLOR, v, &alt), 1);
    CU_ASSERT_STRING_EQUAL(v[0], "peacock-ish");
    CU_ASSERT_EQUAL(alt, 1);
    qp_filter_put(&f, QPF_OCCASION, "festive", NULL);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_OCCASION, v, &alt), 4);
    CU_ASSERT_STRING_EQUAL(v[0], "festive");
    qp_filter_put(&f, QPF_OCCASION, "picnic", NULL);   /* unknown: itself */
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_OCCASION, v, &alt), 1);
    CU_ASSERT_STRING_EQUAL(v[0], "picnic");
    qp_filter_put(&f, QPF_FABRIC, "silk", NULL);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_FABRIC, v, &alt), 5);
    qp_filter_put(&f, QPF_FABRIC, "velvet", NULL);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_FABRIC, v, &alt), 1);
    CU_ASSERT_EQUAL(qp_filter_values(&f, QPF_MIN_PRICE, v, &alt), 0);   /* not a text filter */
}

/* Parameters read through the table land in the fields override reads. */
static void t_given(void)
{
    struct qp_given g;
    qp_given_init(&g);
    for (int id = 0; id < QPF_N; id++) CU_ASSERT_PTR_NULL(qp_given_text(&g, (enum qp_filter_id)id));
    CU_ASSERT(g.min_price < 0 && g.max_price < 0 && g.in_stock < 0);
    qp_given_set_text(&g, QPF_CATEGORY, "Sarees");
    qp_given_set_text(&g, QPF_COLOR, "Navy-Blue");
    qp_given_set_num(&g, QPF_MAX_PRICE, 5000);
    qp_given_set_num(&g, QPF_IN_STOCK, 1);
    CU_ASSERT_STRING_EQUAL(g.category, "Sarees");
    CU_ASSERT_EQUAL(g.max_price, 5000);
    CU_ASSERT_EQUAL(g.in_stock, 1);
    struct qp_filters f;
    qp_filters_init(&f);
    qp_filters_override(&f, &g);
    CU_ASSERT_STRING_EQUAL(f.category, "saree");
    CU_ASSERT_STRING_EQUAL(f.color, "navy");
    CU_ASSERT_STRING_EQUAL(f.color_family, "blue");
    CU_ASSERT_EQUAL(f.max_price, 5000);
    CU_ASSERT(f.min_price < 0);
    CU_ASSERT_EQUAL(f.in_stock, 1);
}

/* The JSON keys are the table's names, only set filters appear, prices are
 * whole rupees when whole. */
static void t_json(void)
{
    struct qp_result r;
    qp_parse("maroon silk lehenga size M for wedding in stock between 1000 and 2500.50 zardozi", &r);
    json_object *o = qp_filters_json(&r.f);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                           "{\"size\":\"M\",\"color\":\"maroon\",\"colorFamily\":\"red\",\"category\":\"lehenga\","
                           "\"occasion\":\"wedding\",\"fabric\":\"silk\",\"work\":\"zardozi\",\"minPrice\":1000,"
                           "\"maxPrice\":2500.50,\"inStock\":true}");
    json_object_put(o);
    struct qp_filters none;
    qp_filters_init(&none);
    o = qp_filters_json(&none);
    CU_ASSERT_EQUAL(json_object_object_length(o), 0);
    json_object_put(o);
}

/* Relaxation messages: the group's phrase; for stock, what was asked. */
static void t_groups(void)
{
    struct qp_filters f;
    qp_filters_init(&f);
    f.in_stock = 1;
    CU_ASSERT_STRING_EQUAL(qp_group_what(&f, QPG_STOCK), "counting pieces out of stock");
    f.in_stock = 0;
    CU_ASSERT_STRING_EQUAL(qp_group_what(&f, QPG_STOCK), "counting pieces in stock");
    CU_ASSERT_STRING_EQUAL(qp_group_what(&f, QPG_SIZE), "in other sizes");
    CU_ASSERT_STRING_EQUAL(qp_group_defs[QPG_SIZE].facet, "sizes");
    CU_ASSERT_PTR_NULL(qp_group_defs[QPG_FABRIC].facet);
    /* the order a shopper gives filters up: price first, category last */
    CU_ASSERT_EQUAL(QPG_PRICE, 0);
    CU_ASSERT_EQUAL(QPG_CATEGORY, QPG_N - 1);
    /* words some filter understands */
    CU_ASSERT(qp_filter_word_known("maroon"));
    CU_ASSERT(qp_filter_word_known("xl"));
    CU_ASSERT(qp_filter_word_known("zardozi"));
    CU_ASSERT(!qp_filter_word_known("sabyasachi"));
}

void register_filters(void)
{
    static const struct unit_case cases[] = {
        {"rows agree with the structs", t_rows},
        {"set, clear, groups per filter", t_set_clear},
        {"values matched in SQL and bitmaps", t_values},
        {"given values through the table", t_given},
        {"filters as JSON", t_json},
        {"relaxation groups", t_groups},
        {NULL, NULL},
    };
    unit_suite("filters", cases);
}
