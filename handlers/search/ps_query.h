/* ps_query.h: what a shopper's query means, for product search and Aza
 * search: typos corrected from the catalog's vocabulary, a designer's name
 * taken out, the parser's filters and preferences, and the words the
 * catalog lacks set apart (docs/search.md "Query understanding").
 * Memory: the request arena; the vocabulary is this worker's. */
#ifndef TROIKA_PS_QUERY_H
#define TROIKA_PS_QUERY_H

#include <stddef.h>

#include "common/search/qparse.h"

struct ctx;
struct json_object;
struct sp_vocab;

enum { PQ_FIX_MAX = 8, PQ_UNMATCHED_MAX = 8, PQ_BOOST_MAX = 8 };

struct pq_query {
    struct qp_result r;        /* filters, preferences and residual words (unmatched ones taken out) */
    const char *text;          /* q with its corrections: what the vector side embeds */
    const char *fix_from[PQ_FIX_MAX], *fix_to[PQ_FIX_MAX];   /* corrections, in q's order */
    size_t nfix;
    const char *unmatched[PQ_UNMATCHED_MAX];   /* words no product contains (and none close) */
    size_t nunmatched;
    int nothing;               /* the word the query is about is unmatched ("leather wallet"): no results */
    struct qp_boost boost[PQ_BOOST_MAX];   /* what ranks first among equals (qp_boosts) */
    int nboost;
};

/* The catalog's vocabulary (search_vocab), loaded per worker and kept
 * while the catalog version stays (hx_catalog_version) and at most
 * troika_designer_refresh_ms, like the designer list; empty when not
 * built or not loadable (then nothing is corrected or reported). Borrowed
 * until the next call. */
const struct sp_vocab *pq_vocab(struct ctx *c);

/* Understands q: each word of 5+ letters the vocabulary and the parser
 * lack is corrected to the closest vocabulary word (spell.h); a catalog
 * designer's name is taken out as a preference (unless `designer`, the
 * request's explicit filter, names one); the parser reads the rest; a
 * residual word the vocabulary lacks is unmatched and left out of the
 * words to match, unless nothing at all would be left to search for. When
 * the word the query is about (its last content word before a
 * preposition, else its last) is unmatched, out->nothing is set: the
 * shop has no such thing, and the search shows nothing. The parser also
 * knows the catalog's own category names (loaded with the vocabulary). */
void pq_understand(struct ctx *c, const char *q, const char *designer, struct pq_query *out);

/* {"chikenkari": "chikankari"}: the corrections (new object; empty when none). */
struct json_object *pq_corrected_json(const struct pq_query *q);

/* ["bomkai"]: the unmatched words (new array). */
struct json_object *pq_unmatched_json(const struct pq_query *q);

#endif
