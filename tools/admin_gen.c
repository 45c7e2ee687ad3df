/* admin_gen.c: `troika-admin gen-catalog`: a deterministic, realistic
 * Indian designer-fashion catalog for demos and benchmarks.
 *
 * Product i is drawn from its own random stream seeded by (seed, i), so the
 * same seed always gives the same products and a larger --count only adds
 * products after the first ones. Designers are invented. Colours, sizes,
 * categories and occasions use the canonical names of common/search/qparse.c, so
 * the search filters find what the generator wrote. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tools/admin.h"
#include "tools/admin_map.h"

/* ---- randomness: splitmix64 ----------------------------------------------------- */

struct gen_rng {
    uint64_t s;
};

static uint64_t gen_next(struct gen_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double gen_unit(struct gen_rng *r)
{
    return (double)(gen_next(r) >> 11) / 9007199254740992.0;
}

static int gen_int(struct gen_rng *r, int n)
{
    return (int)(gen_unit(r) * n);
}

#define GEN_PICK(r, arr) ((arr)[gen_int((r), (int)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- the catalog's vocabulary ------------------------------------------------- */

enum gen_sizes { SZ_LETTER, SZ_MEN_NUM, SZ_BLOUSE_NUM, SZ_FREE, SZ_MEN_LETTER };
enum { G_W = 1, G_M = 2 };

struct gen_cat {
    const char *name;          /* canonical category */
    const char *code;          /* sku infix */
    const char *nouns[4];      /* title nouns */
    int weight;
    double pmin, pmax;         /* INR */
    enum gen_sizes sizes;
    int gender;
    const char *fabrics[8];
    const char *occasions[7];
    const char *includes;      /* a sentence, or NULL */
};

static const struct gen_cat gen_cats[] = {
    {"lehenga", "LEH", {"Lehenga", "Lehenga Set", "Lehenga Choli", "Bridal Lehenga"}, 18, 18000, 450000,
     SZ_LETTER, G_W, {"velvet", "raw silk", "organza", "georgette", "net", "banarasi silk", "brocade", "tulle"},
     {"wedding", "reception", "sangeet", "mehendi", "engagement", "festive", "cocktail"},
     "Comes with a matching blouse and a %s dupatta."},
    {"saree", "SAR", {"Saree", "Saree", "Drape Saree", "Handloom Saree"}, 18, 2500, 250000, SZ_FREE, G_W,
     {"banarasi silk", "kanjeevaram silk", "chiffon", "georgette", "organza", "chanderi", "tussar silk",
      "cotton"},
     {"wedding", "reception", "festive", "diwali", "party", "office", "casual"},
     "Comes with an unstitched %s blouse piece."},
    {"kurta", "KUR", {"Kurta Set", "Straight Kurta", "Kurta", "Men's Kurta"}, 16, 1500, 28000, SZ_LETTER,
     G_W | G_M, {"cotton", "mul cotton", "linen", "chanderi", "silk", "georgette", "modal", "khadi"},
     {"festive", "casual", "office", "eid", "diwali", "haldi", "mehendi"}, "Comes with matching %s pants."},
    {"sherwani", "SHW", {"Sherwani", "Sherwani Set", "Groom Sherwani", "Achkan Sherwani"}, 6, 25000, 300000,
     SZ_MEN_NUM, G_M, {"raw silk", "brocade", "velvet", "jacquard", "silk", "banarasi silk", NULL},
     {"wedding", "reception", "engagement", "sangeet", NULL}, "Paired with a churidar and a %s stole."},
    {"gown", "GWN", {"Gown", "Evening Gown", "Drape Gown", "Ball Gown"}, 7, 8000, 160000, SZ_LETTER, G_W,
     {"georgette", "tulle", "satin", "crepe", "organza", "net", "velvet", NULL},
     {"reception", "cocktail", "party", "engagement", NULL}, NULL},
    {"anarkali", "ANK", {"Anarkali", "Anarkali Set", "Anarkali Suit", "Floor-Length Anarkali"}, 8, 6000, 95000,
     SZ_LETTER, G_W, {"georgette", "chanderi", "silk", "organza", "velvet", "cotton", NULL},
     {"festive", "eid", "diwali", "mehendi", "sangeet", "wedding", NULL},
     "Comes with churidar pants and a %s dupatta."},
    {"sharara", "SHR", {"Sharara Set", "Sharara", "Kurta Sharara Set", "Sharara Suit"}, 6, 8000, 120000,
     SZ_LETTER, G_W, {"georgette", "organza", "silk", "chanderi", "velvet", "crepe", NULL},
     {"mehendi", "sangeet", "eid", "festive", "haldi", NULL}, "Comes with a short kurta and a %s dupatta."},
    {"gharara", "GHR", {"Gharara Set", "Gharara", "Gharara Suit", "Gharara Set"}, 3, 9000, 110000, SZ_LETTER,
     G_W, {"silk", "georgette", "chanderi", "banarasi silk", NULL},
     {"mehendi", "eid", "sangeet", "wedding", NULL}, "Comes with a kurta and a %s dupatta."},
    {"dupatta", "DUP", {"Dupatta", "Stole Dupatta", "Dupatta", "Bridal Dupatta"}, 4, 1500, 35000, SZ_FREE, G_W,
     {"organza", "net", "banarasi silk", "chiffon", "chanderi", "georgette", NULL},
     {"wedding", "festive", "mehendi", "haldi", NULL}, NULL},
    {"salwar suit", "SAL", {"Salwar Suit", "Salwar Kameez", "Churidar Suit", "Patiala Suit"}, 4, 3500, 45000,
     SZ_LETTER, G_W, {"cotton", "chanderi", "georgette", "silk", "linen", NULL},
     {"festive", "casual", "office", "eid", NULL}, "Comes with a %s dupatta."},
    {"bandhgala", "BND", {"Bandhgala", "Bandhgala Suit", "Jodhpuri Bandhgala", "Bandhgala Jacket"}, 3, 18000,
     140000, SZ_MEN_NUM, G_M, {"raw silk", "velvet", "jacquard", "linen", "wool blend", NULL},
     {"reception", "wedding", "cocktail", "engagement", NULL}, "Paired with %s trousers."},
    {"nehru jacket", "NHJ", {"Nehru Jacket", "Nehru Jacket", "Bundi Jacket", "Nehru Jacket Set"}, 3, 3500, 32000,
     SZ_MEN_LETTER, G_M, {"raw silk", "linen", "jacquard", "khadi", "velvet", NULL},
     {"festive", "wedding", "diwali", "party", NULL}, NULL},
    {"indo-western", "IDW", {"Indo-Western Set", "Indo-Western Jacket Set", "Drape Set", "Cape Set"}, 3, 9000,
     150000, SZ_LETTER, G_W | G_M, {"georgette", "crepe", "silk", "raw silk", "satin", NULL},
     {"cocktail", "reception", "sangeet", "party", NULL}, NULL},
    {"kaftan", "KFT", {"Kaftan", "Kaftan Dress", "Kaftan Set", "Kaftan"}, 2, 4000, 42000, SZ_FREE, G_W,
     {"georgette", "crepe", "chiffon", "modal", "satin", NULL}, {"haldi", "party", "casual", "mehendi", NULL},
     NULL},
    {"blouse", "BLS", {"Blouse", "Saree Blouse", "Designer Blouse", "Embroidered Blouse"}, 2, 2000, 28000,
     SZ_BLOUSE_NUM, G_W, {"raw silk", "velvet", "brocade", "silk", "net", NULL},
     {"wedding", "festive", "reception", "party", NULL}, NULL},
    {"co-ord set", "CRD", {"Co-ord Set", "Co-ord Set", "Kurta Co-ord Set", "Co-ord Set"}, 2, 4500, 38000,
     SZ_LETTER, G_W, {"linen", "cotton", "crepe", "modal", "silk", NULL}, {"casual", "office", "haldi", "party", NULL},
     NULL},
};

struct gen_designer {
    const char *name;
    int gender;
};

/* Invented labels; any likeness to a real label is unintended. */
static const struct gen_designer gen_designers[] = {
    {"Anaya Mehrotra", G_W}, {"Kabir Sethi Atelier", G_M}, {"Ritika & Raghav", G_W | G_M},
    {"House of Ishaani", G_W}, {"Vrinda Kapoor", G_W}, {"Aarav Malhotra Couture", G_M},
    {"Meher Bagh", G_W}, {"Tarini Rao", G_W}, {"Studio Kesar", G_W | G_M}, {"Nayantara Label", G_W},
    {"Devika Chawla", G_W}, {"Rohan Bhandari", G_M}, {"Saanjh by Pallavi", G_W}, {"Zoya Qureshi Atelier", G_W},
    {"Arjun Khanna Menswear", G_M}, {"Label Aanchal", G_W}, {"Mihika Suri", G_W}, {"Ishaan Varma", G_M},
    {"Kesariya House", G_W | G_M}, {"Rangrez & Co", G_W | G_M}, {"Sukriti Jain", G_W}, {"Aditi Mukherjee", G_W},
    {"Naina Oberoi", G_W}, {"Vihaan Grover", G_M}, {"Gulmohar Studio", G_W | G_M}, {"Pankhudi by Ruhi", G_W},
    {"Purani Dilli Heritage", G_W | G_M}, {"Mrinalini Sen", G_W}, {"Rajvi Desai", G_W}, {"Shikha Bajwa", G_W},
    {"Tanvi Reddy", G_W}, {"Ojas Menon", G_M}, {"Sanya Gill", G_W}, {"Harshita Lal", G_W},
    {"Kavya Iyer", G_W}, {"Noor Mahal Couture", G_W}, {"Amrapali Weaves", G_W}, {"The Loom House", G_W | G_M},
    {"Banaras Karigar", G_W | G_M}, {"Veer Pratap Singh", G_M},
};

/* Canonical colour names (common/search/qparse.c) with weights. */
static const char *const gen_colors[] = {
    "maroon", "maroon", "red", "red", "crimson", "wine", "ruby", "rani pink", "rani pink", "blush pink",
    "fuchsia", "peach", "peach", "coral", "rust", "mustard", "yellow", "gold", "gold", "antique gold",
    "ivory", "ivory", "off-white", "cream", "champagne", "beige", "emerald", "emerald", "bottle green", "sage",
    "mint", "mehendi green", "teal", "navy", "navy", "royal blue", "powder blue", "sky blue", "turquoise",
    "lavender", "lilac", "purple", "plum", "black", "black", "charcoal", "grey", "silver", "orange", "saffron",
    "multicolour",
};

static const char *const gen_works[] = {
    "zardozi", "gota patti", "mirror work", "chikankari", "sequin", "thread embroidery", "resham",
    "aari", "dabka", "bandhani", "block print", "leheriya", "kalamkari", "ikat", "phulkari", "zari",
    "kantha", "pearl embellished", "cutdana", "marori", "hand painted", "floral print", "applique",
};

static const char *const gen_styles[] = {
    "handcrafted", "lightweight", "handloom", "contemporary", "heritage", "pastel", "statement",
    "minimal", "layered", "flared", "a-line", "straight cut", "cape", "jacket style", "draped",
};

static const char *const gen_adjs[] = {
    "Handcrafted", "Heirloom", "Regal", "Contemporary", "Classic", "Festive", "Embroidered", "Statement",
    "Lightweight", "Royal", "Vintage", "Modern",
};

static const char *const gen_parts[] = {
    "yoke", "hem", "sleeves", "border", "neckline", "waistline", "back",
};
static const char *const gen_parts_saree[] = {"pallu", "border", "pallu and border"};
static const char *const gen_parts_men[] = {"collar", "placket", "cuffs", "yoke", "front panel"};

static const char *const gen_moods[] = {
    "Made for %s celebrations, it balances tradition with an easy, modern fit.",
    "A %s favourite: light enough to dance in, rich enough to photograph.",
    "Designed for %s evenings, with a silhouette that moves well.",
    "Our pick for %s: timeless colour, careful handwork, comfortable lining.",
    "Crafted by artisans for %s, each piece takes weeks of hand embroidery.",
};

/* ---- one product --------------------------------------------------------------- */

struct gen_prod {
    char sku[32], title[256], description[1024], designer[64], image[128], url[128];
    char t_col[64], t_fab[64], t_wk[64];   /* the title's words, for gen_retitle */
    const char *noun;
    const struct gen_cat *cat;
    const char *colors[3];
    int ncolors;
    const char *sizes[12];
    int nsizes;
    const char *tags[8];
    int ntags;
    long price;
    int in_stock;
    int stock;
    double popularity;
};

static void gen_titlecase(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    int start = 1;
    for (; *s && o + 1 < cap; s++) {
        char c = *s;
        out[o++] = start && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
        start = c == ' ' || c == '-';
    }
    out[o] = '\0';
}

static int gen_count_nonnull(const char *const *v, int max)
{
    int n = 0;
    while (n < max && v[n]) n++;
    return n;
}

static void gen_sizes(struct gen_rng *r, struct gen_prod *p)
{
    static const char *const letters[] = {"XS", "S", "M", "L", "XL", "XXL", "XXXL"};
    static const char *const men[] = {"36", "38", "40", "42", "44", "46"};
    static const char *const blouse[] = {"32", "34", "36", "38", "40", "42"};
    p->nsizes = 0;
    switch (p->cat->sizes) {
    case SZ_FREE:
        p->sizes[p->nsizes++] = "Free Size";
        break;
    case SZ_LETTER:
    case SZ_MEN_LETTER: {
        int lo = p->cat->sizes == SZ_MEN_LETTER ? 1 + gen_int(r, 2) : gen_int(r, 3);
        int hi = 3 + gen_int(r, 4);
        for (int i = lo; i <= hi; i++) p->sizes[p->nsizes++] = letters[i];
        break;
    }
    case SZ_MEN_NUM:
    case SZ_BLOUSE_NUM: {
        const char *const *v = p->cat->sizes == SZ_MEN_NUM ? men : blouse;
        int lo = gen_int(r, 2), hi = 3 + gen_int(r, 3);
        for (int i = lo; i <= hi; i++) p->sizes[p->nsizes++] = v[i];
        break;
    }
    }
}

static long gen_round_price(double x)
{
    long step = x >= 100000 ? 1000 : x >= 10000 ? 500 : 100;
    long v = (long)(x / (double)step + 0.5) * step;
    return v > step ? v - 1 : v;   /* 24999, 1,49,999: how shops price */
}

static const struct gen_cat *gen_pick_cat(struct gen_rng *r)
{
    int total = 0;
    for (size_t i = 0; i < sizeof(gen_cats) / sizeof(gen_cats[0]); i++) total += gen_cats[i].weight;
    int x = gen_int(r, total);
    for (size_t i = 0; i < sizeof(gen_cats) / sizeof(gen_cats[0]); i++) {
        if (x < gen_cats[i].weight) return &gen_cats[i];
        x -= gen_cats[i].weight;
    }
    return &gen_cats[0];
}

/* The draws of one product beyond struct gen_prod: its random stream and
 * the words the title, description and tags share. Every step below draws
 * from r in this order; changing the order changes every catalog. */
struct gen_draw {
    struct gen_rng r;
    int gender;                /* G_W or G_M */
    const char *fabric, *work, *occasion, *noun;
    int bridal;
};

/* Designer of the right gender (a category for both picks one first). */
static void gen_pick_designer(struct gen_draw *g, struct gen_prod *p)
{
    const struct gen_cat *c = p->cat;
    g->gender = c->gender == (G_W | G_M) ? (gen_unit(&g->r) < 0.6 ? G_W : G_M) : c->gender;
    const struct gen_designer *d;
    do d = &GEN_PICK(&g->r, gen_designers);
    while (!(d->gender & g->gender));
    snprintf(p->designer, sizeof(p->designer), "%s", d->name);
}

/* One to three distinct colours, the first the main one. */
static void gen_pick_colors(struct gen_draw *g, struct gen_prod *p)
{
    p->colors[0] = GEN_PICK(&g->r, gen_colors);
    p->ncolors = 1;
    while (p->ncolors < 3 && gen_unit(&g->r) < (p->ncolors == 1 ? 0.55 : 0.25)) {
        const char *x = GEN_PICK(&g->r, gen_colors);
        int dup = 0;
        for (int k = 0; k < p->ncolors; k++)
            if (!strcmp(p->colors[k], x)) dup = 1;
        if (!dup) p->colors[p->ncolors++] = x;
    }
}

/* Fabric, handwork, occasion and the garment's noun; bridal pieces (a
 * bridal noun, or some wedding wear) are for weddings. */
static void gen_pick_look(struct gen_draw *g, const struct gen_cat *c)
{
    g->fabric = c->fabrics[gen_int(&g->r, gen_count_nonnull(c->fabrics, 8))];
    g->work = GEN_PICK(&g->r, gen_works);
    g->occasion = c->occasions[gen_int(&g->r, gen_count_nonnull(c->occasions, 7))];
    int noun_i = gen_int(&g->r, 4);
    if (g->gender == G_M && !strcmp(c->name, "kurta")) noun_i = 3;
    if (g->gender == G_W && !strcmp(c->name, "kurta") && noun_i == 3) noun_i = 0;
    g->noun = c->nouns[noun_i];
    int named = strstr(g->noun, "Bridal") || strstr(g->noun, "Groom");
    g->bridal = named || (!strcmp(g->occasion, "wedding") && gen_unit(&g->r) < 0.4);
    if (named) g->occasion = "wedding";
}

/* One of three title shapes, from the title-cased words. */
static void gen_write_title(struct gen_draw *g, struct gen_prod *p)
{
    char *col = p->t_col, *fab = p->t_fab, *wk = p->t_wk;
    gen_titlecase(col, sizeof(p->t_col), p->colors[0]);
    gen_titlecase(fab, sizeof(p->t_fab), g->fabric);
    gen_titlecase(wk, sizeof(p->t_wk), g->work);
    p->noun = g->noun;
    switch (gen_int(&g->r, 3)) {
    case 0: snprintf(p->title, sizeof(p->title), "%s %s %s %s", col, fab, wk, g->noun); break;
    case 1:
        snprintf(p->title, sizeof(p->title), "%s %s %s with %s", GEN_PICK(&g->r, gen_adjs), col, g->noun, wk);
        break;
    default: snprintf(p->title, sizeof(p->title), "%s %s %s by %s", col, wk, g->noun, p->designer); break;
    }
}

static void gen_write_description(struct gen_draw *g, struct gen_prod *p)
{
    const struct gen_cat *c = p->cat;
    char mood[200], inc[160] = "";
    snprintf(mood, sizeof(mood), GEN_PICK(&g->r, gen_moods), g->occasion);
    if (c->includes) {
        const char *second = p->ncolors > 1 ? p->colors[1] : GEN_PICK(&g->r, gen_colors);
        snprintf(inc, sizeof(inc), c->includes, second);
    }
    char lower_noun[64];
    snprintf(lower_noun, sizeof(lower_noun), "%s", g->noun);
    for (char *s = lower_noun; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
    const char *part = !strcmp(c->name, "saree") || !strcmp(c->name, "dupatta") ? GEN_PICK(&g->r, gen_parts_saree)
                       : g->gender == G_M ? GEN_PICK(&g->r, gen_parts_men)
                                          : GEN_PICK(&g->r, gen_parts);
    snprintf(p->description, sizeof(p->description), "A %s %s %s by %s, finished with %s on the %s%s%s. %s %s%s%s",
             p->colors[0], g->fabric, lower_noun, p->designer, g->work, part, p->ncolors > 1 ? " and accents in " : "",
             p->ncolors > 1 ? p->colors[1] : "", mood, inc, inc[0] ? " " : "",
             gen_unit(&g->r) < 0.7 ? "Dry clean only." : "Gentle hand wash.");
}

/* Price log-uniform in the category's range (bridal pieces at the top),
 * stock, popularity. */
static void gen_pick_price(struct gen_draw *g, struct gen_prod *p)
{
    const struct gen_cat *c = p->cat;
    double u = gen_unit(&g->r);
    if (g->bridal) u = 0.55 + 0.45 * u;
    else u = u * u * 0.9;
    p->price = gen_round_price(c->pmin * pow(c->pmax / c->pmin, u));
    p->in_stock = gen_unit(&g->r) < 0.86;
    p->stock = p->in_stock ? 1 + gen_int(&g->r, 40) : 0;
    double pu = gen_unit(&g->r);
    p->popularity = floor(2000.0 * pu * pu * pu * pu) + (double)gen_int(&g->r, 50);
}

static void gen_pick_tags(struct gen_draw *g, struct gen_prod *p)
{
    const struct gen_cat *c = p->cat;
    p->tags[p->ntags++] = g->occasion;
    if (g->bridal) p->tags[p->ntags++] = "bridal";
    const char *occ2 = c->occasions[gen_int(&g->r, gen_count_nonnull(c->occasions, 7))];
    if (strcmp(occ2, g->occasion)) p->tags[p->ntags++] = occ2;
    p->tags[p->ntags++] = g->fabric;
    p->tags[p->ntags++] = g->work;
    p->tags[p->ntags++] = GEN_PICK(&g->r, gen_styles);
    p->tags[p->ntags++] = g->gender == G_M ? "menswear" : "womenswear";
}

/* Image and page URLs from the lower-cased sku (no draws). */
static void gen_write_links(struct gen_prod *p)
{
    char lsku[32];
    snprintf(lsku, sizeof(lsku), "%s", p->sku);
    for (char *s = lsku; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
    snprintf(p->image, sizeof(p->image), "https://images.example.com/troika/%s.jpg", lsku);
    snprintf(p->url, sizeof(p->url), "https://shop.example.com/products/%s", lsku);
}

static void gen_product(uint64_t seed, long i, struct gen_prod *p)
{
    /* Product i's stream starts at a hash of (seed, i). A state that moved
     * by splitmix64's own increment from one product to the next gave
     * product i+1 product i's draws shifted by one: neighbours shared
     * colour, handwork and designer ("Ivory Leheriya ... by Banaras
     * Karigar" three times in a row). */
    struct gen_rng h = {seed ^ 0x2545F4914F6CDD1DULL};
    struct gen_draw g = {.r = {gen_next(&h) ^ (uint64_t)i}};
    g.r.s = gen_next(&g.r);
    memset(p, 0, sizeof(*p));
    p->cat = gen_pick_cat(&g.r);
    snprintf(p->sku, sizeof(p->sku), "TRK-%s-%06ld", p->cat->code, i + 1);
    gen_pick_designer(&g, p);
    gen_pick_colors(&g, p);
    gen_pick_look(&g, p->cat);
    gen_write_title(&g, p);
    gen_write_description(&g, p);
    gen_sizes(&g.r, p);
    gen_pick_price(&g, p);
    gen_pick_tags(&g, p);
    gen_write_links(p);
}

/* ---- output ------------------------------------------------------------------ */

static json_object *gen_strs(const char *const *v, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++) json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

/* Another title for p, the attempt-th (from 1), when its title and
 * designer are those of a product already written: two cards alike in
 * title, designer and often price looked like a bug on the demo page. Drawn
 * from its own stream (seed, i, attempt), so that the rest of the product
 * and every later product stay as they were. */
static void gen_retitle(uint64_t seed, long i, int attempt, struct gen_prod *p)
{
    struct gen_rng h = {seed ^ 0x94D049BB133111EBULL};
    struct gen_rng r = {gen_next(&h) ^ ((uint64_t)i << 8) ^ (uint64_t)attempt};
    r.s = gen_next(&r);
    char second[64];
    gen_titlecase(second, sizeof(second), p->ncolors > 1 ? p->colors[1] : GEN_PICK(&r, gen_colors));
    const char *adj = GEN_PICK(&r, gen_adjs);
    switch (gen_int(&r, 4)) {
    case 0: snprintf(p->title, sizeof(p->title), "%s %s %s with %s", adj, p->t_col, p->noun, p->t_wk); break;
    case 1: snprintf(p->title, sizeof(p->title), "%s and %s %s %s", p->t_col, second, p->t_fab, p->noun); break;
    case 2: snprintf(p->title, sizeof(p->title), "%s %s %s %s", adj, p->t_col, p->t_fab, p->noun); break;
    default: snprintf(p->title, sizeof(p->title), "%s %s %s with %s Accents", p->t_col, p->t_wk, p->noun, second); break;
    }
}

static void gen_jsonl(FILE *f, const struct gen_prod *p, const char *currency)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "sku", json_object_new_string(p->sku));
    json_object_object_add(o, "title", json_object_new_string(p->title));
    json_object_object_add(o, "description", json_object_new_string(p->description));
    json_object_object_add(o, "category", json_object_new_string(p->cat->name));
    json_object_object_add(o, "designer", json_object_new_string(p->designer));
    json_object_object_add(o, "colors", gen_strs(p->colors, p->ncolors));
    json_object_object_add(o, "sizes", gen_strs(p->sizes, p->nsizes));
    json_object_object_add(o, "price", json_object_new_int64(p->price));
    json_object_object_add(o, "currency", json_object_new_string(currency));
    json_object_object_add(o, "inStock", json_object_new_boolean(p->in_stock));
    json_object_object_add(o, "stockCount", json_object_new_int(p->stock));
    json_object_object_add(o, "tags", gen_strs(p->tags, p->ntags));
    json_object_object_add(o, "imageUrl", json_object_new_string(p->image));
    json_object_object_add(o, "url", json_object_new_string(p->url));
    json_object_object_add(o, "popularity", json_object_new_int64((int64_t)p->popularity));
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), f);
    fputc('\n', f);
    json_object_put(o);
}

static void gen_csv_cell(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void gen_csv_list(FILE *f, const char *const *v, int n)
{
    char b[512];
    size_t o = 0;
    b[0] = '\0';
    for (int i = 0; i < n; i++) o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s", i ? "|" : "", v[i]);
    gen_csv_cell(f, b);
}

static void gen_csv(FILE *f, const struct gen_prod *p, const char *currency)
{
    gen_csv_cell(f, p->sku);
    fputc(',', f);
    gen_csv_cell(f, p->title);
    fputc(',', f);
    gen_csv_cell(f, p->description);
    fputc(',', f);
    gen_csv_cell(f, p->cat->name);
    fputc(',', f);
    gen_csv_cell(f, p->designer);
    fputc(',', f);
    gen_csv_list(f, p->colors, p->ncolors);
    fputc(',', f);
    gen_csv_list(f, p->sizes, p->nsizes);
    fprintf(f, ",%ld,%s,%s,%d,", p->price, currency, p->in_stock ? "true" : "false", p->stock);
    gen_csv_list(f, p->tags, p->ntags);
    fprintf(f, ",%s,%s,%.0f\n", p->image, p->url, p->popularity);
}

int adm_gen_catalog(struct adm *a, int argc, char **argv)
{
    long count = 5000;
    unsigned long long seed = 1;
    const char *fmt = "jsonl", *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        char *end;
        if (!strcmp(o, "--count") && i + 1 < argc) {
            count = strtol(argv[++i], &end, 10);
            if (*end || count < 0 || count > 10000000) {
                fprintf(stderr, "gen-catalog: --count must be 0..10000000\n");
                return ADM_USAGE;
            }
        } else if (!strcmp(o, "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], &end, 10);
            if (*end) {
                fprintf(stderr, "gen-catalog: --seed must be a whole number\n");
                return ADM_USAGE;
            }
        } else if (!strcmp(o, "--format") && i + 1 < argc) {
            fmt = argv[++i];
        } else if (!strcmp(o, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else {
            fprintf(stderr, "Usage: troika-admin gen-catalog [--count N] [--seed S] [--format jsonl|csv] "
                            "[--out FILE]\n");
            return ADM_USAGE;
        }
    }
    if (strcmp(fmt, "jsonl") && strcmp(fmt, "csv")) {
        fprintf(stderr, "gen-catalog: --format must be jsonl or csv\n");
        return ADM_USAGE;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        perror(out);
        return ADM_FAIL;
    }
    int csv = !strcmp(fmt, "csv");
    if (csv)
        fputs("sku,title,description,category,designer,colors,sizes,price,currency,inStock,stockCount,tags,"
              "imageUrl,url,popularity\n",
              f);
    struct gen_prod p;
    struct adm_map seen;   /* title + designer of every product written */
    if (adm_map_init(&seen, a->ar, count < 1000000 ? (size_t)count : 1000000) < 0) {
        fprintf(stderr, "gen-catalog: out of memory\n");
        if (out) fclose(f);
        return ADM_FAIL;
    }
    for (long i = 0; i < count; i++) {
        gen_product(seed, i, &p);
        char key[sizeof(p.title) + sizeof(p.designer) + 2];
        for (int k = 0;; ) {
            snprintf(key, sizeof(key), "%s|%s", p.title, p.designer);
            if (!adm_map_get(&seen, key) || k == 16) break;
            gen_retitle(seed, i, ++k, &p);
        }
        if (adm_map_put(&seen, a->ar, key, 1) < 0) {
            fprintf(stderr, "gen-catalog: out of memory\n");
            if (out) fclose(f);
            return ADM_FAIL;
        }
        if (csv) gen_csv(f, &p, a->cfg.currency);
        else gen_jsonl(f, &p, a->cfg.currency);
    }
    int rc = ADM_OK;
    if (fflush(f) != 0 || ferror(f)) {
        perror(out ? out : "stdout");
        rc = ADM_FAIL;
    }
    if (out && fclose(f) != 0) rc = ADM_FAIL;
    if (out && rc == ADM_OK) fprintf(stderr, "gen-catalog: wrote %ld products to %s\n", count, out);
    return rc;
}
