/* troika_market.c: market figures over a catalog segment (category +
 * colour family + budget band, or colour/budget/occasion when no category
 * is named): counts, exact price quartiles, top designers and colours,
 * trending items, and the neighbouring colours and price bands that
 * suggestions offer. Prepared statements only; the SQL text is built from
 * fixed fragments and every value is a bound parameter. */
#include "handlers/agent/troika.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/io/db.h"
#include "common/search/qparse.h"

enum { TK_MAXP = 16, TK_SQL_MAX = 2048 };

/* A WHERE clause over `products p` with its parameters. */
struct tk_where {
    char sql[1024];
    size_t len;
    struct db_param p[TK_MAXP];
    size_t np;
};

static void tk_w_add(struct tk_where *w, const char *frag)
{
    int n = snprintf(w->sql + w->len, sizeof(w->sql) - w->len, "%s%s", w->len ? " AND " : "", frag);
    if (n > 0 && (size_t)n < sizeof(w->sql) - w->len) w->len += (size_t)n;
}

static void tk_w_param(struct tk_where *w, struct db_param p)
{
    if (w->np < TK_MAXP) w->p[w->np++] = p;
}

/* parts: which parts of the segment to use */
enum { TK_W_CAT = 1, TK_W_COLOR = 2, TK_W_BUDGET = 4, TK_W_OCC = 8 };

static void tk_where_build(const struct tk_segment *s, unsigned parts, struct tk_where *w)
{
    memset(w, 0, sizeof(*w));
    if ((parts & TK_W_CAT) && s->category[0]) {
        tk_w_add(w, "p.category = ?");
        tk_w_param(w, DB_STR(s->category));
    }
    if ((parts & TK_W_COLOR) && s->color_family[0]) {
        tk_w_add(w, "EXISTS (SELECT 1 FROM product_colors c WHERE c.product_id = p.id AND c.family = ?)");
        tk_w_param(w, DB_STR(s->color_family));
    }
    if ((parts & TK_W_BUDGET) && s->min > 0) {
        tk_w_add(w, "p.price >= ?");
        tk_w_param(w, DB_DOUBLE(s->min));
    }
    if ((parts & TK_W_BUDGET) && s->max > 0) {
        tk_w_add(w, "p.price <= ?");
        tk_w_param(w, DB_DOUBLE(s->max));
    }
    if ((parts & TK_W_OCC) && s->occasion[0]) {
        const char *const *tags = qp_occasion_tags(s->occasion);
        const char *one[2] = {s->occasion, NULL};
        if (!tags) tags = one;
        char frag[256] = "EXISTS (SELECT 1 FROM product_tags t WHERE t.product_id = p.id AND t.tag IN (";
        size_t fl = strlen(frag);
        for (size_t i = 0; tags[i] && i < 5; i++) {
            fl += (size_t)snprintf(frag + fl, sizeof(frag) - fl, "%s?", i ? ", " : "");
            tk_w_param(w, DB_STR(tags[i]));
        }
        snprintf(frag + fl, sizeof(frag) - fl, "))");
        tk_w_add(w, frag);
    }
    if (!w->len) tk_w_add(w, "1 = 1");
}

void tk_segment_from(const struct it_entities *e, struct tk_segment *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->category, sizeof(s->category), "%s", e->category);
    snprintf(s->color_family, sizeof(s->color_family), "%s", e->color_family[0] ? e->color_family : "");
    s->min = e->budget_min;
    s->max = e->budget_max;
    s->around = e->budget_around ? e->budget_target : 0;
    if (!e->category[0]) snprintf(s->occasion, sizeof(s->occasion), "%s", e->occasion);
}

void tk_segment_entities(const struct tk_segment *s, struct it_entities *e)
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

static double tk_num(const char *s)
{
    return s ? strtod(s, NULL) : 0;
}

static long tk_long(const char *s)
{
    return s ? strtol(s, NULL, 10) : 0;
}

/* fmt holds exactly one %s: the WHERE clause. Parameters: pre (bound
 * before the WHERE clause's), the clause's, then extra. */
static int tk_query2(struct db *d, arena_t *ar, const char *fmt, const struct db_param *pre, size_t npre,
                     const struct tk_where *w, const struct db_param *extra, size_t nextra, size_t max_rows,
                     struct db_rows *out, char *err, size_t errlen)
{
    char sql[TK_SQL_MAX];
    struct db_param p[TK_MAXP + 8];
    snprintf(sql, sizeof(sql), fmt, w->sql);
    size_t np = 0;
    for (size_t i = 0; i < npre && np < 4; i++) p[np++] = pre[i];
    for (size_t i = 0; i < w->np; i++) p[np++] = w->p[i];
    for (size_t i = 0; i < nextra && np < sizeof(p) / sizeof(p[0]); i++) p[np++] = extra[i];
    return db_query(d, ar, sql, p, np, max_rows, out, err, errlen);
}

static int tk_query(struct db *d, arena_t *ar, const char *fmt, const struct tk_where *w,
                    const struct db_param *extra, size_t nextra, size_t max_rows, struct db_rows *out, char *err,
                    size_t errlen)
{
    return tk_query2(d, ar, fmt, NULL, 0, w, extra, nextra, max_rows, out, err, errlen);
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

struct tk_shade_row {
    const char *fam, *col;
    long long id;
};

static int tk_shade_cmp(const void *a, const void *b)
{
    const struct tk_shade_row *x = a, *y = b;
    int c = strcasecmp(x->fam, y->fam);
    if (!c) c = strcasecmp(x->col, y->col);
    return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* Colours over the segment without its colour (category + budget +
 * occasion): its (family, colour, product) rows, sorted and counted here.
 * A shade's count is its rows (a product holds a colour once); a family's
 * is its distinct products (maroon and crimson are both red). The
 * segment's top colours are the shades of its family (all shades when it
 * has none); the other families feed the suggestions. Counting in C
 * replaced a GROUP BY family, colour WITH ROLLUP with COUNT(DISTINCT)
 * whose temporary table cost more than the rows: 66 against 40 ms in SQL
 * for the 16k-product mehendi segment at 100k (an ORDER BY cost 54). */
static int tk_colors_q(struct db *d, arena_t *ar, struct tk_market *m, char *err, size_t errlen)
{
    struct tk_where w;
    struct db_rows rs;
    /* without a garment or an occasion, "the segment without its colour" is
     * most of the catalog: stay in the segment and offer no other colours */
    int wide = !m->seg.category[0] && !m->seg.occasion[0];
    tk_where_build(&m->seg, TK_W_CAT | TK_W_BUDGET | TK_W_OCC | (wide ? TK_W_COLOR : 0), &w);
    int rc = tk_query(d, ar,
                      "SELECT c.family, c.color, p.id FROM products p JOIN product_colors c ON c.product_id = p.id "
                      "WHERE %s",
                      &w, NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    size_t n = rs.nrows, cap = n ? n : 1, nshade = 0, nfam = 0;
    struct tk_shade_row *v = ar_alloc(ar, cap * sizeof(*v));
    struct tk_count *shades = ar_calloc(ar, cap, sizeof(*shades)), *fams = ar_calloc(ar, cap, sizeof(*fams));
    if (!v || !shades || !fams) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (struct tk_shade_row){db_cell(&rs, i, 0) ? db_cell(&rs, i, 0) : "",
                                     db_cell(&rs, i, 1) ? db_cell(&rs, i, 1) : "", tk_long(db_cell(&rs, i, 2))};
    qsort(v, n, sizeof(*v), tk_shade_cmp);
    const char *segfam = m->seg.color_family;
    for (size_t i = 0; i < n;) {
        const char *fam = v[i].fam;
        long distinct = 0;
        long long last = -1;
        while (i < n && !strcasecmp(v[i].fam, fam)) {   /* one family, shade by shade */
            const char *col = v[i].col;
            long cnt = 0;
            for (; i < n && !strcasecmp(v[i].fam, fam) && !strcasecmp(v[i].col, col); i++) cnt++;
            if (!*segfam || !strcasecmp(fam, segfam)) {
                snprintf(shades[nshade].name, sizeof(shades[nshade].name), "%s", col);
                shades[nshade++].count = cnt;
            }
        }
        if (!*fam || !strcasecmp(fam, segfam) || wide) continue;
        /* the family's distinct products: its ids, sorted apart from the shades */
        size_t from = i;
        while (from > 0 && !strcasecmp(v[from - 1].fam, fam)) from--;
        long long *ids = ar_alloc(ar, (i - from) * sizeof(*ids));
        if (!ids) {
            snprintf(err, errlen, "out of memory");
            return DB_EQUERY;
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
    return DB_OK;
}

/* The price bands next to the segment (category + colour): below the
 * budget (or the first quartile) and above it (or the third). */
static int tk_bands_q(struct db *d, arena_t *ar, struct tk_market *m, char *err, size_t errlen)
{
    double lo = m->seg.min > 0 ? m->seg.min : (m->seg.max > 0 ? 0 : m->q1);
    double hi = m->seg.max > 0 ? m->seg.max : (m->seg.min > 0 ? 0 : m->q3);
    if (m->count < 4 && m->seg.min <= 0 && m->seg.max <= 0) lo = hi = 0;
    memset(&m->below, 0, sizeof(m->below));
    memset(&m->above, 0, sizeof(m->above));
    if (lo <= 0 && hi <= 0) return DB_OK;
    struct tk_where w;
    struct db_rows rs;
    tk_where_build(&m->seg, TK_W_CAT | TK_W_COLOR | TK_W_OCC, &w);
    struct db_param pre[2] = {DB_DOUBLE(lo), DB_DOUBLE(hi > 0 ? hi : 1e18)};
    int rc = tk_query2(d, ar, "SELECT COALESCE(SUM(p.price < ?), 0), COALESCE(SUM(p.price > ?), 0) FROM products p "
                              "WHERE %s",
                       pre, 2, &w, NULL, 0, 1, &rs, err, errlen);
    if (rc != DB_OK || rs.nrows != 1) return rc;
    if (lo > 0) {
        m->below.max = lo;
        m->below.count = tk_long(db_cell(&rs, 0, 0));
    }
    if (hi > 0) {
        m->above.min = hi;
        m->above.count = tk_long(db_cell(&rs, 0, 1));
    }
    return DB_OK;
}

/* One pass over the segment instead of one statement per figure: its rows
 * (price, stock, designer, popularity) in price order give the count, the
 * stock, the range, the exact quartiles, the designers and the trending
 * ids; only the five trending products' cards are read again. Each
 * statement used to scan the segment with its EXISTS filters anew: "what
 * should I wear to a mehendi?" (16k products at 100k) took 27 + 22 + 21 +
 * 36 ms for these four figures, the pass takes ~27 ms (docs/troika-agent.md). */
struct tk_row {
    double price, popularity;
    long long id;
    const char *designer;
};

static int tk_by_pop(const void *a, const void *b)
{
    const struct tk_row *x = *(const struct tk_row *const *)a, *y = *(const struct tk_row *const *)b;
    if (x->popularity != y->popularity) return x->popularity > y->popularity ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int tk_by_designer(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int tk_segment_pass(struct db *d, arena_t *ar, const struct tk_where *w, struct tk_market *m, char *err,
                           size_t errlen)
{
    struct db_rows rs;
    int rc = tk_query(d, ar,
                      "SELECT p.price, p.in_stock, COALESCE(p.designer, ''), p.popularity, p.id FROM products p "
                      "WHERE %s ORDER BY p.price, p.id",
                      w, NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    size_t n = rs.nrows;
    m->count = (long)n;
    m->in_stock = 0;
    m->ndesigners = 0;
    m->ntop_designers = m->ntrending = 0;
    if (!n) return DB_OK;
    struct tk_row *rows = ar_alloc(ar, n * sizeof(*rows));
    struct tk_row **byp = ar_alloc(ar, n * sizeof(*byp));
    double *prices = ar_alloc(ar, n * sizeof(*prices));
    const char **names = ar_alloc(ar, n * sizeof(*names));
    if (!rows || !byp || !prices || !names) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i] = (struct tk_row){.price = tk_num(db_cell(&rs, i, 0)), .popularity = tk_num(db_cell(&rs, i, 3)),
                                  .id = tk_long(db_cell(&rs, i, 4)), .designer = db_cell(&rs, i, 2)};
        prices[i] = rows[i].price;
        byp[i] = &rows[i];
        m->in_stock += tk_long(db_cell(&rs, i, 1)) != 0;
        if (rows[i].designer && *rows[i].designer) names[nn++] = rows[i].designer;
    }
    m->min = prices[0];
    m->max = prices[n - 1];
    static const double qs[3] = {0.25, 0.5, 0.75};
    double *out[3] = {&m->q1, &m->median, &m->q3};
    for (int i = 0; i < 3; i++) *out[i] = round(tk_quantile(prices, n, qs[i]) * 100.0) / 100.0;

    /* designers: distinct as the column's collation compares (case aside),
     * the five with most products, ties by name */
    qsort(names, nn, sizeof(*names), tk_by_designer);
    struct tk_count *dc = ar_calloc(ar, nn ? nn : 1, sizeof(*dc));
    if (!dc) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    size_t nd = 0;
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

    /* trending: the five most popular, then their cards */
    qsort(byp, n, sizeof(*byp), tk_by_pop);
    size_t nt = n < TK_TOP ? n : TK_TOP;
    struct db_param ids[TK_TOP];
    char sql[256] = "SELECT p.sku, p.title, COALESCE(p.designer, ''), p.price, p.popularity, p.in_stock, p.id "
                    "FROM products p WHERE p.id IN (";
    for (size_t i = 0; i < nt; i++) {
        ids[i] = DB_INT(byp[i]->id);
        strcat(sql, i ? ",?" : "?");
    }
    strcat(sql, ") ORDER BY p.popularity DESC, p.id");
    rc = db_query(d, ar, sql, ids, nt, TK_TOP, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    for (size_t i = 0; i < rs.nrows && m->ntrending < TK_TOP; i++) {
        struct tk_trend *t = &m->trending[m->ntrending++];
        snprintf(t->sku, sizeof(t->sku), "%s", db_cell(&rs, i, 0) ? db_cell(&rs, i, 0) : "");
        snprintf(t->title, sizeof(t->title), "%s", db_cell(&rs, i, 1) ? db_cell(&rs, i, 1) : "");
        snprintf(t->designer, sizeof(t->designer), "%s", db_cell(&rs, i, 2) ? db_cell(&rs, i, 2) : "");
        t->price = tk_num(db_cell(&rs, i, 3));
        t->popularity = tk_num(db_cell(&rs, i, 4));
        t->in_stock = tk_long(db_cell(&rs, i, 5)) != 0;
    }
    return DB_OK;
}

int tk_market_compute(struct db *d, arena_t *ar, const struct it_entities *e, struct tk_market *m, char *err,
                      size_t errlen)
{
    memset(m, 0, sizeof(*m));
    tk_segment_from(e, &m->asked);
    m->seg = m->asked;
    struct tk_where w;
    int rc;
    tk_where_build(&m->seg, TK_W_CAT | TK_W_COLOR | TK_W_BUDGET | TK_W_OCC, &w);
    if ((rc = tk_segment_pass(d, ar, &w, m, err, errlen)) != DB_OK) return rc;
    if (m->count == 0 && m->seg.category[0] && (m->seg.color_family[0] || m->seg.min > 0 || m->seg.max > 0)) {
        /* nothing in the asked segment: describe the whole category */
        memset(&m->seg, 0, sizeof(m->seg));
        snprintf(m->seg.category, sizeof(m->seg.category), "%s", m->asked.category);
        m->relaxed = 1;
        tk_where_build(&m->seg, TK_W_CAT, &w);
        if ((rc = tk_segment_pass(d, ar, &w, m, err, errlen)) != DB_OK) return rc;
    }
    if (m->count == 0) return DB_OK;
    if ((rc = tk_colors_q(d, ar, m, err, errlen)) != DB_OK) return rc;
    return tk_bands_q(d, ar, m, err, errlen);
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

/* Whole amounts as integers, others with two decimals (exact text). */
static json_object *tk_money_json(double v)
{
    v = round(v * 100.0) / 100.0;
    if (v == floor(v) && fabs(v) < 9e15) return json_object_new_int64((long long)v);
    char s[48];
    snprintf(s, sizeof(s), "%.2f", v);
    return json_object_new_double_s(v, s);
}

static json_object *tk_segment_json(const struct tk_segment *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "category", s->category[0] ? json_object_new_string(s->category) : NULL);
    json_object_object_add(o, "color", s->color_family[0] ? json_object_new_string(s->color_family) : NULL);
    json_object *b = NULL;
    if (s->min > 0 || s->max > 0) {
        b = json_object_new_object();
        json_object_object_add(b, "min", s->min > 0 ? tk_money_json(s->min) : NULL);
        json_object_object_add(b, "max", s->max > 0 ? tk_money_json(s->max) : NULL);
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
        json_object_object_add(price, "min", tk_money_json(m->min));
        json_object_object_add(price, "q1", tk_money_json(m->q1));
        json_object_object_add(price, "median", tk_money_json(m->median));
        json_object_object_add(price, "q3", tk_money_json(m->q3));
        json_object_object_add(price, "max", tk_money_json(m->max));
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
        json_object_object_add(x, "price", tk_money_json(t->price));
        json_object_object_add(x, "popularity", tk_money_json(t->popularity));
        json_object_object_add(x, "inStock", json_object_new_boolean(t->in_stock));
        json_object_array_add(tr, x);
    }
    json_object_object_add(o, "trending", tr);
    return o;
}
