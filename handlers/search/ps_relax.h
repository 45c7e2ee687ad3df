/* ps_relax.h: product search with no results: what would widen it. For
 * each relaxation group of the filter table (common/search/filters.h) that
 * is set, in the table's order, the same text search without it; each one
 * that finds products becomes a relaxation in the final results and its
 * query a suggestion. Memory: the request arena; the JSON is the caller's. */
#ifndef TROIKA_PS_RELAX_H
#define TROIKA_PS_RELAX_H

struct ctx;
struct json_object;
struct qp_filters;

/* Searches again without each group of f set, announcing each step in
 * `ranking` progress events. *list gets the relaxations (an array, possibly
 * empty) and *queries their queries; both NULL when f has no filter set.
 * Owned by the caller. 0, PS_DONE after an error event (database failure),
 * or SINK_E*. */
int ps_relax(struct ctx *c, const struct qp_filters *f, const char *residual, struct json_object **list,
             struct json_object **queries);

#endif
