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
#include "common/store/catbits.h"
#include "common/store/catsnap.h"
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
#include "handlers/search/ps_page.h"
#include "handlers/search/ps_query.h"
#include "handlers/search/ps_set.h"
#include "handlers/search/ps_widen.h"
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
    long widen_below;            /* widen while fewer products meet the preferences (0: offset + limit) */
    unsigned keep;               /* preferences never given up (QPF_BIT) */
    struct pq_query pq;          /* what q means: corrections, unmatched words */
    const char *qtext;           /* q with its corrections: embedded for the vector side */
    struct qp_result parsed;     /* what q said */
    struct qp_filters f;         /* effective: parameters override q */
    const char *bq;              /* boolean-mode expression */

    struct cat_product *text;    /* text candidates, best first */
    size_t ntext;
    struct cat_hits all;         /* every text match (exact, text modes), best first */
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

    struct rk_item *items;       /* fused, best first (level 0, then each widening level's) */
    struct cat_product **item_rows;
    unsigned char *item_level;   /* each item's level */
    size_t nitems;

    /* Preferences (ps_widen.h): level 0 is the search above, under every
     * filter and preference; each widening step adds a level, its new
     * products ranked after those of the levels before. */
    struct pw_level lv[PW_LEVELS];
    int nlv;
    unsigned prefs;              /* the preferences (QPF_BIT), read from q's words */
    unsigned relaxed;            /* those given up to fill the page */
    int words_any;               /* the words, too, were made "any of them" (QPW_WORDS) */
    struct qp_filters fw;        /* the filters of the last level */

    /* exact: rank, sort, count and page the whole match set (the product
     * search route; ps_search's callers take the first candidates). */
    int exact;
    int sort;                    /* enum pg_sort */
    int has_cursor;
    struct pg_cursor cur;        /* the cursor the request continues */
    uint64_t fp;                 /* this search's fingerprint (pg_fingerprint) */
    const struct cs_snap *snap;  /* the worker's catalog snapshot, or NULL */
    long total;                  /* the match set (exact up to search_result_cap) */
    int total_exact;
    const char *next;            /* the cursor after this page, or NULL */

    int relax;                   /* with no results, look for what would widen the search */
    json_object *relaxations;    /* what did (owned until handed to the results event), or NULL */
    json_object *relax_queries;  /* their queries, for the suggestions event */

    int64_t ms_text, ms_vector, ms_filters, ms_widen, ms_ranking;
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
    const char *sort, *cursor;
    if (ps_text(c, "sort", 16, &sort) < 0 || ps_text(c, "cursor", 340, &cursor) < 0) return -1;
    s->sort = PG_RELEVANCE;
    if (sort && (s->sort = pg_sort_parse(sort)) < 0)
        return hx_bad_field(c, "sort", PG_SORT_ERROR);
    if (cursor) {
        if (pg_cursor_decode(cursor, &s->cur) < 0)
            return hx_bad_field(c, "cursor", "cursor is not one this API returned (pass it back unchanged)");
        if (req_param(c->req, "offset") && s->offset)
            return hx_bad_field(c, "offset", "offset and cursor cannot be combined");
        if (!sort) s->sort = s->cur.sort;   /* the cursor's own sort when none is given */
        s->has_cursor = 1;
    }

    pq_understand(c, s->q, given.designer, &s->pq);
    s->parsed = s->pq.r;
    s->qtext = s->pq.text;
    s->f = s->parsed.f;
    qp_filters_override(&s->f, &given);
    s->bq = cat_boolean_query(c->ar, s->parsed.residual, &s->f, 0);
    s->fp = pg_fingerprint(s->q, &s->f, s->sort);
    if (s->has_cursor && (s->cur.fp != s->fp || s->cur.sort != s->sort))
        return hx_bad_field(c, "cursor", "the cursor belongs to another search (q, filters or sort differ)");
    return 0;
}

/* ---- events ----------------------------------------------------------------------- */

/* The search_step_delay_ms test hook (--enable-test-hooks builds; 0
 * otherwise): a pause before each step, so that a test can break the
 * database while a stream is in flight, before the text search included. */
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

/* Where the text and semantic stages start their own rankings: the
 * request's offset, or a cursor's position. */
static size_t ps_stage_offset(const struct ps *s)
{
    return s->has_cursor ? (size_t)s->cur.pos : (size_t)s->offset;
}

/* The query is about a word no product has ("leather wallet"): every
 * step says so and finds nothing (pq_understand: nothing). */
static int ps_nothing(struct ps *s, const char *step, int percent)
{
    int rc = sink_progressf(s->c->sink, NULL, NULL, step, -1, percent, "Skipped: the catalog has no %s",
                            s->pq.unmatched[0]);
    return rc ? rc : sink_progressf(s->c->sink, NULL, NULL, step, 0, percent + 25, "0 products");
}

static int ps_text_search(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    if (s->pq.nothing) {
        s->text_mode = "none";
        if (s->exact) s->all.complete = 1;
        int rc = ps_nothing(s, "text_search", 0);
        return rc ? rc : ps_results(s, "text", json_object_new_array(), 0, NULL);
    }
    int rc = *s->bq ? sink_progressf(s->c->sink, NULL, NULL, "text_search", -1, 0,
                                     "Searching product text for %s", s->bq)
                    : sink_progressf(s->c->sink, NULL, NULL, "text_search", -1, 0,
                                     "No words left to match: listing the "
                                                                  "filtered catalog by popularity");
    if (rc) return rc;
    char err[512] = "";
    struct cat_text_info ti;
    if (s->exact)
        rc = cat_text_search_all(c->app->store, c->ar, s->parsed.residual, &s->f, s->cfg->search_text_candidates,
                                 s->cfg->search_result_cap, &s->text, &s->ntext, &ti, &s->all, err, sizeof(err));
    else
        rc = cat_text_search(c->app->store, c->ar, s->parsed.residual, &s->f, s->cfg->search_text_candidates,
                             &s->text, &s->ntext, &ti, err, sizeof(err));
    if (rc != ST_OK) return ps_db_fail(s, rc, "text_search", err);
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
    size_t found = s->all.n ? s->all.n : s->ntext;   /* every match (exact), or the candidates */
    if (ti.filtered_out)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", 0, 25,
                            "0 text matches (%s: %s): no product passes the filters", ti.mode, ti.expr);
    else if (*ti.row_words)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)found, 25,
                            "%zu text match%s (%s: %s; checked on the rows: %s)", found,
                            found == 1 ? "" : "es", ti.mode, ti.expr, ti.row_words);
    else if (*ti.expr)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)found, 25, "%zu text match%s (%s: %s)",
                            found, found == 1 ? "" : "es", ti.mode, ti.expr);
    else
        rc = sink_progressf(s->c->sink, x, NULL, "text_search", (long)s->ntext, 25, "%zu text match%s (%s%s%s)",
                            s->ntext, s->ntext == 1 ? "" : "es", ti.mode, s->browse.plan ? ": " : "",
                            s->browse.plan ? s->browse.plan : "");
    if (rc) return rc;
    json_object *cards = json_object_new_array();
    size_t from = ps_stage_offset(s);
    for (size_t i = from; i < s->ntext && i < from + (size_t)s->limit; i++) {
        const struct cat_product *p = &s->text[i];
        double score = !strcmp(s->text_mode, "browse") ? p->popularity : p->relevance;
        json_object_array_add(cards, cat_card(p, score, (int)i + 1, 0));
    }
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "textMode", json_object_new_string(s->text_mode));
    json_object_object_add(extra, "textPlan", s->browse.plan ? json_object_new_string(s->browse.plan) : NULL);
    return ps_results(s, "text", cards, s->all.n ? (long)s->all.n : (long)s->ntext, extra);
}

static int ps_vector_search(struct ps *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    if (s->pq.nothing) {
        s->vec_code = "SKIPPED";
        return ps_nothing(s, "vector_search", 25);
    }
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
    const char *texts[1] = {s->qtext ? s->qtext : s->q};
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
        rc = cat_fetch(c->app->store, c->ar, s->vids, s->nv, &s->f, &rows, &nrows, err, sizeof(err));
        if (rc != ST_OK) return ps_db_fail(s, rc, "filters", err);
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
    size_t from = ps_stage_offset(s);
    for (size_t i = from; i < s->nvf && i < from + (size_t)s->limit; i++)
        json_object_array_add(cards, cat_card(s->vrows[i], s->vrow_scores[i], 0, (int)i + 1));
    return ps_results(s, "semantic", cards, (long)s->nvf, NULL);
}

/* ids[0..n) with their places at[0..n), sorted by id. */
static int ps_id_cmp(const void *a, const void *b, void *arg)
{
    const int64_t *ids = arg;
    int64_t x = ids[*(const size_t *)a], y = ids[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

static int ps_sort_ids(arena_t *ar, int64_t *ids, size_t *at, size_t n)
{
    int64_t *copy = ar_alloc(ar, (n ? n : 1) * sizeof(*copy));
    if (!copy) return -1;
    memcpy(copy, ids, n * sizeof(*ids));
    qsort_r(at, n, sizeof(*at), ps_id_cmp, copy);
    for (size_t i = 0; i < n; i++) ids[i] = copy[at[i]];
    return 0;
}

/* 1 with *pos = the place of id among ids (sorted by ps_sort_ids). */
static int ps_find_id(const int64_t *ids, const size_t *at, size_t n, int64_t id, size_t *pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == id) {
            *pos = at[mid];
            return 1;
        }
        if (ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* The rows of picks[0..k) that no candidate brought, read by id. ST_OK
 * or ST_E*. */
static int ps_pick_rows(struct ps *s, struct ps_pick *picks, size_t k, char *err, size_t errlen)
{
    struct ctx *c = s->c;
    int64_t *ids = ar_alloc(c->ar, (k ? k : 1) * sizeof(*ids));
    if (!ids) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    size_t need = 0;
    for (size_t i = 0; i < k; i++)
        if (!picks[i].row) ids[need++] = picks[i].id;
    if (!need) return ST_OK;
    struct qp_filters none;
    qp_filters_init(&none);
    struct cat_product *got;
    size_t ngot;
    int rc = cat_fetch(c->app->store, c->ar, ids, need, &none, &got, &ngot, err, errlen);
    if (rc != ST_OK) return rc;
    for (size_t i = 0; i < k; i++)
        if (!picks[i].row) picks[i].row = cat_find(got, ngot, picks[i].id);
    return ST_OK;
}

/* Fuses the text list (set->tid.., to the depth pset_text reached) and
 * the vector candidates into s->items / s->item_rows. 0 or SINK_EIO. */
static int ps_fuse(struct ps *s, struct ps_set *set, const struct rk_params *rp)
{
    arena_t *ar = s->c->ar;
    size_t cap = set->nt + s->nvf;
    s->items = ar_calloc(ar, cap ? cap : 1, sizeof(*s->items));
    s->item_rows = ar_calloc(ar, cap ? cap : 1, sizeof(*s->item_rows));
    int64_t *tid = ar_alloc(ar, (set->nt ? set->nt : 1) * sizeof(*tid));
    size_t *tat = ar_alloc(ar, (set->nt ? set->nt : 1) * sizeof(*tat));
    if (!s->items || !s->item_rows || !tid || !tat) return SINK_EIO;
    /* Text candidates first, then vector candidates not among them (found
     * by id in the text list sorted by id). */
    size_t n = 0;
    for (size_t i = 0; i < set->nt; i++) {
        s->items[n++] = (struct rk_item){.id = set->tid[i], .text_rank = (int)i + 1, .text_score = set->trel[i],
                                         .tiebreak = set->tpop[i]};
        tat[i] = i;
        tid[i] = set->tid[i];
    }
    if (ps_sort_ids(ar, tid, tat, set->nt) < 0) return SINK_EIO;
    for (size_t j = 0; j < s->nvf; j++) {
        size_t at;
        if (ps_find_id(tid, tat, set->nt, s->vrows[j]->id, &at)) {
            s->items[at].vec_rank = (int)j + 1;
            s->items[at].vec_score = s->vrow_scores[j];
        } else {
            /* deeper in the text list than ranked: its place there still counts */
            s->items[n++] = (struct rk_item){.id = s->vrows[j]->id, .text_rank = set->vrank[j],
                                             .text_score = set->vrel[j], .vec_rank = (int)j + 1,
                                             .vec_score = s->vrow_scores[j], .tiebreak = s->vrows[j]->popularity};
        }
    }
    s->nitems = n;
    rk_fuse(s->items, n, set->tfull, rp);
    /* Rows of the fused items: text rows by rank (NULL past the text
     * candidates: read for the page), vector rows by rank. */
    for (size_t i = 0; i < n; i++) {
        const struct rk_item *it = &s->items[i];
        s->item_rows[i] = it->text_rank && (size_t)it->text_rank <= set->nt ? set->trow[it->text_rank - 1] : NULL;
        if (!s->item_rows[i] && it->vec_rank) s->item_rows[i] = s->vrows[it->vec_rank - 1];
    }
    return 0;
}

/* The page: the fused order for relevance, else the attribute sort over
 * the whole match set; the rows it lacks; the cursor after it. Fills
 * picks[0..*k); *start the products before it. 0, PS_DONE or SINK_E*. */
static int ps_page(struct ps *s, struct ps_set *set, struct ps_pick *picks, size_t *k, size_t *start)
{
    const struct pg_cursor *cur = s->has_cursor ? &s->cur : NULL;
    size_t n = s->nitems;
    int more;
    if (s->sort == PG_RELEVANCE) {
        *start = cur ? pg_anchor(s->snap, s->items, s->item_rows, n, cur) : (size_t)s->offset < n ? (size_t)s->offset : n;
        *k = n - *start < (size_t)s->limit ? n - *start : (size_t)s->limit;
        more = *start + *k < n || set->nt < set->tfull;
        for (size_t i = 0; i < *k; i++)
            picks[i] = (struct ps_pick){.id = s->items[*start + i].id, .row = s->item_rows[*start + i]};
    } else if (pset_page(set, s->sort, cur, s->offset, s->limit, picks, k, start, &more) < 0) {
        return SINK_EIO;
    }
    char err[512] = "";
    int drc = ps_pick_rows(s, picks, *k, err, sizeof(err));
    if (drc != ST_OK) return ps_db_fail(s, drc, "ranking", err);
    s->next = NULL;
    if (*k && more && picks[*k - 1].row) {
        const struct ps_pick *last = &picks[*k - 1];
        struct pg_item li;
        pg_item_of(s->sort, s->snap, last->id, last->row, &li);
        struct pg_cursor nc = {.sort = s->sort, .fp = s->fp, .pos = (long)(*start + *k), .key = li.key};
        if (s->sort == PG_RELEVANCE) nc.key = s->items[*start + *k - 1].score;
        snprintf(nc.sku, sizeof(nc.sku), "%s", last->row->sku);
        s->next = pg_cursor_encode(s->c->ar, &nc);
    }
    return 0;
}

/* ---- preferences: widen to fill the page ----------------------------------------- */

/* The names of the filters in mask, in the table's order. New array. */
static json_object *ps_names(unsigned mask)
{
    json_object *a = json_object_new_array();
    for (int id = 0; id < QPF_N; id++)
        if (mask & QPF_BIT(id)) json_object_array_add(a, json_object_new_string(qp_filter_defs[id].name));
    return a;
}

/* The same in the order they were given up (and "words" when the words
 * were made any of them). */
static json_object *ps_names_ordered(unsigned mask, int words)
{
    json_object *a = json_object_new_array();
    for (const struct qp_widen_step *w = qp_widen_steps; w->how != QPW_END; w++)
        if (w->how == QPW_DROP && (mask & QPF_BIT(w->id)))
            json_object_array_add(a, json_object_new_string(qp_filter_defs[w->id].name));
    if (words) json_object_array_add(a, json_object_new_string("words"));
    return a;
}

/* Level 0: the text and vector candidates under every filter. */
static int ps_level0(struct ps *s)
{
    struct pw_level *l = &s->lv[0];
    memset(l, 0, sizeof(*l));
    l->text = ar_alloc(s->c->ar, (s->ntext ? s->ntext : 1) * sizeof(*l->text));
    if (!l->text) return SINK_EIO;
    for (size_t i = 0; i < s->ntext; i++) l->text[i] = &s->text[i];
    l->ntext = s->ntext;
    l->vrows = s->vrows;
    l->vscores = s->vrow_scores;
    l->nvf = s->nvf;
    s->nlv = 1;
    s->fw = s->f;
    return 0;
}

/* One widening step on s->fw (qp_widen_steps): *what its message, *any
 * whether the words are now any of them. 0 when it does not apply. */
static int ps_widen_step(struct ps *s, const struct qp_widen_step *w, const char **what, int *any)
{
    *any = s->words_any;
    if (w->how == QPW_WORDS) {
        /* the words rank rather than filter: any of them will do */
        if (s->parsed.nterms < 2 || s->words_any) return 0;
        s->words_any = *any = 1;
        *what = "any of the words";
        return 1;
    }
    if (!(s->prefs & QPF_BIT(w->id)) || !qp_filter_is_set(&s->fw, w->id)) return 0;
    if (w->how == QPW_DROP && (s->keep & QPF_BIT(w->id))) return 0;
    if (w->how == QPW_BROADEN) {
        s->fw.broad |= QPF_BIT(w->id);
        *what = "also named in the product's text";
        return qp_filter_broad(&s->fw, w->id) != NULL;   /* no words known for its value: nothing to do */
    }
    qp_filter_clear(&s->fw, w->id);
    s->relaxed |= QPF_BIT(w->id);
    *what = qp_group_what(&s->f, qp_filter_defs[w->id].group);
    return 1;
}

/* Fewer products than a page (limit) meet every preference (relevance
 * order only: a sort orders what meets them): give them up one step at a
 * time (qp_widen_steps), each level searching text and filtering the
 * vector candidates again under what is left, until the page is full or
 * no step is left. */
static int ps_widen(struct ps *s)
{
    struct ctx *c = s->c;
    int rc = ps_level0(s);
    if (rc) return rc;
    s->prefs = qp_filters_prefs(&s->f);
    if (s->pq.nothing || s->sort != PG_RELEVANCE) return 0;
    /* fewer than a page meet them all (issue 14: "fewer than limit"): the
     * same on every page of the search, so paging stays one list */
    size_t need = s->widen_below > 0 ? (size_t)s->widen_below : (size_t)s->limit;
    size_t have = pw_distinct(c->ar, s->lv, 1);
    if (s->all.n > have) have = s->all.n;
    if (s->prefs && have < need && s->exact && s->text_mode && !strcmp(s->text_mode, "browse")) {
        /* a browse's candidates are a few of its products: count them all */
        const struct cs_snap *snap = hx_catsnap(c);
        uint8_t *set = snap ? cs_set(snap, c->ar) : NULL;
        if (set && cs_filter(snap, &s->f, c->ar, set) == 0) {
            size_t all = (size_t)cb_count(set, snap->bitlen);
            if (all > have) have = all;
        }
    }
    if (!s->prefs || have >= need) return 0;
    int64_t t0 = clk_mono_ms();
    rc = sink_progressf(c->sink, NULL, NULL, "widening", -1, 75,
                        "%zu product%s meet%s every preference (%zu wanted): giving preferences up one at a time",
                        have, have == 1 ? "" : "s", have == 1 ? "s" : "", need);
    for (const struct qp_widen_step *w = qp_widen_steps; !rc && w->how != QPW_END && have < need; w++) {
        const char *what;
        int any;
        if (!ps_widen_step(s, w, &what, &any)) continue;
        struct pw_level *l = &s->lv[s->nlv];
        memset(l, 0, sizeof(*l));
        l->dropped = s->relaxed;
        char err[512] = "";
        const char *mode = "";
        int drc = pw_search(c, s->parsed.residual, any, &s->fw, s->vids, s->vscores, s->nv,
                            s->cfg->search_text_candidates, l, &mode, err, sizeof(err));
        if (drc != ST_OK) return ps_db_fail(s, drc, "widening", err);
        s->nlv++;
        size_t now = pw_distinct(c->ar, s->lv, s->nlv);
        json_object *x = json_object_new_object();
        json_object_object_add(x, w->how == QPW_DROP ? "relaxed" : w->how == QPW_WORDS ? "words" : "broadened",
                               json_object_new_string(w->how == QPW_WORDS ? "any" : qp_filter_defs[w->id].name));
        size_t more = now > have ? now - have : 0;
        rc = sink_progressf(c->sink, x, NULL, "widening", (long)more, 75, "%s%s%s: %zu more product%s (%s)",
                            w->how == QPW_BROADEN ? qp_filter_text(&s->f, w->id) : "",
                            w->how == QPW_BROADEN ? " " : "", what, more, more == 1 ? "" : "s", mode);
        have = now > have ? now : have;
    }
    s->ms_widen = clk_mono_ms() - t0;
    return rc;
}

/* After level 0's fused products (s->items), each widening level's new
 * ones, fused per level; then what the query said that no filter holds
 * ranks first within each level (pw_boost): in level 0 only among its
 * first `stable` products, the part every page's ranking shares. 0 or
 * SINK_EIO. */
static int ps_join_levels(struct ps *s, const struct rk_params *rp, size_t stable)
{
    arena_t *ar = s->c->ar;
    size_t n0 = s->nitems;
    struct pw_ranked wide;
    memset(&wide, 0, sizeof(wide));
    int64_t *ids = ar_alloc(ar, (n0 ? n0 : 1) * sizeof(*ids));
    if (!ids) return SINK_EIO;
    for (size_t i = 0; i < n0; i++) ids[i] = s->items[i].id;
    if (s->nlv > 1 && pw_fuse(ar, s->lv + 1, s->nlv - 1, rp, ids, n0, &wide) < 0) return SINK_EIO;
    size_t n = n0 + wide.n;
    struct pw_ranked all = {.n = n};
    all.items = ar_alloc(ar, (n ? n : 1) * sizeof(*all.items));
    all.rows = ar_alloc(ar, (n ? n : 1) * sizeof(*all.rows));
    all.level = ar_alloc(ar, n ? n : 1);
    if (!all.items || !all.rows || !all.level) return SINK_EIO;
    if (n0) {
        memcpy(all.items, s->items, n0 * sizeof(*all.items));
        memcpy(all.rows, s->item_rows, n0 * sizeof(*all.rows));
        memset(all.level, 0, n0);
    }
    for (size_t i = 0; i < wide.n; i++) {
        all.items[n0 + i] = wide.items[i];
        all.rows[n0 + i] = wide.rows[i];
        all.level[n0 + i] = (unsigned char)(wide.level[i] + 1);
    }
    if (pw_boost(ar, &all, s->pq.boost, s->pq.nboost, s->parsed.residual[0] != '\0', stable) < 0) return SINK_EIO;
    s->items = all.items;
    s->item_rows = all.rows;
    s->item_level = all.level;
    s->nitems = n;
    return 0;
}

/* The preferences each card of the page meets (picks[i] is
 * s->items[start + i] for relevance; by an attribute sort, a level-0
 * product), as `matched`. 0, PS_DONE or SINK_E*. */
static int ps_matched(struct ps *s, const struct ps_pick *picks, size_t k, size_t start, unsigned *met)
{
    struct cat_product **rows = ar_alloc(s->c->ar, (k ? k : 1) * sizeof(*rows));
    unsigned char *level = ar_calloc(s->c->ar, k ? k : 1, 1);
    if (!rows || !level) return SINK_EIO;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!picks[i].row) continue;
        rows[m] = picks[i].row;
        level[m] = s->sort == PG_RELEVANCE && s->item_level && start + i < s->nitems ? s->item_level[start + i] : 0;
        m++;
    }
    unsigned *got = ar_alloc(s->c->ar, (m ? m : 1) * sizeof(*got));
    if (!got) return SINK_EIO;
    char err[512] = "";
    int drc = pw_matched(s->c, &s->f, s->prefs, s->lv, rows, level, m, got, err, sizeof(err));
    if (drc != ST_OK) return ps_db_fail(s, drc, "ranking", err);
    for (size_t i = 0, j = 0; i < k; i++) met[i] = picks[i].row ? got[j++] : 0;
    return 0;
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
    if (s->exact) s->snap = hx_catsnap(c);
    struct ps_set set = {.ar = c->ar, .snap = s->snap, .f = &s->f, .browse = !strcmp(s->text_mode, "browse"),
                         .all = s->exact ? &s->all : NULL, .text = s->text, .ntext = s->ntext, .vrows = s->vrows,
                         .nvf = s->nvf, .cap = (size_t)s->cfg->search_result_cap,
                         .ncand = (size_t)s->cfg->search_text_candidates};
    /* Relevance ranks the text list as deep as the page (and a page more:
     * a cursor's product may have moved); an attribute sort pages the
     * whole set (pset_page) and ranks only the candidates, for the cards'
     * scores. */
    size_t hint = s->has_cursor ? (size_t)s->cur.pos : (size_t)s->offset;
    size_t depth = s->sort == PG_RELEVANCE ? hint + (size_t)s->limit + set.ncand : set.ncand;
    if (rp.method == RK_WEIGHTED) depth = SIZE_MAX;   /* its scores are not monotone in depth: rank all */
    if (pset_text(&set, depth) < 0 || (rc = ps_fuse(s, &set, &rp)) != 0) return SINK_EIO;
    size_t n0 = s->nitems;
    if ((rc = ps_join_levels(s, &rp, set.ncand)) != 0) return rc;
    size_t n = s->nitems;
    /* nothing meets every filter and preference: say what would widen
     * the search (the page may hold what the widened preferences found) */
    if (!n0 && s->relax && !s->pq.nothing &&
        (rc = ps_relax(c, &s->f, s->parsed.residual, &s->relaxations, &s->relax_queries)) != 0)
        return rc;
    struct ps_pick *picks = ar_alloc(c->ar, (size_t)s->limit * sizeof(*picks));
    struct cat_product **rows = ar_alloc(c->ar, (n ? n : 1) * sizeof(*rows));
    size_t k, start;
    if (!picks || !rows) return SINK_EIO;
    if ((rc = ps_page(s, &set, picks, &k, &start)) != 0) return rc;
    memcpy(rows, s->item_rows, n * sizeof(*rows));
    json_object *facets;
    if (n > n0) {
        /* widened: what is listed, counted (the widened levels are their
         * candidates, not every match) */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (rows[i]) rows[m++] = rows[i];
        facets = cat_facets((const struct cat_product *const *)rows, m);
        s->total = (long)n;
        s->total_exact = 0;
    } else {
        facets = pset_count(&set, s->items, rows, n, &s->total, &s->total_exact);
        if (!s->exact) s->total_exact = s->ntext < set.ncand;
    }
    s->ms_ranking = clk_mono_ms() - t0;
    rc = sink_progressf(s->c->sink, NULL, NULL, "ranking", (long)n, 100, "%zu product%s ranked", n, n == 1 ? "" : "s");
    if (rc) {
        json_object_put(facets);
        return rc;
    }
    /* the fused item of each product shown (scores and ranks), by id */
    int64_t *fid = ar_alloc(c->ar, (n ? n : 1) * sizeof(*fid));
    size_t *fat = ar_alloc(c->ar, (n ? n : 1) * sizeof(*fat));
    if (!fid || !fat) {
        json_object_put(facets);
        return SINK_EIO;
    }
    for (size_t i = 0; i < n; i++) {
        fid[i] = s->items[i].id;
        fat[i] = i;
    }
    if (ps_sort_ids(c->ar, fid, fat, n) < 0) {
        json_object_put(facets);
        return SINK_EIO;
    }
    unsigned *met = ar_calloc(c->ar, k ? k : 1, sizeof(*met));
    if (!met) {
        json_object_put(facets);
        return SINK_EIO;
    }
    if (s->prefs && (rc = ps_matched(s, picks, k, start, met)) != 0) {
        json_object_put(facets);
        return rc;
    }
    json_object *cards = json_object_new_array();
    for (size_t i = 0; i < k; i++) {
        size_t at;
        json_object *card;
        if (!picks[i].row) continue;   /* deleted since it was matched */
        if (ps_find_id(fid, fat, n, picks[i].id, &at))
            card = cat_card(picks[i].row, s->items[at].score, s->items[at].text_rank, s->items[at].vec_rank);
        else
            card = cat_card(picks[i].row, 0, 0, 0);
        if (s->prefs) json_object_object_add(card, "matched", ps_names(met[i]));
        json_object_array_add(cards, card);
    }
    if (s->has_cursor) s->offset = (long)start;   /* where a cursor's page starts */
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "textMode", json_object_new_string(s->text_mode));
    json_object_object_add(extra, "facets", facets);
    json_object *rk = json_object_new_object();
    json_object_object_add(rk, "method", json_object_new_string(rp.method == RK_RRF ? "rrf" : "weighted"));
    if (rp.method == RK_RRF) json_object_object_add(rk, "k", json_object_new_int(rp.k));
    else json_object_object_add(rk, "textWeight", json_object_new_double(rp.text_weight));
    json_object_object_add(extra, "ranking", rk);
    json_object_object_add(extra, "capped", json_object_new_boolean(!s->total_exact));
    json_object_object_add(extra, "totalExact", json_object_new_boolean(s->total_exact));
    json_object_object_add(extra, "sort", json_object_new_string(pg_sort_name(s->sort)));
    json_object_object_add(extra, "cursor", s->next ? json_object_new_string(s->next) : NULL);
    if (s->pq.nfix) json_object_object_add(extra, "didYouMean", json_object_new_string(s->pq.text));
    if (s->pq.nunmatched) json_object_object_add(extra, "unmatched", pq_unmatched_json(&s->pq));
    if (s->prefs) {
        json_object_object_add(extra, "preferences", ps_names(s->prefs));
        json_object_object_add(extra, "relaxed", ps_names_ordered(s->relaxed, s->words_any));
    }
    if (s->relaxations) {
        json_object_object_add(extra, "relaxations", s->relaxations);
        s->relaxations = NULL;
    }
    return ps_results(s, "final", cards, s->total, extra);
}

/* The steps. 0, PS_DONE after an error event, or SINK_E*. */
static int ps_pipeline(struct ps *s)
{
    int rc = ps_pause(s);
    if (!rc) rc = ps_text_search(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_vector_search(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_filters(s);
    if (!rc) rc = ps_pause(s);
    if (!rc) rc = ps_widen(s);
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
    s.widen_below = spec->widen_below;
    s.keep = spec->keep;
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
    out->relaxed = s.relaxed;
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
    struct ps s = {.c = c, .cfg = &c->app->cfg, .route = c->route->name, .rid = c->req->id, .relax = 1,
                   .exact = 1};
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
    json_object_object_add(conn, "preferences", ps_names(qp_filters_prefs(&s.f)));
    if (s.pq.nfix) json_object_object_add(conn, "corrected", pq_corrected_json(&s.pq));
    if (s.pq.nunmatched) json_object_object_add(conn, "unmatched", pq_unmatched_json(&s.pq));
    json_object_object_add(conn, "residual", json_object_new_string(s.parsed.residual));
    json_object_object_add(conn, "textQuery", json_object_new_string(s.bq));
    json_object_object_add(conn, "limit", json_object_new_int64(s.limit));
    json_object_object_add(conn, "offset", json_object_new_int64(s.offset));
    json_object_object_add(conn, "sort", json_object_new_string(pg_sort_name(s.sort)));
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
    json_object_object_add(done, "total", json_object_new_int64((int64_t)s.total));
    json_object_object_add(done, "totalExact", json_object_new_boolean(s.total_exact));
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
                           json_object_new_string(!s.vec_code ? "used" : !strcmp(s.vec_code, "SKIPPED") ? "skipped"
                                                                                                 : "unavailable"));
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "textMs", json_object_new_int64(s.ms_text));
    json_object_object_add(tm, "vectorMs", json_object_new_int64(s.ms_vector));
    json_object_object_add(tm, "filtersMs", json_object_new_int64(s.ms_filters));
    json_object_object_add(tm, "widenMs", json_object_new_int64(s.ms_widen));
    json_object_object_add(tm, "rankingMs", json_object_new_int64(s.ms_ranking));
    json_object_object_add(done, "timings", tm);

    json_object *lx = json_object_new_object();
    json_object_object_add(lx, "query", json_object_new_string(s.q));
    json_object_object_add(lx, "filters", qp_filters_json(&s.f));
    json_object_object_add(lx, "total", json_object_new_int64((int64_t)s.total));
    json_object_object_add(lx, "counts", ps_counts(&s));
    json_object_object_add(lx, "textMode", json_object_new_string(s.text_mode ? s.text_mode : ""));
    if (s.browse.plan) json_object_object_add(lx, "textPlan", json_object_new_string(s.browse.plan));
    json_object_object_add(lx, "vectorSearch", json_object_new_string(s.vec_code ? s.vec_code : "used"));
    json_object_object_add(lx, "durationMs", json_object_new_int64(dur));
    LOG_INFO(s.route, s.rid, lx, "Product search complete");
    json_object_put(lx);
    return sink_emit(c->sink, "complete", done);
}
