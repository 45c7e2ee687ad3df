/* market.h: the market store: the catalog rows the sales agent's market
 * figures are computed from (handlers/agent/troika_market.c), over one
 * segment of the catalog (category + colour family + budget band, or
 * colour/budget/occasion when no category is named), behind struct store
 * (store.h).
 *
 * Rows land in the arena given (borrowed until it is reset). Returns
 * ST_OK or ST_ECONN / ST_EQUERY with err filled. */
#ifndef TROIKA_MARKET_H
#define TROIKA_MARKET_H

#include <stddef.h>

#include "common/base/arena.h"
#include "common/store/store.h"

/* A segment of the catalog. */
struct mk_segment {
    char category[64];
    char color_family[32];
    double min, max;          /* 0: open */
    double around;            /* X when the band is "around X", else 0 */
    char occasion[32];        /* only when no category is named */
};

/* Which parts of a segment a read filters on. */
enum { MK_CAT = 1, MK_COLOR = 2, MK_BUDGET = 4, MK_OCC = 8, MK_ALL = 15 };

/* A product of the segment. */
struct mk_row {
    double price, popularity;
    long long id;
    int in_stock;
    const char *designer;     /* "" when none */
};

/* A (colour family, colour, product) row. */
struct mk_shade {
    const char *family, *color;
    long long id;
};

/* A product's card for the trending list. */
struct mk_card {
    const char *sku, *title, *designer;   /* designer "" when none */
    double price, popularity;
    int in_stock;
};

struct mk_ops {
    int (*rows)(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts, struct mk_row **out,
                size_t *n, char *err, size_t errlen);
    int (*shades)(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts,
                  struct mk_shade **out, size_t *n, char *err, size_t errlen);
    int (*bands)(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts, double lo, double hi,
                 long *below, long *above, char *err, size_t errlen);
    int (*cards)(struct store *s, arena_t *ar, const long long *ids, size_t nids, struct mk_card **out,
                 size_t *n, char *err, size_t errlen);
};

/* The segment's products (the parts of seg chosen), by price then id. */
static inline int mk_rows(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts,
                          struct mk_row **out, size_t *n, char *err, size_t errlen)
{
    return s->mk->rows(s, ar, seg, parts, out, n, err, errlen);
}

/* The (family, colour, product) rows of the segment's products, unordered. */
static inline int mk_shades(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts,
                            struct mk_shade **out, size_t *n, char *err, size_t errlen)
{
    return s->mk->shades(s, ar, seg, parts, out, n, err, errlen);
}

/* How many of the segment's products cost less than lo and more than hi
 * (hi 0: none counted above). */
static inline int mk_bands(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts, double lo,
                           double hi, long *below, long *above, char *err, size_t errlen)
{
    return s->mk->bands(s, ar, seg, parts, lo, hi, below, above, err, errlen);
}

/* The cards of ids[0..nids), most popular first (then by id). */
static inline int mk_cards(struct store *s, arena_t *ar, const long long *ids, size_t nids, struct mk_card **out,
                           size_t *n, char *err, size_t errlen)
{
    return s->mk->cards(s, ar, ids, nids, out, n, err, errlen);
}

#endif
