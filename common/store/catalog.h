/* catalog.h: reading the product catalog for search: the SQL filter
 * clause (one builder for every candidate set), FULLTEXT search, fetching
 * candidates by id, product cards (SPEC 2.1) and facets.
 *
 * The reads are reached through struct store (store.h: the wrappers
 * below call s->cat); the rest (filter clause, boolean expression, cards,
 * facets) are plain functions. Rows live in the request arena (borrowed
 * until it is reset). Every value travels as a bound parameter. Errors are
 * ST_ECONN / ST_EQUERY, so callers can tell DB_CONNECTION_ERROR from
 * DB_QUERY_ERROR. */
#ifndef TROIKA_CATALOG_H
#define TROIKA_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/store/store.h"

struct cs_snap;
struct db_param;
struct json_object;
struct qp_filters;

struct cat_product {
    int64_t id;
    const char *sku, *title, *category, *designer, *currency;
    const char *colors, *sizes;     /* JSON array text */
    const char *image_url, *url;    /* NULL when absent (also designer) */
    const char *price_text;         /* DECIMAL as text, e.g. "24999.00" */
    double price;
    int in_stock;
    double popularity;
    double created;                 /* Unix seconds */
    const char *tags;               /* comma-joined tags (ranking boosts read them), or NULL */
    double relevance;               /* FULLTEXT relevance (text search), else 0 */
};

/* One full-text match, as the deep list carries it. */
struct cat_hit {
    int64_t id;
    double rel;                     /* FULLTEXT relevance */
    double popularity;
};

/* Every full-text match of a search, best first (the text ranking's
 * order), up to a cap. complete: these are all of them. */
struct cat_hits {
    struct cat_hit *v;              /* arena */
    size_t n;
    int complete;
};

/* Room for the parameters of every filter set at once: the sum over the
 * filter table of each filter's values (max_values, else 1); a unit test
 * checks it against the table. */
enum { CAT_MAX_FILTER_PARAMS = 24 };

/* Candidates cat_fetch reads per statement (catalog.c says why). */
enum { CAT_FETCH_CHUNK = 100 };

/* Appends " AND ..." conditions on the products alias `p` for every filter
 * that is set, as the filter table (common/search/filters.h) places it,
 * and their parameters to p[*np..] (room for CAT_MAX_FILTER_PARAMS).
 * Strings are borrowed from f. */
void cat_filter_sql(const struct qp_filters *f, buf_t *sql, struct db_param *p, size_t *np);

/* The boolean-mode expression for the residual words: "+velvet +zardozi"
 * (every word required), or with prefix set "+velvet +zardo*" (the last
 * word also as a prefix). Words under three
 * characters are left out. "" when no word is left. When there is a single
 * word and f names a category, the category's words are required too
 * ("+pastel +lehenga"): every product of the category has them in its indexed
 * category column, so nothing is lost, and InnoDB ranks far fewer
 * documents when the lone word is a frequent one (docs/search.md). f may be
 * NULL. */
const char *cat_boolean_query(arena_t *ar, const char *residual, const struct qp_filters *f, int prefix);

/* How a browse was answered (docs/search.md "Browsing"): plan is
 * "bitmap" (the attribute bitmaps' survivors, read by primary key),
 * "walk" (the SQL walk in popularity order: the cost model found it
 * cheaper) or "nobits" (the walk: no fresh bitmaps); NULL when the text
 * search did not browse. survivors (of the bitmaps' intersection), read
 * (of those, in the popularity tier the bitmap path reads), base and the
 * two costs are the cost model's figures (0 with "nobits"). */
struct cat_browse_info {
    const char *plan;
    long survivors, read, base;
    double cost_bits, cost_walk;
};

/* What answered a text search. Strings live in the arena. */
struct cat_text_info {
    const char *mode;        /* "boolean", "prefix", "natural" or "browse" */
    const char *expr;        /* the FULLTEXT expression that ran ("" when browsing) */
    const char *row_words;   /* words checked on the rows (common/store/catterms.h), space-separated; "" */
    struct cat_browse_info browse;   /* how a browse was answered (plan NULL: not a browse) */
    int filtered_out;        /* the words found nothing because no product passes the filters */
};

struct cat_ops {
    int (*text_search)(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f, int limit,
                       struct cat_product **out, size_t *n, struct cat_text_info *info, char *err, size_t errlen);
    int (*filters_pass_any)(struct store *s, arena_t *ar, const struct qp_filters *f, int *any, char *err,
                            size_t errlen);
    int (*text_bounds)(struct store *s, arena_t *ar, const struct cat_text_info *info, const struct qp_filters *f,
                       long *count, double *min, double *max, char *err, size_t errlen);
    int (*fetch)(struct store *s, arena_t *ar, const int64_t *ids, size_t nids, const struct qp_filters *f,
                 struct cat_product **out, size_t *n, char *err, size_t errlen);
    int (*count)(struct store *s, arena_t *ar, const struct qp_filters *f, long *n, char *err, size_t errlen);
    int (*designers)(struct store *s, arena_t *ar, int max, const char ***names, size_t *n, char *err,
                     size_t errlen);
    int (*version)(struct store *s, arena_t *ar, uint64_t *v, char *err, size_t errlen);
    int (*text_search_all)(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f,
                           int limit, int cap, struct cat_product **out, size_t *n, struct cat_text_info *info,
                           struct cat_hits *all, char *err, size_t errlen);
    int (*snapshot)(struct store *s, uint64_t version, struct cs_snap **out, char *err, size_t errlen);
    int (*text_any)(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f, int limit,
                    struct cat_product **out, size_t *n, struct cat_text_info *info, char *err, size_t errlen);
    int (*categories)(struct store *s, arena_t *ar, const char ***out, size_t *n, char *err, size_t errlen);
    int (*vocab)(struct store *s, arena_t *ar, const char ***words, unsigned **docs, size_t *n, char *err,
                 size_t errlen);
};

/* Full-text candidates that pass the filters, best first, at most limit.
 * Boolean mode over whole words first (planned by ct_plan: rarest first, a
 * very frequent word checked on the matched rows); when that finds nothing,
 * every word with the last as a prefix; then natural-language mode (both
 * skipped when no product passes the filters at all: info->filtered_out); with no
 * usable words, the filtered catalog by popularity (info->browse says
 * how). ST_OK or ST_E*. */
static inline int cat_text_search(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f,
                                  int limit, struct cat_product **out, size_t *n, struct cat_text_info *info,
                                  char *err, size_t errlen)
{
    return s->cat->text_search(s, ar, residual, f, limit, out, n, info, err, errlen);
}

/* cat_text_search, and every match up to cap in *all, best first (cap
 * rows in one narrow statement, then the rows of the first `limit` by
 * id: one FULLTEXT search). A browse (no word for full text) answers as
 * cat_text_search does and leaves *all empty and incomplete: count a browse
 * with the attribute bitmaps (common/store/catsnap.h). ST_OK or ST_E*. */
static inline int cat_text_search_all(struct store *s, arena_t *ar, const char *residual,
                                      const struct qp_filters *f, int limit, int cap, struct cat_product **out,
                                      size_t *n, struct cat_text_info *info, struct cat_hits *all, char *err,
                                      size_t errlen)
{
    return s->cat->text_search_all(s, ar, residual, f, limit, cap, out, n, info, all, err, errlen);
}

/* The worker's snapshot of the catalog (common/store/catsnap.h: every
 * product's sort keys and the attribute bitmaps) read at `version`; the
 * caller owns *out (cs_free). ST_OK or ST_E*. */
static inline int cat_snapshot(struct store *s, uint64_t version, struct cs_snap **out, char *err, size_t errlen)
{
    return s->cat->snapshot(s, version, out, err, errlen);
}

/* The text search with the words in natural-language mode (any of them
 * enough, the products with more of them and rarer ones first), under f;
 * with no usable word, cat_text_search. ST_OK or ST_E*. */
static inline int cat_text_any(struct store *s, arena_t *ar, const char *residual, const struct qp_filters *f,
                               int limit, struct cat_product **out, size_t *n, struct cat_text_info *info, char *err,
                               size_t errlen)
{
    return s->cat->text_any(s, ar, residual, f, limit, out, n, info, err, errlen);
}

/* *any = 1 when some product passes f (a browse for one: the attribute
 * bitmaps or the SQL walk, ~1 ms at 100k products). ST_OK or ST_E*. */
static inline int cat_filters_pass_any(struct store *s, arena_t *ar, const struct qp_filters *f, int *any,
                                       char *err, size_t errlen)
{
    return s->cat->filters_pass_any(s, ar, f, any, err, errlen);
}

/* Every product the query a text search ran (info: its mode, expression
 * and row words; a browse has none) matches under f, not capped: their
 * count and price range (min and max -1 when none). One aggregate
 * statement. ST_OK or ST_E*. */
static inline int cat_text_bounds(struct store *s, arena_t *ar, const struct cat_text_info *info,
                                  const struct qp_filters *f, long *count, double *min, double *max, char *err,
                                  size_t errlen)
{
    return s->cat->text_bounds(s, ar, info, f, count, min, max, err, errlen);
}

/* The products among ids[0..nids) that pass the filters, sorted by id
 * (CAT_FETCH_CHUNK ids a statement). ST_OK or ST_E*. */
static inline int cat_fetch(struct store *s, arena_t *ar, const int64_t *ids, size_t nids,
                            const struct qp_filters *f, struct cat_product **out, size_t *n, char *err,
                            size_t errlen)
{
    return s->cat->fetch(s, ar, ids, nids, f, out, n, err, errlen);
}

/* *n = how many products pass f (one COUNT). ST_OK or ST_E*. */
static inline int cat_count(struct store *s, arena_t *ar, const struct qp_filters *f, long *n, char *err,
                            size_t errlen)
{
    return s->cat->count(s, ar, f, n, err, errlen);
}

/* The catalog's version: catalog_meta "catalog_version", which troika-admin
 * bumps (pr_bump_version) after every import or rebuild that changed the
 * catalog or a table derived from it. A worker keeps what it derives from
 * the catalog (designer names, ...) only while the version stays the same.
 * *v = 0 when it was never bumped. ST_OK or ST_E*. */
static inline int cat_version(struct store *s, arena_t *ar, uint64_t *v, char *err, size_t errlen)
{
    return s->cat->version(s, ar, v, err, errlen);
}

/* The catalog's distinct designer names (at most max, by name; arena). */
static inline int cat_designers(struct store *s, arena_t *ar, int max, const char ***names, size_t *n, char *err,
                                size_t errlen)
{
    return s->cat->designers(s, ar, max, names, n, err, errlen);
}

/* The catalog's categories (distinct, as stored: lower-case), into an
 * array of ar. ST_OK or ST_E*. */
static inline int cat_categories(struct store *s, arena_t *ar, const char ***out, size_t *n, char *err,
                                 size_t errlen)
{
    return s->cat->categories(s, ar, out, n, err, errlen);
}

/* The catalog's vocabulary for typo correction (search_vocab, written at
 * import: common/store/catterms.h): every word with a letter and how many
 * products contain it, into arrays of ar. ST_OK or ST_E*. */
static inline int cat_vocab(struct store *s, arena_t *ar, const char ***words, unsigned **docs, size_t *n,
                            char *err, size_t errlen)
{
    return s->cat->vocab(s, ar, words, docs, n, err, errlen);
}

/* Binary search in rows sorted by id; NULL when absent. */
struct cat_product *cat_find(struct cat_product *rows, size_t n, int64_t id);

/* qsort/bsearch order of an array of struct cat_product pointers: by id. */
int cat_row_id_cmp(const void *a, const void *b);

/* A product card: sku, title, price, currency, category, designer, colors,
 * sizes, inStock, imageUrl, url, score, and ranks {text, vector} (0 = not
 * ranked there: null). New object, owned by the caller. */
struct json_object *cat_card(const struct cat_product *p, double score, int text_rank, int vec_rank);

/* Facets over rows[0..n): counts per size (in size order), colour family,
 * category and designer (most first), and price min/max. New object. */
struct json_object *cat_facets(const struct cat_product *const *rows, size_t n);

/* One facet value and how many products have it. */
struct cat_value_count {
    const char *value;
    long count;
};

/* Facets shaped as cat_facets makes them, from values already counted
 * (catsnap counts them over the whole match set): each list is sorted in
 * place (sizes in shop order, the others most first, then by value) and
 * the designers cut to the first 20; price {min, max}, null without
 * have_price. New object. */
struct json_object *cat_facets_counted(struct cat_value_count *sizes, size_t nsizes, struct cat_value_count *colors,
                                       size_t ncolors, struct cat_value_count *cats, size_t ncats,
                                       struct cat_value_count *designers, size_t ndesigners, int have_price,
                                       double pmin, double pmax);

/* Appends the text a product is embedded from (build-index): "title.
 * category. designer. colours. tags. description", empty parts left out;
 * colors_json is the JSON array text of the colors column. */
void cat_embed_text(buf_t *b, const char *title, const char *category, const char *designer,
                    const char *colors_json, const char *tags, const char *description);

#endif
