/* filters.c: the search filters' table and the functions that read it;
 * see filters.h. The lexicons behind the readers are in qparse_lex.c. */
#include "common/search/filters.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/qparse_lex.h"
#include "common/text/inr.h"

/* ---- readers: the lexicon's lookups in the table's shape ---------------------- */

/* A colour word or phrase; a two-word phrase the lexicon lacks is one
 * colour when its words say so (qp_color_pair): the base colour after a
 * shade word ("pastel pink": pink), else the phrase itself names it (w:
 * valid while the caller copies it). */
static const char *qpf_color_word(const char *w, const char **family)
{
    const struct qp_color *c = qp_color_find(w);
    if (c) {
        *family = c->family;
        return c->name;
    }
    const char *sp = strchr(w, ' ');
    char first[64];
    if (!sp || (size_t)(sp - w) >= sizeof(first)) return NULL;
    memcpy(first, w, (size_t)(sp - w));
    first[sp - w] = '\0';
    const char *name, *fam = qp_color_pair(first, sp + 1, &name);
    if (!fam) return NULL;
    *family = fam;
    return name ? name : w;
}

static const char *qpf_category_word(const char *w, const char **family)
{
    (void)family;
    return qp_category_find(w);
}

static const char *qpf_occasion_word(const char *w, const char **family)
{
    (void)family;
    return qp_occasion_find(w);
}

static const char *qpf_fabric_word(const char *w, const char **family)
{
    (void)family;
    return qp_fabric_find(w);
}

static const char *qpf_work_word(const char *w, const char **family)
{
    (void)family;
    return qp_work_find(w);
}

static const char *qpf_size_canon(const char *s, const char **family)
{
    (void)family;
    return qp_size_canon(s);
}

/* A given colour: canonical when known; else NULL (kept as given) with
 * the family its words name, if any ("Teal Blue" -> blue). */
static const char *qpf_color_canon(const char *s, const char **family)
{
    const char *name;
    if (qp_color_lookup(s, &name, family) == 0) return name;
    *family = qp_color_guess(s);
    return NULL;
}

static const char *qpf_category_canon(const char *s, const char **family)
{
    (void)family;
    return qp_category_canon(s);
}

static const char *qpf_occasion_canon(const char *s, const char **family)
{
    (void)family;
    return qp_occasion_canon(s);
}

static const char *qpf_fabric_canon(const char *s, const char **family)
{
    (void)family;
    return qp_fabric_canon(s);
}

static const char *qpf_work_canon(const char *s, const char **family)
{
    (void)family;
    return qp_work_canon(s);
}

/* "zardozi work", "aari embroidery": the noun is part of the phrase */
static const char *const qpf_work_nouns[] = {"work", "embroidery", "embroidered", NULL};

/* ---- the table ------------------------------------------------------------------ */

#define QPF_FIELD(m) .off = offsetof(struct qp_filters, m), .cap = sizeof(((struct qp_filters *)0)->m)
#define QPF_GIVEN(m) .given = offsetof(struct qp_given, m)

const struct qp_filter_def qp_filter_defs[QPF_N] = {
    [QPF_SIZE] = {.id = QPF_SIZE, .name = "size", .kind = QPF_TEXT, QPF_FIELD(size), QPF_GIVEN(size),
                  .canon = qpf_size_canon,
                  .table = "product_sizes", .alias = "fs", .column = "size", .op = "=",
                  .bits = "size:", .group = QPG_SIZE, .from_words = QPF_HARD},
    [QPF_COLOR] = {.id = QPF_COLOR, .name = "color", .alt_name = "colorFamily", .kind = QPF_COLOUR,
                   QPF_FIELD(color), .alt_off = offsetof(struct qp_filters, color_family),
                   .alt_cap = sizeof(((struct qp_filters *)0)->color_family), QPF_GIVEN(color),
                   .word = qpf_color_word, .canon = qpf_color_canon, .lower = 1,
                   .table = "product_colors", .alias = "fc", .column = "family", .alt_column = "color", .op = "=",
                   .bits = "fam:", .alt_bits = "col:", .group = QPG_COLOR, .from_words = QPF_SOFT},
    [QPF_CATEGORY] = {.id = QPF_CATEGORY, .name = "category", .kind = QPF_TEXT, QPF_FIELD(category),
                      QPF_GIVEN(category), .word = qpf_category_word, .canon = qpf_category_canon, .lower = 1,
                      .column = "category", .op = "=", .accepts = qp_category_accepts, .max_values = 2,
                      .broad = qp_category_text, .bits = "cat:", .group = QPG_CATEGORY,
                      .from_words = QPF_SOFT},
    [QPF_DESIGNER] = {.id = QPF_DESIGNER, .name = "designer", .kind = QPF_TEXT, QPF_FIELD(designer),
                      QPF_GIVEN(designer), .column = "designer", .op = "=", .bits = "des:",
                      .group = QPG_DESIGNER, .from_words = QPF_SOFT},
    [QPF_OCCASION] = {.id = QPF_OCCASION, .name = "occasion", .kind = QPF_TEXT, QPF_FIELD(occasion),
                      QPF_GIVEN(occasion), .word = qpf_occasion_word, .absorb = 1, .canon = qpf_occasion_canon,
                      .lower = 1, .table = "product_tags", .alias = "ft", .column = "tag",
                      .accepts = qp_occasion_tags, .max_values = 4, .broad = qp_occasion_text, .bits = "tag:",
                      .group = QPG_OCCASION,
                      .from_words = QPF_SOFT},
    /* Fabric and handwork: the indexed tag lookup ((tag, product_id)), so
     * frequent words such as "silk" never reach FULLTEXT (docs/search.md). */
    [QPF_FABRIC] = {.id = QPF_FABRIC, .name = "fabric", .kind = QPF_TEXT, QPF_FIELD(fabric), QPF_GIVEN(fabric),
                    .word = qpf_fabric_word, .canon = qpf_fabric_canon, .lower = 1, .table = "product_tags",
                    .alias = "fb", .column = "tag", .accepts = qp_fabric_tags, .max_values = 5, .bits = "tag:",
                    .group = QPG_FABRIC, .from_words = QPF_SOFT},
    [QPF_WORK] = {.id = QPF_WORK, .name = "work", .kind = QPF_TEXT, QPF_FIELD(work), QPF_GIVEN(work),
                  .word = qpf_work_word, .nouns = qpf_work_nouns, .canon = qpf_work_canon, .lower = 1,
                  .table = "product_tags", .alias = "fw", .column = "tag", .op = "=", .bits = "tag:",
                  .group = QPG_WORK, .from_words = QPF_SOFT},
    [QPF_MIN_PRICE] = {.id = QPF_MIN_PRICE, .name = "minPrice", .kind = QPF_MIN,
                       .off = offsetof(struct qp_filters, min_price), QPF_GIVEN(min_price), .column = "price",
                       .op = ">=", .bits = "pmin:", .group = QPG_PRICE, .from_words = QPF_HARD},
    [QPF_MAX_PRICE] = {.id = QPF_MAX_PRICE, .name = "maxPrice", .kind = QPF_MAX,
                       .off = offsetof(struct qp_filters, max_price), QPF_GIVEN(max_price), .column = "price",
                       .op = "<=", .bits = "pmax:", .group = QPG_PRICE, .from_words = QPF_HARD},
    [QPF_IN_STOCK] = {.id = QPF_IN_STOCK, .name = "inStock", .kind = QPF_BOOL,
                      .off = offsetof(struct qp_filters, in_stock), QPF_GIVEN(in_stock), .column = "in_stock",
                      .op = "=", .bits = "stock:", .group = QPG_STOCK, .from_words = QPF_HARD},
};

const struct qp_group_def qp_group_defs[QPG_N] = {
    [QPG_PRICE] = {QPG_PRICE, "price", "without the price limit", NULL},
    [QPG_SIZE] = {QPG_SIZE, "size", "in other sizes", "sizes"},
    [QPG_STOCK] = {QPG_STOCK, "inStock", "counting pieces out of stock", NULL},
    [QPG_WORK] = {QPG_WORK, "work", "with any handwork", NULL},
    [QPG_FABRIC] = {QPG_FABRIC, "fabric", "in any fabric", NULL},
    [QPG_COLOR] = {QPG_COLOR, "color", "in other colours", "colors"},
    [QPG_OCCASION] = {QPG_OCCASION, "occasion", "for any occasion", NULL},
    [QPG_DESIGNER] = {QPG_DESIGNER, "designer", "by other designers", "designers"},
    [QPG_CATEGORY] = {QPG_CATEGORY, "category", "in other categories", "categories"},
};

const struct qp_widen_step qp_widen_steps[] = {
    {QPF_CATEGORY, QPW_BROADEN}, {QPF_OCCASION, QPW_BROADEN}, {QPF_OCCASION, QPW_DROP}, {QPF_WORK, QPW_DROP},
    {QPF_FABRIC, QPW_DROP},
    {QPF_N, QPW_WORDS},          {QPF_COLOR, QPW_DROP},    {QPF_CATEGORY, QPW_DROP}, {QPF_DESIGNER, QPW_DROP},
    {QPF_N, QPW_END},
};

/* ---- fields ----------------------------------------------------------------------- */

static char *qpf_str(struct qp_filters *f, const struct qp_filter_def *d)
{
    return (char *)f + d->off;
}

static const char *qpf_cstr(const struct qp_filters *f, const struct qp_filter_def *d)
{
    return (const char *)f + d->off;
}

static double *qpf_num(struct qp_filters *f, const struct qp_filter_def *d)
{
    return (double *)(void *)((char *)f + d->off);
}

static double qpf_cnum(const struct qp_filters *f, const struct qp_filter_def *d)
{
    return *(const double *)(const void *)((const char *)f + d->off);
}

static int qpf_has_text(const struct qp_filter_def *d)
{
    return d->kind == QPF_TEXT || d->kind == QPF_COLOUR;
}

void qp_filters_init(struct qp_filters *f)
{
    memset(f, 0, sizeof(*f));
    f->min_price = -1;
    f->max_price = -1;
    f->in_stock = -1;
}

void qp_given_init(struct qp_given *g)
{
    memset(g, 0, sizeof(*g));
    g->min_price = -1;
    g->max_price = -1;
    g->in_stock = -1;
}

const char *qp_given_text(const struct qp_given *g, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    if (!qpf_has_text(d)) return NULL;
    return *(const char *const *)(const void *)((const char *)g + d->given);
}

void qp_given_set_text(struct qp_given *g, enum qp_filter_id id, const char *v)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    if (qpf_has_text(d)) *(const char **)(void *)((char *)g + d->given) = v;
}

void qp_given_set_num(struct qp_given *g, enum qp_filter_id id, double v)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    if (d->kind == QPF_MIN || d->kind == QPF_MAX) *(double *)(void *)((char *)g + d->given) = v;
    else if (d->kind == QPF_BOOL) *(int *)(void *)((char *)g + d->given) = (int)v;
}

static void qpf_copy(char *dst, size_t cap, const char *src, int lower)
{
    snprintf(dst, cap, "%s", src);
    if (lower)
        for (; *dst; dst++) *dst = (char)tolower((unsigned char)*dst);
}

void qp_filter_put(struct qp_filters *f, enum qp_filter_id id, const char *value, const char *family)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    if (!qpf_has_text(d)) return;
    qpf_copy(qpf_str(f, d), d->cap, value ? value : "", 0);
    if (d->kind == QPF_COLOUR) qpf_copy((char *)f + d->alt_off, d->alt_cap, family ? family : "", 0);
}

void qp_filter_copy(struct qp_filters *dst, const struct qp_filters *src, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    memcpy((char *)dst + d->off, (const char *)src + d->off, d->kind == QPF_BOOL ? sizeof(int)
                                                            : d->kind == QPF_MIN || d->kind == QPF_MAX ? sizeof(double)
                                                                                                       : d->cap);
    if (d->kind == QPF_COLOUR) memcpy((char *)dst + d->alt_off, (const char *)src + d->alt_off, d->alt_cap);
    dst->soft = (dst->soft & ~QPF_BIT(id)) | (src->soft & QPF_BIT(id));
    dst->broad = (dst->broad & ~QPF_BIT(id)) | (src->broad & QPF_BIT(id));
}

void qp_filters_override(struct qp_filters *f, const struct qp_given *g)
{
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        if (qpf_has_text(d)) {
            const char *v = qp_given_text(g, (enum qp_filter_id)id), *family = NULL;
            if (!v || !*v) continue;
            const char *canon = d->canon ? d->canon(v, &family) : NULL;
            qpf_copy(qpf_str(f, d), d->cap, canon ? canon : v, !canon && d->lower);
            if (d->kind == QPF_COLOUR) qpf_copy((char *)f + d->alt_off, d->alt_cap, family ? family : "", 0);
            f->soft &= ~QPF_BIT(id);
        } else if (d->kind == QPF_BOOL) {
            if (g->in_stock >= 0) f->in_stock = g->in_stock;
        } else {
            double v = *(const double *)(const void *)((const char *)g + d->given);
            if (v >= 0) *qpf_num(f, d) = v;
        }
    }
}

/* ---- reading a set of filters ------------------------------------------------------ */

int qp_filter_is_set(const struct qp_filters *f, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    switch (d->kind) {
    case QPF_TEXT: return qpf_cstr(f, d)[0] != '\0';
    case QPF_COLOUR: return f->color[0] || f->color_family[0];
    case QPF_MIN:
    case QPF_MAX: return qpf_cnum(f, d) >= 0;
    case QPF_BOOL: return f->in_stock >= 0;
    }
    return 0;
}

int qp_filters_any(const struct qp_filters *f)
{
    for (int id = 0; id < QPF_N; id++)
        if (qp_filter_is_set(f, (enum qp_filter_id)id)) return 1;
    return 0;
}

void qp_filters_soften(struct qp_filters *f)
{
    for (int id = 0; id < QPF_N; id++)
        if (qp_filter_defs[id].from_words == QPF_SOFT && qp_filter_is_set(f, (enum qp_filter_id)id))
            f->soft |= QPF_BIT(id);
}

unsigned qp_filters_prefs(const struct qp_filters *f)
{
    unsigned m = 0;
    for (int id = 0; id < QPF_N; id++)
        if ((f->soft & QPF_BIT(id)) && qp_filter_is_set(f, (enum qp_filter_id)id)) m |= QPF_BIT(id);
    return m;
}

const char *qp_filter_broad(const struct qp_filters *f, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    if (!(f->broad & QPF_BIT(id)) || !d->broad || !qpf_has_text(d) || !qp_filter_is_set(f, id)) return NULL;
    return d->broad(qpf_cstr(f, d));
}

void qp_filter_clear(struct qp_filters *f, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    f->soft &= ~QPF_BIT(id);
    f->broad &= ~QPF_BIT(id);
    switch (d->kind) {
    case QPF_COLOUR: f->color_family[0] = '\0'; /* fall through */
    case QPF_TEXT: qpf_str(f, d)[0] = '\0'; break;
    case QPF_MIN:
    case QPF_MAX: *qpf_num(f, d) = -1; break;
    case QPF_BOOL: f->in_stock = -1; break;
    }
}

const char *qp_filter_text(const struct qp_filters *f, enum qp_filter_id id)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    return qpf_has_text(d) ? qpf_cstr(f, d) : NULL;
}

int qp_filter_values(const struct qp_filters *f, enum qp_filter_id id, const char **v, int *alt)
{
    const struct qp_filter_def *d = &qp_filter_defs[id];
    *alt = 0;
    if (!qpf_has_text(d) || !qp_filter_is_set(f, id)) return 0;
    const char *value = qpf_cstr(f, d);
    if (d->kind == QPF_COLOUR) {
        /* the family when the colour has one: "maroon" finds every red */
        if (f->color_family[0]) value = f->color_family;
        else *alt = 1;
    }
    const char *const *list = d->accepts ? d->accepts(value) : NULL;
    int n = 0;
    if (!list) {
        v[n++] = value;
        return n;
    }
    int max = d->max_values < QPF_MAX_VALUES ? d->max_values : QPF_MAX_VALUES;
    for (; list[n] && n < max; n++) v[n] = list[n];
    return n;
}

int qp_group_is_set(const struct qp_filters *f, enum qp_group g)
{
    for (int id = 0; id < QPF_N; id++)
        if (qp_filter_defs[id].group == g && qp_filter_is_set(f, (enum qp_filter_id)id)) return 1;
    return 0;
}

int qp_group_clear(struct qp_filters *f, enum qp_group g)
{
    int was = 0;
    for (int id = 0; id < QPF_N; id++) {
        if (qp_filter_defs[id].group != g || !qp_filter_is_set(f, (enum qp_filter_id)id)) continue;
        qp_filter_clear(f, (enum qp_filter_id)id);
        was = 1;
    }
    return was;
}

const char *qp_group_what(const struct qp_filters *f, enum qp_group g)
{
    /* dropping "out of stock only" counts the pieces in stock */
    if (g == QPG_STOCK && f->in_stock == 0) return "counting pieces in stock";
    return qp_group_defs[g].what;
}

int qp_filter_word_known(const char *w)
{
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        const char *family = NULL;
        if (d->canon && d->canon(w, &family)) return 1;
    }
    return 0;
}

/* ---- JSON ----------------------------------------------------------------------- */

json_object *qp_filters_json(const struct qp_filters *f)
{
    json_object *o = json_object_new_object();
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        switch (d->kind) {
        case QPF_COLOUR:
            if (f->color[0]) json_object_object_add(o, d->name, json_object_new_string(f->color));
            if (f->color_family[0]) json_object_object_add(o, d->alt_name, json_object_new_string(f->color_family));
            break;
        case QPF_TEXT:
            if (qpf_cstr(f, d)[0]) json_object_object_add(o, d->name, json_object_new_string(qpf_cstr(f, d)));
            break;
        case QPF_MIN:
        case QPF_MAX:
            if (qpf_cnum(f, d) >= 0) json_object_object_add(o, d->name, inr_json(qpf_cnum(f, d)));
            break;
        case QPF_BOOL:
            if (f->in_stock >= 0) json_object_object_add(o, d->name, json_object_new_boolean(f->in_stock));
            break;
        }
    }
    return o;
}
