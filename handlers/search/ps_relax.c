/* ps_relax.c: product search with no results: what would widen it; see
 * ps_relax in product_search.h. The groups, their order, their messages
 * and the facet each offers are the filter table's
 * (common/search/filters.c). Counts are over the text side (the vector
 * side adds at most its candidates), capped at search_text_candidates; the
 * price range is exact (cat_text_bounds when capped). Only with a filter
 * set: a search of words alone that finds nothing has nothing to drop.
 * Memory: the request arena. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/qparse.h"
#include "common/store/catalog.h"
#include "common/text/inr.h"
#include "fcgi/app.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "handlers/search/product_search.h"

/* What one search without a group found. */
struct rx_found {
    struct cat_product *rows;
    size_t n;
    long total;
    int capped;
    double pmin, pmax;
};

/* A database failure: error event, ERROR log. */
static int rx_db_fail(struct ctx *c, int rc, const char *err)
{
    int e = hx_db_fail(c, "Product search", rc, "ranking", err);
    return e ? e : PS_DONE;
}

/* 1 when f (a group dropped) and the words would list the whole catalog:
 * no hint in that. */
static int rx_whole_catalog(const struct qp_filters *f, const char *residual)
{
    return !qp_filters_any(f) && !residual[0];
}

/* The text search under f, its count, and the price range (exact over
 * every match when dropping the price and capped). ST_OK or ST_E*. */
static int rx_search(struct ctx *c, const struct qp_filters *f, enum qp_group g, const char *residual, int cap,
                     struct rx_found *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    int any = 1, rc = ST_OK;
    /* words with filters no product passes: no need to search them */
    if (residual[0]) rc = cat_filters_pass_any(c->app->store, c->ar, f, &any, err, errlen);
    if (rc != ST_OK || !any) return rc;
    struct cat_text_info ti;
    rc = cat_text_search(c->app->store, c->ar, residual, f, cap, &r->rows, &r->n, &ti, err, errlen);
    if (rc != ST_OK || !r->n) return rc;
    r->total = (long)r->n;
    r->capped = r->n >= (size_t)cap;
    r->pmin = r->pmax = r->rows[0].price;
    for (size_t i = 1; i < r->n; i++) {
        if (r->rows[i].price < r->pmin) r->pmin = r->rows[i].price;
        if (r->rows[i].price > r->pmax) r->pmax = r->rows[i].price;
    }
    if (g != QPG_PRICE || !r->capped) return ST_OK;
    rc = cat_text_bounds(c->app->store, c->ar, &ti, f, &r->total, &r->pmin, &r->pmax, err, errlen);
    r->capped = 0;
    return rc;
}

/* A price as the cards give one: whole rupees as an integer. */
static json_object *rx_amount(double v)
{
    return v == (double)(long long)v ? json_object_new_int64((long long)v) : json_object_new_double(v);
}

/* "pink, gold and ivory": the first few values of a facet array. */
static void rx_facet_list(json_object *facet, char *out, size_t cap)
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

/* The relaxation: {drop, query, filters, total, capped, [values], message};
 * msg gets the message. New object, NULL when out of memory (ar: the
 * request's). */
static json_object *rx_entry(arena_t *ar, const struct qp_filters *asked, const struct qp_filters *kept, enum qp_group g,
                             const char *q, const struct rx_found *r, char *msg, size_t mcap)
{
    const struct qp_group_def *gd = &qp_group_defs[g];
    char count[32];
    snprintf(count, sizeof(count), "%ld%s match%s", r->total, r->capped ? "+" : "",
             r->total == 1 && !r->capped ? "" : "es");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "drop", json_object_new_string(gd->name));
    json_object_object_add(o, "query", json_object_new_string(q));
    json_object_object_add(o, "filters", qp_filters_json(kept));
    json_object_object_add(o, "total", json_object_new_int64(r->total));
    json_object_object_add(o, "capped", json_object_new_boolean(r->capped));
    snprintf(msg, mcap, "%s %s", count, qp_group_what(asked, g));
    if (g == QPG_PRICE) {
        char lo[48], hi[48];
        inr_format(lo, sizeof(lo), r->pmin, NULL);
        inr_format(hi, sizeof(hi), r->pmax, NULL);
        snprintf(msg, mcap, "%s %s, from %s to %s", count, gd->what, lo, hi);
        json_object *pr = json_object_new_object();
        json_object_object_add(pr, "min", rx_amount(r->pmin));
        json_object_object_add(pr, "max", rx_amount(r->pmax));
        json_object_object_add(o, "values", pr);
    } else if (gd->facet) {
        const struct cat_product **ptrs = ar_alloc(ar, r->n * sizeof(*ptrs));
        if (!ptrs) {
            json_object_put(o);
            return NULL;
        }
        for (size_t i = 0; i < r->n; i++) ptrs[i] = &r->rows[i];
        json_object *facets = cat_facets((const struct cat_product *const *)ptrs, r->n);
        json_object *facet = json_object_object_get(facets, gd->facet);
        char vals[200];
        rx_facet_list(facet, vals, sizeof(vals));
        snprintf(msg, mcap, "%s %s%s%s%s", count, gd->what, vals[0] ? " (" : "", vals, vals[0] ? ")" : "");
        json_object_object_add(o, "values", json_object_get(facet));
        json_object_put(facets);
    }
    json_object_object_add(o, "message", json_object_new_string(msg));
    return o;
}

int ps_relax(struct ctx *c, const struct qp_filters *f, const char *residual, json_object **list,
             json_object **queries)
{
    int cap = c->app->cfg.search_text_candidates;
    int ngroups = 0;
    *list = *queries = NULL;
    for (int g = 0; g < QPG_N; g++) ngroups += qp_group_is_set(f, (enum qp_group)g);
    if (!ngroups) return 0;
    int rc = sink_progressf(c->sink, NULL, NULL, "ranking", -1, 90,
                            "Nothing matches every filter: searching again without each of %d", ngroups);
    if (rc) return rc;
    json_object *l = json_object_new_array(), *qs = json_object_new_array();
    for (int g = 0; g < QPG_N && !rc; g++) {
        struct qp_filters kept = *f;
        if (!qp_group_clear(&kept, (enum qp_group)g) || rx_whole_catalog(&kept, residual)) continue;
        if ((rc = sink_check(c->sink)) != 0) break;
        char err[512] = "";
        struct rx_found r;
        int drc = rx_search(c, &kept, (enum qp_group)g, residual, cap, &r, err, sizeof(err));
        if (drc != ST_OK) {
            rc = rx_db_fail(c, drc, err);
            break;
        }
        if (!r.n) continue;
        char q[600], msg[400];
        if (qp_render(&kept, residual, q, sizeof(q)) < 0) q[0] = '\0';
        json_object *o = rx_entry(c->ar, f, &kept, (enum qp_group)g, q, &r, msg, sizeof(msg));
        if (!o) {
            rc = SINK_EIO;
            break;
        }
        json_object_array_add(l, o);
        if (q[0]) json_object_array_add(qs, json_object_new_string(q));
        rc = sink_progressf(c->sink, NULL, NULL, "ranking", (long)r.total, 95, "%s: \"%s\"", msg, q);
    }
    if (rc) {
        json_object_put(l);
        json_object_put(qs);
        return rc;
    }
    *list = l;
    *queries = qs;
    return 0;
}
