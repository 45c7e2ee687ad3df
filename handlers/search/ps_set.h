/* ps_set.h: the whole match set of a product search (docs/search.md
 * "Sort, paging and totals"): every text match (or every product a browse
 * lets through) and the vector candidates that pass the filters. The text
 * list the fusion ranks, its total and facets (exact with the worker's
 * catalog snapshot), and the page an attribute sort shows, chosen without
 * sorting the whole set. Memory: the request arena. */
#ifndef TROIKA_PS_SET_H
#define TROIKA_PS_SET_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct cat_hits;
struct cat_product;
struct cs_snap;
struct json_object;
struct pg_cursor;
struct qp_filters;
struct rk_item;

struct ps_set {
    /* in */
    arena_t *ar;
    const struct cs_snap *snap;            /* or NULL: the candidates alone, not exact */
    const struct qp_filters *f;
    int browse;                            /* the text step browsed (no word for full text) */
    const struct cat_hits *all;            /* text modes: every match, best first */
    struct cat_product *text;              /* the text candidates' rows, best first */
    size_t ntext;
    struct cat_product *const *vrows;      /* vector candidates passing the filters, nearest first */
    size_t nvf;
    size_t cap;                            /* search_result_cap (the text matches fetched) */
    size_t ncand;                          /* search_text_candidates */
    /* out: the text list, best first, to the depth asked (pset_text) */
    int64_t *tid;
    double *trel, *tpop;
    struct cat_product **trow;             /* the candidate's row, or NULL */
    size_t nt;
    size_t tfull;                          /* how long the whole text list is */
    int *vrank;                            /* each vector candidate's place in the whole text list
                                              (1-based; 0: not in it), so that its fused score does
                                              not depend on how deep the list was ranked */
    double *vrel;                          /* its relevance there */
    /* private */
    struct cat_product **byid;             /* the text rows by id */
    int64_t *survivors;                    /* a browse's products, ascending id (exact) */
    size_t nsurv;
};

/* The text list to `depth` (at least the text candidates): the matches a
 * text search brought, the products a browse lets through by popularity
 * (then the newer id: the browse order), else the candidates. 0, or -1
 * on ENOMEM. */
int pset_text(struct ps_set *ps, size_t depth);

/* The match set's total and facets: *total, *exact (every match counted
 * and faceted: the text list complete and every product in the snapshot
 * with its bitmaps), new facets. items[0..n) are the fused products with
 * rows[i] (or NULL): the facets of those that have rows when it cannot be
 * exact (rows is then compacted). */
struct json_object *pset_count(struct ps_set *ps, const struct rk_item *items, struct cat_product **rows, size_t n,
                               long *total, int *exact);

/* One product of a page. */
struct ps_pick {
    int64_t id;
    struct cat_product *row;   /* NULL: read it by id */
};

/* The page of an attribute sort over the whole match set: the products
 * after the cursor (or from offset), at most limit, into page[0..*k);
 * *start the products before it, *more whether any follow. 0, or -1 on
 * ENOMEM. */
int pset_page(struct ps_set *ps, int sort, const struct pg_cursor *cur, long offset, long limit,
              struct ps_pick *page, size_t *k, size_t *start, int *more);

#endif
