/* test_inr.c: Indian digit grouping of prices. */
#include <string.h>

#include <json-c/json.h>

#include "common/text/inr.h"
#include "test/unit/unit.h"

static void t_group(void)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},           {7, "7"},           {999, "999"},         {1000, "1,000"},
        {38500, "38,500"},  {99999, "99,999"},  {100000, "1,00,000"}, {150000, "1,50,000"},
        {1234567, "12,34,567"}, {12345678, "1,23,45,678"}, {38499.5, "38,500"}, {-52000, "-52,000"},
        {99.4, "99"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        inr_group(out, sizeof(out), cases[i].v);
        CU_ASSERT_STRING_EQUAL(out, cases[i].want);
    }
}

static void t_format(void)
{
    char out[64];
    inr_format(out, sizeof(out), 150000, "INR");
    CU_ASSERT_STRING_EQUAL(out, "\xE2\x82\xB9" "1,50,000");
    inr_format(out, sizeof(out), 40000, NULL);
    CU_ASSERT_STRING_EQUAL(out, "\xE2\x82\xB9" "40,000");
    inr_format(out, sizeof(out), 1200, "USD");
    CU_ASSERT_STRING_EQUAL(out, "USD 1,200");
    inr_format(out, sizeof(out), -2500, "INR");
    CU_ASSERT_STRING_EQUAL(out, "-\xE2\x82\xB9" "2,500");
    /* truncation like snprintf */
    size_t n = inr_format(out, 6, 150000, "INR");
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(strlen(out), 5);
}

/* Prices in events: whole amounts as JSON integers, others with exactly
 * two decimals, rounded to the paisa (a computed 46000.000000001 budget is
 * 46000, a quartile 38499.499 is 38499.50). */
static void t_json(void)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {38500, "38500"}, {0, "0"}, {-52000, "-52000"}, {38499.5, "38499.50"}, {1234.567, "1234.57"},
        {46000.000000001, "46000"}, {38499.499, "38499.50"}, {0.004, "0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *o = inr_json(cases[i].v);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        CU_ASSERT_STRING_EQUAL(json_object_to_json_string(o), cases[i].want);
        CU_ASSERT_EQUAL(json_object_is_type(o, json_type_int), strchr(cases[i].want, '.') == NULL);
        json_object_put(o);
    }
}

void register_inr(void)
{
    static const struct unit_case cases[] = {
        {"group", t_group},
        {"format", t_format},
        {"JSON", t_json},
        {NULL, NULL},
    };
    unit_suite("inr", cases);
}
