/* product_search.h: the product-search pipeline as a call, for handlers
 * that search the catalog on a shopper's behalf (the sales agent,
 * handlers/agent/troika_match.c). It runs the steps of GET
 * /api/products/search/stream (text_search, vector_search, filters,
 * ranking) with the given filters, emitting the same `progress` and
 * `results` events to the caller's sink. Memory: the request arena. */
#ifndef TROIKA_PRODUCT_SEARCH_H
#define TROIKA_PRODUCT_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/search/qparse.h"

struct ctx;
struct cat_product;

struct ps_spec {
    const char *q;           /* text to embed for the vector side (and to log) */
    const char *residual;    /* words for FULLTEXT; "": the filtered catalog by popularity */
    struct qp_filters f;     /* the filters, as qp_parse would set them */
    long limit;              /* cards in the results events (1-50) */
    long widen_below;        /* give preferences up while fewer products than this meet them
                              * (0: limit, as product search fills its page) */
    unsigned keep;           /* preferences (QPF_BIT) never given up, only broadened */
};

struct ps_out {
    struct cat_product *const *rows;   /* the final ranking, best first (borrowed: arena) */
    size_t n;                          /* rows shown: at most limit */
    size_t total;                      /* every ranked candidate */
    unsigned relaxed;                  /* preferences given up to fill the page (QPF_BIT) */
    int64_t first_results_ms;          /* monotonic time of the first `results` event */
};

/* The pipeline returned after sending an `error` event. */
enum { PS_DONE = 1 };

/* 0 with *out filled, PS_DONE after an error event (database failure), or
 * a SINK_E* code when the stream must end. */
int ps_search(struct ctx *c, const struct ps_spec *spec, struct ps_out *out);

/* The ranking step of a search with no results (ps_relax.c): what would
 * widen it. For each relaxation group of the filter table
 * (common/search/filters.h) that is set, in the table's order, the same
 * text search without it; each one that finds products becomes a
 * relaxation in the final results and its query a suggestion. Announces
 * each try in `ranking` progress events. *list gets the relaxations (an
 * array, possibly empty) and *queries their queries; both NULL when f has
 * no filter set. Owned by the caller; memory: the request arena. 0,
 * PS_DONE after an error event (database failure), or SINK_E*. */
struct json_object;
int ps_relax(struct ctx *c, const struct qp_filters *f, const char *residual, struct json_object **list,
             struct json_object **queries);

#endif
