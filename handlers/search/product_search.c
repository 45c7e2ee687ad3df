/* product_search.c: GET /api/products/search/stream and its normal twin
 * GET /api/products/search: hybrid product search (SPEC 1, 1.1, 2.1).
 *
 * Steps, each announced by `progress` when it starts and ends:
 *   text_search    FULLTEXT over the residual words of q, with the filters
 *                  in the same SQL (common/store/catalog.c)     -> results stage text
 *   vector_search  embed q, nearest products in the FAISS index
 *   filters        the same filter clause over the vector candidates
 *                                                         -> results stage semantic
 *   ranking        RRF (or weighted) fusion, facets       -> results stage final
 * Without an index the search answers from text alone and the vector_search
 * progress says INDEX_UNAVAILABLE. A database failure after the stream
 * opened ends it with an `error` event (DB_CONNECTION_ERROR or
 * DB_QUERY_ERROR); what was sent stays valid. Memory: the request arena. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/store/catalog.h"
#include "common/io/db.h"
#include "common/text/inr.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "common/search/rank.h"
#include "common/base/u8.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "handlers/search/product_search.h"
#include "index/embed.h"
#include "index/pidx.h"
#include "index/vidx.h"

enum { PS_Q_MAX = 256 };

struct ps {
    struct ctx *c;
    const struct cfg *cfg;
    const char *route, *rid;
    const char *q;
    long limit, offset;
    struct qp_result parsed;     /* what q said */
    struct qp_filters f;         /* effective: parameters override q */
    const char *bq;              /* boolean-mode expression */

    struct cat_product *text;    /* text candidates, best first */
    size_t ntext;
    const char *text_mode;
    struct cat_browse_info browse;   /* how a browse was answered (plan NULL otherwise) */

    enum pidx_state idx;
    char idx_msg[768];
    const char *vec_code;        /* progress code when the vector side was skipped */
    int64_t *vids;               /* vector candidates, nearest first */
    float *vscores;
    size_t nv;

    struct cat_product **vrows;  /* vector candidates passing the filters, nearest first */
    float *vrow_scores;
    size_t nvf;

    struct rk_item *items;       /* fused, best first */
    struct cat_product **item_rows;
    size_t nitems;

    int relax;                   /* with no results, look for what would widen the search */
    json_object *relaxations;    /* what did (owned until handed to the results event), or NULL */
    json_object *relax_queries;  /* their queries, for the suggestions event */

    int64_t ms_text, ms_vector, ms_filters, ms_ranking;
    int64_t first_results_ms;    /* monotonic time of the first results event */
};

/* ---- parameters --------------------------------------------------------------- */

static char *ps_trim(arena_t *ar, const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return ar_strndup(ar, s, n);
}

/* An optional text parameter: trimmed, valid UTF-8, at most max characters.
 * *out is NULL when absent or empty. -1 after rejecting. */
static int ps_text(struct ctx *c, const char *name, size_t max, const char **out)
{
    const char *v = req_param(c->req, name);
    *out = NULL;
    if (!v) return 0;
    if (!u8_valid(v, strlen(v), NULL)) {
        char m[96];
        snprintf(m, sizeof(m), "%s must be valid UTF-8", name);
        return hx_bad_field(c, name, m);
    }
    char *t = ps_trim(c->ar, v);
    if (u8_chars(t, strlen(t)) > max) {
        char m[96];
        snprintf(m, sizeof(m), "%s must be at most %zu characters", name, max);
        return hx_bad_field(c, name, m);
    }
    *out = *t ? t : NULL;
    return 0;
}

static int ps_price(struct ctx *c, const char *name, double *out)
{
    const char *v = req_param(c->req, name);
    *out = -1;
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < 0 || d > 1e10) {
        char m[96];
        snprintf(m, sizeof(m), "%s must be a number from 0 to 10000000000", name);
        return hx_bad_field(c, name, m);
    }
    *out = d;
    return 0;
}

/* Validates every parameter (400 naming the field) and merges the explicit
 * filters over what q said. 0, or -1 after rejecting. */
static int ps_params(struct ps *s)
{
    struct ctx *c = s->c;
    const char *q;
    if (ps_text(c, "q", PS_Q_MAX, &q) < 0) return -1;
    if (!q) {
        if (req_param(c->req, "q") && *req_param(c->req, "q"))
            return hx_bad_field(c, "q", "q must not be blank");
        return hx_bad_field(c, "q", "q is required (1 to 256 characters)");
    }
    s->q = q;
    if (hx_param_int(c, "limit", 8, 1, 50, &s->limit) < 0) return -1;
    if (hx_param_int(c, "offset", 0, 0, 100000, &s->offset) < 0) return -1;

    const char *size, *color, *category, *designer, *occasion, *fabric, *work, *stock;
    double minp, maxp;
    if (ps_text(c, "size", 31, &size) < 0 || ps_text(c, "color", 63, &color) < 0 ||
        ps_text(c, "category", 63, &category) < 0 || ps_text(c, "designer", 127, &designer) < 0 ||
        ps_text(c, "occasion", 31, &occasion) < 0 || ps_text(c, "fabric", 31, &fabric) < 0 ||
        ps_text(c, "work", 31, &work) < 0 || ps_price(c, "minPrice", &minp) < 0 ||
        ps_price(c, "maxPrice", &maxp) < 0 || ps_text(c, "inStock", 5, &stock) < 0)
        return -1;
    int in_stock = -1;
    if (stock) {
        if (!strcasecmp(stock, "true") || !strcmp(stock, "1")) in_stock = 1;
        else if (!strcasecmp(stock, "false") || !strcmp(stock, "0")) in_stock = 0;
        else return hx_bad_field(c, "inStock", "inStock must be true or false");
    }
    if (minp >= 0 && maxp >= 0 && minp > maxp)
        return hx_bad_field(c, "minPrice", "minPrice must not be greater than maxPrice");

    hx_parse_query(c, s->q, designer, &s->parsed);
    s->f = s->parsed.f;
    const struct qp_given given = {.size = size, .color = color, .category = category, .designer = designer,
                                   .occasion = occasion, .fabric = fabric, .work = work, .min_price = minp,
                                   .max_price = maxp, .in_stock = in_stock};
    qp_filters_override(&s->f, &given);
    s->bq = cat_boolean_query(c->ar, s->parsed.residual, &s->f, 0);
    return 0;
}

/* ---- events ----------------------------------------------------------------------- */

/* Test knob (search_step_delay_ms): a pause between steps. */
static int ps_pause(struct ps *s)
{
    return s->cfg->search_step_delay_ms > 0 ? sink_sleep(s->c->sink, s->cfg->search_step_delay_ms) : 0;
}

/* A database failure after the stream opened: error event, ERROR log. */
static int ps_db_fail(struct ps *s, int rc, const char *what, const char *err)
{
    int e = hx_db_fail(s->c, "Product search", rc, what, err);
    return e ? e : PS_DONE;
}

static int ps_results(struct ps *s, const char *stage, json_object *products, long total, json_object *extra)
{
    json_object *o = extra ? extra : json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("product_cards"));
    json_object_object_add(o, "stage", json_object_new_string(stage));
    json_object_object_add(o, "products", products);
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "offset", json_object_new_int64(s->offset));
    json_object_object_add(o, "limit", json_object_new_int64(s->limit));
    if (!s->first_results_ms) s->first_results_ms = req_mono_ms();
    return sink_emit(s->c->sink, "results", o);
}

/* ---- steps ------------------------------------------------------------------------ */

static int ps_text_search(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = req_mono_ms();
    int rc = *s->bq ? sink_progressf(s->c->sink, NULL, NULL, "text_search", -1, 0,
                                     "Searching product text for %s", s->bq)
                    : sink_progressf(s->c->sink, NULL, NULL, "text_search", -1, 0,
                                     "No words left to match: listing the "
                                                                  "filtered catalog by popularity");
    if (rc) return rc;
    char err[512] = "";
    rc = db_ensure(&c->app->db, &c->app->cfg, err, sizeof(err));
    if (rc < 0) return ps_db_fail(s, DB_ECONN, "text_search", err);
    struct cat_text_info ti;
    rc = cat_text_search(c->app->db, c->ar, s->parsed.residual, &s->f, s->cfg->search_text_candidates, &s->text,
                         &s->ntext, &ti, err, sizeof(err));
    if (rc != DB_OK) return ps_db_fail(s, rc, "text_search", err);
    s->text_mode = ti.mode;
    s->ms_text = req_mono_ms() - t0;
    s->browse = ti.browse;
    if (s->browse.plan)
        LOG_DEBUG(s->route, s->rid, NULL,
                  "browse plan %s: %ld survivors (%ld to read) of %ld, cost bitmap %.0f walk %.0f, %lld ms",
                  s->browse.plan, s->browse.survivors, s->browse.read, s->browse.base, s->browse.cost_bits,
                  s->browse.cost_walk, (long long)s->ms_text);
    /* what ran: the mode, the FULLTEXT expression, the words checked on rows */
    json_object *x = json_object_new_object();
    json_object_object_add(x, "mode", json_object_new_string(ti.mode));
    json_object_object_add(x, "expression", json_object_new_string(ti.expr));
    if (*ti.row_words) json_object_object_add(x, "checkedOnRows", json_object_new_string(ti.row_words));
    if (s->browse.plan) json_object_object_add(x, "plan", json_object_new_string(s->browse.plan));
    if (ti.filtered_out) json_object_object_add(x, "filteredOut", json_object_new_boolean(1));
    if (ti.filtered_out)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", 0, 25,
                            "0 text matches (%s: %s): no product passes the filters", ti.mode, ti.expr);
    else if (*ti.row_words)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)s->ntext, 25,
                            "%zu text match%s (%s: %s; checked on the rows: %s)", s->ntext,
                            s->ntext == 1 ? "" : "es", ti.mode, ti.expr, ti.row_words);
    else if (*ti.expr)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)s->ntext, 25, "%zu text match%s (%s: %s)",
                            s->ntext, s->ntext == 1 ? "" : "es", ti.mode, ti.expr);
    else
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)s->ntext, 25, "%zu text match%s (%s%s%s)",
                            s->ntext, s->ntext == 1 ? "" : "es", ti.mode, s->browse.plan ? ": " : "",
                            s->browse.plan ? s->browse.plan : "");
    if (rc) return rc;
    json_object *cards = json_object_new_array();
    for (size_t i = (size_t)s->offset; i < s->ntext && i < (size_t)(s->offset + s->limit); i++) {
        const struct cat_product *p = &s->text[i];
        double score = !strcmp(s->text_mode, "browse") ? p->popularity : p->relevance;
        json_object_array_add(cards, cat_card(p, score, (int)i + 1, 0));
    }
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "textMode", json_object_new_string(s->text_mode));
    json_object_object_add(extra, "textPlan", s->browse.plan ? json_object_new_string(s->browse.plan) : NULL);
    return ps_results(s, "text", cards, (long)s->ntext, extra);
}

static int ps_vector_search(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = req_mono_ms();
    int rc = sink_progressf(s->c->sink, NULL, NULL, "vector_search", -1, 25, "Searching products by meaning");
    if (rc) return rc;
    char eerr[512] = "";
    struct embedder *e = hx_embedder(c, eerr, sizeof(eerr));
    struct vidx *vx;
    s->idx = pidx_get(&c->app->pidx, s->cfg, e, &vx, s->idx_msg, sizeof(s->idx_msg));
    if (s->idx == PIDX_NO_EMBEDDER && eerr[0]) {
        size_t l = strlen(s->idx_msg);
        snprintf(s->idx_msg + l, sizeof(s->idx_msg) - l, ": %s", eerr);
    }
    if (s->idx != PIDX_READY) {
        s->vec_code = "INDEX_UNAVAILABLE";
        if (s->idx == PIDX_ABSENT) LOG_INFO(s->route, s->rid, NULL, "Vector index unavailable: %s", s->idx_msg);
        else LOG_ERROR(s->route, s->rid, NULL, "Vector index unavailable: %s", s->idx_msg);
        s->ms_vector = req_mono_ms() - t0;
        return sink_progressf(s->c->sink, NULL, s->vec_code, "vector_search", 0, 50,
                              "Vector index unavailable: %s; answering from "
                           "text search only", s->idx_msg);
    }
    float *qv = ar_alloc(c->ar, (size_t)e->dim * sizeof(float));
    int k = s->cfg->search_vector_candidates;
    s->vids = ar_alloc(c->ar, (size_t)k * sizeof(int64_t));
    s->vscores = ar_alloc(c->ar, (size_t)k * sizeof(float));
    if (!qv || !s->vids || !s->vscores) return SINK_EIO;
    char err[512] = "";
    int timeout = 0;
    const char *texts[1] = {s->q};
    e->cancel = sink_cancelled;
    e->cancel_arg = c->sink;
    rc = e->embed(e, texts, 1, qv, &timeout, err, sizeof(err));
    e->cancel = NULL;
    e->cancel_arg = NULL;
    if (rc < 0) {
        if ((rc = sink_check(c->sink)) != 0) return rc;
        s->vec_code = timeout ? "UPSTREAM_TIMEOUT" : "UPSTREAM_ERROR";
        snprintf(s->idx_msg, sizeof(s->idx_msg), "embedding the query failed: %s", err);
        LOG_ERROR(s->route, s->rid, NULL, "Vector search skipped: %s", s->idx_msg);
        s->ms_vector = req_mono_ms() - t0;
        return sink_progressf(s->c->sink, NULL, s->vec_code, "vector_search", 0, 50,
                              "Vector search skipped (%s); answering from "
                           "text search only", s->idx_msg);
    }
    int nout = 0;
    if (vidx_search(vx, qv, k, s->cfg->search_nprobe, s->vids, s->vscores, &nout) < 0) {
        s->vec_code = "INDEX_UNAVAILABLE";
        snprintf(s->idx_msg, sizeof(s->idx_msg), "the index search failed");
        LOG_ERROR(s->route, s->rid, NULL, "Vector search failed");
        s->ms_vector = req_mono_ms() - t0;
        return sink_progressf(s->c->sink, NULL, s->vec_code, "vector_search", 0, 50,
                              "Vector search failed; answering from text "
                           "search only");
    }
    /* Keep real hits at or above the threshold (results are nearest first). */
    size_t n = 0;
    for (int i = 0; i < nout; i++) {
        if (s->vids[i] < 0 || s->vscores[i] < s->cfg->search_min_vector_score) continue;
        s->vids[n] = s->vids[i];
        s->vscores[n] = s->vscores[i];
        n++;
    }
    s->nv = n;
    s->ms_vector = req_mono_ms() - t0;
    return sink_progressf(s->c->sink, NULL, NULL, "vector_search", (long)n, 50,
                          "%zu nearest product%s (cosine >= %.2f, %s, %d lists "
                       "probed)", n, n == 1 ? "" : "s", s->cfg->search_min_vector_score, vidx_meta(vx)->kind,
                       s->cfg->search_nprobe > 0 ? s->cfg->search_nprobe : vidx_meta(vx)->nprobe);
}

static int ps_filters(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = req_mono_ms();
    int rc = sink_progressf(s->c->sink, NULL, NULL, "filters", -1, 50,
                            "Applying the filters to %zu vector candidate%s (the text "
                         "matches were filtered in SQL)", s->nv, s->nv == 1 ? "" : "s");
    if (rc) return rc;
    if (s->nv) {
        struct cat_product *rows;
        size_t nrows;
        char err[512] = "";
        rc = db_ensure(&c->app->db, &c->app->cfg, err, sizeof(err));
        if (rc < 0) return ps_db_fail(s, DB_ECONN, "filters", err);
        rc = cat_fetch(c->app->db, c->ar, s->vids, s->nv, &s->f, &rows, &nrows, err, sizeof(err));
        if (rc != DB_OK) return ps_db_fail(s, rc, "filters", err);
        s->vrows = ar_alloc(c->ar, s->nv * sizeof(*s->vrows));
        s->vrow_scores = ar_alloc(c->ar, s->nv * sizeof(float));
        if (!s->vrows || !s->vrow_scores) return SINK_EIO;
        for (size_t i = 0; i < s->nv; i++) {
            struct cat_product *p = cat_find(rows, nrows, s->vids[i]);
            if (!p) continue;
            s->vrows[s->nvf] = p;
            s->vrow_scores[s->nvf] = s->vscores[i];
            s->nvf++;
        }
    }
    s->ms_filters = req_mono_ms() - t0;
    rc = sink_progressf(s->c->sink, NULL, NULL, "filters", (long)s->nvf, 75,
                        "%zu of %zu vector candidates match the filters; %zu "
                     "text matches", s->nvf, s->nv, s->ntext);
    if (rc || s->idx != PIDX_READY || s->vec_code) return rc;
    json_object *cards = json_object_new_array();
    for (size_t i = (size_t)s->offset; i < s->nvf && i < (size_t)(s->offset + s->limit); i++)
        json_object_array_add(cards, cat_card(s->vrows[i], s->vrow_scores[i], 0, (int)i + 1));
    return ps_results(s, "semantic", cards, (long)s->nvf, NULL);
}

/* ---- no results: what would widen the search -------------------------------------- */

/* Filter groups, in the order a shopper gives them up most easily. */
enum { PSG_PRICE, PSG_SIZE, PSG_STOCK, PSG_WORK, PSG_FABRIC, PSG_COLOR, PSG_OCCASION, PSG_DESIGNER, PSG_CATEGORY,
       PSG_N };
static const char *const ps_group_names[PSG_N] = {"price",  "size",     "inStock",  "work",    "fabric",
                                                   "color",  "occasion", "designer", "category"};

/* 1 when group g of f is set; with clear, unsets it. */
static int ps_group(struct qp_filters *f, int g, int clear)
{
    switch (g) {
    case PSG_PRICE:
        if (f->min_price < 0 && f->max_price < 0) return 0;
        if (clear) f->min_price = f->max_price = -1;
        return 1;
    case PSG_SIZE:
        if (!f->size[0]) return 0;
        if (clear) f->size[0] = 0;
        return 1;
    case PSG_STOCK:
        if (f->in_stock < 0) return 0;
        if (clear) f->in_stock = -1;
        return 1;
    case PSG_WORK:
        if (!f->work[0]) return 0;
        if (clear) f->work[0] = 0;
        return 1;
    case PSG_FABRIC:
        if (!f->fabric[0]) return 0;
        if (clear) f->fabric[0] = 0;
        return 1;
    case PSG_COLOR:
        if (!f->color[0] && !f->color_family[0]) return 0;
        if (clear) f->color[0] = f->color_family[0] = 0;
        return 1;
    case PSG_OCCASION:
        if (!f->occasion[0]) return 0;
        if (clear) f->occasion[0] = 0;
        return 1;
    case PSG_DESIGNER:
        if (!f->designer[0]) return 0;
        if (clear) f->designer[0] = 0;
        return 1;
    case PSG_CATEGORY:
        if (!f->category[0]) return 0;
        if (clear) f->category[0] = 0;
        return 1;
    }
    return 0;
}

/* A price as the cards give one: whole rupees as an integer. */
static json_object *ps_amount(double v)
{
    return v == (double)(long long)v ? json_object_new_int64((long long)v) : json_object_new_double(v);
}

/* "pink, gold and ivory": the first few values of a facet array. */
static void ps_facet_list(json_object *facet, char *out, size_t cap)
{
    size_t n = facet ? json_object_array_length(facet) : 0, o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 3 && o < cap; i++) {
        json_object *v;
        if (!json_object_object_get_ex(json_object_array_get_idx(facet, i), "value", &v)) continue;
        const char *sep = i == 0 ? "" : (i + 1 == n || i == 2) ? " and " : ", ";
        o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, json_object_get_string(v));
    }
    if (o >= cap) out[cap - 1] = '\0';
}

/* With no product passing every filter: for each group of filters set,
 * the same text search without it. Each one that finds products becomes a
 * relaxation (the group, a query that says the rest, how many, and the
 * values the shopper would get: prices, sizes, colours, designers or
 * categories), in the order of ps_group_names. Counts over the text side
 * (the vector side adds at most its candidates), capped at
 * search_text_candidates; the price range is exact (cat_text_bounds when
 * capped). Only for the product search routes, and only with a filter
 * set: a search of words alone that finds nothing has nothing to drop.
 * 0, PS_DONE after an error event, or SINK_E*. */
static int ps_relax(struct ps *s)
{
    struct ctx *c = s->c;
    int cap = s->cfg->search_text_candidates;
    int ngroups = 0;
    for (int g = 0; g < PSG_N; g++) ngroups += ps_group(&s->f, g, 0);
    if (!ngroups) return 0;
    int rc = sink_progressf(c->sink, NULL, NULL, "ranking", -1, 90,
                            "Nothing matches every filter: searching again without each of %d", ngroups);
    if (rc) return rc;
    json_object *list = json_object_new_array();
    json_object *queries = json_object_new_array();
    for (int g = 0; g < PSG_N && !rc; g++) {
        struct qp_filters f = s->f;
        if (!ps_group(&f, g, 1)) continue;
        int left = 0;
        for (int h = 0; h < PSG_N; h++) left += ps_group(&f, h, 0);
        if (!left && !s->parsed.residual[0]) continue;   /* the whole catalog: no hint */
        if ((rc = sink_check(c->sink)) != 0) break;
        char err[512] = "";
        int any = 1, drc = DB_OK;
        /* words with filters no product passes: no need to search them */
        if (s->parsed.residual[0]) drc = cat_filters_pass_any(c->app->db, c->ar, &f, &any, err, sizeof(err));
        if (drc != DB_OK) {
            rc = ps_db_fail(s, drc, "ranking", err);
            break;
        }
        if (!any) continue;
        struct cat_product *rows;
        size_t n;
        struct cat_text_info ti;
        drc = cat_text_search(c->app->db, c->ar, s->parsed.residual, &f, cap, &rows, &n, &ti, err, sizeof(err));
        if (drc != DB_OK) {
            rc = ps_db_fail(s, drc, "ranking", err);
            break;
        }
        if (!n) continue;
        long total = (long)n;
        int capped = n >= (size_t)cap;
        const struct cat_product **ptrs = ar_alloc(c->ar, n * sizeof(*ptrs));
        if (!ptrs) {
            rc = SINK_EIO;
            break;
        }
        for (size_t i = 0; i < n; i++) ptrs[i] = &rows[i];
        json_object *facets = cat_facets((const struct cat_product *const *)ptrs, n);
        double pmin = rows[0].price, pmax = rows[0].price;
        for (size_t i = 1; i < n; i++) {
            if (rows[i].price < pmin) pmin = rows[i].price;
            if (rows[i].price > pmax) pmax = rows[i].price;
        }
        if (g == PSG_PRICE && capped) {
            long cnt;
            drc = cat_text_bounds(c->app->db, c->ar, &ti, &f, &cnt, &pmin, &pmax, err, sizeof(err));
            if (drc != DB_OK) {
                json_object_put(facets);
                rc = ps_db_fail(s, drc, "ranking", err);
                break;
            }
            total = cnt;
            capped = 0;
        }
        char q[600];
        if (qp_render(&f, s->parsed.residual, q, sizeof(q)) < 0) q[0] = '\0';
        char count[32], lo[48], hi[48], vals[200] = "", msg[400];
        snprintf(count, sizeof(count), "%ld%s match%s", total, capped ? "+" : "", total == 1 && !capped ? "" : "es");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "drop", json_object_new_string(ps_group_names[g]));
        json_object_object_add(o, "query", json_object_new_string(q));
        json_object_object_add(o, "filters", cat_filters_json(&f));
        json_object_object_add(o, "total", json_object_new_int64(total));
        json_object_object_add(o, "capped", json_object_new_boolean(capped));
        json_object *facet = NULL;
        switch (g) {
        case PSG_PRICE:
            inr_format(lo, sizeof(lo), pmin, NULL);
            inr_format(hi, sizeof(hi), pmax, NULL);
            snprintf(msg, sizeof(msg), "%s without the price limit, from %s to %s", count, lo, hi);
            json_object *pr = json_object_new_object();
            json_object_object_add(pr, "min", ps_amount(pmin));
            json_object_object_add(pr, "max", ps_amount(pmax));
            json_object_object_add(o, "values", pr);
            break;
        case PSG_SIZE: facet = json_object_object_get(facets, "sizes"); break;
        case PSG_COLOR: facet = json_object_object_get(facets, "colors"); break;
        case PSG_DESIGNER: facet = json_object_object_get(facets, "designers"); break;
        case PSG_CATEGORY: facet = json_object_object_get(facets, "categories"); break;
        case PSG_STOCK:
            snprintf(msg, sizeof(msg), "%s %s", count,
                     s->f.in_stock ? "counting pieces out of stock" : "counting pieces in stock");
            break;
        case PSG_WORK: snprintf(msg, sizeof(msg), "%s with any handwork", count); break;
        case PSG_FABRIC: snprintf(msg, sizeof(msg), "%s in any fabric", count); break;
        case PSG_OCCASION: snprintf(msg, sizeof(msg), "%s for any occasion", count); break;
        }
        if (facet) {
            ps_facet_list(facet, vals, sizeof(vals));
            static const char *const what[PSG_N] = {[PSG_SIZE] = "in other sizes", [PSG_COLOR] = "in other colours",
                                                    [PSG_DESIGNER] = "by other designers",
                                                    [PSG_CATEGORY] = "in other categories"};
            snprintf(msg, sizeof(msg), "%s %s%s%s%s", count, what[g], vals[0] ? " (" : "", vals,
                     vals[0] ? ")" : "");
            json_object_object_add(o, "values", json_object_get(facet));
        }
        json_object_put(facets);
        json_object_object_add(o, "message", json_object_new_string(msg));
        json_object_array_add(list, o);
        if (q[0]) json_object_array_add(queries, json_object_new_string(q));
        rc = sink_progressf(c->sink, NULL, NULL, "ranking", (long)total, 95, "%s: \"%s\"", msg, q);
    }
    if (rc) {
        json_object_put(list);
        json_object_put(queries);
        return rc;
    }
    s->relaxations = list;
    s->relax_queries = queries;
    return 0;
}

static int ps_ranking(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = req_mono_ms();
    struct rk_params rp = {.method = rk_method_parse(s->cfg->search_rank_method) == RK_WEIGHTED ? RK_WEIGHTED : RK_RRF,
                           .k = s->cfg->search_rrf_k,
                           .text_weight = s->cfg->search_text_weight};
    int rc = rp.method == RK_RRF
                 ? sink_progressf(s->c->sink, NULL, NULL, "ranking", -1, 75,
                                  "Fusing the text and vector rankings (RRF, k = %d)", rp.k)
                 : sink_progressf(s->c->sink, NULL, NULL, "ranking", -1, 75,
                                  "Blending text and vector scores (text weight %.2f)",
                               rp.text_weight);
    if (rc) return rc;
    size_t cap = s->ntext + s->nvf;
    s->items = ar_calloc(c->ar, cap ? cap : 1, sizeof(*s->items));
    struct cat_product **byid = ar_alloc(c->ar, (cap ? cap : 1) * sizeof(*byid));
    s->item_rows = ar_alloc(c->ar, (cap ? cap : 1) * sizeof(*s->item_rows));
    if (!s->items || !byid || !s->item_rows) return SINK_EIO;
    /* Text candidates first, then vector candidates not among them. */
    for (size_t i = 0; i < s->ntext; i++) byid[i] = &s->text[i];
    qsort(byid, s->ntext, sizeof(*byid), cat_row_id_cmp);
    size_t n = 0;
    for (size_t i = 0; i < s->ntext; i++) {
        const struct cat_product *p = &s->text[i];
        s->items[n] = (struct rk_item){.id = p->id, .text_rank = (int)i + 1, .text_score = p->relevance,
                                       .tiebreak = p->popularity};
        n++;
    }
    for (size_t j = 0; j < s->nvf; j++) {
        struct cat_product key = {.id = s->vrows[j]->id}, *kp = &key;
        struct cat_product **hit = s->ntext ? bsearch(&kp, byid, s->ntext, sizeof(*byid), cat_row_id_cmp) : NULL;
        if (hit) {
            size_t at = (size_t)(*hit - s->text);
            s->items[at].vec_rank = (int)j + 1;
            s->items[at].vec_score = s->vrow_scores[j];
        } else {
            s->items[n] = (struct rk_item){.id = s->vrows[j]->id, .vec_rank = (int)j + 1,
                                           .vec_score = s->vrow_scores[j], .tiebreak = s->vrows[j]->popularity};
            n++;
        }
    }
    s->nitems = n;
    rk_fuse(s->items, n, s->ntext, &rp);
    /* Rows of the fused items: text rows by rank, vector rows by rank. */
    for (size_t i = 0; i < n; i++) {
        const struct rk_item *it = &s->items[i];
        s->item_rows[i] = it->text_rank ? &s->text[it->text_rank - 1] : s->vrows[it->vec_rank - 1];
    }
    if (!n && s->relax && (rc = ps_relax(s)) != 0) return rc;
    json_object *facets = cat_facets((const struct cat_product *const *)s->item_rows, n);
    s->ms_ranking = req_mono_ms() - t0;
    rc = sink_progressf(s->c->sink, NULL, NULL, "ranking", (long)n, 100, "%zu product%s ranked", n, n == 1 ? "" : "s");
    if (rc) {
        json_object_put(facets);
        return rc;
    }
    json_object *cards = json_object_new_array();
    for (size_t i = (size_t)s->offset; i < n && i < (size_t)(s->offset + s->limit); i++) {
        const struct rk_item *it = &s->items[i];
        json_object_array_add(cards, cat_card(s->item_rows[i], it->score, it->text_rank, it->vec_rank));
    }
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "textMode", json_object_new_string(s->text_mode));
    json_object_object_add(extra, "facets", facets);
    json_object *rk = json_object_new_object();
    json_object_object_add(rk, "method", json_object_new_string(rp.method == RK_RRF ? "rrf" : "weighted"));
    if (rp.method == RK_RRF) json_object_object_add(rk, "k", json_object_new_int(rp.k));
    else json_object_object_add(rk, "textWeight", json_object_new_double(rp.text_weight));
    json_object_object_add(extra, "ranking", rk);
    json_object_object_add(extra, "capped",
                           json_object_new_boolean(s->ntext >= (size_t)s->cfg->search_text_candidates));
    if (s->relaxations) {
        json_object_object_add(extra, "relaxations", s->relaxations);
        s->relaxations = NULL;
    }
    return ps_results(s, "final", cards, (long)n, extra);
}

/* The four steps. 0, PS_DONE after an error event, or SINK_E*. */
static int ps_pipeline(struct ps *s)
{
    int rc = ps_text_search(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_vector_search(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_filters(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_ranking(s);
    return rc;
}

int ps_search(struct ctx *c, const struct ps_spec *spec, struct ps_out *out)
{
    struct ps s = {.c = c, .cfg = &c->app->cfg, .route = c->route->name, .rid = c->req->id};
    memset(out, 0, sizeof(*out));
    s.idx = PIDX_ABSENT;
    s.q = spec->q ? spec->q : "";
    s.limit = spec->limit > 0 ? spec->limit : 8;
    s.offset = 0;
    snprintf(s.parsed.residual, sizeof(s.parsed.residual), "%s", spec->residual ? spec->residual : "");
    s.parsed.f = spec->f;
    s.f = spec->f;
    s.bq = cat_boolean_query(c->ar, s.parsed.residual, &s.f, 0);
    int rc = ps_pipeline(&s);
    out->first_results_ms = s.first_results_ms;
    if (rc) return rc;
    out->rows = s.item_rows;
    out->total = s.nitems;
    out->n = s.nitems < (size_t)s.limit ? s.nitems : (size_t)s.limit;
    return 0;
}

/* ---- the route ---------------------------------------------------------------------- */

static json_object *ps_counts(const struct ps *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "text", json_object_new_int64((int64_t)s->ntext));
    json_object_object_add(o, "vector", json_object_new_int64((int64_t)s->nv));
    json_object_object_add(o, "vectorFiltered", json_object_new_int64((int64_t)s->nvf));
    json_object_object_add(o, "final", json_object_new_int64((int64_t)s->nitems));
    return o;
}

int h_product_search(struct ctx *c)
{
    struct ps s = {.c = c, .cfg = &c->app->cfg, .route = c->route->name, .rid = c->req->id, .relax = 1};
    s.idx = PIDX_ABSENT;
    if (ps_params(&s) < 0) return 0;

    json_object *filters = cat_filters_json(&s.f);
    json_object *logx = json_object_new_object();
    json_object_object_add(logx, "query", json_object_new_string(s.q));
    json_object_object_add(logx, "filters", json_object_get(filters));
    json_object_object_add(logx, "limit", json_object_new_int64(s.limit));
    json_object_object_add(logx, "offset", json_object_new_int64(s.offset));
    LOG_INFO(s.route, s.rid, logx, "Product search started");
    json_object_put(logx);

    json_object *conn = json_object_new_object();
    json_object_object_add(conn, "query", json_object_new_string(s.q));
    json_object_object_add(conn, "filters", filters);
    json_object_object_add(conn, "parsed", cat_filters_json(&s.parsed.f));
    json_object_object_add(conn, "residual", json_object_new_string(s.parsed.residual));
    json_object_object_add(conn, "textQuery", json_object_new_string(s.bq));
    json_object_object_add(conn, "limit", json_object_new_int64(s.limit));
    json_object_object_add(conn, "offset", json_object_new_int64(s.offset));
    int rc = hx_connected(c, conn);
    if (!rc) rc = ps_pipeline(&s);
    json_object_put(s.relaxations);   /* NULL once handed over */
    if (!rc && s.relax_queries && json_object_array_length(s.relax_queries)) {
        /* the queries that widen a search with no results, as follow-ups */
        json_object *sg = json_object_new_object();
        json_object_object_add(sg, "suggestions", s.relax_queries);
        s.relax_queries = NULL;
        rc = sink_emit(c->sink, "suggestions", sg);
    }
    json_object_put(s.relax_queries);
    if (rc == PS_DONE) return 0;   /* an error event was sent */
    if (rc) return rc;

    int64_t dur = hx_elapsed(c);
    json_object *done = json_object_new_object();
    json_object_object_add(done, "total", json_object_new_int64((int64_t)s.nitems));
    json_object_object_add(done, "duration", json_object_new_int64(dur));
    json_object_object_add(done, "counts", ps_counts(&s));
    json_object_object_add(done, "textMode", json_object_new_string(s.text_mode ? s.text_mode : ""));
    json_object_object_add(done, "textPlan", s.browse.plan ? json_object_new_string(s.browse.plan) : NULL);
    if (s.browse.plan) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "survivors", json_object_new_int64(s.browse.survivors));
        json_object_object_add(b, "read", json_object_new_int64(s.browse.read));
        json_object_object_add(b, "base", json_object_new_int64(s.browse.base));
        json_object_object_add(b, "costBitmap", json_object_new_int64((int64_t)s.browse.cost_bits));
        json_object_object_add(b, "costWalk", json_object_new_int64((int64_t)s.browse.cost_walk));
        json_object_object_add(done, "browse", b);
    }
    json_object_object_add(done, "vectorSearch",
                           json_object_new_string(s.vec_code ? "unavailable" : "used"));
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "textMs", json_object_new_int64(s.ms_text));
    json_object_object_add(tm, "vectorMs", json_object_new_int64(s.ms_vector));
    json_object_object_add(tm, "filtersMs", json_object_new_int64(s.ms_filters));
    json_object_object_add(tm, "rankingMs", json_object_new_int64(s.ms_ranking));
    json_object_object_add(done, "timings", tm);

    json_object *lx = json_object_new_object();
    json_object_object_add(lx, "query", json_object_new_string(s.q));
    json_object_object_add(lx, "filters", cat_filters_json(&s.f));
    json_object_object_add(lx, "total", json_object_new_int64((int64_t)s.nitems));
    json_object_object_add(lx, "counts", ps_counts(&s));
    json_object_object_add(lx, "textMode", json_object_new_string(s.text_mode ? s.text_mode : ""));
    if (s.browse.plan) json_object_object_add(lx, "textPlan", json_object_new_string(s.browse.plan));
    json_object_object_add(lx, "vectorSearch", json_object_new_string(s.vec_code ? s.vec_code : "used"));
    json_object_object_add(lx, "durationMs", json_object_new_int64(dur));
    LOG_INFO(s.route, s.rid, lx, "Product search complete");
    json_object_put(lx);
    return sink_emit(c->sink, "complete", done);
}
