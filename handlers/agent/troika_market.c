/* troika_market.c: market figures over a catalog segment (category +
 * colour family + budget band, or colour/budget/occasion when no category
 * is named): counts, exact price quartiles, top designers and colours,
 * trending items, and the neighbouring colours and price bands that
 * suggestions offer. The rows come from the market store
 * (common/store/market.h, where the measured reasons for their shapes are
 * written down); the figures are computed here. */
#include "handlers/agent/troika.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/store/market.h"
#include "common/text/inr.h"

void tk_segment_from(const struct it_entities *e, struct mk_segment *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->category, sizeof(s->category), "%s", e->category);
    snprintf(s->color_family, sizeof(s->color_family), "%s", e->color_family[0] ? e->color_family : "");
    s->min = e->budget_min;
    s->max = e->budget_max;
    s->around = e->budget_around ? e->budget_target : 0;
    if (!e->category[0]) snprintf(s->occasion, sizeof(s->occasion), "%s", e->occasion);
}

void tk_segment_entities(const struct mk_segment *s, struct it_entities *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->category, sizeof(e->category), "%s", s->category);
    snprintf(e->color, sizeof(e->color), "%s", s->color_family);
    snprintf(e->color_family, sizeof(e->color_family), "%s", s->color_family);
    e->budget_min = s->min;
    e->budget_max = s->max;
    e->budget_around = s->around > 0;
    e->budget_target = s->around;
    snprintf(e->occasion, sizeof(e->occasion), "%s", s->occasion);
}

double tk_quantile(const double *v, size_t n, double q)
{
    if (n == 0) return 0;
    if (q <= 0) return v[0];
    if (q >= 1) return v[n - 1];
    double pos = (double)(n - 1) * q;
    size_t lo = (size_t)floor(pos);
    double frac = pos - (double)lo;
    if (lo + 1 >= n) return v[n - 1];
    return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

static int tk_count_cmp(const void *a, const void *b)
{
    const struct tk_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int tk_id_cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int tk_shade_cmp(const void *a, const void *b)
{
    const struct mk_shade *x = a, *y = b;
    int c = strcasecmp(x->family, y->family);
    if (!c) c = strcasecmp(x->color, y->color);
    return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* Colours over the segment without its colour (category + budget +
 * occasion): its (family, colour, product) rows (mk_shades), sorted and
 * counted here. A shade's count is its rows (a product holds a colour
 * once); a family's is its distinct products (maroon and crimson are both
 * red). The segment's top colours are the shades of its family (all
 * shades when it has none); the other families feed the suggestions. */
static int tk_colors_q(struct store *st, arena_t *ar, struct tk_market *m, char *err, size_t errlen)
{
    struct mk_shade *v;
    size_t n;
    /* without a garment or an occasion, "the segment without its colour" is
     * most of the catalog: stay in the segment and offer no other colours */
    int wide = !m->seg.category[0] && !m->seg.occasion[0];
    int rc = mk_shades(st, ar, &m->seg, MK_CAT | MK_BUDGET | MK_OCC | (wide ? MK_COLOR : 0), &v, &n, err, errlen);
    if (rc != ST_OK) return rc;
    size_t cap = n ? n : 1, nshade = 0, nfam = 0;
    struct tk_count *shades = ar_calloc(ar, cap, sizeof(*shades)), *fams = ar_calloc(ar, cap, sizeof(*fams));
    if (!shades || !fams) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    qsort(v, n, sizeof(*v), tk_shade_cmp);
    const char *segfam = m->seg.color_family;
    for (size_t i = 0; i < n;) {
        const char *fam = v[i].family;
        long distinct = 0;
        long long last = -1;
        while (i < n && !strcasecmp(v[i].family, fam)) {   /* one family, shade by shade */
            const char *col = v[i].color;
            long cnt = 0;
            for (; i < n && !strcasecmp(v[i].family, fam) && !strcasecmp(v[i].color, col); i++) cnt++;
            if (!*segfam || !strcasecmp(fam, segfam)) {
                snprintf(shades[nshade].name, sizeof(shades[nshade].name), "%s", col);
                shades[nshade++].count = cnt;
            }
        }
        if (!*fam || !strcasecmp(fam, segfam) || wide) continue;
        /* the family's distinct products: its ids, sorted apart from the shades */
        size_t from = i;
        while (from > 0 && !strcasecmp(v[from - 1].family, fam)) from--;
        long long *ids = ar_alloc(ar, (i - from) * sizeof(*ids));
        if (!ids) {
            snprintf(err, errlen, "out of memory");
            return ST_EQUERY;
        }
        for (size_t k = from; k < i; k++) ids[k - from] = v[k].id;
        qsort(ids, i - from, sizeof(*ids), tk_id_cmp);
        for (size_t k = 0; k < i - from; k++) {
            distinct += ids[k] != last;
            last = ids[k];
        }
        snprintf(fams[nfam].name, sizeof(fams[nfam].name), "%s", fam);
        fams[nfam++].count = distinct;
    }
    qsort(shades, nshade, sizeof(*shades), tk_count_cmp);
    qsort(fams, nfam, sizeof(*fams), tk_count_cmp);
    m->ntop_colors = nshade < TK_TOP ? nshade : TK_TOP;
    memcpy(m->colors, shades, m->ntop_colors * sizeof(*shades));
    m->nother_colors = nfam < 4 ? nfam : 4;
    memcpy(m->other_colors, fams, m->nother_colors * sizeof(*fams));
    return ST_OK;
}

/* The price bands next to the segment (category + colour): below the
 * budget (or the first quartile) and above it (or the third). */
static int tk_bands_q(struct store *st, arena_t *ar, struct tk_market *m, char *err, size_t errlen)
{
    double lo = m->seg.min > 0 ? m->seg.min : (m->seg.max > 0 ? 0 : m->q1);
    double hi = m->seg.max > 0 ? m->seg.max : (m->seg.min > 0 ? 0 : m->q3);
    if (m->count < 4 && m->seg.min <= 0 && m->seg.max <= 0) lo = hi = 0;
    memset(&m->below, 0, sizeof(m->below));
    memset(&m->above, 0, sizeof(m->above));
    if (lo <= 0 && hi <= 0) return ST_OK;
    long below, above;
    int rc = mk_bands(st, ar, &m->seg, MK_CAT | MK_COLOR | MK_OCC, lo, hi, &below, &above, err, errlen);
    if (rc != ST_OK) return rc;
    if (lo > 0) {
        m->below.max = lo;
        m->below.count = below;
    }
    if (hi > 0) {
        m->above.min = hi;
        m->above.count = above;
    }
    return ST_OK;
}

/* The figures of one pass over the segment's rows in price order
 * (mk_rows: why one pass, see common/store/market.c): count, stock,
 * range, exact quartiles, designers, then the trending products' cards. */
static int tk_by_pop(const void *a, const void *b)
{
    const struct mk_row *x = *(const struct mk_row *const *)a, *y = *(const struct mk_row *const *)b;
    if (x->popularity != y->popularity) return x->popularity > y->popularity ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int tk_by_designer(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void tk_prices(const struct mk_row *rows, size_t n, double *prices, struct tk_market *m)
{
    for (size_t i = 0; i < n; i++) {
        prices[i] = rows[i].price;
        m->in_stock += rows[i].in_stock;
    }
    m->min = prices[0];
    m->max = prices[n - 1];
    static const double qs[3] = {0.25, 0.5, 0.75};
    double *out[3] = {&m->q1, &m->median, &m->q3};
    for (int i = 0; i < 3; i++) *out[i] = round(tk_quantile(prices, n, qs[i]) * 100.0) / 100.0;
}

/* Designers: distinct as the column's collation compares (case aside),
 * the five with most products, ties by name. */
static int tk_designers(arena_t *ar, const struct mk_row *rows, size_t n, struct tk_market *m, char *err,
                        size_t errlen)
{
    const char **names = ar_alloc(ar, n * sizeof(*names));
    struct tk_count *dc = ar_calloc(ar, n, sizeof(*dc));
    if (!names || !dc) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    size_t nn = 0, nd = 0;
    for (size_t i = 0; i < n; i++)
        if (*rows[i].designer) names[nn++] = rows[i].designer;
    qsort(names, nn, sizeof(*names), tk_by_designer);
    for (size_t i = 0; i < nn; i++) {
        if (i && !strcasecmp(names[i], names[i - 1])) {
            dc[nd - 1].count++;
            continue;
        }
        snprintf(dc[nd].name, sizeof(dc[nd].name), "%s", names[i]);
        dc[nd++].count = 1;
    }
    m->ndesigners = (long)nd;
    qsort(dc, nd, sizeof(*dc), tk_count_cmp);
    m->ntop_designers = nd < TK_TOP ? nd : TK_TOP;
    memcpy(m->designers, dc, m->ntop_designers * sizeof(*dc));
    return ST_OK;
}

/* Trending: the five most popular, then their cards. */
static int tk_trending(struct store *st, arena_t *ar, struct mk_row *rows, size_t n, struct tk_market *m,
                       char *err, size_t errlen)
{
    struct mk_row **byp = ar_alloc(ar, n * sizeof(*byp));
    if (!byp) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    for (size_t i = 0; i < n; i++) byp[i] = &rows[i];
    qsort(byp, n, sizeof(*byp), tk_by_pop);
    size_t nt = n < TK_TOP ? n : TK_TOP, nc;
    long long ids[TK_TOP];
    for (size_t i = 0; i < nt; i++) ids[i] = byp[i]->id;
    struct mk_card *cards;
    int rc = mk_cards(st, ar, ids, nt, &cards, &nc, err, errlen);
    if (rc != ST_OK) return rc;
    for (size_t i = 0; i < nc && m->ntrending < TK_TOP; i++) {
        struct tk_trend *t = &m->trending[m->ntrending++];
        snprintf(t->sku, sizeof(t->sku), "%s", cards[i].sku);
        snprintf(t->title, sizeof(t->title), "%s", cards[i].title);
        snprintf(t->designer, sizeof(t->designer), "%s", cards[i].designer);
        t->price = cards[i].price;
        t->popularity = cards[i].popularity;
        t->in_stock = cards[i].in_stock;
    }
    return ST_OK;
}

static int tk_segment_pass(struct store *st, arena_t *ar, unsigned parts, struct tk_market *m, char *err,
                           size_t errlen)
{
    struct mk_row *rows;
    size_t n;
    int rc = mk_rows(st, ar, &m->seg, parts, &rows, &n, err, errlen);
    if (rc != ST_OK) return rc;
    m->count = (long)n;
    m->in_stock = 0;
    m->ndesigners = 0;
    m->ntop_designers = m->ntrending = 0;
    if (!n) return ST_OK;
    double *prices = ar_alloc(ar, n * sizeof(*prices));
    if (!prices) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    tk_prices(rows, n, prices, m);
    if ((rc = tk_designers(ar, rows, n, m, err, errlen)) != ST_OK) return rc;
    return tk_trending(st, ar, rows, n, m, err, errlen);
}

int tk_market_compute(struct store *st, arena_t *ar, const struct it_entities *e, struct tk_market *m, char *err,
                      size_t errlen)
{
    memset(m, 0, sizeof(*m));
    tk_segment_from(e, &m->asked);
    m->seg = m->asked;
    int rc;
    if ((rc = tk_segment_pass(st, ar, MK_ALL, m, err, errlen)) != ST_OK) return rc;
    if (m->count == 0 && m->seg.category[0] && (m->seg.color_family[0] || m->seg.min > 0 || m->seg.max > 0)) {
        /* nothing in the asked segment: describe the whole category */
        memset(&m->seg, 0, sizeof(m->seg));
        snprintf(m->seg.category, sizeof(m->seg.category), "%s", m->asked.category);
        m->relaxed = 1;
        if ((rc = tk_segment_pass(st, ar, MK_CAT, m, err, errlen)) != ST_OK) return rc;
    }
    if (m->count == 0) return ST_OK;
    if ((rc = tk_colors_q(st, ar, m, err, errlen)) != ST_OK) return rc;
    return tk_bands_q(st, ar, m, err, errlen);
}

static json_object *tk_counts_json(const struct tk_count *c, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c[i].name));
        json_object_object_add(o, "count", json_object_new_int64(c[i].count));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *tk_segment_json(const struct mk_segment *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "category", s->category[0] ? json_object_new_string(s->category) : NULL);
    json_object_object_add(o, "color", s->color_family[0] ? json_object_new_string(s->color_family) : NULL);
    json_object *b = NULL;
    if (s->min > 0 || s->max > 0) {
        b = json_object_new_object();
        json_object_object_add(b, "min", s->min > 0 ? inr_json(s->min) : NULL);
        json_object_object_add(b, "max", s->max > 0 ? inr_json(s->max) : NULL);
    }
    json_object_object_add(o, "budget", b);
    if (s->occasion[0]) json_object_object_add(o, "occasion", json_object_new_string(s->occasion));
    return o;
}

json_object *tk_market_json(const struct tk_market *m, const char *desc, const char *currency)
{
    json_object *o = json_object_new_object();
    json_object *seg = tk_segment_json(&m->seg);
    json_object_object_add(seg, "description", json_object_new_string(desc ? desc : ""));
    json_object_object_add(o, "segment", seg);
    json_object_object_add(o, "relaxed", json_object_new_boolean(m->relaxed));
    if (m->relaxed) json_object_object_add(o, "requested", tk_segment_json(&m->asked));
    json_object_object_add(o, "count", json_object_new_int64(m->count));
    json_object_object_add(o, "inStock", json_object_new_int64(m->in_stock));
    json_object *price = NULL;
    if (m->count > 0) {
        price = json_object_new_object();
        json_object_object_add(price, "min", inr_json(m->min));
        json_object_object_add(price, "q1", inr_json(m->q1));
        json_object_object_add(price, "median", inr_json(m->median));
        json_object_object_add(price, "q3", inr_json(m->q3));
        json_object_object_add(price, "max", inr_json(m->max));
        json_object_object_add(price, "currency", json_object_new_string(currency ? currency : "INR"));
    }
    json_object_object_add(o, "price", price);
    json_object_object_add(o, "designerCount", json_object_new_int64(m->ndesigners));
    json_object_object_add(o, "topDesigners", tk_counts_json(m->designers, m->ntop_designers));
    json_object_object_add(o, "topColors", tk_counts_json(m->colors, m->ntop_colors));
    json_object *tr = json_object_new_array();
    for (size_t i = 0; i < m->ntrending; i++) {
        const struct tk_trend *t = &m->trending[i];
        json_object *x = json_object_new_object();
        json_object_object_add(x, "sku", json_object_new_string(t->sku));
        json_object_object_add(x, "title", json_object_new_string(t->title));
        json_object_object_add(x, "designer", json_object_new_string(t->designer));
        json_object_object_add(x, "price", inr_json(t->price));
        json_object_object_add(x, "popularity", inr_json(t->popularity));
        json_object_object_add(x, "inStock", json_object_new_boolean(t->in_stock));
        json_object_array_add(tr, x);
    }
    json_object_object_add(o, "trending", tr);
    return o;
}
