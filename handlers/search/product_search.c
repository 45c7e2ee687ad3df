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

#include "common/base/clock.h"
#include "common/store/catalog.h"
#include "common/io/db.h"
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

/* inStock: true/1 (in stock only) or false/0 (out of stock only); *out
 * stays -1 when absent. -1 after rejecting. */
static int ps_stock(struct ctx *c, const char *name, int *out)
{
    const char *v;
    if (ps_text(c, name, 5, &v) < 0) return -1;
    if (!v) return 0;
    if (!strcasecmp(v, "true") || !strcmp(v, "1")) *out = 1;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0")) *out = 0;
    else return hx_bad_field(c, name, "inStock must be true or false");
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

    struct qp_given given;
    qp_given_init(&given);
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        if (d->kind == QPF_TEXT || d->kind == QPF_COLOUR) {
            const char *v;
            if (ps_text(c, d->name, d->cap - 1, &v) < 0) return -1;
            qp_given_set_text(&given, d->id, v);
        } else if (d->kind == QPF_MIN || d->kind == QPF_MAX) {
            double v;
            if (ps_price(c, d->name, &v) < 0) return -1;
            qp_given_set_num(&given, d->id, v);
        } else if (ps_stock(c, d->name, &given.in_stock) < 0) {
            return -1;
        }
    }
    if (given.min_price >= 0 && given.max_price >= 0 && given.min_price > given.max_price)
        return hx_bad_field(c, "minPrice", "minPrice must not be greater than maxPrice");

    hx_parse_query(c, s->q, given.designer, &s->parsed);
    s->f = s->parsed.f;
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
    if (!s->first_results_ms) s->first_results_ms = clk_mono_ms();
    return sink_emit(s->c->sink, "results", o);
}

/* ---- steps ------------------------------------------------------------------------ */

static int ps_text_search(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
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
    s->ms_text = clk_mono_ms() - t0;
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
    int64_t t0 = clk_mono_ms();
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
        s->ms_vector = clk_mono_ms() - t0;
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
        s->ms_vector = clk_mono_ms() - t0;
        return sink_progressf(s->c->sink, NULL, s->vec_code, "vector_search", 0, 50,
                              "Vector search skipped (%s); answering from "
                           "text search only", s->idx_msg);
    }
    int nout = 0;
    if (vidx_search(vx, qv, k, s->cfg->search_nprobe, s->vids, s->vscores, &nout) < 0) {
        s->vec_code = "INDEX_UNAVAILABLE";
        snprintf(s->idx_msg, sizeof(s->idx_msg), "the index search failed");
        LOG_ERROR(s->route, s->rid, NULL, "Vector search failed");
        s->ms_vector = clk_mono_ms() - t0;
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
    s->ms_vector = clk_mono_ms() - t0;
    return sink_progressf(s->c->sink, NULL, NULL, "vector_search", (long)n, 50,
                          "%zu nearest product%s (cosine >= %.2f, %s, %d lists "
                       "probed)", n, n == 1 ? "" : "s", s->cfg->search_min_vector_score, vidx_meta(vx)->kind,
                       s->cfg->search_nprobe > 0 ? s->cfg->search_nprobe : vidx_meta(vx)->nprobe);
}

static int ps_filters(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
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
    s->ms_filters = clk_mono_ms() - t0;
    rc = sink_progressf(s->c->sink, NULL, NULL, "filters", (long)s->nvf, 75,
                        "%zu of %zu vector candidates match the filters; %zu "
                     "text matches", s->nvf, s->nv, s->ntext);
    if (rc || s->idx != PIDX_READY || s->vec_code) return rc;
    json_object *cards = json_object_new_array();
    for (size_t i = (size_t)s->offset; i < s->nvf && i < (size_t)(s->offset + s->limit); i++)
        json_object_array_add(cards, cat_card(s->vrows[i], s->vrow_scores[i], 0, (int)i + 1));
    return ps_results(s, "semantic", cards, (long)s->nvf, NULL);
}

static int ps_ranking(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
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
    if (!n && s->relax && (rc = ps_relax(c, &s->f, s->parsed.residual, &s->relaxations, &s->relax_queries)) != 0)
        return rc;
    json_object *facets = cat_facets((const struct cat_product *const *)s->item_rows, n);
    s->ms_ranking = clk_mono_ms() - t0;
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

    json_object *filters = qp_filters_json(&s.f);
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
    json_object_object_add(conn, "parsed", qp_filters_json(&s.parsed.f));
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
    json_object_object_add(lx, "filters", qp_filters_json(&s.f));
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
