/* ps_page.h: the sort orders of product search, the page a request asks
 * for (offset or cursor), and the opaque cursor that continues where a page
 * ended (docs/search.md "Sort, paging and totals"). Pure functions over
 * caller-owned arrays; strings from the request arena. */
#ifndef TROIKA_PS_PAGE_H
#define TROIKA_PS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct qp_filters;
struct rk_item;
struct cat_product;
struct cs_snap;

enum pg_sort { PG_RELEVANCE, PG_PRICE_ASC, PG_PRICE_DESC, PG_NEWEST, PG_POPULARITY, PG_NSORTS };

/* What a 400 for an unknown sort says. */
#define PG_SORT_ERROR "sort must be one of relevance, price_asc, price_desc, newest, popularity"

/* "relevance", "price_asc", ... to a sort; -1 when unknown. */
int pg_sort_parse(const char *s);
const char *pg_sort_name(int sort);

/* The search a page belongs to: q as given, the effective filters and the
 * sort (a cursor is only honoured by the search that made it). */
uint64_t pg_fingerprint(const char *q, const struct qp_filters *f, int sort);

/* Where a page ended: the last product's sort key (its fused score for
 * relevance) and sku, and how many products were before the next page. */
struct pg_cursor {
    int sort;
    uint64_t fp;
    double key;
    long pos;
    char sku[65];
};

/* The opaque text (base64url, no padding) of c. NULL on ENOMEM. */
const char *pg_cursor_encode(arena_t *ar, const struct pg_cursor *c);

/* Reads a cursor pg_cursor_encode wrote. 0, or -1 when s is not one. */
int pg_cursor_decode(const char *s, struct pg_cursor *c);

/* One product of the match set, as the sort sees it. */
struct pg_item {
    double key;          /* price, -created, -popularity (smaller first) */
    int64_t skupos;      /* the sku's position in byte order (ps_page.c: from the
                            snapshot), or -1: compare sku */
    const char *sku;
    size_t src;          /* the caller's index of the product */
};

/* The sort key of a product for `sort` (not relevance): smaller first. */
double pg_key(int sort, double price, double created, double popularity);

/* The sort key and sku of product id for `sort`: from the snapshot when
 * it has the product, else from its row (no row either: key +inf, sku "",
 * sorted last). skupos is on the snapshot's scale (cs_sku_pos), -1 without
 * one. */
void pg_item_of(int sort, const struct cs_snap *snap, int64_t id, const struct cat_product *row,
                struct pg_item *out);

/* The page of an attribute sort, without sorting all of v[0..n): the
 * items after the cursor (cur: its key, its sku at cur_skupos on the
 * items' scale, -1 without one), else from offset, in sort order. Moves
 * the page's items to v[0..*k) (at most limit, sorted); *start = the items
 * before the page, *more = whether any follow it. v is reordered. 0. */
int pg_select(struct pg_item *v, size_t n, const struct pg_cursor *cur, int64_t cur_skupos, long offset,
              long limit, size_t *start, size_t *k, int *more);

/* Where a relevance page after cur starts in items[0..n) (fused, best
 * first): after the product with the cursor's sku, wherever it ranks now;
 * when it is gone, at the cursor's position. rows[i] is items[i]'s row or
 * NULL (the sku then comes from the snapshot). */
size_t pg_anchor(const struct cs_snap *snap, const struct rk_item *items, struct cat_product *const *rows, size_t n,
                 const struct pg_cursor *cur);

#endif
