/* test_troika.c: the Troika agent's pure parts: quartiles, the builtin
 * answer, the grounding check of LLM sentences, and suggestions. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/assist/intent.h"
#include "common/text/sentence.h"
#include "handlers/agent/troika.h"
#include "test/unit/unit.h"

static void t_quantile(void)
{
    /* the inclusive method (numpy default): Python statistics.quantiles(method='inclusive') */
    const double v[] = {28000, 31000, 35000, 38500, 38500, 42000, 47000, 52000};
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(v, 8, 0.25), 34000, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(v, 8, 0.5), 38500, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(v, 8, 0.75), 43250, 0.001);
    const double w[] = {10, 20, 30, 40, 50};
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(w, 5, 0.5), 30, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(w, 5, 0.25), 20, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(w, 1, 0.75), 10, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(w, 2, 0.5), 15, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(tk_quantile(w, 0, 0.5), 0, 0.001);
}

static const struct tk_product prods[] = {
    {.sku = "TRK-LEH-001", .title = "Ruby Zardozi Lehenga Set", .designer = "Anita Dongre", .category = "lehenga",
     .currency = "INR", .price = 38500, .in_stock = 1, .sizes = {"S", "M", "L"}, .nsizes = 3,
     .colors = {"red"}, .ncolors = 1},
    {.sku = "TRK-LEH-002", .title = "Maroon Mirror Work Lehenga", .designer = "Ritu Kumar", .category = "lehenga",
     .currency = "INR", .price = 42000, .in_stock = 1, .sizes = {"M"}, .nsizes = 1, .colors = {"maroon"},
     .ncolors = 1},
    {.sku = "TRK-LEH-003", .title = "Crimson Gota Patti Lehenga", .designer = "Sabyasachi", .category = "lehenga",
     .currency = "INR", .price = 150000, .in_stock = 0, .sizes = {"M", "L"}, .nsizes = 2, .colors = {"crimson"},
     .ncolors = 1},
};

static void fill_market(struct tk_market *m)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->seg.category, sizeof(m->seg.category), "lehenga");
    snprintf(m->seg.color_family, sizeof(m->seg.color_family), "red");
    m->seg.min = 34000;
    m->seg.max = 46000;
    m->seg.around = 40000;
    m->asked = m->seg;
    m->count = 12;
    m->in_stock = 9;
    m->ndesigners = 5;
    m->min = 28000;
    m->max = 52000;
    m->q1 = 33000;
    m->median = 38500;
    m->q3 = 45000;
    snprintf(m->other_colors[0].name, 64, "blue");
    m->other_colors[0].count = 7;
    m->nother_colors = 1;
    m->below.max = 34000;
    m->below.count = 5;
    m->above.min = 46000;
    m->above.count = 3;
}

static void t_builtin_answer(void)
{
    arena_t *ar = ar_new(4096);
    struct it_result r;
    it_analyze("I need a red lehenga for my sister's sangeet, budget around 40k, size M", NULL, &r);
    struct tk_market m;
    fill_market(&m);
    struct tk_facts f = {.intent = &r, .market = &m, .products = prods, .nproducts = 3, .matched = &r.e,
                         .currency = "INR"};
    char *text = NULL;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "For a red lehenga around \xE2\x82\xB9" "40,000 I found 12 pieces from 5 designers, "
                                        "\xE2\x82\xB9" "28,000\xE2\x80\x93\xE2\x82\xB9" "52,000, median \xE2\x82\xB9" "38,500."));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "My pick for the sangeet: Ruby Zardozi Lehenga Set by Anita Dongre at "
                                        "\xE2\x82\xB9" "38,500, in stock in M."));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Maroon Mirror Work Lehenga"));
    /* every sentence of a builtin answer passes the grounding check */
    size_t off = 0, len = strlen(text);
    while (off < len) {
        size_t n = sent_boundary(text + off, len - off, 1);
        CU_ASSERT(n > 0);
        if (!n) break;
        CU_ASSERT(tk_sentence_grounded(text + off, n, prods, 3));
        off += n;
        while (off < len && text[off] == ' ') off++;
    }

    /* the pick is in stock in the asked size, even when ranked lower */
    struct tk_product reordered[3] = {prods[2], prods[0], prods[1]};
    struct tk_facts f2 = f;
    f2.products = reordered;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f2, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "My pick for the sangeet: Ruby Zardozi Lehenga Set"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Also worth a look: Crimson Gota Patti Lehenga"));

    /* the pick leads with the asked colour: a beige piece with a maroon
     * accent ranked first is passed over for a red one in the size */
    struct tk_product beige = prods[1];
    beige.sku = "TRK-LEH-009";
    beige.title = "Beige Floral Lehenga Set";
    beige.colors[0] = "beige";
    beige.colors[1] = "maroon";
    beige.ncolors = 2;
    struct tk_product led[3] = {beige, prods[0], prods[1]};
    f2.products = led;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f2, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "My pick for the sangeet: Ruby Zardozi Lehenga Set"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Also worth a look: Beige Floral Lehenga Set"));
    /* ... but when no piece in the size leads with it, the best in the size */
    struct tk_product only[1] = {beige};
    f2.products = only;
    f2.nproducts = 1;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f2, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "My pick for the sangeet: Beige Floral Lehenga Set"));
    f2.nproducts = 3;

    /* one title is named once, even when two products carry it */
    struct tk_product twins[3] = {prods[0], prods[0], prods[1]};
    twins[1].sku = "TRK-LEH-001B";
    f2.products = twins;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f2, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Also worth a look: Maroon Mirror Work Lehenga (\xE2\x82\xB9" "42,000)."));

    /* relaxation is said */
    f.relaxed = TK_RELAX_BUDGET | TK_RELAX_SIZE;
    struct it_entities wide = r.e;
    wide.budget_max = 55200;
    f.matched = &wide;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Nothing matched exactly, so I widened the budget by 20% (up to \xE2\x82\xB9"
                                        "55,200) and dropped the size."));

    /* nothing at all */
    f.nproducts = 0;
    f.relaxed = TK_RELAX_BUDGET | TK_RELAX_COLOR | TK_RELAX_SIZE;
    m.count = 0;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "I couldn't find any"));
    CU_ASSERT_PTR_NULL(strstr(text, "My pick"));

    /* the market describes the whole category when the asked segment is empty */
    fill_market(&m);
    m.relaxed = 1;
    m.seg.color_family[0] = '\0';
    m.seg.min = m.seg.max = m.seg.around = 0;
    m.count = 40;
    f.nproducts = 0;
    f.relaxed = 0;
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "There is no red lehenga around \xE2\x82\xB9" "40,000 in the catalog right now; "
                                        "across all 40 lehengas"));

    /* greeting and support need no figures */
    it_analyze("namaste", NULL, &r);
    struct tk_facts g = {.intent = &r, .currency = "INR"};
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &g, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Namaste"));
    it_analyze("where is my order", NULL, &r);
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &g, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "customer care"));
    ar_free(ar);
}

static void t_intent_answers(void)
{
    arena_t *ar = ar_new(4096);
    struct tk_market m;
    fill_market(&m);
    struct it_result r;
    char *text;
    it_analyze("what's the price range for red lehengas", NULL, &r);
    struct tk_facts f = {.intent = &r, .market = &m, .products = prods, .nproducts = 3, .matched = &r.e,
                         .currency = "INR"};
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Half of them cost between \xE2\x82\xB9" "33,000 and \xE2\x82\xB9" "45,000."));
    it_analyze("are red lehengas in stock", NULL, &r);
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "9 of those 12 are in stock."));
    it_analyze("compare red lehengas", NULL, &r);
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Ruby Zardozi Lehenga Set costs \xE2\x82\xB9" "3,500 less"));
    it_analyze("what should I wear to a haldi", NULL, &r);
    CU_ASSERT_EQUAL(tk_answer_builtin(ar, &f, &text), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "For a haldi, yellow"));
    ar_free(ar);
}

static int grounded(const char *s)
{
    return tk_sentence_grounded(s, strlen(s), prods, 3);
}

static void t_grounding(void)
{
    CU_ASSERT(grounded("My pick is the Ruby Zardozi Lehenga Set by Anita Dongre at \xE2\x82\xB9" "38,500."));
    CU_ASSERT(grounded("Try **Maroon Mirror Work Lehenga** [TRK-LEH-002], in stock in M."));
    CU_ASSERT(grounded("The Anita Dongre Ruby Zardozi Lehenga is a great choice."));
    CU_ASSERT(grounded("Red lehengas from 5 designers cost around \xE2\x82\xB9" "38,500 in size M or XL."));
    CU_ASSERT(grounded("For a sangeet, choose something light."));
    CU_ASSERT(grounded("**Sabyasachi** is known for rich zardozi."));
    /* inventions */
    CU_ASSERT(!grounded("You could also try the Crimson Dream Lehenga by Sabyasachi."));
    CU_ASSERT(!grounded("Another option is TRK-FAKE-999 at \xE2\x82\xB9" "41,000."));
    CU_ASSERT(!grounded("Consider \"Velvet Nights Lehenga\", a bestseller."));
    CU_ASSERT(!grounded("Consider **Royal Heritage Lehenga Choli**."));
    CU_ASSERT(!grounded("It has SKU abc-123 in the system."));
    /* an unlisted title even with a listed designer in front */
    CU_ASSERT(!grounded("The Anita Dongre Emerald Dream Lehenga is lovely."));
}

static void t_suggestions(void)
{
    arena_t *ar = ar_new(4096);
    struct it_result r;
    it_analyze("red lehenga around 40k", NULL, &r);
    struct tk_market m;
    fill_market(&m);
    struct tk_facts f = {.intent = &r, .market = &m, .products = prods, .nproducts = 3, .matched = &r.e,
                         .currency = "INR"};
    json_object *p = NULL, *d = NULL;
    CU_ASSERT_EQUAL(tk_suggestions(ar, &f, &p, &d), 0);
    size_t n = json_object_array_length(p);
    CU_ASSERT(n >= 2 && n <= 4);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(p, 0)), "Show me blue lehengas (7)");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(p, 1)),
                           "Lehengas under \xE2\x82\xB9" "34,000 (5)");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(p, 2)),
                           "Lehengas above \xE2\x82\xB9" "46,000 (3)");
    json_object *d0 = json_object_array_get_idx(d, 0), *v;
    CU_ASSERT(json_object_object_get_ex(d0, "count", &v) && json_object_get_int(v) == 7);
    /* a suggestion, sent back, is understood as what it offers */
    struct it_result back;
    it_analyze(json_object_get_string(json_object_array_get_idx(p, 1)), NULL, &back);
    CU_ASSERT_STRING_EQUAL(back.e.category, "lehenga");
    CU_ASSERT_DOUBLE_EQUAL(back.e.budget_max, 34000, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(back.e.budget_min, 0, 0.5);
    it_analyze(json_object_get_string(json_object_array_get_idx(p, 0)), NULL, &back);
    CU_ASSERT_STRING_EQUAL(back.e.color, "blue");
    CU_ASSERT_STRING_EQUAL(back.e.size, "");
    json_object_put(p);
    json_object_put(d);
    ar_free(ar);
}

void register_troika(void)
{
    static const struct unit_case cases[] = {
        {"quantile", t_quantile},
        {"builtin answer", t_builtin_answer},
        {"answers per intent", t_intent_answers},
        {"grounding", t_grounding},
        {"suggestions", t_suggestions},
        {NULL, NULL},
    };
    unit_suite("troika", cases);
}
