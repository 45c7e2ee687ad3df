/* troika_answer.c: the builtin sales answer, the facts handed to an LLM,
 * and follow-up suggestions, all composed from the intent, the market
 * figures and the matched products. Products are named only from the
 * matched list. Strings go to the request arena. */
#include "handlers/agent/troika.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/text/inr.h"
#include "common/search/qparse.h"

enum { TK_TEXT_MAX = 16 * 1024 };

/* ---- phrases ------------------------------------------------------------------- */

struct tk_occ {
    const char *occasion;
    const char *phrase;   /* "for a sangeet" */
    const char *tip;
};

static const struct tk_occ tk_occs[] = {
    {"wedding", "for a wedding",
     "For a wedding, rich fabrics such as silk, velvet or brocade with zari or zardozi work look "
     "right, in reds, maroons, golds or jewel tones."},
    {"sangeet", "for a sangeet",
     "For a sangeet, choose something you can dance in: a lighter lehenga, a sharara or an "
     "Indo-western set in a bright colour, with mirror or gota work."},
    {"mehendi", "for a mehendi",
     "For a mehendi, greens, yellows and pastels in light cotton, chanderi or georgette keep you "
     "comfortable through a long afternoon."},
    {"haldi", "for a haldi",
     "For a haldi, yellow or marigold in breathable cotton or mulmul is the tradition; pick "
     "something easy to wash."},
    {"reception", "for a reception",
     "For a reception, go for an evening look: a gown, a georgette saree or a sequinned lehenga in "
     "jewel tones or pastels."},
    {"engagement", "for an engagement",
     "For an engagement, a lehenga or an anarkali in pastels or rose gold with fine embroidery "
     "photographs beautifully."},
    {"festive", "for the festive season",
     "For festive days, a kurta set, an anarkali or a silk saree in warm colours balances "
     "tradition and comfort."},
    {"party", "for a party",
     "For a party, an Indo-western set, a cocktail saree or a gown in a bold colour or with "
     "sequins stands out."},
    {"cocktail", "for a cocktail party",
     "For a cocktail evening, a sequinned saree, a gown or an Indo-western set in a bold or "
     "metallic shade stands out."},
    {"office", "for the office",
     "For the office, a cotton or linen kurta set in muted colours, or a handloom saree, stays "
     "polished all day."},
    {"casual", "for everyday wear",
     "For everyday wear, cotton kurtas and easy co-ord sets in breathable fabrics are the way to "
     "go."},
};

static const struct tk_occ *tk_occ_find(const char *o)
{
    for (size_t i = 0; i < sizeof(tk_occs) / sizeof(tk_occs[0]); i++)
        if (strcmp(tk_occs[i].occasion, o) == 0) return &tk_occs[i];
    return NULL;
}

static int tk_vowel(const char *s)
{
    return s && strchr("aeiouAEIOU", s[0]) && s[0];
}

/* "lehenga" -> "lehengas", "dress" -> "dresses". */
static void tk_plural(char *out, size_t cap, const char *noun)
{
    size_t n = strlen(noun);
    if (n && (noun[n - 1] == 's' || noun[n - 1] == 'x'))
        snprintf(out, cap, "%ses", noun);
    else
        snprintf(out, cap, "%ss", noun);
}

static int tk_budget_phrase(buf_t *b, const struct it_entities *e, const char *cur)
{
    char a[48], c[48];
    if (e->budget_around && e->budget_target > 0) {
        inr_format(a, sizeof(a), e->budget_target, cur);
        return buf_printf(b, " around %s", a);
    }
    if (e->budget_min > 0 && e->budget_max > 0) {
        inr_format(a, sizeof(a), e->budget_min, cur);
        inr_format(c, sizeof(c), e->budget_max, cur);
        return buf_printf(b, " between %s and %s", a, c);
    }
    if (e->budget_max > 0) {
        inr_format(a, sizeof(a), e->budget_max, cur);
        return buf_printf(b, " under %s", a);
    }
    if (e->budget_min > 0) {
        inr_format(a, sizeof(a), e->budget_min, cur);
        return buf_printf(b, " above %s", a);
    }
    return 0;
}

int tk_describe(arena_t *ar, const struct it_entities *e, const char *cur, int with_budget, char **out)
{
    buf_t b;
    buf_init(&b, ar, 1024);
    int rc = 0;
    if (e->color[0]) rc |= buf_printf(&b, "%s ", e->color);
    if (e->fabric[0]) rc |= buf_printf(&b, "%s ", e->fabric);
    rc |= buf_adds(&b, e->category[0] ? e->category : "outfit");
    if (e->designer[0]) rc |= buf_printf(&b, " by %s", e->designer);
    if (e->occasion[0]) {
        const struct tk_occ *o = tk_occ_find(e->occasion);
        if (o)
            rc |= buf_printf(&b, " %s", o->phrase);
        else
            rc |= buf_printf(&b, " for %s %s", tk_vowel(e->occasion) ? "an" : "a", e->occasion);
    }
    if (e->size[0]) rc |= buf_printf(&b, " in size %s", e->size);
    if (with_budget) rc |= tk_budget_phrase(&b, e, cur);
    if (rc || !b.p) return -1;
    *out = b.p;
    return 0;
}

/* ---- the builtin answer ------------------------------------------------------------ */

static int tk_has_size(const struct tk_product *p, const char *size)
{
    for (size_t i = 0; i < p->nsizes; i++)
        if (strcasecmp(p->sizes[i], size) == 0) return 1;
    return 0;
}

static int tk_stock_phrase(buf_t *b, const struct tk_product *p, const char *size)
{
    if (!p->in_stock) return buf_adds(b, "currently out of stock");
    if (size && *size && tk_has_size(p, size)) return buf_printf(b, "in stock in %s", size);
    if (p->nsizes == 0) return buf_adds(b, "in stock");
    int rc = buf_adds(b, "in stock in ");
    size_t n = p->nsizes < 4 ? p->nsizes : 4;
    for (size_t i = 0; i < n; i++)
        rc |= buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", p->sizes[i]);
    return rc;
}

static int tk_product_name(buf_t *b, const struct tk_product *p)
{
    if (p->designer && *p->designer && !strstr(p->title, p->designer))
        return buf_printf(b, "%s by %s", p->title, p->designer);
    return buf_adds(b, p->title);
}

static int tk_summary(buf_t *b, arena_t *ar, const struct tk_facts *f)
{
    const struct it_entities *e = &f->intent->e;
    const struct tk_market *m = f->market;
    const char *cur = f->currency;
    char *desc = NULL, lo[48], hi[48], med[48], plural[96];
    if (!m || m->count == 0) {
        if (tk_describe(ar, e, cur, 1, &desc) < 0) return -1;
        return buf_printf(b, "I couldn't find any %s in the catalog right now.", desc);
    }
    /* the figures describe a segment: colour + category + budget */
    struct it_entities se;
    tk_segment_entities(&m->asked, &se);
    if (tk_describe(ar, &se, cur, 1, &desc) < 0) return -1;
    inr_format(lo, sizeof(lo), m->min, cur);
    inr_format(hi, sizeof(hi), m->max, cur);
    inr_format(med, sizeof(med), m->median, cur);
    if (m->relaxed) {
        tk_plural(plural, sizeof(plural), m->seg.category[0] ? m->seg.category : "piece");
        if (m->count == 1)
            return buf_printf(b, "There is no %s in the catalog right now; the one %s there is costs %s.",
                              desc, m->seg.category[0] ? m->seg.category : "piece", lo);
        return buf_printf(b,
                          "There is no %s in the catalog right now; across all %ld %s prices run "
                          "%s\xE2\x80\x93%s, median %s.",
                          desc, m->count, plural, lo, hi, med);
    }
    const char *art = tk_vowel(desc) ? "an" : "a";
    if (m->count == 1) {
        if (m->ntop_designers && m->designers[0].name[0])
            return buf_printf(b, "For %s %s I found 1 piece, by %s, at %s.", art, desc, m->designers[0].name, lo);
        return buf_printf(b, "For %s %s I found 1 piece, at %s.", art, desc, lo);
    }
    if (m->min == m->max)
        return buf_printf(b, "For %s %s I found %ld pieces from %ld designer%s, all at %s.", art, desc,
                          m->count, m->ndesigners, m->ndesigners == 1 ? "" : "s", lo);
    return buf_printf(b, "For %s %s I found %ld pieces from %ld designer%s, %s\xE2\x80\x93%s, median %s.", art,
                      desc, m->count, m->ndesigners, m->ndesigners == 1 ? "" : "s", lo, hi, med);
}

/* "widened the budget by 20% (up to ₹55,200), included every shade of red
 * and dropped the size" */
static int tk_relax_phrase(buf_t *b, const struct tk_facts *f)
{
    const char *parts[4];
    char budget[96], color[96];
    size_t n = 0;
    const struct it_entities *m = f->matched;
    if (f->relaxed & TK_RELAX_BUDGET) {
        char v[48];
        if (m && m->budget_max > 0) {
            inr_format(v, sizeof(v), m->budget_max, f->currency);
            snprintf(budget, sizeof(budget), "widened the budget by 20%% (up to %s)", v);
        } else {
            snprintf(budget, sizeof(budget), "widened the budget by 20%%");
        }
        parts[n++] = budget;
    }
    if (f->relaxed & TK_RELAX_COLOR) {
        if (m && m->color_family[0])
            snprintf(color, sizeof(color), "included every shade of %s", m->color_family);
        else
            snprintf(color, sizeof(color), "let go of the colour");
        parts[n++] = color;
    }
    if (f->relaxed & TK_RELAX_SIZE) parts[n++] = "dropped the size";
    /* what the pipeline gave up of what the shopper named */
    char prefs[160] = "";
    if (f->relaxed & TK_RELAX_PREFS) {
        size_t o = 0;
        for (const struct qp_widen_step *w = qp_widen_steps; w->how != QPW_END && o < sizeof(prefs); w++)
            if (w->how == QPW_DROP && (f->prefs_relaxed & QPF_BIT(w->id)))
                o += (size_t)snprintf(prefs + o, sizeof(prefs) - o, "%s%s", o ? ", " : "also showed pieces ",
                                      qp_group_what(&(struct qp_filters){.in_stock = -1}, qp_filter_defs[w->id].group));
        if (prefs[0]) parts[n++] = prefs;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", parts[i]);
    return rc;
}

static int tk_extra(buf_t *b, const struct tk_facts *f)
{
    const struct tk_market *m = f->market;
    const struct tk_product *p = f->products;
    const char *cur = f->currency;
    char a[48], c[48];
    switch (f->intent->intent) {
    case IT_PRICE_INQUIRY:
        if (m && m->count >= 4 && m->q1 < m->q3) {
            inr_format(a, sizeof(a), m->q1, cur);
            inr_format(c, sizeof(c), m->q3, cur);
            return buf_printf(b, " Half of them cost between %s and %s.", a, c);
        }
        return 0;
    case IT_AVAILABILITY:
        if (m && m->count > 0)
            return buf_printf(b, " %ld of those %ld %s in stock.", m->in_stock, m->count,
                              m->in_stock == 1 ? "is" : "are");
        return 0;
    case IT_COMPARISON:
        if (f->nproducts >= 2) {
            const struct tk_product *x = &p[0], *y = &p[1];
            const struct tk_product *lo_p = x->price <= y->price ? x : y, *hi_p = lo_p == x ? y : x;
            inr_format(a, sizeof(a), x->price, cur);
            inr_format(c, sizeof(c), y->price, cur);
            char d[48];
            inr_format(d, sizeof(d), hi_p->price - lo_p->price, cur);
            int rc = buf_printf(b, " Comparing the top two: %s at %s and %s at %s", x->title, a, y->title, c);
            if (hi_p->price > lo_p->price)
                rc |= buf_printf(b, "; %s costs %s less", lo_p->title, d);
            if (x->in_stock != y->in_stock)
                rc |= buf_printf(b, ", and only %s is in stock", x->in_stock ? x->title : y->title);
            return rc | buf_adds(b, ".");
        }
        return 0;
    default:
        return 0;
    }
}

/* 1 when p's first colour (the one its card and title lead with) is of
 * the asked family: a "red lehenga" pick should look red, not be a beige
 * one with a maroon border. */
static int tk_leads_with(const struct tk_product *p, const char *family)
{
    if (!family || !*family || !p->ncolors || !p->colors[0]) return 1;
    const char *fam = qp_color_family(p->colors[0]);
    return fam && !strcmp(fam, family);
}

/* The pick: the best-ranked product in stock in the asked size whose first
 * colour is of the asked family, else the best in stock in the size, else
 * the best in stock, else the best. */
static size_t tk_pick(const struct tk_facts *f, const char *size, const char *family)
{
    for (size_t i = 0; i < f->nproducts; i++)
        if (f->products[i].in_stock && (!size || !*size || tk_has_size(&f->products[i], size)) &&
            tk_leads_with(&f->products[i], family))
            return i;
    for (size_t i = 0; i < f->nproducts; i++)
        if (f->products[i].in_stock && (!size || !*size || tk_has_size(&f->products[i], size))) return i;
    for (size_t i = 0; i < f->nproducts; i++)
        if (f->products[i].in_stock) return i;
    return 0;
}

static int tk_alternates(buf_t *b, const struct tk_facts *f, size_t skip)
{
    size_t idx[2], n = 0;
    const char *pick = skip < f->nproducts ? f->products[skip].title : "";
    for (size_t i = 0; i < f->nproducts && n < 2; i++) {
        /* a catalog may hold two products of one title: name each title once */
        const char *ti = f->products[i].title;
        if (i == skip || !strcmp(ti, pick) || (n == 1 && !strcmp(ti, f->products[idx[0]].title))) continue;
        idx[n++] = i;
    }
    if (!n) return 0;
    int rc = buf_adds(b, " Also worth a look: ");
    for (size_t i = 0; i < n; i++) {
        char v[48];
        const struct tk_product *p = &f->products[idx[i]];
        inr_format(v, sizeof(v), p->price, p->currency ? p->currency : f->currency);
        rc |= buf_printf(b, "%s%s (%s)", i == 0 ? "" : " and ", p->title, v);
    }
    return rc | buf_adds(b, ".");
}

static const char tk_greeting[] =
    "Namaste! I'm Troika, your personal shopper. Tell me what you're looking for, say a red lehenga "
    "for a sangeet around \xE2\x82\xB9" "40,000 in size M, and I'll find pieces that fit your size "
    "and budget.";
static const char tk_support[] =
    "For orders, returns, exchanges and shipping, our customer care team is the right place: please "
    "see the Orders section of your account or write to customer care, and they will sort it out. "
    "Meanwhile I'm happy to help you find something to wear.";
static const char tk_other[] =
    "I'm Troika, the shop's assistant: I can find outfits, compare prices, check stock and suggest "
    "what to wear for an occasion. Try \"a red lehenga for a sangeet around \xE2\x82\xB9" "40,000\".";

int tk_answer_builtin(arena_t *ar, const struct tk_facts *f, char **out)
{
    buf_t b;
    buf_init(&b, ar, TK_TEXT_MAX);
    int rc = 0;
    const struct it_result *r = f->intent;
    if (r->intent == IT_GREETING) {
        rc = buf_adds(&b, tk_greeting);
        goto done;
    }
    if (r->intent == IT_SUPPORT) {
        rc = buf_adds(&b, tk_support);
        goto done;
    }
    if (r->intent == IT_OTHER) {
        rc = buf_adds(&b, tk_other);
        goto done;
    }
    if (r->intent == IT_OCCASION_ADVICE && r->e.occasion[0]) {
        const struct tk_occ *o = tk_occ_find(r->e.occasion);
        if (o) rc |= buf_printf(&b, "%s ", o->tip);
    }
    rc |= tk_summary(&b, ar, f);
    rc |= tk_extra(&b, f);
    if (f->relaxed && f->nproducts > 0) {
        rc |= buf_adds(&b, " Nothing matched exactly, so I ");
        rc |= tk_relax_phrase(&b, f);
        rc |= buf_adds(&b, ".");
    } else if (f->relaxed) {
        rc |= buf_adds(&b, " Even after I ");
        rc |= tk_relax_phrase(&b, f);
        rc |= buf_adds(&b, ", nothing matched; try another colour or a wider budget.");
    }
    if (f->nproducts > 0) {
        const char *size = f->matched ? f->matched->size : r->e.size;
        const char *family = f->matched ? f->matched->color_family : r->e.color_family;
        size_t pick = r->intent == IT_COMPARISON ? 0 : tk_pick(f, size, family);
        const struct tk_product *p = &f->products[pick];
        char v[48];
        inr_format(v, sizeof(v), p->price, p->currency ? p->currency : f->currency);
        rc |= buf_adds(&b, " My pick");
        const struct tk_occ *o = r->e.occasion[0] ? tk_occ_find(r->e.occasion) : NULL;
        if (o && !strncmp(o->phrase, "for a ", 6))
            rc |= buf_printf(&b, " for the %s", o->phrase + 6);
        else if (o && !strncmp(o->phrase, "for an ", 7))
            rc |= buf_printf(&b, " for the %s", o->phrase + 7);
        else if (o)
            rc |= buf_printf(&b, " %s", o->phrase);
        rc |= buf_adds(&b, ": ");
        rc |= tk_product_name(&b, p);
        rc |= buf_printf(&b, " at %s, ", v);
        rc |= tk_stock_phrase(&b, p, size);
        rc |= buf_adds(&b, ".");
        if (r->intent != IT_COMPARISON) rc |= tk_alternates(&b, f, pick);
    } else if (!f->relaxed && f->market && f->market->count > 0) {
        rc |= buf_adds(&b, " None of them is a close enough match to recommend; tell me more about what you have in mind.");
    }
done:
    if (rc || !b.p) return -1;
    *out = b.p;
    return 0;
}

/* ---- facts for an LLM ----------------------------------------------------------------- */

int tk_facts_prompt(arena_t *ar, const struct tk_facts *f, char **out)
{
    buf_t b;
    buf_init(&b, ar, TK_TEXT_MAX * 2);
    const struct it_result *r = f->intent;
    const struct tk_market *m = f->market;
    const char *cur = f->currency;
    char *desc = NULL, a[48], c[48], d[48], q1[48], q3[48];
    int rc = 0;
    if (tk_describe(ar, &r->e, cur, 1, &desc) < 0) return -1;
    rc |= buf_printf(&b, "Shopper intent: %s. Looking for: %s.\n", it_kind_name(r->intent), desc);
    if (m && m->count > 0) {
        inr_format(a, sizeof(a), m->min, cur);
        inr_format(c, sizeof(c), m->max, cur);
        inr_format(d, sizeof(d), m->median, cur);
        inr_format(q1, sizeof(q1), m->q1, cur);
        inr_format(q3, sizeof(q3), m->q3, cur);
        rc |= buf_printf(&b,
                         "Market figures%s: %ld products (%ld in stock) from %ld designers; price "
                         "%s to %s, median %s, quartiles %s and %s.\n",
                         m->relaxed ? " (nothing matched exactly; these cover the whole category)" : "",
                         m->count, m->in_stock, m->ndesigners, a, c, d, q1, q3);
        if (m->ntop_designers) {
            rc |= buf_adds(&b, "Top designers:");
            for (size_t i = 0; i < m->ntop_designers; i++)
                rc |= buf_printf(&b, "%s %s (%ld)", i ? "," : "", m->designers[i].name, m->designers[i].count);
            rc |= buf_adds(&b, ".\n");
        }
    } else {
        rc |= buf_adds(&b, "Market figures: nothing in the catalog matches.\n");
    }
    if (f->relaxed) {
        rc |= buf_adds(&b, "Nothing matched exactly, so the search ");
        rc |= tk_relax_phrase(&b, f);
        rc |= buf_adds(&b, ". Say so.\n");
    }
    if (f->nproducts == 0) {
        rc |= buf_adds(&b, "Matched products: none. Do not name any product.\n");
    } else {
        rc |= buf_adds(&b, "Matched products (name only these, by their exact title; you may cite the SKU in brackets):\n");
        for (size_t i = 0; i < f->nproducts; i++) {
            const struct tk_product *p = &f->products[i];
            inr_format(a, sizeof(a), p->price, p->currency ? p->currency : cur);
            rc |= buf_printf(&b, "%zu. [%s] %s", i + 1, p->sku, p->title);
            if (p->designer && *p->designer) rc |= buf_printf(&b, " by %s", p->designer);
            rc |= buf_printf(&b, ", %s, %s", a, p->in_stock ? "in stock" : "out of stock");
            if (p->nsizes) {
                rc |= buf_adds(&b, ", sizes");
                for (size_t k = 0; k < p->nsizes; k++) rc |= buf_printf(&b, "%s %s", k ? "," : "", p->sizes[k]);
            }
            if (p->ncolors) {
                rc |= buf_adds(&b, ", colours");
                for (size_t k = 0; k < p->ncolors; k++) rc |= buf_printf(&b, "%s %s", k ? "," : "", p->colors[k]);
            }
            rc |= buf_adds(&b, "\n");
        }
    }
    if (rc || !b.p) return -1;
    *out = b.p;
    return 0;
}

/* ---- suggestions ------------------------------------------------------------------------ */

static void tk_suggest_add(json_object *prompts, json_object *details, const char *text, const char *kind,
                           long count)
{
    json_object_array_add(prompts, json_object_new_string(text));
    json_object *d = json_object_new_object();
    json_object_object_add(d, "text", json_object_new_string(text));
    json_object_object_add(d, "kind", json_object_new_string(kind));
    if (count >= 0) json_object_object_add(d, "count", json_object_new_int64(count));
    json_object_array_add(details, d);
}

int tk_suggestions(arena_t *ar, const struct tk_facts *f, json_object **prompts_out, json_object **details_out)
{
    json_object *prompts = json_object_new_array(), *details = json_object_new_array();
    const struct it_result *r = f->intent;
    const struct tk_market *m = f->market;
    const char *cur = f->currency;
    char text[256], plural[96], v[48];
    const char *cat = r->e.category[0] ? r->e.category : (m && m->seg.category[0] ? m->seg.category : "");
    if (cat[0])
        tk_plural(plural, sizeof(plural), cat);
    else
        snprintf(plural, sizeof(plural), "outfits");
    (void)ar;

    if (!it_wants_products(r)) {
        tk_suggest_add(prompts, details, "Show me red lehengas for a sangeet", "example", -1);
        tk_suggest_add(prompts, details, "What should I wear to a mehendi?", "example", -1);
        tk_suggest_add(prompts, details, "What's trending in sarees?", "example", -1);
        goto out;
    }
    if (m) {
        for (size_t i = 0; i < m->nother_colors && json_object_array_length(prompts) < 2; i++) {
            snprintf(text, sizeof(text), "Show me %s %s (%ld)", m->other_colors[i].name, plural,
                     m->other_colors[i].count);
            tk_suggest_add(prompts, details, text, "color", m->other_colors[i].count);
        }
        if (m->below.count > 0 && m->below.max > 0) {
            inr_format(v, sizeof(v), m->below.max, cur);
            snprintf(text, sizeof(text), "%c%s under %s (%ld)", plural[0] >= 'a' && plural[0] <= 'z' ? plural[0] - 32 : plural[0],
                     plural + 1, v, m->below.count);
            tk_suggest_add(prompts, details, text, "budget", m->below.count);
        }
        if (m->above.count > 0 && m->above.min > 0 && json_object_array_length(prompts) < 4) {
            inr_format(v, sizeof(v), m->above.min, cur);
            snprintf(text, sizeof(text), "%c%s above %s (%ld)", plural[0] >= 'a' && plural[0] <= 'z' ? plural[0] - 32 : plural[0],
                     plural + 1, v, m->above.count);
            tk_suggest_add(prompts, details, text, "budget", m->above.count);
        }
    }
    if (json_object_array_length(prompts) < 4 && r->intent != IT_OCCASION_ADVICE && !r->e.occasion[0])
        tk_suggest_add(prompts, details, "What should I wear to a sangeet?", "occasion", -1);
    if (json_object_array_length(prompts) < 2) tk_suggest_add(prompts, details, "Anything cheaper?", "budget", -1);
    if (json_object_array_length(prompts) < 2) tk_suggest_add(prompts, details, "What's trending?", "trending", -1);
out:
    *prompts_out = prompts;
    *details_out = details;
    return 0;
}
