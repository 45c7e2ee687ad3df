/* test_intent.c: intent analysis against a table of shopper messages
 * (English and Hinglish), conversation resolution and the JSON shapes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/assist/intent.h"
#include "test/unit/unit.h"

static const char *const designers[] = {
    "Sabyasachi", "Manish Malhotra", "Anita Dongre", "Tarun Tahiliani", "Ritu Kumar",
    "Anamika Khanna", "Masaba", "Raw Mango",
};
static const struct it_lexicon lex = {designers, sizeof(designers) / sizeof(designers[0])};

/* NULL: the entity must be empty. Budget 0: open end. */
struct it_case {
    const char *msg;
    enum it_kind intent;
    const char *category, *color, *family, *size, *occasion, *designer, *fabric;
    double bmin, bmax;
};

#define PS IT_PRODUCT_SEARCH
#define RE IT_RECOMMENDATION
#define CO IT_COMPARISON
#define PR IT_PRICE_INQUIRY
#define AV IT_AVAILABILITY
#define OA IT_OCCASION_ADVICE
#define GR IT_GREETING
#define SU IT_SUPPORT
#define OT IT_OTHER

static const struct it_case cases[] = {
    /* the headline */
    {"I need a red lehenga for my sister's sangeet, budget around 40k, size M", PS, "lehenga", "red", "red",
     "M", "sangeet", NULL, NULL, 34000, 46000},
    /* product search, English */
    {"Show me blue sarees under \xE2\x82\xB9" "5,000", PS, "saree", "blue", "blue", NULL, NULL, NULL, NULL, 0, 5000},
    {"maroon sherwani for my brother's wedding", PS, "sherwani", "maroon", "red", NULL, "wedding", NULL, NULL, 0, 0},
    {"looking for a silk saree between 10000 and 20000", PS, "saree", NULL, NULL, NULL, NULL, NULL, "silk", 10000,
     20000},
    {"Manish Malhotra gowns", PS, "gown", NULL, NULL, NULL, NULL, "Manish Malhotra", NULL, 0, 0},
    {"anita dongre kurta in white", PS, "kurta", "white", "white", NULL, NULL, "Anita Dongre", NULL, 0, 0},
    {"velvet sherwani for a winter wedding", PS, "sherwani", NULL, NULL, NULL, "wedding", NULL, "velvet", 0, 0},
    {"organza saree in pastel pink", PS, "saree", "pink", "pink", NULL, NULL, NULL, "organza", 0, 0},
    {"chiffon saree for office", PS, "saree", NULL, NULL, NULL, "office", NULL, "chiffon", 0, 0},
    {"cotton kurta for daily wear", PS, "kurta", NULL, NULL, NULL, NULL, NULL, "cotton", 0, 0},
    {"party wear gown under 15000", PS, "gown", NULL, NULL, NULL, "party", NULL, NULL, 0, 15000},
    {"mehndi outfit in green", PS, NULL, "green", "green", NULL, "mehendi", NULL, NULL, 0, 0},
    {"yellow kurta for haldi under 3k", PS, "kurta", "yellow", "yellow", NULL, "haldi", NULL, NULL, 0, 3000},
    {"reception gown in navy blue, size S", PS, "gown", "navy", "blue", "S", "reception", NULL, NULL, 0, 0},
    {"sherwani 1.5 lakh", PS, "sherwani", NULL, NULL, NULL, NULL, NULL, NULL, 127500, 172500},
    {"lehengas from 20000 to 30000", PS, "lehenga", NULL, NULL, NULL, NULL, NULL, NULL, 20000, 30000},
    {"sarees above 50k", PS, "saree", NULL, NULL, NULL, NULL, NULL, NULL, 50000, 0},
    {"XL kurta", PS, "kurta", NULL, NULL, "XL", NULL, NULL, NULL, 0, 0},
    {"free size dupatta in gold", PS, "dupatta", "gold", "gold", "Free Size", NULL, NULL, NULL, 0, 0},
    {"show me kurtas in size 38", PS, "kurta", NULL, NULL, "38", NULL, NULL, NULL, 0, 0},
    {"engagement lehenga under 80k", PS, "lehenga", NULL, NULL, NULL, "engagement", NULL, NULL, 0, 80000},
    {"Tarun Tahiliani sherwani for my shaadi", PS, "sherwani", NULL, NULL, NULL, "wedding", "Tarun Tahiliani",
     NULL, 0, 0},
    {"I'm looking for a festive anarkali around 12000", PS, "anarkali", NULL, NULL, NULL, "festive", NULL, NULL,
     10200, 13800},
    {"rani pink lehenga for sangeet", PS, "lehenga", "rani pink", "pink", NULL, "sangeet", NULL, NULL, 0, 0},
    {"hey, I need a black gown for a cocktail party", PS, "gown", "black", "black", NULL, "cocktail", NULL, NULL, 0,
     0},
    {"want a sharara in mint green, size L, budget 25k", PS, "sharara", "mint", "green", "L", NULL, NULL, NULL, 0,
     25000},
    {"I want something elegant", PS, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* product search, Hinglish */
    {"laal lehenga chahiye shaadi ke liye", PS, "lehenga", "red", "red", NULL, "wedding", NULL, NULL, 0, 0},
    {"mujhe neeli saree dikhao 3000 ke andar", PS, "saree", "blue", "blue", NULL, NULL, NULL, NULL, 0, 3000},
    {"50k tak ka lehenga", PS, "lehenga", NULL, NULL, NULL, NULL, NULL, NULL, 0, 50000},
    {"navratri ke liye chaniya choli", PS, "lehenga", NULL, NULL, NULL, "navratri", NULL, NULL, 0, 0},
    {"peeli kurti haldi ke liye 2 hazaar tak", PS, "kurta", "yellow", "yellow", NULL, "haldi", NULL, NULL, 0, 2000},
    {"sabyasachi ka lehenga dikhao", PS, "lehenga", NULL, NULL, NULL, NULL, "Sabyasachi", NULL, 0, 0},
    {"gulabi sharara chahiye size M", PS, "sharara", "pink", "pink", "M", NULL, NULL, NULL, 0, 0},
    /* follow-ups */
    {"show me in blue instead", PS, NULL, "blue", "blue", NULL, NULL, NULL, NULL, 0, 0},
    {"anything cheaper?", PS, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"kuch sasta dikhao", PS, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"any in size L?", PS, NULL, NULL, NULL, "L", NULL, NULL, NULL, 0, 0},
    {"what about sarees?", PS, "saree", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* recommendation */
    {"recommend a lehenga for my wedding", RE, "lehenga", NULL, NULL, NULL, "wedding", NULL, NULL, 0, 0},
    {"what's trending in sarees", RE, "saree", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"best sherwani for the groom", RE, "sherwani", NULL, NULL, NULL, "wedding", NULL, NULL, 0, 0},
    {"popular bridal lehengas", RE, "lehenga", NULL, NULL, NULL, "wedding", NULL, NULL, 0, 0},
    {"koi accha kurta suggest karo", RE, "kurta", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* comparison */
    {"compare Sabyasachi and Manish Malhotra lehengas", CO, "lehenga", NULL, NULL, NULL, NULL, "Sabyasachi", NULL, 0,
     0},
    {"lehenga vs gown for reception", CO, "lehenga", NULL, NULL, NULL, "reception", NULL, NULL, 0, 0},
    {"which is better for sangeet, sharara or lehenga?", CO, "sharara", NULL, NULL, NULL, "sangeet", NULL, NULL, 0,
     0},
    {"silk ya georgette, kaunsa behtar hai", CO, NULL, NULL, NULL, NULL, NULL, NULL, "silk", 0, 0},
    {"difference between banarasi and kanjivaram sarees", CO, "saree", NULL, NULL, NULL, NULL, NULL,
     "banarasi silk", 0, 0},
    /* price inquiry */
    {"how much is a Sabyasachi lehenga?", PR, "lehenga", NULL, NULL, NULL, NULL, "Sabyasachi", NULL, 0, 0},
    {"what's the price range for kurtas", PR, "kurta", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"kitne ka hai yeh anarkali", PR, "anarkali", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"lehenga ki keemat kya hai", PR, "lehenga", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"how expensive are designer sherwanis", PR, "sherwani", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* availability */
    {"is the green anarkali available in XL?", AV, "anarkali", "green", "green", "XL", NULL, NULL, NULL, 0, 0},
    {"do you have sherwanis in size 40 in stock", AV, "sherwani", NULL, NULL, "40", NULL, NULL, NULL, 0, 0},
    {"kya yeh saree stock mein hai", AV, "saree", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"is it sold out", AV, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* occasion advice */
    {"what should I wear to a mehendi?", OA, NULL, NULL, NULL, NULL, "mehendi", NULL, NULL, 0, 0},
    {"haldi ke liye kya pehnu", OA, NULL, NULL, NULL, NULL, "haldi", NULL, NULL, 0, 0},
    {"outfit ideas for a cocktail party", OA, NULL, NULL, NULL, NULL, "cocktail", NULL, NULL, 0, 0},
    {"dress code for a reception", OA, NULL, NULL, NULL, NULL, "reception", NULL, NULL, 0, 0},
    {"I need an outfit for my cousin's sangeet", OA, NULL, NULL, NULL, NULL, "sangeet", NULL, NULL, 0, 0},
    {"suggest something for diwali", OA, NULL, NULL, NULL, NULL, "diwali", NULL, NULL, 0, 0},
    /* greeting */
    {"hi", GR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"Hello there!", GR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"namaste", GR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"good morning", GR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"thank you so much", GR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* support */
    {"where is my order?", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"I want to return my lehenga", SU, "lehenga", NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"what is your return policy", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"how long does shipping take to Pune", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"mera order kab aayega", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"refund nahi aaya", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"cancel my order please", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"I placed an order last week, can I exchange the size?", SU, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"I want to order a red lehenga", PS, "lehenga", "red", "red", NULL, NULL, NULL, NULL, 0, 0},
    /* other */
    {"what is the weather today", OT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"tell me a joke", OT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"asdfgh", OT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
    {"", OT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0},
};

static int str_ok(const char *got, const char *want)
{
    return want ? strcmp(got, want) == 0 : got[0] == '\0';
}

static void t_table(void)
{
    size_t n = sizeof(cases) / sizeof(cases[0]);
    size_t bad = 0;
    CU_ASSERT(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const struct it_case *c = &cases[i];
        struct it_result r;
        it_analyze(c->msg, &lex, &r);
        const struct it_entities *e = &r.e;
        int ok = r.intent == c->intent && str_ok(e->category, c->category) && str_ok(e->color, c->color) &&
                 str_ok(e->color_family, c->family) && str_ok(e->size, c->size) &&
                 str_ok(e->occasion, c->occasion) && str_ok(e->designer, c->designer) &&
                 str_ok(e->fabric, c->fabric) && fabs(e->budget_min - c->bmin) < 0.5 &&
                 fabs(e->budget_max - c->bmax) < 0.5 && r.confidence >= 0 && r.confidence <= 1;
        if (!ok) {
            bad++;
            fprintf(stderr,
                    "\n  intent case %zu \"%s\": got %s cat=%s color=%s/%s size=%s occ=%s des=%s fab=%s "
                    "budget=%.0f-%.0f conf=%.2f",
                    i, c->msg, it_kind_name(r.intent), e->category, e->color, e->color_family, e->size,
                    e->occasion, e->designer, e->fabric, e->budget_min, e->budget_max, r.confidence);
        }
        CU_ASSERT(ok);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void t_confidence(void)
{
    struct it_result full, vague, junk;
    it_analyze("I need a red lehenga for my sister's sangeet, budget around 40k, size M", &lex, &full);
    it_analyze("I want something elegant", &lex, &vague);
    it_analyze("asdfgh qwerty zxcv", &lex, &junk);
    CU_ASSERT(full.confidence >= 0.85);
    CU_ASSERT(vague.confidence < full.confidence);
    CU_ASSERT(junk.confidence < vague.confidence);
    CU_ASSERT(junk.confidence <= 0.3);
    /* around: the band and its target */
    CU_ASSERT(full.e.budget_around);
    CU_ASSERT_DOUBLE_EQUAL(full.e.budget_target, 40000, 0.5);
    CU_ASSERT_EQUAL(full.e.src[IT_F_BUDGET], IT_SRC_MESSAGE);
    CU_ASSERT_EQUAL(full.e.src[IT_F_DESIGNER], IT_SRC_NONE);
}

static void t_deterministic(void)
{
    struct it_result a, b;
    it_analyze("laal lehenga chahiye shaadi ke liye, 40k", &lex, &a);
    it_analyze("laal lehenga chahiye shaadi ke liye, 40k", &lex, &b);
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    /* no designer list: no designer, nothing else changes */
    struct it_result c;
    it_analyze("sabyasachi lehenga", NULL, &c);
    CU_ASSERT_STRING_EQUAL(c.e.designer, "");
    CU_ASSERT_STRING_EQUAL(c.e.category, "lehenga");
}

static void analyze_resolve(const char *msg, const struct it_entities *prev, double ref, const struct it_context *cx,
                            struct it_result *r)
{
    it_analyze(msg, &lex, r);
    it_resolve(r, prev, ref, cx);
}

static void t_followup_color(void)
{
    struct it_result first, second;
    analyze_resolve("I need a red lehenga for my sister's sangeet, budget around 40k, size M", NULL, 0, NULL, &first);
    analyze_resolve("show me in blue instead", &first.e, 38500, NULL, &second);
    CU_ASSERT_EQUAL(second.intent, IT_PRODUCT_SEARCH);
    CU_ASSERT_STRING_EQUAL(second.e.color, "blue");
    CU_ASSERT_EQUAL(second.e.src[IT_F_COLOR], IT_SRC_MESSAGE);
    CU_ASSERT_STRING_EQUAL(second.e.category, "lehenga");
    CU_ASSERT_EQUAL(second.e.src[IT_F_CATEGORY], IT_SRC_HISTORY);
    CU_ASSERT_STRING_EQUAL(second.e.size, "M");
    CU_ASSERT_EQUAL(second.e.src[IT_F_SIZE], IT_SRC_HISTORY);
    CU_ASSERT_STRING_EQUAL(second.e.occasion, "sangeet");
    CU_ASSERT_DOUBLE_EQUAL(second.e.budget_min, 34000, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(second.e.budget_max, 46000, 0.5);
    CU_ASSERT_EQUAL(second.e.src[IT_F_BUDGET], IT_SRC_HISTORY);
}

static void t_followup_cheaper(void)
{
    struct it_result first, r;
    analyze_resolve("red lehenga around 40k size M", NULL, 0, NULL, &first);
    analyze_resolve("anything cheaper?", &first.e, 38500, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.e.category, "lehenga");
    CU_ASSERT_STRING_EQUAL(r.e.color, "red");
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_min, 0, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_max, 34000, 0.5);   /* below the band */
    CU_ASSERT_EQUAL(r.e.src[IT_F_BUDGET], IT_SRC_MESSAGE);

    /* no budget before: below the last segment's median */
    analyze_resolve("red lehenga size M", NULL, 0, NULL, &first);
    analyze_resolve("kuch sasta dikhao", &first.e, 38500, NULL, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_max, 38500, 0.5);

    /* pricier: above the old ceiling */
    analyze_resolve("lehenga under 30000", NULL, 0, NULL, &first);
    analyze_resolve("something more premium", &first.e, 0, NULL, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_min, 30000, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_max, 0, 0.5);
}

static void t_fresh_request(void)
{
    struct it_result first, r;
    analyze_resolve("red lehenga size M under 40000", NULL, 0, NULL, &first);
    /* a new garment, no follow-up word: a new request */
    analyze_resolve("I need a sherwani for my brother", &first.e, 0, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.e.category, "sherwani");
    CU_ASSERT_STRING_EQUAL(r.e.size, "");
    CU_ASSERT_STRING_EQUAL(r.e.color, "");
    /* "what about sarees?" keeps the rest */
    analyze_resolve("what about sarees?", &first.e, 0, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.e.category, "saree");
    CU_ASSERT_STRING_EQUAL(r.e.color, "red");
    CU_ASSERT_STRING_EQUAL(r.e.size, "M");
    /* "any colour" lets go of the colour */
    analyze_resolve("show me any colour", &first.e, 0, NULL, &r);
    CU_ASSERT_STRING_EQUAL(r.e.color, "");
    CU_ASSERT_STRING_EQUAL(r.e.category, "lehenga");
    /* a greeting takes nothing from history */
    analyze_resolve("thanks!", &first.e, 0, NULL, &r);
    CU_ASSERT_EQUAL(r.intent, IT_GREETING);
    CU_ASSERT_STRING_EQUAL(r.e.category, "");
}

static void t_customer_context(void)
{
    struct it_context cx = {.budget_min = 0, .budget_max = 60000, .sizes = {"l", NULL}, .colors = {"Maroon", NULL},
                            .location = "Mumbai"};
    struct it_result r;
    analyze_resolve("show me lehengas", NULL, 0, &cx, &r);
    CU_ASSERT_STRING_EQUAL(r.e.size, "L");
    CU_ASSERT_EQUAL(r.e.src[IT_F_SIZE], IT_SRC_CONTEXT);
    CU_ASSERT_STRING_EQUAL(r.e.color, "maroon");
    CU_ASSERT_STRING_EQUAL(r.e.color_family, "red");
    CU_ASSERT_EQUAL(r.e.src[IT_F_COLOR], IT_SRC_CONTEXT);
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_max, 60000, 0.5);
    CU_ASSERT_EQUAL(r.e.src[IT_F_BUDGET], IT_SRC_CONTEXT);
    /* the message wins over the context */
    analyze_resolve("blue lehenga size S under 20k", NULL, 0, &cx, &r);
    CU_ASSERT_STRING_EQUAL(r.e.size, "S");
    CU_ASSERT_STRING_EQUAL(r.e.color, "blue");
    CU_ASSERT_DOUBLE_EQUAL(r.e.budget_max, 20000, 0.5);
    CU_ASSERT_EQUAL(r.e.src[IT_F_SIZE], IT_SRC_MESSAGE);
    /* history wins over the context */
    struct it_result first;
    analyze_resolve("green lehenga size M", NULL, 0, NULL, &first);
    analyze_resolve("anything in silk?", &first.e, 0, &cx, &r);
    CU_ASSERT_STRING_EQUAL(r.e.size, "M");
    CU_ASSERT_EQUAL(r.e.src[IT_F_SIZE], IT_SRC_HISTORY);
    CU_ASSERT_STRING_EQUAL(r.e.fabric, "silk");
}

static void t_json(void)
{
    struct it_result r;
    it_analyze("I need a red lehenga for my sister's sangeet, budget around 40k, size M", &lex, &r);
    json_object *o = it_to_json(&r);
    json_object *v, *e, *src, *b;
    CU_ASSERT(json_object_object_get_ex(o, "intent", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "product_search");
    CU_ASSERT(json_object_object_get_ex(o, "entities", &e));
    CU_ASSERT(json_object_object_get_ex(e, "budget", &b));
    CU_ASSERT(json_object_object_get_ex(b, "around", &v));
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), 40000, 0.5);
    CU_ASSERT(json_object_object_get_ex(o, "sources", &src));
    CU_ASSERT(json_object_object_get_ex(src, "category", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "message");
    CU_ASSERT(!json_object_object_get_ex(src, "designer", &v));
    /* round trip through messages.entities */
    struct it_entities back;
    CU_ASSERT_EQUAL(it_entities_parse(e, &back), 0);
    CU_ASSERT_STRING_EQUAL(back.category, "lehenga");
    CU_ASSERT_STRING_EQUAL(back.color_family, "red");
    CU_ASSERT_STRING_EQUAL(back.size, "M");
    CU_ASSERT_DOUBLE_EQUAL(back.budget_max, 46000, 0.5);
    CU_ASSERT(back.budget_around);
    CU_ASSERT_EQUAL(back.src[IT_F_COLOR], IT_SRC_HISTORY);
    json_object_put(o);
    CU_ASSERT_EQUAL(it_entities_parse(NULL, &back), -1);
}

void register_intent(void)
{
    static const struct unit_case cases_[] = {
        {"message table", t_table},
        {"confidence", t_confidence},
        {"deterministic", t_deterministic},
        {"follow-up colour", t_followup_color},
        {"follow-up cheaper", t_followup_cheaper},
        {"fresh request", t_fresh_request},
        {"customer context", t_customer_context},
        {"json", t_json},
        {NULL, NULL},
    };
    unit_suite("intent", cases_);
}
