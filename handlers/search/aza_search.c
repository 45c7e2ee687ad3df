/* aza_search.c: POST /aza/search/stream and its normal twin POST /aza/search:
 * semantic-first product search with cosine scores and a full-text fallback
 * (SPEC 1, 1.1, 2.1; docs/search.md "Aza semantic search").
 *
 * Steps, each announced by `progress` when it starts and ends:
 *   embedding             the query through the product index's embedder
 *   semantic_search       nearest products in the FAISS index, kept when the
 *                         cosine reaches minScore, then the filters in SQL on
 *                         those candidates (over-fetching k until enough
 *                         pass or no more can)              -> results stage semantic
 *   text_search_fallback  when fewer than `limit` passed, or the index is
 *                         unavailable: FULLTEXT matches (same filters) fill
 *                         the rest, marked source "text"
 *   scoring               the final list, facets            -> results stage final
 * `sort` (docs/search.md "Sort, paging and totals") orders the final list:
 * relevance (cosine, then text matches) or an attribute, ties by sku; with
 * an attribute sort every candidate at minScore is read (up to
 * aza_max_candidates), not only enough to fill the page.
 * Catalog reads, cards and the filter clause are common/store/catalog's; the
 * index and embedder are index/pidx's. Memory: the request arena. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/store/catalog.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "common/base/u8.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/body.h"
#include "handlers/handlers.h"
#include "handlers/search/ps_page.h"
#include "handlers/search/ps_query.h"
#include "handlers/search/ps_widen.h"
#include "index/embed.h"
#include "index/pidx.h"
#include "index/vidx.h"

enum { AZ_QUERY_MAX = 256, AZ_DONE = 1, AZ_GROWTH = 4, AZ_LIMIT_MAX = 50 };

/* Why the text fallback ran when the index answered: too few semantic hits. */
#define AZ_FEW "TOO_FEW_SEMANTIC_RESULTS"

struct az_hit {
    struct cat_product *row;
    double score;          /* reported: [0, 1], 4 decimals */
    int vec_rank;          /* 1-based among the semantic results, 0 for text */
    int text_rank;         /* 1-based among the text matches, 0 for semantic */
};

struct az {
    struct ctx *c;
    const struct cfg *cfg;
    const char *route, *rid;
    const char *query;
    long limit;
    int sort;                   /* enum pg_sort */
    double min_score;
    struct pq_query pq;         /* what the query means: corrections, unmatched words */
    struct qp_result parsed;    /* what the query said */
    struct qp_filters f;        /* effective: `filters` override the query */

    const char *sem_code;       /* why there is no semantic side (INDEX_UNAVAILABLE, UPSTREAM_*) */
    char sem_msg[768];
    struct embedder *emb;
    struct vidx *vx;
    float *qv;

    struct az_hit *sem;         /* semantic results, best first */
    size_t nsem;
    int64_t *done;              /* candidate ids already read from the database, sorted */
    size_t ndone;
    struct cat_product **pass;  /* those of them that pass the filters, sorted by id */
    size_t npass;
    int examined;               /* index candidates looked at (the last k) */
    int64_t *cand;              /* the last round's candidates at or above minScore, nearest first */
    float *cand_sc;
    size_t ncand;
    int sem_capped;             /* more candidates above minScore may exist */

    int text_ran;
    const char *text_mode;
    struct az_hit *text;        /* text matches not among the semantic results, best first */
    size_t ntext;
    size_t text_found;          /* text matches before removing semantic ones */

    /* preferences given up to fill the page (ps_widen.h): each step's new
     * products, semantic ones nearest first, then text matches */
    unsigned prefs, relaxed;
    struct qp_filters fw;       /* the filters of the last level */
    struct az_hit *wide;
    unsigned char *wide_level;
    size_t nwide;
    struct pw_level lv[PW_LEVELS];   /* only .dropped: what each level gave up */
    int nlv;

    size_t shown_sem, shown_text, shown_wide;
    int64_t ms_embed, ms_semantic, ms_text, ms_scoring;
};

/* ---- the body --------------------------------------------------------------------- */

static void az_put(void *p)
{
    json_object_put(p);
}

/* `filters`: every key must be a known filter (a misspelt one would
 * silently widen the search), each of its type. The values are looked up
 * under "filters.<name>" so that a 400 names the field by its full path.
 * 0, or -1 after rejecting. */
static int az_filters(struct az *s, json_object *fo)
{
    struct ctx *c = s->c;
    json_object *scoped = json_object_new_object();
    if (!scoped || ar_defer(c->ar, az_put, scoped) < 0) {
        if (scoped) json_object_put(scoped);
        return hx_bad_field(c, "filters", "out of memory");
    }
    json_object_object_foreach(fo, key, val) {
        size_t i = 0;
        while (i < QPF_N && strcmp(qp_filter_defs[i].name, key) != 0) i++;
        char *full = ar_printf(c->ar, "filters.%.64s", key);
        if (!full) return hx_bad_field(c, "filters", "out of memory");
        if (i == QPF_N) {
            char m[256], names[160] = "";
            size_t o = 0;
            for (int id = 0; id < QPF_N && o < sizeof(names); id++)
                o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", id == 0 ? "" : id + 1 == QPF_N ? " or " : ", ",
                                      qp_filter_defs[id].name);
            snprintf(m, sizeof(m), "%s is not a filter; use %s", full, names);
            return hx_bad_field(c, full, m);
        }
        json_object_object_add(scoped, full, json_object_get(val));
    }
    struct qp_given given;
    qp_given_init(&given);
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        char full[48];
        snprintf(full, sizeof(full), "filters.%s", d->name);
        int rc = 0;
        if (d->kind == QPF_TEXT || d->kind == QPF_COLOUR) {
            const char *v = NULL;
            rc = hx_field_str(c, scoped, full, 0, d->cap - 1, 1, &v);
            qp_given_set_text(&given, d->id, v);
        } else if (d->kind == QPF_BOOL) {
            rc = hx_field_bool(c, scoped, full, -1, &given.in_stock);
        } else {
            double v = -1;
            rc = hx_field_num(c, scoped, full, -1, 0, 1e10, &v);
            qp_given_set_num(&given, d->id, v);
        }
        if (rc < 0) return -1;
    }
    if (given.min_price >= 0 && given.max_price >= 0 && given.min_price > given.max_price)
        return hx_bad_field(c, "filters.minPrice", "filters.minPrice must not be greater than filters.maxPrice");
    qp_filters_override(&s->f, &given);
    return 0;
}

/* Validates the body (400 naming the field) and sets the search up. 0, or
 * -1 after rejecting. */
static int az_params(struct az *s)
{
    struct ctx *c = s->c;
    json_object *body, *filters;
    const char *q;
    if (hx_json_body(c, &body) < 0) return -1;
    if (hx_field_str(c, body, "query", 1, (size_t)-1, 1, &q) < 0) return -1;
    if (u8_chars(q, strlen(q)) > AZ_QUERY_MAX) {
        char m[96];
        snprintf(m, sizeof(m), "query must be at most %d characters", AZ_QUERY_MAX);
        return hx_bad_field(c, "query", m);
    }
    s->query = q;
    if (hx_field_int(c, body, "limit", 8, 1, 50, &s->limit) < 0) return -1;
    if (hx_field_num(c, body, "minScore", s->cfg->aza_min_score, 0, 1, &s->min_score) < 0) return -1;
    const char *sort = NULL;
    if (hx_field_str(c, body, "sort", 0, 16, 1, &sort) < 0) return -1;
    s->sort = PG_RELEVANCE;
    if (sort && (s->sort = pg_sort_parse(sort)) < 0) return hx_bad_field(c, "sort", PG_SORT_ERROR);
    if (hx_field_obj(c, body, "filters", &filters) < 0) return -1;
    /* a designer named in filters wins over one named in the query */
    json_object *given = NULL;
    const char *designer = filters && json_object_object_get_ex(filters, "designer", &given) &&
                                   json_object_is_type(given, json_type_string)
                               ? json_object_get_string(given)
                               : NULL;
    pq_understand(c, s->query, designer, &s->pq);
    s->parsed = s->pq.r;
    s->f = s->parsed.f;
    return filters ? az_filters(s, filters) : 0;
}

/* ---- events ----------------------------------------------------------------------- */

static json_object *az_code(const char *code)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(code));
    return o;
}

/* A database failure after the stream opened: error event, ERROR log. */
static int az_db_fail(struct az *s, int rc, const char *what, const char *err)
{
    int e = hx_db_fail(s->c, "Aza search", rc, what, err);
    return e ? e : AZ_DONE;
}

/* A cosine as reported: clamped to [0, 1] (NaN to 0), 4 decimals. */
static double az_score(double v)
{
    if (!(v > 0)) return 0;
    if (v > 1) v = 1;
    return round(v * 1e4) / 1e4;
}

static json_object *az_card(const struct az_hit *h)
{
    json_object *o = cat_card(h->row, h->score, h->text_rank, h->vec_rank);
    char b[16];
    snprintf(b, sizeof(b), "%.4f", h->score);
    json_object_object_add(o, "score", json_object_new_double_s(h->score, b));
    json_object_object_add(o, "source", json_object_new_string(h->vec_rank ? "semantic" : "text"));
    return o;
}

static json_object *az_min_json(double v)
{
    char b[32];
    snprintf(b, sizeof(b), "%.4g", v);
    return json_object_new_double_s(v, b);
}

/* ---- steps ------------------------------------------------------------------------ */

static int az_embedding(struct az *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    int rc = sink_progressf(s->c->sink, NULL, NULL, "embedding", -1, 0, "Embedding the query");
    if (rc) return rc;
    char eerr[512] = "";
    s->emb = hx_embedder(c, eerr, sizeof(eerr));
    enum pidx_state st = pidx_get(&c->app->pidx, s->cfg, s->emb, &s->vx, s->sem_msg, sizeof(s->sem_msg));
    if (st == PIDX_NO_EMBEDDER && eerr[0]) {
        size_t l = strlen(s->sem_msg);
        snprintf(s->sem_msg + l, sizeof(s->sem_msg) - l, ": %s", eerr);
    }
    if (st != PIDX_READY) {
        s->sem_code = "INDEX_UNAVAILABLE";
        if (st == PIDX_ABSENT) LOG_INFO(s->route, s->rid, NULL, "Product index unavailable: %s", s->sem_msg);
        else LOG_ERROR(s->route, s->rid, NULL, "Product index unavailable: %s", s->sem_msg);
        s->ms_embed = clk_mono_ms() - t0;
        return sink_progressf(s->c->sink, az_code(s->sem_code), NULL, "embedding", 0, 25,
                           "Skipped: the product index is unavailable (%s)", s->sem_msg);
    }
    struct embedder *e = s->emb;
    s->qv = ar_alloc(c->ar, (size_t)e->dim * sizeof(float));
    if (!s->qv) return SINK_EIO;
    char err[512] = "";
    int timeout = 0;
    const char *texts[1] = {s->pq.text ? s->pq.text : s->query};
    e->cancel = sink_cancelled;
    e->cancel_arg = c->sink;
    rc = e->embed(e, texts, 1, s->qv, &timeout, err, sizeof(err));
    e->cancel = NULL;
    e->cancel_arg = NULL;
    s->ms_embed = clk_mono_ms() - t0;
    if (rc < 0) {
        if ((rc = sink_check(c->sink)) != 0) return rc;
        s->sem_code = timeout ? "UPSTREAM_TIMEOUT" : "UPSTREAM_ERROR";
        snprintf(s->sem_msg, sizeof(s->sem_msg), "embedding the query failed: %s", err);
        LOG_ERROR(s->route, s->rid, NULL, "Semantic search skipped: %s", s->sem_msg);
        return sink_progressf(s->c->sink, az_code(s->sem_code), NULL, "embedding", 0, 25, "Embedding failed (%s)", err);
    }
    return sink_progressf(s->c->sink, NULL, NULL, "embedding", e->dim, 25,
                          "Query embedded with %s (%d dimensions)", e->name,
                       e->dim);
}

static int az_results(struct az *s, const char *stage, json_object *products, long total, json_object *extra)
{
    json_object *o = extra ? extra : json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("product_cards"));
    json_object_object_add(o, "stage", json_object_new_string(stage));
    json_object_object_add(o, "products", products);
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "limit", json_object_new_int64(s->limit));
    json_object_object_add(o, "minScore", az_min_json(s->min_score));
    return sink_emit(s->c->sink, "results", o);
}

static int az_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads the candidates among ids[0..m) not read in an earlier round,
 * with the filters in SQL (cat_fetch: CAT_FETCH_CHUNK a statement); those that pass join
 * s->pass. ST_OK or ST_E*. */
static int az_fetch_new(struct az *s, const int64_t *ids, size_t m, char *err, size_t errlen)
{
    struct ctx *c = s->c;
    int64_t *unseen = ar_alloc(c->ar, (m ? m : 1) * sizeof(*unseen));
    if (!unseen) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    size_t nt = 0;
    for (size_t i = 0; i < m; i++)
        if (!s->ndone || !bsearch(&ids[i], s->done, s->ndone, sizeof(*s->done), az_id_cmp)) unseen[nt++] = ids[i];
    if (!nt) return ST_OK;
    struct cat_product *rows;
    size_t nrows;
    int rc = cat_fetch(c->app->store, c->ar, unseen, nt, &s->f, &rows, &nrows, err, errlen);
    if (rc != ST_OK) return rc;
    for (size_t j = 0; j < nrows; j++) s->pass[s->npass++] = &rows[j];
    memcpy(s->done + s->ndone, unseen, nt * sizeof(*unseen));
    s->ndone += nt;
    qsort(s->done, s->ndone, sizeof(*s->done), az_id_cmp);
    qsort(s->pass, s->npass, sizeof(*s->pass), cat_row_id_cmp);
    return ST_OK;
}

/* One round: the k nearest, those at or above minScore, then the filters
 * (on the candidates not read before). Fills s->sem (best first). *below
 * is set when a candidate under minScore was seen, or the index had fewer
 * than k (so a larger k cannot add any). ST_OK, ST_E*, or 1 when the index
 * search itself failed. */
static int az_round(struct az *s, int k, int64_t *ids, float *sc, int *below, char *err, size_t errlen)
{
    int nout = 0;
    int64_t t0 = clk_mono_ms();
    if (vidx_search(s->vx, s->qv, k, s->cfg->search_nprobe, ids, sc, &nout) < 0) return 1;
    int64_t t1 = clk_mono_ms();
    s->examined = nout;
    *below = nout < k;
    size_t m = 0;
    for (int i = 0; i < nout; i++) {
        if (ids[i] < 0) continue;
        double v = az_score(sc[i]);
        if (v < s->min_score) {
            *below = 1;
            break;   /* nearest first: the rest score no higher */
        }
        ids[m] = ids[i];
        sc[m] = (float)v;
        m++;
    }
    s->cand = ids;
    s->cand_sc = sc;
    s->ncand = m;
    size_t before = s->ndone;
    int rc = az_fetch_new(s, ids, m, err, errlen);
    if (rc != ST_OK) return rc;
    s->nsem = 0;
    for (size_t i = 0; i < m; i++) {
        struct cat_product key = {.id = ids[i]}, *kp = &key;
        struct cat_product **hit = s->npass ? bsearch(&kp, s->pass, s->npass, sizeof(*s->pass), cat_row_id_cmp) : NULL;
        if (!hit) continue;
        s->sem[s->nsem] = (struct az_hit){.row = *hit, .score = sc[i], .vec_rank = (int)s->nsem + 1};
        s->nsem++;
    }
    LOG_DEBUG(s->route, s->rid, NULL, "semantic round: k %d, %d found, %zu at minScore (%zu read now), %zu pass "
              "the filters; index %lld ms, SQL %lld ms", k, nout, m, s->ndone - before, s->nsem,
              (long long)(t1 - t0), (long long)(clk_mono_ms() - t1));
    return ST_OK;
}

/* The names of the filters in mask: in the table's order, or (ordered) in
 * the order widening gives them up. New array. */
static json_object *az_names(unsigned mask, int ordered)
{
    json_object *a = json_object_new_array();
    if (ordered) {
        for (const struct qp_widen_step *w = qp_widen_steps; w->how != QPW_END; w++)
            if (w->how == QPW_DROP && (mask & QPF_BIT(w->id)))
                json_object_array_add(a, json_object_new_string(qp_filter_defs[w->id].name));
        return a;
    }
    for (int id = 0; id < QPF_N; id++)
        if (mask & QPF_BIT(id)) json_object_array_add(a, json_object_new_string(qp_filter_defs[id].name));
    return a;
}

static int az_semantic(struct az *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    const struct cfg *cfg = s->cfg;
    int rc = sink_progressf(s->c->sink, NULL, NULL, "semantic_search", -1, 25,
                            "Searching the product index by meaning");
    if (rc) return rc;
    if (s->sem_code) {
        s->ms_semantic = clk_mono_ms() - t0;
        rc = sink_progressf(s->c->sink, az_code(s->sem_code), NULL, "semantic_search", 0, 50,
                            "No semantic search: %s", s->sem_msg);
        return rc ? rc : az_results(s, "semantic", json_object_new_array(), 0, NULL);
    }
    /* Over-fetch: start at max(aza_candidates, 4 * limit); while fewer than
     * limit pass the filters (or, sorted by an attribute, at all) and every
     * candidate so far reached minScore, search again with AZ_GROWTH times
     * as many, up to aza_max_candidates. */
    long count = vidx_meta(s->vx)->count;
    int cap = cfg->aza_max_candidates < count ? cfg->aza_max_candidates : (int)(count > 0 ? count : 1);
    int k = cfg->aza_candidates > 4 * s->limit ? cfg->aza_candidates : (int)(4 * s->limit);
    if (k > cap) k = cap;
    int64_t *ids = ar_alloc(c->ar, (size_t)cap * sizeof(*ids));
    float *sc = ar_alloc(c->ar, (size_t)cap * sizeof(*sc));
    s->sem = ar_alloc(c->ar, (size_t)cap * sizeof(*s->sem));
    /* Ties at a round's boundary may bring ids a smaller k did not: room
     * for every round's k (k grows 4-fold, so less than 2 * cap). */
    s->done = ar_alloc(c->ar, 2 * (size_t)cap * sizeof(*s->done));
    s->pass = ar_alloc(c->ar, 2 * (size_t)cap * sizeof(*s->pass));
    if (!ids || !sc || !s->sem || !s->done || !s->pass) return SINK_EIO;
    int rounds = 0, below = 0;
    char err[512] = "";
    for (;;) {
        rounds++;
        rc = az_round(s, k, ids, sc, &below, err, sizeof(err));
        if (rc == 1) {
            s->sem_code = "INDEX_UNAVAILABLE";
            snprintf(s->sem_msg, sizeof(s->sem_msg), "the index search failed");
            LOG_ERROR(s->route, s->rid, NULL, "Vector search failed (k = %d)", k);
            s->nsem = 0;
            s->ms_semantic = clk_mono_ms() - t0;
            rc = sink_progressf(s->c->sink, az_code(s->sem_code), NULL, "semantic_search", 0, 50,
                             "The index search failed; answering from text search");
            return rc ? rc : az_results(s, "semantic", json_object_new_array(), 0, NULL);
        }
        if (rc != ST_OK) return az_db_fail(s, rc, "semantic_search", err);
        /* an attribute sort orders every candidate, not the nearest few */
        if (((size_t)s->limit <= s->nsem && s->sort == PG_RELEVANCE) || below || k >= cap) break;
        k = k * AZ_GROWTH < cap ? k * AZ_GROWTH : cap;
    }
    s->sem_capped = !below;
    s->ms_semantic = clk_mono_ms() - t0;
    json_object *x = json_object_new_object();
    json_object_object_add(x, "candidates", json_object_new_int(s->examined));
    json_object_object_add(x, "rounds", json_object_new_int(rounds));
    rc = sink_progressf(s->c->sink, x, NULL, "semantic_search", (long)s->nsem, 50,
                     "%zu product%s at cosine >= %.4g pass the filters (%d nearest examined, %s)", s->nsem,
                     s->nsem == 1 ? "" : "s", s->min_score, s->examined, vidx_meta(s->vx)->kind);
    if (rc) return rc;
    /* the strict search: every result meets every preference */
    unsigned prefs = qp_filters_prefs(&s->f);
    json_object *cards = json_object_new_array();
    for (size_t i = 0; i < s->nsem && i < (size_t)s->limit; i++) {
        json_object *card = az_card(&s->sem[i]);
        if (prefs) json_object_object_add(card, "matched", az_names(prefs, 0));
        json_object_array_add(cards, card);
    }
    return az_results(s, "semantic", cards, (long)s->nsem, NULL);
}

static int az_text(struct az *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    int rc;
    if (!s->sem_code && s->nsem >= (size_t)s->limit) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "skipped", json_object_new_boolean(1));
        return sink_progressf(s->c->sink, x, NULL, "text_search_fallback", 0, 75,
                           "Not needed: %zu semantic results reached minScore %.4g", s->nsem, s->min_score);
    }
    s->text_ran = 1;
    json_object *x = json_object_new_object();
    const char *reason = s->sem_code ? s->sem_code : AZ_FEW;
    json_object_object_add(x, "reason", json_object_new_string(reason));
    if (s->sem_code) json_object_object_add(x, "code", json_object_new_string(s->sem_code));
    if (s->sem_code)
        rc = sink_progressf(s->c->sink, x, NULL, "text_search_fallback", -1, 50,
                            "%s: %s; answering from full-text search",
                         s->sem_code, s->sem_msg);
    else
        rc = sink_progressf(s->c->sink, x, NULL, "text_search_fallback", -1, 50,
                            "Only %zu semantic result%s reached minScore %.4g "
                         "(limit %ld); filling the rest from full-text search", s->nsem, s->nsem == 1 ? "" : "s",
                         s->min_score, s->limit);
    if (rc) return rc;

    char err[512] = "";
    struct cat_product *rows;
    size_t n;
    struct cat_text_info ti;
    rc = cat_text_search(c->app->store, c->ar, s->parsed.residual, &s->f, s->cfg->search_text_candidates, &rows, &n,
                         &ti, err, sizeof(err));
    if (rc != ST_OK) return az_db_fail(s, rc, "text_search_fallback", err);
    s->text_mode = ti.mode;
    s->text_found = n;

    /* Leave out what semantic search already has; score the rest below
     * minScore (see az_text_score). */
    int64_t *seen = ar_alloc(c->ar, (s->nsem ? s->nsem : 1) * sizeof(*seen));
    s->text = ar_alloc(c->ar, (n ? n : 1) * sizeof(*s->text));
    if (!seen || !s->text) return SINK_EIO;
    for (size_t i = 0; i < s->nsem; i++) seen[i] = s->sem[i].row->id;
    qsort(seen, s->nsem, sizeof(*seen), az_id_cmp);
    double best = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].relevance > best) best = rows[i].relevance;
    for (size_t i = 0; i < n; i++) {
        if (s->nsem && bsearch(&rows[i].id, seen, s->nsem, sizeof(*seen), az_id_cmp)) continue;
        /* How good a text match it is, 0..1: relevance over the best one, or
         * by rank when the text side carries no relevance (browse). */
        double t = best > 0 ? rows[i].relevance / best : 1.0 - (double)i / (double)n;
        double v = az_score(s->min_score * t);
        s->text[s->ntext] = (struct az_hit){.row = &rows[i], .score = v, .text_rank = (int)i + 1};
        s->ntext++;
    }
    s->ms_text = clk_mono_ms() - t0;
    json_object *y = json_object_new_object();
    json_object_object_add(y, "reason", json_object_new_string(reason));
    json_object_object_add(y, "textMode", json_object_new_string(s->text_mode));
    if (ti.browse.plan) json_object_object_add(y, "textPlan", json_object_new_string(ti.browse.plan));
    return sink_progressf(s->c->sink, y, NULL, "text_search_fallback", (long)s->ntext, 75,
                       "%zu text match%s (%s), %zu not already found by meaning", n, n == 1 ? "" : "es",
                       s->text_mode, s->ntext);
}

/* The query is about a word no product has ("leather wallet",
 * pq_understand): each search step says it is skipped; scoring then
 * lists nothing. */
static int az_nothing(struct az *s)
{
    static const char *const steps[] = {"embedding", "semantic_search", "text_search_fallback"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "skipped", json_object_new_boolean(1));
        int rc = sink_progressf(s->c->sink, x, NULL, steps[i], 0, (int)(25 * i),
                                "Skipped: the catalog has no %s", s->pq.unmatched[0]);
        if (rc) return rc;
    }
    return az_results(s, "semantic", json_object_new_array(), 0, NULL);
}

/* ---- preferences: widen to fill the page -------------------------------------------- */

/* 1 when product id is already among the results (semantic, text, widened). */
static int az_found(const struct az *s, int64_t id)
{
    for (size_t i = 0; i < s->nsem; i++)
        if (s->sem[i].row->id == id) return 1;
    for (size_t i = 0; i < s->ntext; i++)
        if (s->text[i].row->id == id) return 1;
    for (size_t i = 0; i < s->nwide; i++)
        if (s->wide[i].row->id == id) return 1;
    return 0;
}

/* The products of one widening level not found before: the semantic
 * candidates that pass fw, nearest first, then the text matches. */
/* The lowest score listed so far: a widened result scores no higher, so
 * scores never increase down the list (semantic, text, widened). */
static double az_floor(const struct az *s)
{
    double low = 1.0;
    for (size_t i = 0; i < s->nsem; i++)
        if (s->sem[i].score < low) low = s->sem[i].score;
    for (size_t i = 0; i < s->ntext; i++)
        if (s->text[i].score < low) low = s->text[i].score;
    for (size_t i = 0; i < s->nwide; i++)
        if (s->wide[i].score < low) low = s->wide[i].score;
    return low;
}

static int az_widen_level(struct az *s, int level, char *err, size_t errlen)
{
    struct ctx *c = s->c;
    int rc;
    size_t first = s->nwide;
    if (s->ncand) {
        struct cat_product *rows;
        size_t nrows;
        rc = cat_fetch(c->app->store, c->ar, s->cand, s->ncand, &s->fw, &rows, &nrows, err, errlen);
        if (rc != ST_OK) return rc;
        for (size_t i = 0; i < s->ncand && s->nwide < (size_t)s->limit; i++) {
            struct cat_product *p = cat_find(rows, nrows, s->cand[i]);
            if (!p || az_found(s, p->id)) continue;
            s->wide_level[s->nwide] = (unsigned char)level;
            s->wide[s->nwide++] = (struct az_hit){.row = p, .score = s->cand_sc[i], .vec_rank = (int)i + 1};
        }
    }
    struct cat_product *rows;
    size_t n;
    struct cat_text_info ti;
    rc = cat_text_search(c->app->store, c->ar, s->parsed.residual, &s->fw, s->cfg->search_text_candidates, &rows, &n,
                         &ti, err, errlen);
    if (rc != ST_OK) return rc;
    double best = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].relevance > best) best = rows[i].relevance;
    for (size_t i = 0; i < n && s->nwide < (size_t)s->limit; i++) {
        if (az_found(s, rows[i].id)) continue;
        double t = best > 0 ? rows[i].relevance / best : 1.0 - (double)i / (double)n;
        s->wide_level[s->nwide] = (unsigned char)level;
        s->wide[s->nwide++] = (struct az_hit){.row = &rows[i], .score = az_score(s->min_score * t),
                                              .text_rank = (int)i + 1};
    }
    /* this level's results in their order, no score above what came before */
    double floor = 1.0;
    for (size_t i = 0; i < first; i++) floor = s->wide[i].score < floor ? s->wide[i].score : floor;
    if (!first) floor = az_floor(s);
    for (size_t i = first; i < s->nwide; i++) {
        if (s->wide[i].score > floor) s->wide[i].score = floor;
        floor = s->wide[i].score;
    }
    return ST_OK;
}

/* Fewer results than limit meet every preference: give them up one at a
 * time (qp_widen_steps), as product search does. */
static int az_widen(struct az *s)
{
    struct ctx *c = s->c;
    s->prefs = qp_filters_prefs(&s->f);
    s->lv[0].dropped = 0;
    s->nlv = 1;
    if (!s->prefs || s->nsem + s->ntext >= (size_t)s->limit) return 0;
    s->wide = ar_alloc(c->ar, (size_t)s->limit * sizeof(*s->wide));
    s->wide_level = ar_alloc(c->ar, (size_t)s->limit);
    if (!s->wide || !s->wide_level) return SINK_EIO;
    int64_t t0 = clk_mono_ms();
    int rc = sink_progressf(c->sink, NULL, NULL, "widening", -1, 75,
                            "%zu result%s meet%s every preference (limit %ld): giving preferences up one at a time",
                            s->nsem + s->ntext, s->nsem + s->ntext == 1 ? "" : "s",
                            s->nsem + s->ntext == 1 ? "s" : "", s->limit);
    s->fw = s->f;
    for (const struct qp_widen_step *w = qp_widen_steps;
         !rc && w->how != QPW_END && s->nsem + s->ntext + s->nwide < (size_t)s->limit; w++) {
        /* (the words already rank by meaning here: QPW_WORDS is product search's) */
        if (w->how == QPW_WORDS || !(s->prefs & QPF_BIT(w->id)) || !qp_filter_is_set(&s->fw, w->id)) continue;
        if (w->how == QPW_BROADEN) {
            s->fw.broad |= QPF_BIT(w->id);
            if (!qp_filter_broad(&s->fw, w->id)) continue;
        } else {
            qp_filter_clear(&s->fw, w->id);
            s->relaxed |= QPF_BIT(w->id);
        }
        s->lv[s->nlv].dropped = s->relaxed;
        size_t before = s->nwide;
        char err[512] = "";
        int drc = az_widen_level(s, s->nlv, err, sizeof(err));
        if (drc != ST_OK) return az_db_fail(s, drc, "widening", err);
        s->nlv++;
        json_object *x = json_object_new_object();
        json_object_object_add(x, w->how == QPW_DROP ? "relaxed" : "broadened",
                               json_object_new_string(qp_filter_defs[w->id].name));
        rc = sink_progressf(c->sink, x, NULL, "widening", (long)(s->nwide - before), 75, "%s: %zu more",
                            w->how == QPW_DROP ? qp_group_what(&s->f, qp_filter_defs[w->id].group)
                                               : "also named in the product's text",
                            s->nwide - before);
    }
    s->ms_text += clk_mono_ms() - t0;
    return rc;
}

/* The first limit of semantic results, text matches and widened ones, in
 * that order, into page (with each one's level). The count. */
static size_t az_page_relevance(struct az *s, const struct az_hit **page, unsigned char *level)
{
    const struct az_hit *hits[3] = {s->sem, s->text, s->wide};
    size_t counts[3] = {s->nsem, s->ntext, s->nwide}, *shown_n[3] = {&s->shown_sem, &s->shown_text, &s->shown_wide};
    size_t k = 0;
    for (int part = 0; part < 3; part++)
        for (size_t i = 0; i < counts[part] && k < (size_t)s->limit; i++, (*shown_n[part])++) {
            page[k] = &hits[part][i];
            level[k] = part == 2 ? s->wide_level[i] : 0;
            k++;
        }
    return k;
}

/* an attribute sort's order: the key (pg_key), then the sku */
static int az_sort_cmp(const void *a, const void *b)
{
    const struct pg_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->sku, y->sku);
}

/* By an attribute: every result, semantic, text and widened, ordered by
 * the sort's key, ties by sku; the first limit into page. The count, or
 * (size_t)-1 out of memory. */
static size_t az_page_sorted(struct az *s, const struct az_hit **page, unsigned char *level)
{
    size_t total = s->nsem + s->ntext + s->nwide;
    struct pg_item *v = ar_alloc(s->c->ar, (total ? total : 1) * sizeof(*v));
    if (!v) return (size_t)-1;
    for (size_t i = 0; i < total; i++) {
        const struct az_hit *h = i < s->nsem ? &s->sem[i] : i < s->nsem + s->ntext ? &s->text[i - s->nsem]
                                                                                     : &s->wide[i - s->nsem - s->ntext];
        v[i] = (struct pg_item){.key = pg_key(s->sort, h->row->price, h->row->created, h->row->popularity),
                                .skupos = -1, .sku = h->row->sku, .src = i};
    }
    qsort(v, total, sizeof(*v), az_sort_cmp);
    size_t k = 0;
    for (size_t i = 0; i < total && k < (size_t)s->limit; i++, k++) {
        size_t src = v[i].src;
        if (src < s->nsem) {
            page[k] = &s->sem[src];
            level[k] = 0;
            s->shown_sem++;
        } else if (src < s->nsem + s->ntext) {
            page[k] = &s->text[src - s->nsem];
            level[k] = 0;
            s->shown_text++;
        } else {
            page[k] = &s->wide[src - s->nsem - s->ntext];
            level[k] = s->wide_level[src - s->nsem - s->ntext];
            s->shown_wide++;
        }
    }
    return k;
}

static int az_scoring(struct az *s)
{
    struct ctx *c = s->c;
    int64_t t0 = clk_mono_ms();
    int rc = sink_progressf(s->c->sink, NULL, NULL, "scoring", -1, 75,
                            "Ordering by %s", s->sort == PG_RELEVANCE ? "score: semantic results, then text matches"
                                                                      : pg_sort_name(s->sort));
    if (rc) return rc;
    size_t total = s->nsem + s->ntext + s->nwide;
    const struct cat_product **all = ar_alloc(c->ar, (total ? total : 1) * sizeof(*all));
    struct cat_product **shown = ar_alloc(c->ar, (total ? total : 1) * sizeof(*shown));
    unsigned char *level = ar_calloc(c->ar, total ? total : 1, 1);
    unsigned *met = ar_calloc(c->ar, total ? total : 1, sizeof(*met));
    if (!all || !shown || !level || !met) return SINK_EIO;
    for (size_t i = 0; i < s->nsem; i++) all[i] = s->sem[i].row;
    for (size_t i = 0; i < s->ntext; i++) all[s->nsem + i] = s->text[i].row;
    for (size_t i = 0; i < s->nwide; i++) all[s->nsem + s->ntext + i] = s->wide[i].row;
    json_object *facets = cat_facets(all, total);
    /* the list: semantic results, text matches, then what widening found;
     * or, by an attribute, all of them by its key, ties by sku */
    const struct az_hit *page[AZ_LIMIT_MAX];
    size_t k = s->sort == PG_RELEVANCE ? az_page_relevance(s, page, level) : az_page_sorted(s, page, level);
    if (k == (size_t)-1) {
        json_object_put(facets);
        return SINK_EIO;
    }
    for (size_t i = 0; i < k; i++) shown[i] = page[i]->row;
    if (s->prefs && k) {
        char err[512] = "";
        int drc = pw_matched(c, &s->f, s->prefs, s->lv, shown, level, k, met, err, sizeof(err));
        if (drc != ST_OK) {
            json_object_put(facets);
            return az_db_fail(s, drc, "scoring", err);
        }
    }
    json_object *cards = json_object_new_array();
    for (size_t i = 0; i < k; i++) {
        json_object *card = az_card(page[i]);
        if (s->prefs) json_object_object_add(card, "matched", az_names(met[i], 0));
        json_object_array_add(cards, card);
    }
    s->ms_scoring = clk_mono_ms() - t0;
    size_t shown_all = s->shown_sem + s->shown_text + s->shown_wide;
    rc = sink_progressf(s->c->sink, NULL, NULL, "scoring", (long)shown_all, 100,
                     "%zu result%s: %zu semantic, %zu from text, %zu widened", shown_all,
                     shown_all == 1 ? "" : "s", s->shown_sem, s->shown_text, s->shown_wide);
    if (rc) {
        json_object_put(facets);
        json_object_put(cards);
        return rc;
    }
    json_object *x = json_object_new_object();
    json_object_object_add(x, "facets", facets);
    json_object_object_add(x, "semanticCount", json_object_new_int64((int64_t)s->shown_sem));
    json_object_object_add(x, "textCount", json_object_new_int64((int64_t)s->shown_text));
    json_object_object_add(x, "sort", json_object_new_string(pg_sort_name(s->sort)));
    json_object_object_add(x, "capped", json_object_new_boolean(
                               s->sem_capped || (s->text_ran && s->text_found >= (size_t)s->cfg->search_text_candidates)));
    if (s->pq.nfix) json_object_object_add(x, "didYouMean", json_object_new_string(s->pq.text));
    if (s->pq.nunmatched) json_object_object_add(x, "unmatched", pq_unmatched_json(&s->pq));
    if (s->prefs) {
        json_object_object_add(x, "preferences", az_names(s->prefs, 0));
        json_object_object_add(x, "relaxed", az_names(s->relaxed, 1));
    }
    return az_results(s, "final", cards, (long)total, x);
}

/* ---- the route ---------------------------------------------------------------------- */

static json_object *az_counts(const struct az *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "semantic", json_object_new_int64((int64_t)s->nsem));
    json_object_object_add(o, "text", json_object_new_int64((int64_t)s->ntext));
    json_object_object_add(o, "candidates", json_object_new_int(s->examined));
    return o;
}

static void az_log_done(struct az *s, int64_t dur)
{
    json_object *lx = json_object_new_object();
    json_object_object_add(lx, "query", json_object_new_string(s->query));
    json_object_object_add(lx, "filters", qp_filters_json(&s->f));
    json_object_object_add(lx, "total", json_object_new_int64((int64_t)(s->nsem + s->ntext + s->nwide)));
    json_object_object_add(lx, "semanticCount", json_object_new_int64((int64_t)s->shown_sem));
    json_object_object_add(lx, "textCount", json_object_new_int64((int64_t)s->shown_text));
    json_object_object_add(lx, "fallback", s->text_ran ? json_object_new_string(s->sem_code ? s->sem_code : AZ_FEW)
                                                       : NULL);
    json_object_object_add(lx, "durationMs", json_object_new_int64(dur));
    LOG_INFO(s->route, s->rid, lx, "Aza search complete");
    json_object_put(lx);
}

int h_aza_search(struct ctx *c)
{
    struct az s = {.c = c, .cfg = &c->app->cfg, .route = c->route->name, .rid = c->req->id};
    if (az_params(&s) < 0) return 0;

    json_object *filters = qp_filters_json(&s.f);
    json_object *logx = json_object_new_object();
    json_object_object_add(logx, "query", json_object_new_string(s.query));
    json_object_object_add(logx, "filters", json_object_get(filters));
    json_object_object_add(logx, "limit", json_object_new_int64(s.limit));
    json_object_object_add(logx, "minScore", az_min_json(s.min_score));
    LOG_INFO(s.route, s.rid, logx, "Aza search started");
    json_object_put(logx);

    json_object *conn = json_object_new_object();
    json_object_object_add(conn, "query", json_object_new_string(s.query));
    json_object_object_add(conn, "filters", filters);
    json_object_object_add(conn, "parsed", qp_filters_json(&s.parsed.f));
    json_object_object_add(conn, "preferences", az_names(qp_filters_prefs(&s.f), 0));
    if (s.pq.nfix) json_object_object_add(conn, "corrected", pq_corrected_json(&s.pq));
    if (s.pq.nunmatched) json_object_object_add(conn, "unmatched", pq_unmatched_json(&s.pq));
    json_object_object_add(conn, "limit", json_object_new_int64(s.limit));
    json_object_object_add(conn, "minScore", az_min_json(s.min_score));
    json_object_object_add(conn, "sort", json_object_new_string(pg_sort_name(s.sort)));
    int rc = hx_connected(c, conn);
    if (!rc && s.pq.nothing) rc = az_nothing(&s);
    if (!rc && !s.pq.nothing) rc = az_embedding(&s);
    if (!rc && !s.pq.nothing) rc = az_semantic(&s);
    if (!rc && !s.pq.nothing) rc = az_text(&s);
    if (!rc && !s.pq.nothing) rc = az_widen(&s);
    if (!rc) rc = az_scoring(&s);
    if (rc == AZ_DONE) return 0;   /* an error event was sent */
    if (rc) return rc;

    int64_t dur = hx_elapsed(c);
    json_object *done = json_object_new_object();
    json_object_object_add(done, "total", json_object_new_int64((int64_t)(s.nsem + s.ntext + s.nwide)));
    json_object_object_add(done, "duration", json_object_new_int64(dur));
    json_object_object_add(done, "semanticCount", json_object_new_int64((int64_t)s.shown_sem));
    json_object_object_add(done, "textCount", json_object_new_int64((int64_t)s.shown_text));
    json_object_object_add(done, "minScore", az_min_json(s.min_score));
    json_object_object_add(done, "counts", az_counts(&s));
    json_object_object_add(done, "fallback",
                           s.text_ran ? json_object_new_string(s.sem_code ? s.sem_code : AZ_FEW) : NULL);
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "embeddingMs", json_object_new_int64(s.ms_embed));
    json_object_object_add(tm, "semanticMs", json_object_new_int64(s.ms_semantic));
    json_object_object_add(tm, "textMs", json_object_new_int64(s.ms_text));
    json_object_object_add(tm, "scoringMs", json_object_new_int64(s.ms_scoring));
    json_object_object_add(done, "timings", tm);
    az_log_done(&s, dur);
    return sink_emit(c->sink, "complete", done);
}
