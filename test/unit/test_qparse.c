/* test_qparse.c: query understanding: a table of shoppers' phrasings with
 * the filters and residual full-text each must produce, and the lexicon
 * lookups the importer relies on. */
#include <stdio.h>
#include <string.h>

#include "common/qparse.h"
#include "test/unit/unit.h"

struct qp_case {
    const char *q;
    const char *size, *family, *color, *category, *occasion;
    double min, max;     /* -1: not set */
    int stock;           /* -1: not set */
    const char *residual;
};

#define N -1

static const struct qp_case qp_cases[] = {
    /* the seed example and plain words */
    {"lehenga", "", "", "", "lehenga", "", N, N, N, ""},
    {"red lehenga size M under 5000", "M", "red", "red", "lehenga", "", N, 5000, N, ""},
    {"Lehengas", "", "", "", "lehenga", "", N, N, N, ""},
    {"lengha choli embroidered", "", "", "", "lehenga", "", N, N, N, "choli embroidered"},
    {"lehenga choli velvet", "", "", "", "lehenga", "", N, N, N, "velvet"},
    {"silk sari", "", "", "", "saree", "", N, N, N, "silk"},
    {"banarasi sarees", "", "", "", "saree", "", N, N, N, "banarasi"},
    {"Kurtis for office", "", "", "", "kurta", "office", N, N, N, ""},
    {"sherwanis for groom", "", "", "", "sherwani", "wedding", N, N, N, ""},
    {"indo-western fusion", "", "", "", "indo-western", "", N, N, N, "fusion"},
    {"co-ord set in linen", "", "", "", "co-ord set", "", N, N, N, "linen"},
    /* colours and their families */
    {"maroon velvet lehenga", "", "red", "maroon", "lehenga", "", N, N, N, "velvet"},
    {"crimson saree", "", "red", "crimson", "saree", "", N, N, N, ""},
    {"wine gown", "", "red", "wine", "gown", "", N, N, N, ""},
    {"navy blue sherwani", "", "blue", "navy", "sherwani", "", N, N, N, ""},
    {"Navy kurta", "", "blue", "navy", "kurta", "", N, N, N, ""},
    {"off-white chikankari kurta", "", "white", "off-white", "kurta", "", N, N, N, "chikankari"},
    {"emerald green anarkali", "", "green", "emerald", "anarkali", "", N, N, N, ""},
    {"mehendi green lehenga", "", "green", "mehendi green", "lehenga", "", N, N, N, ""},
    {"rani pink gota patti dupatta", "", "pink", "rani pink", "dupatta", "", N, N, N, "gota patti"},
    {"red and gold lehenga", "", "red", "red", "lehenga", "", N, N, N, "gold"},
    /* Hinglish colour and occasion words */
    {"laal lehenga shaadi ke liye", "", "red", "red", "lehenga", "wedding", N, N, N, ""},
    {"hara kurta", "", "green", "green", "kurta", "", N, N, N, ""},
    {"neela saree", "", "blue", "blue", "saree", "", N, N, N, ""},
    {"peeli haldi outfit", "", "yellow", "yellow", "", "haldi", N, N, N, ""},
    {"shadi sherwani", "", "", "", "sherwani", "wedding", N, N, N, ""},
    {"mehndi sharara", "", "", "", "sharara", "mehendi", N, N, N, ""},
    {"bridal lehenga", "", "", "", "lehenga", "wedding", N, N, N, ""},
    {"sangeet party wear", "", "", "", "", "sangeet", N, N, N, "party"},
    /* sizes */
    {"kurta size XL", "XL", "", "", "kurta", "", N, N, N, ""},
    {"gown xxl", "XXL", "", "", "gown", "", N, N, N, ""},
    {"anarkali 2XL", "XXL", "", "", "anarkali", "", N, N, N, ""},
    {"sherwani size 40", "40", "", "", "sherwani", "", N, N, N, ""},
    {"bandhgala 38", "38", "", "", "bandhgala", "", N, N, N, ""},
    {"free size dupatta", "Free Size", "", "", "dupatta", "", N, N, N, ""},
    {"kurta M", "M", "", "", "kurta", "", N, N, N, ""},
    {"kurta m", "", "", "", "kurta", "", N, N, N, ""},
    {"small kurta", "S", "", "", "kurta", "", N, N, N, ""},
    /* prices */
    {"saree below ₹5k", "", "", "", "saree", "", N, 5000, N, ""},
    {"kurta less than Rs 3,000", "", "", "", "kurta", "", N, 3000, N, ""},
    {"lehenga between 2000 and 4000", "", "", "", "lehenga", "", 2000, 4000, N, ""},
    {"gown 2k-4k", "", "", "", "gown", "", 2000, 4000, N, ""},
    {"sherwani above 10000", "", "", "", "sherwani", "", 10000, N, N, ""},
    {"bridal lehenga under 1.5 lakh", "", "", "", "lehenga", "wedding", N, 150000, N, ""},
    {"lehenga 1.5 lakh", "", "", "", "lehenga", "", 127500, 172500, N, ""},
    {"saree around 40k", "", "", "", "saree", "", 34000, 46000, N, ""},
    {"kurta upto 2500 rupees", "", "", "", "kurta", "", N, 2500, N, ""},
    {"lehenga from 20k to 50k", "", "", "", "lehenga", "", 20000, 50000, N, ""},
    {"gown 15000+", "", "", "", "gown", "", 15000, N, N, ""},
    {"saree 5000 and above", "", "", "", "saree", "", 5000, N, N, ""},
    {"saree under 2.5L", "", "", "", "saree", "", N, 250000, N, ""},
    {"lehenga budget 60k", "", "", "", "lehenga", "", N, 60000, N, ""},
    {"saree 3000-6000", "", "", "", "saree", "", 3000, 6000, N, ""},
    {"sherwani over 1 crore", "", "", "", "sherwani", "", 10000000, N, N, ""},
    {"kurta 1,50,000 rs", "", "", "", "kurta", "", 127500, 172500, N, ""},
    /* Hinglish amounts and bounds */
    {"50k tak ka lehenga", "", "", "", "lehenga", "", N, 50000, N, ""},
    {"saree 3000 ke andar", "", "", "", "saree", "", N, 3000, N, ""},
    {"kurti 2 hazaar tak", "", "", "", "kurta", "", N, 2000, N, ""},
    {"lehenga 20 hazaar se zyada", "", "", "", "lehenga", "", 20000, N, N, ""},
    {"gown 5000 se kam", "", "", "", "gown", "", N, 5000, N, ""},
    /* stock words */
    {"lehenga in stock", "", "", "", "lehenga", "", N, N, 1, ""},
    {"available sarees", "", "", "", "saree", "", N, N, 1, ""},
    {"ready to ship kurta", "", "", "", "kurta", "", N, N, 1, ""},
    {"out of stock gowns", "", "", "", "gown", "", N, N, 0, ""},
    /* residual text: stopwords, short words and filler are left out */
    {"show me a nice zardozi lehenga for my wedding", "", "", "", "lehenga", "wedding", N, N, N, "zardozi"},
    {"hand embroidered organza saree", "", "", "", "saree", "", N, N, N, "hand embroidered organza"},
    {"mirror work", "", "", "", "", "", N, N, N, "mirror work"},
    {"a to z of silk", "", "", "", "", "", N, N, N, "silk"},
    {"Anaya Mehrotra velvet", "", "", "", "", "", N, N, N, "anaya mehrotra velvet"},
    {"lehnga", "", "", "", "lehenga", "", N, N, N, ""},
    {"under budget kurta", "", "", "", "kurta", "", N, N, N, ""},
    {"", "", "", "", "", "", N, N, N, ""},
    {"  !!  ", "", "", "", "", "", N, N, N, ""},
    {"लहंगा red", "", "red", "red", "", "", N, N, N, "लहंगा"},
    {"emerald green lehenga size L under ₹40k in stock for sangeet", "L", "green", "emerald", "lehenga",
     "sangeet", N, 40000, 1, ""},
};

static void t_table(void)
{
    size_t n = sizeof(qp_cases) / sizeof(qp_cases[0]);
    CU_ASSERT(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct qp_case *c = &qp_cases[i];
        struct qp_result r;
        qp_parse(c->q, &r);
        int ok = !strcmp(r.f.size, c->size) && !strcmp(r.f.color_family, c->family) &&
                 !strcmp(r.f.color, c->color) && !strcmp(r.f.category, c->category) &&
                 !strcmp(r.f.occasion, c->occasion) && r.f.min_price == c->min &&
                 r.f.max_price == c->max && r.f.in_stock == c->stock && !strcmp(r.residual, c->residual);
        if (!ok)
            fprintf(stderr,
                    "\nqparse \"%s\": got size=%s family=%s color=%s category=%s occasion=%s "
                    "min=%g max=%g stock=%d residual=\"%s\"\n",
                    c->q, r.f.size, r.f.color_family, r.f.color, r.f.category, r.f.occasion,
                    r.f.min_price, r.f.max_price, r.f.in_stock, r.residual);
        CU_ASSERT(ok);
    }
}

static void t_residual_terms(void)
{
    struct qp_result r;
    qp_parse("hand embroidered organza saree", &r);
    CU_ASSERT_EQUAL(r.nterms, 3);
    qp_parse("lehenga", &r);
    CU_ASSERT_EQUAL(r.nterms, 0);
    /* A long query is cut at a word boundary, never mid-word. */
    char q[1200];
    size_t o = 0;
    while (o + 12 < sizeof(q)) o += (size_t)snprintf(q + o, sizeof(q) - o, "embroidery ");
    qp_parse(q, &r);
    CU_ASSERT(strlen(r.residual) < QP_RESIDUAL_MAX);
    CU_ASSERT(strlen(r.residual) % 11 == 10);
}

static void t_lexicons(void)
{
    const char *name, *fam;
    CU_ASSERT_EQUAL(qp_color_lookup("Maroon", &name, &fam), 0);
    CU_ASSERT_STRING_EQUAL(name, "maroon");
    CU_ASSERT_STRING_EQUAL(fam, "red");
    CU_ASSERT_EQUAL(qp_color_lookup("Navy-Blue", &name, &fam), 0);
    CU_ASSERT_STRING_EQUAL(name, "navy");
    CU_ASSERT_STRING_EQUAL(fam, "blue");
    CU_ASSERT_EQUAL(qp_color_lookup("peacock green-ish", &name, &fam), -1);
    CU_ASSERT_PTR_NULL(qp_color_family("chartreuse-ish"));
    CU_ASSERT_STRING_EQUAL(qp_color_family("wine"), "red");
    CU_ASSERT(qp_is_family("red"));
    CU_ASSERT(!qp_is_family("maroon"));

    CU_ASSERT_STRING_EQUAL(qp_size_canon("xl"), "XL");
    CU_ASSERT_STRING_EQUAL(qp_size_canon("2XL"), "XXL");
    CU_ASSERT_STRING_EQUAL(qp_size_canon("3xl"), "XXXL");
    CU_ASSERT_STRING_EQUAL(qp_size_canon("Free size"), "Free Size");
    CU_ASSERT_STRING_EQUAL(qp_size_canon("free-size"), "Free Size");
    CU_ASSERT_STRING_EQUAL(qp_size_canon("38"), "38");
    CU_ASSERT_PTR_NULL(qp_size_canon("38.5"));
    CU_ASSERT_PTR_NULL(qp_size_canon("huge"));
    CU_ASSERT_PTR_NULL(qp_size_canon(""));

    CU_ASSERT_STRING_EQUAL(qp_category_canon("Lehengas"), "lehenga");
    CU_ASSERT_STRING_EQUAL(qp_category_canon("sari"), "saree");
    CU_ASSERT_STRING_EQUAL(qp_category_canon("Co-ord Set"), "co-ord set");
    CU_ASSERT_STRING_EQUAL(qp_category_canon("Salwar Kameez"), "salwar suit");
    CU_ASSERT_PTR_NULL(qp_category_canon("toaster"));

    CU_ASSERT_STRING_EQUAL(qp_occasion_canon("Shaadi"), "wedding");
    const char *const *tags = qp_occasion_tags("wedding");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tags);
    CU_ASSERT_STRING_EQUAL(tags[0], "wedding");
    CU_ASSERT_STRING_EQUAL(tags[1], "bridal");
    CU_ASSERT_PTR_NULL(tags[2]);
}

/* Explicit filters over what the query said, canonicalised (both product
 * search parameters and Aza search's `filters` go through it). */
static void t_override(void)
{
    struct qp_result r;
    qp_parse("red lehenga size M under 5000 in stock", &r);
    struct qp_filters f = r.f;
    CU_ASSERT_STRING_EQUAL(f.color_family, "red");
    CU_ASSERT_EQUAL(f.in_stock, 1);

    struct qp_given none = {.min_price = -1, .max_price = -1, .in_stock = -1, .size = "", .color = NULL};
    qp_filters_override(&f, &none);
    CU_ASSERT_EQUAL(memcmp(&f, &r.f, sizeof(f)), 0);

    struct qp_given g = {.size = "2xl", .color = "Navy Blue", .category = "Sarees", .designer = "Naina Oberoi",
                         .occasion = "Shaadi", .min_price = 1000, .max_price = -1, .in_stock = 0};
    qp_filters_override(&f, &g);
    CU_ASSERT_STRING_EQUAL(f.size, "XXL");
    CU_ASSERT_STRING_EQUAL(f.color, "navy");
    CU_ASSERT_STRING_EQUAL(f.color_family, "blue");
    CU_ASSERT_STRING_EQUAL(f.category, "saree");
    CU_ASSERT_STRING_EQUAL(f.designer, "Naina Oberoi");
    CU_ASSERT_STRING_EQUAL(f.occasion, "wedding");
    CU_ASSERT_EQUAL(f.min_price, 1000);
    CU_ASSERT_EQUAL(f.max_price, 5000);   /* from the query: not given */
    CU_ASSERT_EQUAL(f.in_stock, 0);

    /* Unknown values: kept (lower-cased), no colour family; long ones cut. */
    struct qp_given u = {.size = "Petite", .color = "Peacock-ISH", .category = "Toasters", .occasion = "Picnic",
                         .min_price = -1, .max_price = -1, .in_stock = -1};
    qp_filters_override(&f, &u);
    CU_ASSERT_STRING_EQUAL(f.size, "Petite");
    CU_ASSERT_STRING_EQUAL(f.color, "peacock-ish");
    CU_ASSERT_STRING_EQUAL(f.color_family, "");
    CU_ASSERT_STRING_EQUAL(f.category, "toasters");
    CU_ASSERT_STRING_EQUAL(f.occasion, "picnic");
    char longname[300];
    memset(longname, 'd', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct qp_given l = {.designer = longname, .min_price = -1, .max_price = -1, .in_stock = -1};
    qp_filters_override(&f, &l);
    CU_ASSERT_EQUAL(strlen(f.designer), sizeof(f.designer) - 1);
}

void register_qparse(void)
{
    static const struct unit_case cases[] = {
        {"phrasings table", t_table},
        {"residual terms", t_residual_terms},
        {"lexicons", t_lexicons},
        {"explicit filters override the query's", t_override},
        {NULL, NULL},
    };
    unit_suite("qparse", cases);
}
