/* ps_page.c: sort orders, the page asked for, and the cursor; see ps_page.h.
 *
 * The cursor is "v1|sort|fingerprint|key|pos|sku" in base64url: opaque to
 * clients (they pass it back as they got it), plain for us to check. */
#include "handlers/search/ps_page.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/b64.h"
#include "common/base/hash.h"
#include "common/search/filters.h"
#include "common/search/rank.h"
#include "common/store/catalog.h"
#include "common/store/catsnap.h"

static const char *const pg_names[PG_NSORTS] = {"relevance", "price_asc", "price_desc", "newest", "popularity"};

int pg_sort_parse(const char *s)
{
    for (int i = 0; i < PG_NSORTS; i++)
        if (!strcmp(s, pg_names[i])) return i;
    return -1;
}

const char *pg_sort_name(int sort)
{
    return sort >= 0 && sort < PG_NSORTS ? pg_names[sort] : "relevance";
}

uint64_t pg_fingerprint(const char *q, const struct qp_filters *f, int sort)
{
    uint64_t h = hash_fnv1a(HASH_FNV_BASIS, q, strlen(q) + 1);
    json_object *fj = qp_filters_json(f);
    const char *js = json_object_to_json_string_ext(fj, JSON_C_TO_STRING_PLAIN);
    h = hash_fnv1a(h, js, strlen(js) + 1);
    json_object_put(fj);
    const char *name = pg_sort_name(sort);
    return hash_fnv1a(h, name, strlen(name));
}

const char *pg_cursor_encode(arena_t *ar, const struct pg_cursor *c)
{
    char raw[256];
    int n = snprintf(raw, sizeof(raw), "v1|%s|%016llx|%.17g|%ld|%s", pg_sort_name(c->sort),
                     (unsigned long long)c->fp, c->key, c->pos, c->sku);
    if (n < 0 || (size_t)n >= sizeof(raw)) return NULL;
    char *out = ar_alloc(ar, b64_encoded_len((size_t)n) + 1);
    if (!out) return NULL;
    size_t len = b64_encode((const unsigned char *)raw, (size_t)n, out);
    while (len && out[len - 1] == '=') len--;
    out[len] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+') *p = '-';
        else if (*p == '/') *p = '_';
    }
    return out;
}

int pg_cursor_decode(const char *s, struct pg_cursor *c)
{
    size_t n = strlen(s);
    if (!n || n > 340) return -1;
    char b[344];
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '-') ch = '+';
        else if (ch == '_') ch = '/';
        else if (ch == '+' || ch == '/' || ch == '=') return -1;   /* base64url only */
        b[i] = ch;
    }
    while (n % 4) b[n++] = '=';
    unsigned char raw[264];
    long m = b64_decode(b, n, raw);
    if (m < 0 || m >= (long)sizeof(raw)) return -1;
    raw[m] = '\0';
    if (memchr(raw, '\0', (size_t)m)) return -1;
    /* v1|sort|fp|key|pos|sku (the sku last: it may hold anything but spaces) */
    char *f[6], *p = (char *)raw;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        p = strchr(p, '|');
        if (!p) return -1;
        *p++ = '\0';
    }
    f[5] = p;
    if (strcmp(f[0], "v1") || (c->sort = pg_sort_parse(f[1])) < 0) return -1;
    char *end;
    errno = 0;
    if (strlen(f[2]) != 16) return -1;
    c->fp = strtoull(f[2], &end, 16);
    if (*end || errno) return -1;
    c->key = strtod(f[3], &end);
    if (*end || end == f[3] || !isfinite(c->key)) return -1;
    c->pos = strtol(f[4], &end, 10);
    if (*end || end == f[4] || c->pos < 1 || errno) return -1;
    size_t sl = strlen(f[5]);
    if (!sl || sl >= sizeof(c->sku)) return -1;
    memcpy(c->sku, f[5], sl + 1);
    return 0;
}

double pg_key(int sort, double price, double created, double popularity)
{
    switch (sort) {
    case PG_PRICE_ASC: return price;
    case PG_PRICE_DESC: return -price;
    case PG_NEWEST: return -created;
    case PG_POPULARITY: return -popularity;
    default: return 0;
    }
}

static int pg_sku_cmp(int64_t ap, const char *as, int64_t bp, const char *bs)
{
    if (ap >= 0 && bp >= 0) return ap < bp ? -1 : ap > bp;
    return strcmp(as ? as : "", bs ? bs : "");
}

static int pg_item_cmp(const void *a, const void *b)
{
    const struct pg_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return pg_sku_cmp(x->skupos, x->sku, y->skupos, y->sku);
}

void pg_item_of(int sort, const struct cs_snap *snap, int64_t id, const struct cat_product *row,
                struct pg_item *out)
{
    memset(out, 0, sizeof(*out));
    out->skupos = -1;
    if (snap && cs_has(snap, id)) {
        out->key = pg_key(sort, snap->price[id], snap->created[id], snap->pop[id]);
        out->sku = cs_sku(snap, id);
        out->skupos = 2 * (int64_t)snap->rank[id];
    } else if (row) {
        out->key = pg_key(sort, row->price, row->created, row->popularity);
        out->sku = row->sku;
        if (snap) out->skupos = cs_sku_pos(snap, row->sku);
    } else {
        out->key = INFINITY;
        out->sku = "";
    }
}

/* Moves the k smallest of v[0..n) (pg_item order) to v[0..k), in no
 * particular order (quickselect, median of three). */
static void pg_select_k(struct pg_item *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;   /* the k-th smallest lies in v[lo..hi) */
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        /* median of three to v[last] as the pivot */
        if (pg_item_cmp(&v[mid], &v[lo]) < 0) { struct pg_item t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (pg_item_cmp(&v[last], &v[lo]) < 0) { struct pg_item t = v[last]; v[last] = v[lo]; v[lo] = t; }
        if (pg_item_cmp(&v[mid], &v[last]) < 0) { struct pg_item t = v[mid]; v[mid] = v[last]; v[last] = t; }
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (pg_item_cmp(&v[i], &v[last]) < 0) {
                struct pg_item t = v[i];
                v[i] = v[store];
                v[store] = t;
                store++;
            }
        struct pg_item t = v[last];
        v[last] = v[store];
        v[store] = t;
        if (store == k) return;
        if (store < k) lo = store + 1;
        else hi = store;
    }
}

int pg_select(struct pg_item *v, size_t n, const struct pg_cursor *cur, int64_t cur_skupos, long offset,
              long limit, size_t *start, size_t *k, int *more)
{
    size_t from = 0, m = n;
    if (cur) {
        /* those after the cursor to the front */
        size_t na = 0;
        for (size_t i = 0; i < n; i++) {
            const struct pg_item *it = &v[i];
            if (it->key > cur->key || (it->key == cur->key && pg_sku_cmp(it->skupos, it->sku, cur_skupos, cur->sku) > 0)) {
                struct pg_item t = v[i];
                v[i] = v[na];
                v[na] = t;
                na++;
            }
        }
        *start = n - na;
        m = na;
    } else {
        from = offset < 0 ? 0 : (size_t)offset;
        if (from > n) from = n;
        *start = from;
    }
    size_t want = from + (size_t)limit < m ? from + (size_t)limit : m;
    pg_select_k(v, m, want);
    qsort(v, want, sizeof(*v), pg_item_cmp);
    if (from) memmove(v, v + from, (want - from) * sizeof(*v));
    *k = want - from;
    *more = m > want;
    return 0;
}

static const char *pg_sku_of(const struct cs_snap *snap, int64_t id, const struct cat_product *row)
{
    if (row) return row->sku;
    return snap ? cs_sku(snap, id) : NULL;
}

size_t pg_anchor(const struct cs_snap *snap, const struct rk_item *items, struct cat_product *const *rows, size_t n,
                 const struct pg_cursor *cur)
{
    for (size_t i = 0; i < n; i++) {
        const char *sku = pg_sku_of(snap, items[i].id, rows[i]);
        if (sku && !strcmp(sku, cur->sku)) return i + 1;
    }
    return (size_t)cur->pos < n ? (size_t)cur->pos : n;
}
