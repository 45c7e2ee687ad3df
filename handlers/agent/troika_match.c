/* troika_match.c: product matching for the sales agent: the product-search
 * pipeline (handlers/search/product_search.h) run with the intent's filters.
 *
 * Before the pipeline runs, cheap COUNT queries over the same filter clause
 * (common/store/catalog cat_count) find the first rung of the relaxation
 * ladder that matches anything: as asked; the budget ceiling raised by
 * troika_budget_relax_pct; an exact shade widened to its colour family;
 * the size dropped (each rung keeps the ones before). Each relaxation is
 * announced in a `progress` event, and the pipeline then runs once, with
 * its own text / semantic / final `results` events. The text side lists
 * the filtered catalog by popularity (no required words, so nothing the
 * filters allow is lost to FULLTEXT), the vector side ranks by the meaning
 * of what the shopper asked for. Memory: the request arena. */
#include "handlers/agent/troika.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/store/catalog.h"
#include "common/base/config.h"
#include "common/text/inr.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "handlers/search/product_search.h"

/* The filters of one rung (written into the filter table's fields). */
static void tk_filters(const struct it_entities *e, int shade_exact, struct qp_filters *f)
{
    qp_filters_init(f);
    qp_filter_put(f, QPF_CATEGORY, e->category, NULL);
    qp_filter_put(f, QPF_SIZE, e->size, NULL);
    qp_filter_put(f, QPF_DESIGNER, e->designer, NULL);
    if (e->color[0]) {
        /* an exact shade ("mint") filters on the colour itself; a family
         * name ("green"), or a widened shade, on the family */
        if (shade_exact && e->color_family[0] && strcmp(e->color, e->color_family) != 0)
            qp_filter_put(f, QPF_COLOR, e->color, NULL);
        else
            qp_filter_put(f, QPF_COLOR, "", e->color_family[0] ? e->color_family : e->color);
    }
    /* an occasion narrows only when no garment is named ("what to wear to a haldi") */
    if (!e->category[0]) qp_filter_put(f, QPF_OCCASION, e->occasion, NULL);
    if (e->budget_min > 0) f->min_price = e->budget_min;
    if (e->budget_max > 0) f->max_price = e->budget_max;
    /* what the shopper's words named is preferred, as in product search:
     * the pipeline widens it when too few products meet it all */
    qp_filters_soften(f);
    f->soft |= QPF_BIT(QPF_DESIGNER) & (f->designer[0] ? ~0u : 0u);
}

static int tk_count(struct ctx *c, const struct qp_filters *f, long *n, char *err, size_t errlen)
{
    return cat_count(c->app->store, c->ar, f, n, err, errlen);
}

static int tk_match_fail(struct ctx *c, int rc, const char *err)
{
    int e = hx_db_fail(c, "Sales agent", rc, "product_matching", err);
    return e ? e : -1;
}

/* "Nothing matched red lehenga in size M around ₹40,000; widening the budget
 * by 20% (up to ₹55,200)" */
static int tk_announce(struct ctx *c, const struct it_entities *before, const char *what)
{
    char *desc = NULL;
    tk_describe(c->ar, before, c->app->cfg.currency, 1, &desc);
    char m[512];
    snprintf(m, sizeof(m), "Nothing matched %s; %s", desc ? desc : "the request", what);
    return sink_progress(c->sink, "product_matching", m, 0, -1);
}

static void tk_strv(const char *json, const char **out, size_t cap, size_t *n, arena_t *ar)
{
    *n = 0;
    json_object *a = json ? json_tokener_parse(json) : NULL;
    if (a && json_object_is_type(a, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(a) && *n < cap; i++) {
            json_object *v = json_object_array_get_idx(a, i);
            if (json_object_is_type(v, json_type_string)) out[(*n)++] = ar_strdup(ar, json_object_get_string(v));
        }
    }
    if (a) json_object_put(a);
}

int tk_match_run(struct ctx *c, const struct it_entities *e, const char *text, int limit, struct tk_match *m)
{
    char err[512] = "";
    int rc;
    memset(m, 0, sizeof(*m));
    m->used = *e;
    if (st_connect(c->app->store, err, sizeof(err)) != ST_OK) return tk_match_fail(c, ST_ECONN, err);

    /* find the rung */
    struct it_entities cur = *e;
    int shade_exact = 1;
    struct qp_filters f;
    long n = 0;
    tk_filters(&cur, shade_exact, &f);
    if ((rc = tk_count(c, &f, &n, err, sizeof(err))) != ST_OK) return tk_match_fail(c, rc, err);
    for (int rung = 1; n == 0 && rung <= 3; rung++) {
        struct it_entities before = cur;
        char what[256], v[48];
        if (rung == 1) {
            if (cur.budget_max <= 0) continue;
            cur.budget_max = round(cur.budget_max * (1.0 + c->app->cfg.troika_budget_relax_pct / 100.0));
            cur.budget_around = 0;
            inr_format(v, sizeof(v), cur.budget_max, c->app->cfg.currency);
            snprintf(what, sizeof(what), "widening the budget by %d%% (up to %s)", c->app->cfg.troika_budget_relax_pct,
                     v);
            m->relaxed |= TK_RELAX_BUDGET;
        } else if (rung == 2) {
            if (!cur.color[0] || !cur.color_family[0] || !strcmp(cur.color, cur.color_family)) continue;
            shade_exact = 0;
            snprintf(what, sizeof(what), "looking at every shade of %s, not only %s", cur.color_family, cur.color);
            snprintf(cur.color, sizeof(cur.color), "%s", cur.color_family);
            m->relaxed |= TK_RELAX_COLOR;
        } else {
            if (!cur.size[0]) continue;
            snprintf(what, sizeof(what), "dropping the size %s", cur.size);
            cur.size[0] = '\0';
            m->relaxed |= TK_RELAX_SIZE;
        }
        if ((rc = tk_announce(c, &before, what))) return rc;
        tk_filters(&cur, shade_exact, &f);
        if ((rc = tk_count(c, &f, &n, err, sizeof(err))) != ST_OK) return tk_match_fail(c, rc, err);
    }
    m->used = cur;
    m->total = n;
    if (n == 0 && m->relaxed) {
        rc = sink_progress(c->sink, "product_matching", "Nothing matched even after relaxing the search", 0, -1);
        if (rc) return rc;
    }

    /* the pipeline, once, with the rung's filters */
    /* preferences are given up only when nothing meets them all, and never
     * the garment (the segment): the agent recommends what matches, and
     * something whenever the segment has it */
    struct ps_spec spec = {.q = text, .residual = "", .f = f, .limit = limit, .widen_below = 1,
                           .keep = QPF_BIT(QPF_CATEGORY)};
    struct ps_out out;
    rc = ps_search(c, &spec, &out);
    if (rc == PS_DONE) return -1;   /* an error event was sent */
    if (rc) return rc;
    m->first_results_ms = out.first_results_ms;
    m->total = (long)out.total;
    if (out.relaxed && out.n) {   /* said only when it found something */
        m->prefs_relaxed = out.relaxed;
        m->relaxed |= TK_RELAX_PREFS;
    }
    m->products = ar_calloc(c->ar, out.n ? out.n : 1, sizeof(*m->products));
    if (!m->products) return SINK_EIO;
    for (size_t i = 0; i < out.n; i++) {
        const struct cat_product *r = out.rows[i];
        struct tk_product *p = &m->products[m->n++];
        p->sku = r->sku;
        p->title = r->title;
        p->designer = r->designer ? r->designer : "";
        p->category = r->category;
        p->currency = r->currency;
        p->price = r->price;
        p->in_stock = r->in_stock;
        tk_strv(r->sizes, p->sizes, sizeof(p->sizes) / sizeof(p->sizes[0]), &p->nsizes, c->ar);
        tk_strv(r->colors, p->colors, sizeof(p->colors) / sizeof(p->colors[0]), &p->ncolors, c->ar);
    }
    return 0;
}
