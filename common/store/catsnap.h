/* catsnap.h: a worker's snapshot of what every product sorts and counts
 * by: price, popularity, newness and sku per product id, and the attribute
 * bitmaps (common/store/catbits.h). Product search orders, pages, counts and
 * facets the whole match set with it, in memory, instead of over the few
 * hundred candidates it ranks (docs/search.md "Sort, paging and totals").
 *
 * Loaded in one go (two statements) and kept by the worker while the
 * catalog version (cat_version) stays the same; 3 to 4 MB at 100k products
 * (docs/search.md). Not built when a product id exceeds CB_MAX_ID. Memory:
 * malloc'd, owned by whoever called cs_load; cs_free releases it. */
#ifndef TROIKA_CATSNAP_H
#define TROIKA_CATSNAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct db;
struct qp_filters;
struct json_object;

struct cs_bits {
    const char *key;          /* attr_bitmaps.k: "cat:lehenga", "fam:red", ... */
    const uint8_t *bits;
    size_t len;
    long n;                   /* products holding it */
};

struct cs_snap {
    uint64_t version;         /* the catalog version it was loaded under */
    uint32_t nid;             /* the arrays cover ids 0..nid-1 */
    long count;               /* products */
    /* by product id; a missing id has rank CS_NONE */
    double *price;
    double *pop;
    uint32_t *created;        /* Unix seconds */
    uint32_t *rank;           /* the sku's place in byte order (strcmp) */
    /* by sku rank */
    uint32_t *id_of;          /* the product id */
    uint32_t *sku_off;        /* its sku in pool */
    char *pool;
    /* the attribute bitmaps, sorted by key (strcmp); none when they are
     * missing, of another CB_VERSION, or do not cover every product */
    struct cs_bits *bits;
    size_t nbits;
    size_t bitlen;            /* bytes of a bitset over 0..nid-1 */
    uint8_t *blob;            /* owns the bitmaps' bytes and keys */
};

enum { CS_NONE = UINT32_MAX };

/* Loads a snapshot for catalog version `version` into *out (NULL when it
 * cannot be built: no products, or an id past CB_MAX_ID). DB_OK or DB_E*;
 * on error *out is NULL. */
int cs_load(struct db *db, uint64_t version, struct cs_snap **out, char *err, size_t errlen);

void cs_free(struct cs_snap *s);

/* 1 when product id is in the snapshot. */
int cs_has(const struct cs_snap *s, int64_t id);

/* The sku of a product in the snapshot. */
const char *cs_sku(const struct cs_snap *s, int64_t id);

/* Where sku falls among the snapshot's skus in byte order: 2 * rank when a
 * product has it, else 2 * (the rank of the first larger sku) - 1, so that
 * positions compare as the skus do. */
int64_t cs_sku_pos(const struct cs_snap *s, const char *sku);

/* A bitset over ids 0..nid-1 (cs_snap.bitlen bytes, zeroed) from the arena. */
uint8_t *cs_set(const struct cs_snap *s, arena_t *ar);

/* The products passing f, into set (cs_set): the bitmaps ANDed as
 * cb_groups_of says, then the price bounds checked on the prices. -1 when
 * the bitmaps cannot answer (none, or a value too long for a key): set is
 * then left alone; 0 otherwise. */
int cs_filter(const struct cs_snap *s, const struct qp_filters *f, arena_t *ar, uint8_t *set);

/* Facets over the products in set: counts per size (shop order), colour
 * family, category and designer (top 20), and price {min, max}, shaped as
 * cat_facets makes them. NULL when the snapshot has no bitmaps. New
 * object. */
struct json_object *cs_facets(const struct cs_snap *s, const uint8_t *set);

#endif
