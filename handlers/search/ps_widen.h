/* ps_widen.h: a product search that prefers, not forbids. Words of q read
 * as a category, designer, colour, fabric, handwork or occasion are
 * preferences (common/search/filters.h, struct qp_filters.soft). The search
 * first runs with every preference as a filter (level 0); when that finds
 * fewer products than the page needs, it gives the preferences up one at a
 * time in qp_widen_order, each level a text search and a filter of the
 * same vector candidates under what is left, its new products ranked
 * below those of the levels before. Memory: the request arena. */
#ifndef TROIKA_PS_WIDEN_H
#define TROIKA_PS_WIDEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct ctx;
struct cat_product;
struct qp_filters;
struct rk_item;
struct rk_params;

enum { PW_LEVELS = 10 };   /* level 0 and one per widening step (qp_widen_steps: 9) */

/* The candidates of one level: under the filters minus `dropped`. */
struct pw_level {
    unsigned dropped;              /* preferences given up (QPF_BIT), cumulative */
    struct cat_product **text;     /* text matches, best first */
    size_t ntext;
    struct cat_product **vrows;    /* vector candidates that pass, nearest first */
    float *vscores;
    size_t nvf;
};

/* The fused ranking over every level. */
struct pw_ranked {
    struct rk_item *items;         /* best first within a level, levels in order */
    struct cat_product **rows;     /* items[i]'s row */
    unsigned char *level;          /* items[i]'s level */
    size_t n;
    size_t ntext;                  /* distinct text matches over the levels */
};

/* Products the levels found so far (distinct ids). */
size_t pw_distinct(arena_t *ar, const struct pw_level *lv, int nlv);

/* One widened level: the text search under f (at most limit matches; any:
 * the words in natural-language mode, any of them enough) and
 * the vector candidates vids[0..nv) (scores vscores) that pass f, into
 * *out (dropped left to the caller); *mode gets the text mode. ST_OK or
 * ST_E*. */
int pw_search(struct ctx *c, const char *residual, int any, const struct qp_filters *f, const int64_t *vids,
              const float *vscores, size_t nv, int limit, struct pw_level *out, const char **mode, char *err,
              size_t errlen);

/* Fuses each level by rp (a product in an earlier level, or among
 * before[0..nbefore), is not ranked again) and puts the levels one after
 * the other (out->level counts from 0 for lv[0]). 0, or -1 out of memory. */
int pw_fuse(arena_t *ar, const struct pw_level *lv, int nlv, const struct rk_params *rp, const int64_t *before,
            size_t nbefore, struct pw_ranked *out);

/* Ranks first, within each level, the products that meet more of the
 * groups b[0..nb) (qp_boosts: who it is for, the shade, the occasion's
 * garments and work), a group met when the product's title, colours or
 * category has one of its words; with words set (the query has words to
 * match), a product the text search found comes before one only the
 * vector side brought, whatever the groups. The order among equals stays
 * the fusion's. Each group met adds its weight to the item's score (the
 * text search 100), so scores never increase down a level. Level 0 (the
 * first level of r) is reordered only among its first `stable` items;
 * an item without a row meets no group. 0, or -1 out of
 * memory. */
struct qp_boost;
int pw_boost(arena_t *ar, struct pw_ranked *r, const struct qp_boost *b, int nb, int words, size_t stable);

/* The preferences (mask of QPF_BIT over prefs) each of rows[0..n) meets,
 * into met[0..n): those its level kept, and, checked in SQL on these rows,
 * those its level had given up. ST_OK or ST_E*. */
int pw_matched(struct ctx *c, const struct qp_filters *f, unsigned prefs, const struct pw_level *lv,
               struct cat_product *const *rows, const unsigned char *level, size_t n, unsigned *met, char *err,
               size_t errlen);

#endif
