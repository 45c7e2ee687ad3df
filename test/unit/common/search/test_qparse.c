/* test_qparse.c: query understanding: a table of shoppers' phrasings with
 * the filters and residual full-text each must produce, and the lexicon
 * lookups the importer relies on. */
#include <stdio.h>
#include <string.h>

#include "common/search/qparse.h"
#include "test/unit/unit.h"

struct qp_case {
    const char *q;
    const char *size, *family, *color, *category, *occasion;
    double min, max;     /* -1: not set */
    int stock;           /* -1: not set */
    const char *residual;
    const char *fabric, *work;   /* NULL: not set */
};

#define N -1

static const struct qp_case qp_cases[] = {
    /* the seed example and plain words */
    {"lehenga", "", "", "", "lehenga", "", N, N, N, "", NULL, NULL},
    {"red lehenga size M under 5000", "M", "red", "red", "lehenga", "", N, 5000, N, "", NULL, NULL},
    {"Lehengas", "", "", "", "lehenga", "", N, N, N, "", NULL, NULL},
    {"lengha choli embroidered", "", "", "", "lehenga", "", N, N, N, "choli embroidered", NULL, NULL},
    {"lehenga choli velvet", "", "", "", "lehenga", "", N, N, N, "", "velvet", NULL},
    {"silk sari", "", "", "", "saree", "", N, N, N, "", "silk", NULL},
    {"banarasi sarees", "", "", "", "saree", "", N, N, N, "", "banarasi silk", NULL},
    {"Kurtis for office", "", "", "", "kurta", "office", N, N, N, "", NULL, NULL},
    {"sherwanis for groom", "", "", "", "sherwani", "wedding", N, N, N, "", NULL, NULL},
    {"indo-western fusion", "", "", "", "indo-western", "", N, N, N, "fusion", NULL, NULL},
    {"co-ord set in linen", "", "", "", "co-ord set", "", N, N, N, "", "linen", NULL},
    /* colours and their families */
    {"maroon velvet lehenga", "", "red", "maroon", "lehenga", "", N, N, N, "", "velvet", NULL},
    {"crimson saree", "", "red", "crimson", "saree", "", N, N, N, "", NULL, NULL},
    {"wine gown", "", "red", "wine", "gown", "", N, N, N, "", NULL, NULL},
    {"navy blue sherwani", "", "blue", "navy", "sherwani", "", N, N, N, "", NULL, NULL},
    {"Navy kurta", "", "blue", "navy", "kurta", "", N, N, N, "", NULL, NULL},
    {"off-white chikankari kurta", "", "white", "off-white", "kurta", "", N, N, N, "", NULL, "chikankari"},
    {"emerald green anarkali", "", "green", "emerald", "anarkali", "", N, N, N, "", NULL, NULL},
    {"mehendi green lehenga", "", "green", "mehendi green", "lehenga", "", N, N, N, "", NULL, NULL},
    {"rani pink gota patti dupatta", "", "pink", "rani pink", "dupatta", "", N, N, N, "", NULL, "gota patti"},
    {"red and gold lehenga", "", "red", "red", "lehenga", "", N, N, N, "gold", NULL, NULL},
    /* Hinglish colour and occasion words */
    {"laal lehenga shaadi ke liye", "", "red", "red", "lehenga", "wedding", N, N, N, "", NULL, NULL},
    {"hara kurta", "", "green", "green", "kurta", "", N, N, N, "", NULL, NULL},
    {"neela saree", "", "blue", "blue", "saree", "", N, N, N, "", NULL, NULL},
    {"peeli haldi outfit", "", "yellow", "yellow", "", "haldi", N, N, N, "", NULL, NULL},
    {"shadi sherwani", "", "", "", "sherwani", "wedding", N, N, N, "", NULL, NULL},
    {"mehndi sharara", "", "", "", "sharara", "mehendi", N, N, N, "", NULL, NULL},
    {"bridal lehenga", "", "", "", "lehenga", "wedding", N, N, N, "", NULL, NULL},
    {"sangeet party wear", "", "", "", "", "sangeet", N, N, N, "party", NULL, NULL},
    /* sizes */
    {"kurta size XL", "XL", "", "", "kurta", "", N, N, N, "", NULL, NULL},
    {"gown xxl", "XXL", "", "", "gown", "", N, N, N, "", NULL, NULL},
    {"anarkali 2XL", "XXL", "", "", "anarkali", "", N, N, N, "", NULL, NULL},
    {"sherwani size 40", "40", "", "", "sherwani", "", N, N, N, "", NULL, NULL},
    {"bandhgala 38", "38", "", "", "bandhgala", "", N, N, N, "", NULL, NULL},
    {"free size dupatta", "Free Size", "", "", "dupatta", "", N, N, N, "", NULL, NULL},
    {"kurta M", "M", "", "", "kurta", "", N, N, N, "", NULL, NULL},
    {"kurta m", "", "", "", "kurta", "", N, N, N, "", NULL, NULL},
    {"small kurta", "S", "", "", "kurta", "", N, N, N, "", NULL, NULL},
    /* prices */
    {"saree below ₹5k", "", "", "", "saree", "", N, 5000, N, "", NULL, NULL},
    {"kurta less than Rs 3,000", "", "", "", "kurta", "", N, 3000, N, "", NULL, NULL},
    {"lehenga between 2000 and 4000", "", "", "", "lehenga", "", 2000, 4000, N, "", NULL, NULL},
    {"gown 2k-4k", "", "", "", "gown", "", 2000, 4000, N, "", NULL, NULL},
    {"sherwani above 10000", "", "", "", "sherwani", "", 10000, N, N, "", NULL, NULL},
    {"bridal lehenga under 1.5 lakh", "", "", "", "lehenga", "wedding", N, 150000, N, "", NULL, NULL},
    {"lehenga 1.5 lakh", "", "", "", "lehenga", "", 127500, 172500, N, "", NULL, NULL},
    {"saree around 40k", "", "", "", "saree", "", 34000, 46000, N, "", NULL, NULL},
    {"kurta upto 2500 rupees", "", "", "", "kurta", "", N, 2500, N, "", NULL, NULL},
    {"lehenga from 20k to 50k", "", "", "", "lehenga", "", 20000, 50000, N, "", NULL, NULL},
    {"gown 15000+", "", "", "", "gown", "", 15000, N, N, "", NULL, NULL},
    {"saree 5000 and above", "", "", "", "saree", "", 5000, N, N, "", NULL, NULL},
    {"saree under 2.5L", "", "", "", "saree", "", N, 250000, N, "", NULL, NULL},
    {"lehenga budget 60k", "", "", "", "lehenga", "", N, 60000, N, "", NULL, NULL},
    {"saree 3000-6000", "", "", "", "saree", "", 3000, 6000, N, "", NULL, NULL},
    {"sherwani over 1 crore", "", "", "", "sherwani", "", 10000000, N, N, "", NULL, NULL},
    {"kurta 1,50,000 rs", "", "", "", "kurta", "", 127500, 172500, N, "", NULL, NULL},
    /* Hinglish amounts and bounds */
    {"50k tak ka lehenga", "", "", "", "lehenga", "", N, 50000, N, "", NULL, NULL},
    {"saree 3000 ke andar", "", "", "", "saree", "", N, 3000, N, "", NULL, NULL},
    {"kurti 2 hazaar tak", "", "", "", "kurta", "", N, 2000, N, "", NULL, NULL},
    {"lehenga 20 hazaar se zyada", "", "", "", "lehenga", "", 20000, N, N, "", NULL, NULL},
    {"gown 5000 se kam", "", "", "", "gown", "", N, 5000, N, "", NULL, NULL},
    /* stock words */
    {"lehenga in stock", "", "", "", "lehenga", "", N, N, 1, "", NULL, NULL},
    {"available sarees", "", "", "", "saree", "", N, N, 1, "", NULL, NULL},
    {"ready to ship kurta", "", "", "", "kurta", "", N, N, 1, "", NULL, NULL},
    {"out of stock gowns", "", "", "", "gown", "", N, N, 0, "", NULL, NULL},
    /* residual text: stopwords, short words and filler are left out */
    {"show me a nice zardozi lehenga for my wedding", "", "", "", "lehenga", "wedding", N, N, N, "", NULL, "zardozi"},
    {"hand embroidered organza saree", "", "", "", "saree", "", N, N, N, "hand embroidered", "organza", NULL},
    {"mirror work", "", "", "", "", "", N, N, N, "", NULL, "mirror work"},
    {"a to z of silk", "", "", "", "", "", N, N, N, "", "silk", NULL},
    {"Anaya Mehrotra velvet", "", "", "", "", "", N, N, N, "anaya mehrotra", "velvet", NULL},
    {"lehnga", "", "", "", "lehenga", "", N, N, N, "", NULL, NULL},
    {"under budget kurta", "", "", "", "kurta", "", N, N, N, "", NULL, NULL},
    {"", "", "", "", "", "", N, N, N, "", NULL, NULL},
    {"  !!  ", "", "", "", "", "", N, N, N, "", NULL, NULL},
    {"लहंगा red", "", "red", "red", "", "", N, N, N, "लहंगा", NULL, NULL},
    /* fabrics and handwork become filters (catalog tags); the rarer words stay */
    /* a second occasion word the first one's filter already accepts is used up */
    {"gown for cocktail party", "", "", "", "gown", "cocktail", N, N, N, "", NULL, NULL},
    {"festive diwali kurta", "", "", "", "kurta", "festive", N, N, N, "", NULL, NULL},
    {"haldi party outfit", "", "", "", "", "haldi", N, N, N, "party", NULL, NULL},
    {"kanjeevaram silk saree for wedding", "", "", "", "saree", "wedding", N, N, N, "", "kanjeevaram silk", NULL},
    {"kanjivaram saree", "", "", "", "saree", "", N, N, N, "", "kanjeevaram silk", NULL},
    {"Kanchipuram silk", "", "", "", "", "", N, N, N, "", "kanjeevaram silk", NULL},
    {"banarsi silk dupatta", "", "", "", "dupatta", "", N, N, N, "", "banarasi silk", NULL},
    {"raw silk sherwani", "", "", "", "sherwani", "", N, N, N, "", "raw silk", NULL},
    {"tussar saree", "", "", "", "saree", "", N, N, N, "", "tussar silk", NULL},
    {"mulmul kurta", "", "", "", "kurta", "", N, N, N, "", "mul cotton", NULL},
    {"cotton kurta set for office", "", "", "", "kurta set", "office", N, N, N, "", "cotton", NULL},
    {"chiffon saree party wear", "", "", "", "saree", "party", N, N, N, "", "chiffon", NULL},
    {"georgettes", "", "", "", "", "", N, N, N, "", "georgette", NULL},
    {"net lehenga with sequins", "", "", "", "lehenga", "", N, N, N, "", "net", "sequin"},
    {"zardozi work velvet lehenga", "", "", "", "lehenga", "", N, N, N, "", "velvet", "zardozi"},
    {"aari embroidery blouse", "", "", "", "blouse", "", N, N, N, "", NULL, "aari"},
    {"gota work sharara", "", "", "", "sharara", "", N, N, N, "", NULL, "gota patti"},
    {"chikan kari kurta", "", "", "", "kurta", "", N, N, N, "", NULL, "chikankari"},
    {"bandhej dupatta", "", "", "", "dupatta", "", N, N, N, "", NULL, "bandhani"},
    {"lehariya saree", "", "", "", "saree", "", N, N, N, "", NULL, "leheriya"},
    {"hand-painted organza saree", "", "", "", "saree", "", N, N, N, "", "organza", "hand painted"},
    {"thread embroidery kurta", "", "", "", "kurta", "", N, N, N, "", NULL, "thread embroidery"},
    {"pearl embellished gown", "", "", "", "gown", "", N, N, N, "", NULL, "pearl embellished"},
    {"pearl gown", "", "white", "pearl white", "gown", "", N, N, N, "", NULL, NULL},
    {"mirror work lehenga in georgette", "", "", "", "lehenga", "", N, N, N, "", "georgette", "mirror work"},
    {"silk chiffon saree", "", "", "", "saree", "", N, N, N, "chiffon", "silk", NULL},
    {"ivory chanderi anarkali with kantha", "", "white", "ivory", "anarkali", "", N, N, N, "", "chanderi", "kantha"},
    {"peacock motif brocade lehenga", "", "", "", "lehenga", "", N, N, N, "peacock motif", "brocade", NULL},
    {"emerald green lehenga size L under ₹40k in stock for sangeet", "L", "green", "emerald", "lehenga",
     "sangeet", N, 40000, 1, "", NULL, NULL},
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
                 r.f.max_price == c->max && r.f.in_stock == c->stock && !strcmp(r.residual, c->residual) &&
                 !strcmp(r.f.fabric, c->fabric ? c->fabric : "") && !strcmp(r.f.work, c->work ? c->work : "");
        if (!ok)
            fprintf(stderr,
                    "\nqparse \"%s\": got size=%s family=%s color=%s category=%s occasion=%s "
                    "min=%g max=%g stock=%d residual=\"%s\" fabric=%s work=%s\n",
                    c->q, r.f.size, r.f.color_family, r.f.color, r.f.category, r.f.occasion,
                    r.f.min_price, r.f.max_price, r.f.in_stock, r.residual, r.f.fabric, r.f.work);
        CU_ASSERT(ok);
    }
}

static void t_residual_terms(void)
{
    struct qp_result r;
    qp_parse("hand embroidered organza saree", &r);
    CU_ASSERT_EQUAL(r.nterms, 2);   /* organza is the fabric filter */
    qp_parse("lehenga", &r);
    CU_ASSERT_EQUAL(r.nterms, 0);
    /* A long query is cut at a word boundary, never mid-word. */
    char q[1200];
    size_t o = 0;
    while (o + 12 < sizeof(q)) o += (size_t)snprintf(q + o, sizeof(q) - o, "embroidery ");
    qp_parse(q, &r);
    CU_ASSERT(strlen(r.residual) < QP_RESIDUAL_MAX);
    CU_ASSERT(strlen(r.residual) % 11 == 10);
    /* an amount past QP_PRICE_MAX is not a price: qp_render turned 5.5e28 into a long long
     * (undefined; found by test/fuzz/fuzz_qparse under UBSan) */
    qp_parse("saree under 55555555555555555555555555555", &r);
    CU_ASSERT(r.f.max_price < 0);
    qp_parse("saree under 2 crore", &r);
    CU_ASSERT_EQUAL(r.f.max_price, 2e7);
    qp_parse("saree under 20000 crore", &r);
    CU_ASSERT(r.f.max_price < 0);
    char out[128];
    r.f.max_price = 5.5e28;
    CU_ASSERT(qp_render(&r.f, "", out, sizeof(out)) > 0);
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

    /* Every fabric and handwork tools/admin_gen.c writes is its own
     * canonical name, so a filter finds what the generator tagged. */
    static const char *const gen_fabrics[] = {
        "velvet", "raw silk", "organza", "georgette", "net", "banarasi silk", "brocade", "tulle",
        "kanjeevaram silk", "chiffon", "chanderi", "tussar silk", "cotton", "mul cotton", "linen", "silk",
        "modal", "khadi", "jacquard", "satin", "crepe", "wool blend", NULL};
    static const char *const gen_works[] = {
        "zardozi", "gota patti", "mirror work", "chikankari", "sequin", "thread embroidery", "resham", "aari",
        "dabka", "bandhani", "block print", "leheriya", "kalamkari", "ikat", "phulkari", "zari", "kantha",
        "pearl embellished", "cutdana", "marori", "hand painted", "floral print", "applique", NULL};
    for (int i = 0; gen_fabrics[i]; i++) {
        const char *c = qp_fabric_canon(gen_fabrics[i]);
        CU_ASSERT(c && !strcmp(c, gen_fabrics[i]));
    }
    for (int i = 0; gen_works[i]; i++) {
        const char *c = qp_work_canon(gen_works[i]);
        CU_ASSERT(c && !strcmp(c, gen_works[i]));
    }
    CU_ASSERT_STRING_EQUAL(qp_fabric_canon("Kanjivaram Silk"), "kanjeevaram silk");
    CU_ASSERT_STRING_EQUAL(qp_work_canon("Gota-Patti"), "gota patti");
    CU_ASSERT_PTR_NULL(qp_fabric_canon("zardozi"));
    CU_ASSERT_PTR_NULL(qp_work_canon("silk"));
    /* "silk" accepts every silk; a named silk only itself */
    tags = qp_fabric_tags("silk");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tags);
    int n = 0, banarasi = 0;
    for (; tags[n]; n++) banarasi |= !strcmp(tags[n], "banarasi silk");
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT(banarasi);
    CU_ASSERT_PTR_NULL(qp_fabric_tags("banarasi silk"));
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

    struct qp_given fw = {.fabric = "Banarsi", .work = "Zardosi", .min_price = -1, .max_price = -1, .in_stock = -1};
    qp_filters_override(&f, &fw);
    CU_ASSERT_STRING_EQUAL(f.fabric, "banarasi silk");
    CU_ASSERT_STRING_EQUAL(f.work, "zardozi");
    struct qp_given fu = {.fabric = "Pashmina", .work = "Kasuti", .min_price = -1, .max_price = -1, .in_stock = -1};
    qp_filters_override(&f, &fu);
    CU_ASSERT_STRING_EQUAL(f.fabric, "pashmina");
    CU_ASSERT_STRING_EQUAL(f.work, "kasuti");

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

static void t_take_designer(void)
{
    static const char *const des[] = {"Anaya Mehrotra", "Studio Kesar", "Kesariya House", "House of Ishaani",
                                      "Red", "Sabyasachi", "Anaya"};
    const size_t nd = sizeof(des) / sizeof(des[0]);
    char d[128], rest[256];
    CU_ASSERT_EQUAL(qp_take_designer("Anaya Mehrotra lehenga", des, nd, d, sizeof(d), rest, sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "Anaya Mehrotra");   /* the longest name, not "Anaya" */
    CU_ASSERT_STRING_EQUAL(rest, "  lehenga");
    /* case and punctuation between the words do not matter */
    CU_ASSERT_EQUAL(qp_take_designer("red lehenga by STUDIO  kesar, size M", des, nd, d, sizeof(d), rest,
                                     sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "Studio Kesar");
    CU_ASSERT_STRING_EQUAL(rest, "red lehenga by  , size M");
    /* whole words only: "kesariya" is a colour word here, not "Kesariya House" */
    CU_ASSERT_EQUAL(qp_take_designer("kesariya kurta", des, nd, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("studio kesariya", des, nd, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("anayas lehenga", des, nd, d, sizeof(d), rest, sizeof(rest)), 0);
    /* a one-word name the parser reads as a colour stays a colour */
    CU_ASSERT_EQUAL(qp_take_designer("red saree", des, nd, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("sabyasachi lehenga", des, nd, d, sizeof(d), rest, sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "Sabyasachi");
    /* the longest name, then the first in q */
    CU_ASSERT_EQUAL(qp_take_designer("studio kesar or house of ishaani", des, nd, d, sizeof(d), rest,
                                     sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "House of Ishaani");
    CU_ASSERT_EQUAL(qp_take_designer("studio kesar or anaya mehrotra", des, nd, d, sizeof(d), rest,
                                     sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "Studio Kesar");
    CU_ASSERT_EQUAL(qp_take_designer("", des, nd, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("anaya mehrotra", des, 0, d, sizeof(d), rest, sizeof(rest)), 0);
    /* a q that does not fit rest is left alone */
    CU_ASSERT_EQUAL(qp_take_designer("Anaya Mehrotra lehenga", des, nd, d, sizeof(d), rest, 8), 0);
    /* a one-word name that is a function word ("AND", a real brand) only as the catalog spells
     * it: the "and" of a price range stays there (found by test/fuzz/fuzz_qparse) */
    static const char *const brands[] = {"AND", "The Label"};
    CU_ASSERT_EQUAL(qp_take_designer("kurta between 25000 and 80000", brands, 2, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("kurta and palazzo by AND", brands, 2, d, sizeof(d), rest, sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "AND");
    CU_ASSERT_STRING_EQUAL(rest, "kurta and palazzo by  ");
    struct qp_result r;
    char dq[128], rq[256];
    CU_ASSERT_EQUAL(qp_take_designer("ng in stock between 25000 and 80000", brands, 2, dq, sizeof(dq), rq, sizeof(rq)), 0);
    qp_parse("ng in stock between 25000 and 80000", &r);
    CU_ASSERT_EQUAL(r.f.min_price, 25000);
    CU_ASSERT_EQUAL(r.f.max_price, 80000);
    /* several words, a function word among them: case does not matter */
    CU_ASSERT_EQUAL(qp_take_designer("the label saree", brands, 2, d, sizeof(d), rest, sizeof(rest)), 1);
}

static int qp_same(const struct qp_result *a, const struct qp_result *b)
{
    const struct qp_filters *x = &a->f, *y = &b->f;
    return !strcmp(x->size, y->size) && !strcmp(x->color, y->color) && !strcmp(x->color_family, y->color_family) &&
           !strcmp(x->category, y->category) && !strcmp(x->designer, y->designer) &&
           !strcmp(x->occasion, y->occasion) && !strcmp(x->fabric, y->fabric) && !strcmp(x->work, y->work) &&
           x->min_price == y->min_price && x->max_price == y->max_price && x->in_stock == y->in_stock &&
           !strcmp(a->residual, b->residual);
}

/* Parses q as product search does: the designer first, then the parser. */
static void qp_parse_with(const char *q, const char *const *des, size_t nd, struct qp_result *r)
{
    char d[128], rest[512];
    int got = qp_take_designer(q, des, nd, d, sizeof(d), rest, sizeof(rest));
    qp_parse(got ? rest : q, r);
    if (got) snprintf(r->f.designer, sizeof(r->f.designer), "%s", d);
}

/* What every phrasing of the table says, and the same with any one group
 * of filters dropped (the relaxations of a search with no results), is
 * written back as a query that reads as the same filters and words. */
static void t_render_round_trip(void)
{
    static const char *const des[] = {"Studio Kesar", "Anaya Mehrotra"};
    size_t n = sizeof(qp_cases) / sizeof(qp_cases[0]);
    int checked = 0;
    char q[512];
    struct qp_result r;
    for (size_t i = 0; i < n; i++) {
        struct qp_result words;
        qp_parse_with(qp_cases[i].q, des, 2, &r);
        /* leftover words that are filter words themselves ("gold" in "red
         * and gold lehenga") become that filter once it is unset */
        qp_parse(r.residual, &words);
        int plain = !strcmp(words.residual, r.residual);
        for (int drop = -1; drop < 9; drop++) {
            if (drop >= 0 && !plain) continue;
            struct qp_result want = r, got;
            struct qp_filters *f = &want.f;
            switch (drop) {
            case 0: f->size[0] = 0; break;
            case 1: f->color[0] = f->color_family[0] = 0; break;
            case 2: f->category[0] = 0; break;
            case 3: f->occasion[0] = 0; break;
            case 4: f->fabric[0] = 0; break;
            case 5: f->work[0] = 0; break;
            case 6: f->min_price = f->max_price = -1; break;
            case 7: f->in_stock = -1; break;
            case 8:
                if (f->designer[0]) f->designer[0] = 0;
                else snprintf(f->designer, sizeof(f->designer), "%s", des[i % 2]);
                break;
            }
            CU_ASSERT_FATAL(qp_render(f, want.residual, q, sizeof(q)) > 0 || !*q);
            qp_parse_with(q, des, 2, &got);
            if (!qp_same(&want, &got))
                fprintf(stderr, "\nqp_render \"%s\" (drop %d) -> \"%s\": read back differently\n",
                        qp_cases[i].q, drop, q);
            CU_ASSERT(qp_same(&want, &got));
            checked++;
        }
    }
    CU_ASSERT(checked >= 400);
    /* the phrase stays apart from the words */
    qp_parse("lengha choli embroidered", &r);
    CU_ASSERT(qp_render(&r.f, r.residual, q, sizeof(q)) > 0);
    CU_ASSERT_STRING_EQUAL(q, "choli embroidered lehenga");
    /* prices: both ends, one end, decimals; sizes that look like prices */
    qp_parse("sherwani size 40 between 25000 and 80000", &r);
    CU_ASSERT(qp_render(&r.f, r.residual, q, sizeof(q)) > 0);
    CU_ASSERT_STRING_EQUAL(q, "sherwani size 40 between 25000 and 80000");
    struct qp_result back;
    r.f.min_price = 1999.5;
    r.f.max_price = -1;
    qp_render(&r.f, r.residual, q, sizeof(q));
    qp_parse(q, &back);
    CU_ASSERT(qp_same(&r, &back));
    qp_parse("free size dupatta above 1500", &r);
    qp_render(&r.f, r.residual, q, sizeof(q));
    CU_ASSERT_STRING_EQUAL(q, "dupatta size Free Size above 1500");
    qp_parse(q, &back);
    CU_ASSERT(qp_same(&r, &back));
    /* too small a buffer */
    CU_ASSERT_EQUAL(qp_render(&r.f, r.residual, q, 8), -1);
    /* nothing set: an empty query */
    struct qp_filters none;
    qp_filters_init(&none);
    CU_ASSERT_EQUAL(qp_render(&none, "", q, sizeof(q)), 0);
    CU_ASSERT_STRING_EQUAL(q, "");
}

/* Colours outside the lexicon fall into a family by their words, as the
 * importer and the parser read them. */
static void t_colour_families(void)
{
    CU_ASSERT_STRING_EQUAL(qp_color_guess("mustard yellow"), "yellow");
    CU_ASSERT_STRING_EQUAL(qp_color_guess("Teal Blue"), "blue");       /* the last colour word: not teal's green */
    CU_ASSERT_STRING_EQUAL(qp_color_guess("rust orange"), "orange");
    CU_ASSERT_STRING_EQUAL(qp_color_guess("rust"), "orange");          /* a known shade */
    CU_ASSERT_STRING_EQUAL(qp_color_guess("grey melange"), "grey");
    CU_ASSERT_STRING_EQUAL(qp_color_guess("coral-pink"), "pink");
    CU_ASSERT_PTR_NULL(qp_color_guess("peacock-ish"));
    CU_ASSERT_PTR_NULL(qp_color_guess("assorted"));
    const char *name;
    CU_ASSERT_STRING_EQUAL(qp_color_pair("teal", "blue", &name), "blue");
    CU_ASSERT_PTR_NULL(name);                                          /* the phrase names it */
    CU_ASSERT_STRING_EQUAL(qp_color_pair("pastel", "pink", &name), "pink");
    CU_ASSERT_STRING_EQUAL(name, "pink");                              /* a shade word: the base colour */
    CU_ASSERT_PTR_NULL(qp_color_pair("red", "gold", &name));           /* two colours */
    CU_ASSERT_PTR_NULL(qp_color_pair("velvet", "red", &name));
    /* in a query */
    struct qp_result r;
    qp_parse("mustard yellow kurta", &r);
    CU_ASSERT_STRING_EQUAL(r.f.color, "mustard yellow");
    CU_ASSERT_STRING_EQUAL(r.f.color_family, "yellow");
    CU_ASSERT_STRING_EQUAL(r.residual, "");
    qp_parse("teal blue saree", &r);
    CU_ASSERT_STRING_EQUAL(r.f.color_family, "blue");
    qp_parse("dark green lehenga", &r);
    CU_ASSERT_STRING_EQUAL(r.f.color, "green");
    CU_ASSERT_STRING_EQUAL(r.residual, "");
    /* given explicitly */
    struct qp_filters f;
    qp_filters_init(&f);
    struct qp_given g;
    qp_given_init(&g);
    g.color = "Turquoise-Green Melange";
    qp_filters_override(&f, &g);
    CU_ASSERT_STRING_EQUAL(f.color, "turquoise-green melange");
    CU_ASSERT_STRING_EQUAL(f.color_family, "green");
}

/* Preferences: what the words named is soft, the price/size/stock phrases
 * and explicit values hard; two garment words name the second; a brand
 * that is a stopword only as spelt. */
static void t_preferences(void)
{
    struct qp_result r;
    qp_parse("red silk lehenga size M under 5000 in stock for wedding with zardozi", &r);
    unsigned want = QPF_BIT(QPF_COLOR) | QPF_BIT(QPF_FABRIC) | QPF_BIT(QPF_CATEGORY) | QPF_BIT(QPF_OCCASION) |
                    QPF_BIT(QPF_WORK);
    CU_ASSERT_EQUAL(qp_filters_prefs(&r.f), want);
    CU_ASSERT(qp_filter_is_set(&r.f, QPF_SIZE) && qp_filter_is_set(&r.f, QPF_MAX_PRICE));
    struct qp_given g;
    qp_given_init(&g);
    g.category = "saree";
    qp_filters_override(&r.f, &g);
    CU_ASSERT_EQUAL(qp_filters_prefs(&r.f), want & ~QPF_BIT(QPF_CATEGORY));
    /* two garments in a row name one thing: both are words to match */
    qp_parse("saree gown", &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "");
    CU_ASSERT_STRING_EQUAL(r.residual, "saree gown");
    qp_parse("libas anarkali kurta for wedding", &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "");
    CU_ASSERT_STRING_EQUAL(r.residual, "libas anarkali kurta");
    CU_ASSERT_STRING_EQUAL(r.f.occasion, "wedding");
    /* the catalog's own garments are category words too */
    static const char *const cats[] = {"dress", "top", "palazzos", "t-shirt", "kurta"};
    const struct qp_catalog cat = {cats, 5};
    qp_parse_in("navy blue dresses under 1000", &cat, &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "dress");
    CU_ASSERT_STRING_EQUAL(r.f.color_family, "blue");
    qp_parse_in("crop top", &cat, &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "top");
    CU_ASSERT_STRING_EQUAL(r.residual, "crop");
    qp_parse_in("palazzo pants", &cat, &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "palazzos");
    qp_parse_in("white t-shirt", &cat, &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "t-shirt");
    qp_parse("navy blue dresses", &r);                 /* without the catalog: a filler */
    CU_ASSERT_STRING_EQUAL(r.f.category, "");
    qp_parse("biba kurta set", &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "kurta set");
    qp_parse("lehenga choli", &r);                     /* a phrase stays one garment */
    CU_ASSERT_STRING_EQUAL(r.f.category, "lehenga");
    CU_ASSERT_STRING_EQUAL(r.residual, "");
    qp_parse("party wear suit", &r);
    CU_ASSERT_STRING_EQUAL(r.f.category, "salwar suit");
    static const char *const des[] = {"AND", "W", "ONLY", "Libas"};
    char d[128], rest[256];
    CU_ASSERT_EQUAL(qp_take_designer("cotton saree between 1000 and 2000", des, 4, d, sizeof(d), rest,
                                     sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("AND kurta", des, 4, d, sizeof(d), rest, sizeof(rest)), 1);
    CU_ASSERT_STRING_EQUAL(d, "AND");
    CU_ASSERT_EQUAL(qp_take_designer("show me only w kurtas", des, 4, d, sizeof(d), rest, sizeof(rest)), 0);
    CU_ASSERT_EQUAL(qp_take_designer("W kurta", des, 4, d, sizeof(d), rest, sizeof(rest)), 1);
    CU_ASSERT_EQUAL(qp_take_designer("libas anarkali", des, 4, d, sizeof(d), rest, sizeof(rest)), 1);
    qp_parse("cotton saree between 1000 and 2000", &r);
    CU_ASSERT_EQUAL(r.f.min_price, 1000);
    CU_ASSERT_EQUAL(r.f.max_price, 2000);
    /* what ranks first among equals */
    struct qp_boost b[6];
    const char *w1[] = {"kala", "kurta", "ladko", "ke", "liye"};
    CU_ASSERT_EQUAL(qp_boosts(w1, 5, "kurta", "", "black", "black", b, 6), 4);   /* no shade group for a family's own name */
    CU_ASSERT(b[0].negate && qp_in("palazzos", b[0].words));   /* a kurta sold alone */
    CU_ASSERT_STRING_EQUAL(b[1].family, "black");                 /* mainly black */
    CU_ASSERT(qp_in("boys", b[2].words));
    CU_ASSERT(qp_in("kurti", b[3].words) && qp_in("kurta", b[3].words));   /* the garment, spelt any way */
    const char *w2[] = {"teal", "saree"};
    CU_ASSERT_EQUAL(qp_boosts(w2, 2, "saree", "", "teal", "", b, 6), 2);
    CU_ASSERT_STRING_EQUAL(b[0].words[0], "teal");
    CU_ASSERT_EQUAL(qp_boosts(w2, 0, "", "haldi", "", "", b, 6), 3);   /* garments, festive work, yellow */
    CU_ASSERT(qp_in("mustard", b[2].words));
    CU_ASSERT_EQUAL(qp_boosts(w2, 0, "", "office", "", "", b, 6), 2);  /* everyday pieces and fabrics */
    CU_ASSERT_EQUAL(qp_boosts(w2, 0, "kurta set", "", "", "", b, 6), 2);   /* the kurta with its bottom */
    CU_ASSERT(qp_in("palazzos", b[0].words));
    CU_ASSERT_STRING_EQUAL(qp_category_stored("kurta set"), "kurta");
    CU_ASSERT_STRING_EQUAL(qp_category_stored("saree"), "saree");
    /* words the parser knows are never typos nor unmatched */
    CU_ASSERT(qp_word_known("lakhs") && qp_word_known("starting") && qp_word_known("peela"));
    CU_ASSERT(!qp_word_known("chikenkari"));
}

void register_qparse(void)
{
    static const struct unit_case cases[] = {
        {"phrasings table", t_table},
        {"residual terms", t_residual_terms},
        {"lexicons", t_lexicons},
        {"explicit filters override the query's", t_override},
        {"designer names", t_take_designer},
        {"filters written back as a query read the same", t_render_round_trip},
        {"colour families by their words", t_colour_families},
        {"preferences, garments, stopword brands", t_preferences},
        {NULL, NULL},
    };
    unit_suite("qparse", cases);
}
