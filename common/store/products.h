/* products.h: the products store: the catalog's writes and the figures
 * troika-admin prints, behind struct store (store.h). import-products
 * upserts checked records (struct pr_product, filled by
 * tools/admin_product.c), prunes, refreshes the optimizer's statistics and
 * the derived tables (word counts: catterms.h, attribute bitmaps:
 * catbits.h); build-index reads the products a page at a time; stats reads
 * the catalog's totals. The search side's reads are the catalog store's
 * (catalog.h).
 *
 * Rows land in the arena given. Returns ST_OK or ST_ECONN / ST_EQUERY with
 * err filled. */
#ifndef TROIKA_PRODUCTS_H
#define TROIKA_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/store/store.h"

enum { PR_MAX_COLORS = 16, PR_MAX_SIZES = 24, PR_MAX_TAGS = 32 };

/* One product record, checked and normalised (SPEC 1.2). Strings are
 * borrowed. */
struct pr_product {
    int line;                       /* where the record starts in its file (not stored) */
    const char *sku, *title, *description, *category, *designer, *currency;
    const char *image_url, *url;    /* NULL when absent (also description, designer) */
    const char *colors[PR_MAX_COLORS], *families[PR_MAX_COLORS];
    int ncolors;
    const char *sizes[PR_MAX_SIZES];
    int nsizes;
    const char *tags[PR_MAX_TAGS];
    int ntags;
    char price[32];                 /* decimal text with two places, e.g. "24999.00" */
    int in_stock;
    long long stock_count;          /* -1 when absent */
    double popularity;
    const char *colors_json, *sizes_json, *tags_text;
    uint64_t hash;                  /* of the normalised record */
};

/* A stored product's content hash. */
struct pr_hash {
    const char *sku;
    uint64_t hash;
};

/* What build-index embeds of a product (NULL: absent). */
struct pr_text {
    long long id;
    const char *title, *category, *designer, *colors, *tags, *description;
};

struct pr_category {
    const char *name;
    long count;
    const char *min, *max;          /* DECIMAL text */
};

/* A derived table's version (catalog_meta). */
struct pr_derived {
    const char *key, *version, *built_at;
};

/* The catalog's figures (stats). Prices are the database's text ("0"
 * when the catalog is empty). */
struct pr_stats {
    long products, in_stock, designers;
    const char *price_min, *price_max, *price_avg;
    const char *last_updated;       /* "" when empty */
    long long last_updated_unix;    /* 0 when empty */
    struct pr_category *categories; /* most products first */
    size_t ncategories;
    struct pr_derived *derived;     /* none on a database loaded before they existed */
    size_t nderived;
};

struct pr_ops {
    int (*hashes)(struct store *s, arena_t *ar, struct pr_hash **out, size_t *n, char *err, size_t errlen);
    int (*upsert)(struct store *s, arena_t *ar, struct pr_product *const *v, int n, char *err, size_t errlen);
    int (*delete_skus)(struct store *s, arena_t *ar, const char *const *skus, size_t n, char *err, size_t errlen);
    int (*analyze)(struct store *s, arena_t *ar, char *err, size_t errlen);
    int (*sync_terms)(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);
    int (*sync_bits)(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);
    int (*bump_version)(struct store *s, arena_t *ar, char *err, size_t errlen);
    int (*freshness)(struct store *s, arena_t *ar, long *count, long long *changed, char *err, size_t errlen);
    int (*texts)(struct store *s, arena_t *ar, long long after, int limit, struct pr_text **out, size_t *n,
                 char *err, size_t errlen);
    int (*stats)(struct store *s, arena_t *ar, struct pr_stats *out, char *err, size_t errlen);
};

/* Every stored sku with its content hash. */
static inline int pr_hashes(struct store *s, arena_t *ar, struct pr_hash **out, size_t *n, char *err,
                            size_t errlen)
{
    return s->pr->hashes(s, ar, out, n, err, errlen);
}

/* Writes v[0..n) (insert, or update by sku; sizes, colours and tags
 * replaced) in one transaction, rolled back on failure. */
static inline int pr_upsert(struct store *s, arena_t *ar, struct pr_product *const *v, int n, char *err,
                            size_t errlen)
{
    return s->pr->upsert(s, ar, v, n, err, errlen);
}

/* Deletes the products skus[0..n) name (their sizes, colours and tags go
 * with them) in one transaction: all or none. */
static inline int pr_delete_skus(struct store *s, arena_t *ar, const char *const *skus, size_t n, char *err,
                                 size_t errlen)
{
    return s->pr->delete_skus(s, ar, skus, n, err, errlen);
}

/* Fresh optimizer statistics for the product tables. */
static inline int pr_analyze(struct store *s, arena_t *ar, char *err, size_t errlen)
{
    return s->pr->analyze(s, ar, err, errlen);
}

/* The derived tables (word counts, attribute bitmaps) rebuilt when force
 * is set or another version built them; *rebuilt says whether. */
static inline int pr_sync_terms(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    return s->pr->sync_terms(s, ar, force, rebuilt, err, errlen);
}

static inline int pr_sync_bits(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    return s->pr->sync_bits(s, ar, force, rebuilt, err, errlen);
}

/* The catalog changed (products, or a table derived from them): its
 * version (catalog_meta "catalog_version", cat_version) goes up by one, and
 * every worker drops what it derived from the catalog at its next request.
 * Called last, once everything is committed. */
static inline int pr_bump_version(struct store *s, arena_t *ar, char *err, size_t errlen)
{
    return s->pr->bump_version(s, ar, err, errlen);
}

/* How many products there are, and when the catalog last changed (Unix
 * seconds, 0 when empty). */
static inline int pr_freshness(struct store *s, arena_t *ar, long *count, long long *changed, char *err,
                               size_t errlen)
{
    return s->pr->freshness(s, ar, count, changed, err, errlen);
}

/* At most limit products with an id above `after`, by id. */
static inline int pr_texts(struct store *s, arena_t *ar, long long after, int limit, struct pr_text **out,
                           size_t *n, char *err, size_t errlen)
{
    return s->pr->texts(s, ar, after, limit, out, n, err, errlen);
}

static inline int pr_stats(struct store *s, arena_t *ar, struct pr_stats *out, char *err, size_t errlen)
{
    return s->pr->stats(s, ar, out, err, errlen);
}

#endif
