/* catbits.h: attribute bitmaps of the catalog, for browsing.
 *
 * Built by troika-admin after an import (cb_sync); read by the workers'
 * browse step (cb_plan), which intersects them to find the few products a
 * filter-only search can return. See docs/search.md ("Browsing"). */
#ifndef TROIKA_CATBITS_H
#define TROIKA_CATBITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct db;
struct qp_filters;

/* Bumped whenever what cb_sync writes changes: a different stored version
 * (catalog_meta "bits_version") makes the next cb_sync rebuild. */
#define CB_VERSION "3"

/* Bitmaps are built only while every product id is at most CB_MAX_ID (a
 * bitmap is then at most 250 KB, and a browse fetches about 20); above it
 * attr_bitmaps is left empty and browsing walks the SQL indexes. */
enum { CB_MAX_ID = 2000000 };

/* Rebuilds the bitmaps when force is set or they were built by another
 * version of this code (catalog_meta "bits_version"); *rebuilt says whether
 * it did. Runs in its own transaction. DB_OK or DB_E*. */
int cb_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);

/* ---- set operations over bitsets (bit i of byte i/8, LSB first = id i) ---- */

/* Set bits in b[0..n). */
size_t cb_count(const uint8_t *b, size_t n);
/* dst[0..n) &= src[0..sn) (bytes past sn count as zero). */
void cb_and(uint8_t *dst, size_t n, const uint8_t *src, size_t sn);
/* dst[0..n) &= ~src[0..sn). */
void cb_andnot(uint8_t *dst, size_t n, const uint8_t *src, size_t sn);
/* dst[0..n) |= src[0..min(n, sn)). */
void cb_or(uint8_t *dst, size_t n, const uint8_t *src, size_t sn);
/* The ids of the set bits, ascending, into ids[0..max); returns how many
 * were written. */
size_t cb_list(const uint8_t *b, size_t n, int64_t *ids, size_t max);
/* The largest id whose bit is set, or -1. */
int64_t cb_max_id(const uint8_t *b, size_t n);

/* The attr_bitmaps key of an attribute value: prefix ("cat:", "tag:", ...)
 * and the value as stored. The key column has the child tables' collation
 * (utf8mb4_unicode_ci), so no case folding happens here: "tag:Velvet"
 * finds "tag:velvet" exactly when `tag = 'Velvet'` finds 'velvet'. NULL on
 * ENOMEM or when the key would not fit the column (200 characters). */
const char *cb_key(arena_t *ar, const char *prefix, const char *value);

/* ---- choosing how to browse ------------------------------------------------- */

/* The cost model (docs/search.md): in row lookups (~1 us each at 100k
 * products). The bitmap path reads each survivor's row and re-checks the
 * filters on it; the SQL walk reads index entries in popularity order and
 * stops after `limit` matches, probing the EXISTS filters of each. */
struct cb_cost {
    long base;        /* products the walk draws from: the category's, or all */
    long survivors;   /* products the bitmaps leave */
    long read;        /* of those, in the smallest popularity tier holding `limit` */
    int limit;        /* rows wanted */
    int nexists;      /* EXISTS filters (size, colour, occasion, fabric, work) */
};
/* Costs in microseconds at 100k products (MariaDB 10.11, cached; fitted
 * to the 44 browse queries of bench/search-queries.txt run both ways,
 * docs/search.md): the bitmap path's fixed cost (its bitmaps and one more
 * statement); reading one survivor by primary key among many and sorting
 * it; one walked index entry; one EXISTS probe; what an EXISTS filter costs
 * the walk at least (2-11 ms measured even with a few hundred entries
 * examined: MariaDB materializes the value's child rows). */
#define CB_C_FIXED 300.0
#define CB_C_READ 1.7
#define CB_C_ENTRY 0.3
#define CB_C_PROBE 1.0
#define CB_C_SEMIJOIN 1500.0

/* Popularity tiers "pop:1".."pop:8": about the top 1/256 .. 1/2 of the
 * catalog by popularity. */
enum { CB_TIERS = 8 };

/* Set bits of a[0..n) & b[0..bn). */
size_t cb_count_and(const uint8_t *a, size_t n, const uint8_t *b, size_t bn);
double cb_cost_bits(const struct cb_cost *c);
double cb_cost_walk(const struct cb_cost *c);
/* 1 when the bitmap path is expected to be cheaper (ties go to it). */
int cb_prefer_bits(const struct cb_cost *c);

/* The bitmap path never takes more survivors than this (one bound
 * parameter each). */
enum { CB_MAX_SURVIVORS = 16384 };

/* What the bitmaps say about browsing with f. */
struct cb_plan {
    const char *plan;       /* "bitmap": read ids; "walk": the SQL walk is expected
                             * cheaper; "nobits": no fresh bitmaps (none built, or
                             * a product newer than them) */
    struct cb_cost cost;
    int64_t *ids;           /* the survivors to read, ascending (arena): those of
                             * the smallest popularity tier holding `limit` */
    size_t nids;
    /* private to catbits.c */
    arena_t *ar;
    uint8_t *w, *scratch;   /* the survivors; room for one more bitset */
    size_t wlen, idcap;
    const uint8_t *tier[CB_TIERS];
    size_t tierlen[CB_TIERS];
    int at;                 /* the tier ids come from; CB_TIERS: all survivors */
};

/* The bitmaps that filters f select, as cat_filter_sql (common/store/catalog.c)
 * filters, from the filter table's bitmap key prefixes and accepted values:
 * an AND of groups, a product passing a group when it has one of the
 * group's keys (none of them when negate). Group 0 is "#all". Price only
 * approximately, by the nearest price edges outside the bounds, and only
 * with with_price (cb_plan's statement over the survivors applies it
 * exactly; catsnap applies it with the prices). ok is 0 when a value has
 * no key (too long for one): the bitmaps cannot answer then. */
enum { CB_GROUPS = 12, CB_GROUP_KEYS = 6 };

struct cb_group {
    const char *keys[CB_GROUP_KEYS];
    int nkeys, negate;
};

struct cb_groups {
    struct cb_group g[CB_GROUPS];
    int n;
    int cat;        /* the category's group, or -1 */
    int nexists;    /* filters the SQL walk checks with EXISTS */
    int ok;
};

void cb_groups_of(const struct qp_filters *f, arena_t *ar, int with_price, struct cb_groups *gs);

/* The groups of keys f needs (AND of ORs) as one query, the intersection,
 * the tier to read and the decision. Allocates from ar. DB_OK or DB_E*. */
int cb_plan(struct db *db, arena_t *ar, const struct qp_filters *f, int limit, struct cb_plan *out, char *err,
            size_t errlen);

/* Moves ids to the next larger tier holding at least `want` survivors
 * (and more than now), or to all survivors: for when fewer than `want` of
 * those read passed what the bitmaps do not know (a price filter, a change
 * since they were built). 1 when ids grew, 0 when they were all
 * survivors already, -1 on ENOMEM. */
int cb_plan_widen(struct cb_plan *pl, long want);

#endif
