/* catsnap.c: a worker's snapshot of the catalog; see catsnap.h.
 *
 * Two statements: every product's id, sku, price, popularity and creation
 * time, and every attribute bitmap (attr_bitmaps) with the version that
 * built them. The rows land in a temporary arena and are copied into one
 * malloc'd block per kind (arrays by id, the sku pool, the bitmaps). */
#include "common/store/catsnap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/store/mariadb.h"
#include "common/search/filters.h"
#include "common/store/catalog.h"
#include "common/store/catbits.h"

static int cs_oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return DB_EQUERY;
}

void cs_free(struct cs_snap *s)
{
    if (!s) return;
    free(s->price);
    free(s->pop);
    free(s->created);
    free(s->rank);
    free(s->id_of);
    free(s->sku_off);
    free(s->pool);
    free(s->bits);
    free(s->blob);
    free(s);
}

/* qsort_r: rows by the byte order of their skus (arg: the snapshot). */
static int cs_by_sku(const void *a, const void *b, void *arg)
{
    const struct cs_snap *s = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return strcmp(s->pool + s->sku_off[x], s->pool + s->sku_off[y]);
}

static int cs_by_key(const void *a, const void *b)
{
    return strcmp(((const struct cs_bits *)a)->key, ((const struct cs_bits *)b)->key);
}

/* Products: arrays by id, skus by rank. 0 or -1 (ENOMEM); *toobig when an
 * id passes CB_MAX_ID. */
static int cs_products(struct cs_snap *s, const struct db_rows *rs, int *toobig)
{
    uint32_t nid = 0;
    size_t pool = 0;
    for (size_t r = 0; r < rs->nrows; r++) {
        long long id = strtoll(db_cell(rs, r, 0), NULL, 10);
        if (id < 0 || id > CB_MAX_ID) {
            *toobig = 1;
            return 0;
        }
        if ((uint32_t)id + 1 > nid) nid = (uint32_t)id + 1;
        pool += strlen(db_cell(rs, r, 1)) + 1;
    }
    s->nid = nid;
    s->count = (long)rs->nrows;
    s->price = malloc(nid * sizeof(*s->price));
    s->pop = malloc(nid * sizeof(*s->pop));
    s->created = malloc(nid * sizeof(*s->created));
    s->rank = malloc(nid * sizeof(*s->rank));
    s->id_of = malloc((rs->nrows + 1) * sizeof(*s->id_of));
    s->sku_off = malloc((rs->nrows + 1) * sizeof(*s->sku_off));
    s->pool = malloc(pool + 1);
    if (!s->price || !s->pop || !s->created || !s->rank || !s->id_of || !s->sku_off || !s->pool) return -1;
    for (uint32_t i = 0; i < nid; i++) {
        s->price[i] = NAN;
        s->pop[i] = 0;
        s->created[i] = 0;
        s->rank[i] = CS_NONE;
    }
    /* first in row order, then sorted by sku */
    uint32_t *order = malloc((rs->nrows + 1) * sizeof(*order));
    if (!order) return -1;
    size_t at = 0;
    for (size_t r = 0; r < rs->nrows; r++) {
        uint32_t id = (uint32_t)strtoul(db_cell(rs, r, 0), NULL, 10);
        const char *sku = db_cell(rs, r, 1);
        size_t len = strlen(sku);
        memcpy(s->pool + at, sku, len + 1);
        s->sku_off[r] = (uint32_t)at;
        s->id_of[r] = id;
        at += len + 1;
        s->price[id] = db_cell(rs, r, 2) ? strtod(db_cell(rs, r, 2), NULL) : 0;
        s->pop[id] = db_cell(rs, r, 3) ? strtod(db_cell(rs, r, 3), NULL) : 0;
        s->created[id] = db_cell(rs, r, 4) ? (uint32_t)strtoul(db_cell(rs, r, 4), NULL, 10) : 0;
        order[r] = (uint32_t)r;
    }
    qsort_r(order, rs->nrows, sizeof(*order), cs_by_sku, s);
    uint32_t *ids = malloc((rs->nrows + 1) * sizeof(*ids)), *offs = malloc((rs->nrows + 1) * sizeof(*offs));
    if (!ids || !offs) {
        free(order);
        free(ids);
        free(offs);
        return -1;
    }
    for (size_t k = 0; k < rs->nrows; k++) {
        ids[k] = s->id_of[order[k]];
        offs[k] = s->sku_off[order[k]];
        s->rank[ids[k]] = (uint32_t)k;
    }
    free(order);
    free(s->id_of);
    free(s->sku_off);
    s->id_of = ids;
    s->sku_off = offs;
    return 0;
}

/* The bitmaps, when they were built by this code's version and cover
 * every product of the snapshot. 0 or -1 (ENOMEM). */
static int cs_bitmaps(struct cs_snap *s, const struct db_rows *rs)
{
    size_t bytes = 0, n = 0;
    int current = 0;
    const uint8_t *all = NULL;
    size_t alllen = 0;
    for (size_t r = 0; r < rs->nrows; r++) {
        const char *k = db_cell(rs, r, 0);
        if (!strcmp(k, "=bits_version")) {
            current = db_cell(rs, r, 2) && !strcmp(db_cell(rs, r, 2), CB_VERSION);
            continue;
        }
        if (!db_cell(rs, r, 2)) continue;
        if (!strcmp(k, "#all")) {
            all = (const uint8_t *)db_cell(rs, r, 2);
            alllen = rs->lens[r * rs->ncols + 2];
        }
        bytes += strlen(k) + 1 + rs->lens[r * rs->ncols + 2];
        n++;
    }
    s->bitlen = (s->nid + 7) / 8;
    if (!current || !all) return 0;
    /* every product of the snapshot must be in #all (none added behind the bitmaps' back) */
    size_t have = 0;
    for (uint32_t id = 0; id < s->nid; id++)
        if (s->rank[id] != CS_NONE && (size_t)id / 8 < alllen && (all[id / 8] >> (id % 8) & 1)) have++;
    if ((long)have != s->count) return 0;
    s->bits = malloc((n + 1) * sizeof(*s->bits));
    s->blob = malloc(bytes + 1);
    if (!s->bits || !s->blob) return -1;
    size_t at = 0;
    for (size_t r = 0; r < rs->nrows; r++) {
        const char *k = db_cell(rs, r, 0);
        if (!strcmp(k, "=bits_version") || !db_cell(rs, r, 2)) continue;
        size_t kl = strlen(k) + 1, bl = rs->lens[r * rs->ncols + 2];
        struct cs_bits *b = &s->bits[s->nbits++];
        memcpy(s->blob + at, k, kl);
        b->key = (const char *)s->blob + at;
        at += kl;
        memcpy(s->blob + at, db_cell(rs, r, 2), bl);
        b->bits = s->blob + at;
        b->len = bl < s->bitlen ? bl : s->bitlen;
        at += bl;
        b->n = db_cell(rs, r, 1) ? strtol(db_cell(rs, r, 1), NULL, 10) : 0;
    }
    qsort(s->bits, s->nbits, sizeof(*s->bits), cs_by_key);
    return 0;
}

int cs_load(struct db *db, uint64_t version, struct cs_snap **out, char *err, size_t errlen)
{
    *out = NULL;
    arena_t *tmp = ar_new(1 << 22);
    struct cs_snap *s = calloc(1, sizeof(*s));
    int rc = DB_OK, toobig = 0;
    if (!tmp || !s) {
        rc = cs_oom(err, errlen);
        goto out;
    }
    s->version = version;
    struct db_rows rs;
    rc = db_query(db, tmp, "SELECT id, sku, price, popularity, UNIX_TIMESTAMP(created_at) FROM products", NULL, 0,
                  0, &rs, err, errlen);
    if (rc != DB_OK) goto out;
    if (!rs.nrows) goto out;
    if (cs_products(s, &rs, &toobig) < 0) {
        rc = cs_oom(err, errlen);
        goto out;
    }
    if (toobig) goto out;
    /* The bitmaps (not the popularity tiers and price edges: prices are
     * here) and the version that built them. */
    rc = db_query(db, tmp,
                  "SELECT k, n, bits FROM attr_bitmaps WHERE k NOT LIKE 'pop:%' AND k NOT LIKE 'pmin:%' "
                  "AND k NOT LIKE 'pmax:%' UNION ALL SELECT '=bits_version', 0, v FROM catalog_meta "
                  "WHERE k = 'bits_version'",
                  NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) goto out;
    if (cs_bitmaps(s, &rs) < 0) {
        rc = cs_oom(err, errlen);
        goto out;
    }
    *out = s;
    s = NULL;
out:
    cs_free(s);
    ar_free(tmp);
    return rc;
}

/* ---- reading ------------------------------------------------------------------- */

int cs_has(const struct cs_snap *s, int64_t id)
{
    return id >= 0 && id < (int64_t)s->nid && s->rank[id] != CS_NONE;
}

const char *cs_sku(const struct cs_snap *s, int64_t id)
{
    return cs_has(s, id) ? s->pool + s->sku_off[s->rank[id]] : NULL;
}

int64_t cs_sku_pos(const struct cs_snap *s, const char *sku)
{
    size_t lo = 0, hi = (size_t)s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->pool + s->sku_off[mid], sku);
        if (c == 0) return 2 * (int64_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 2 * (int64_t)lo - 1;
}

uint8_t *cs_set(const struct cs_snap *s, arena_t *ar)
{
    return ar_calloc(ar, s->bitlen ? s->bitlen : 1, 1);
}

static const struct cs_bits *cs_find(const struct cs_snap *s, const char *key)
{
    struct cs_bits k = {.key = key};
    return s->nbits ? bsearch(&k, s->bits, s->nbits, sizeof(k), cs_by_key) : NULL;
}

int cs_filter(const struct cs_snap *s, const struct qp_filters *f, arena_t *ar, uint8_t *set)
{
    if (!s->nbits) return -1;
    struct cb_groups gs;
    cb_groups_of(f, ar, 0, &gs);
    if (!gs.ok) return -1;
    uint8_t *t = cs_set(s, ar);
    if (!t) return -1;
    const struct cs_bits *all = cs_find(s, "#all");
    if (!all) return -1;
    memset(set, 0, s->bitlen);
    cb_or(set, s->bitlen, all->bits, all->len);
    for (int g = 1; g < gs.n; g++) {
        memset(t, 0, s->bitlen);
        for (int k = 0; k < gs.g[g].nkeys; k++) {
            const struct cs_bits *b = cs_find(s, gs.g[g].keys[k]);
            if (b) cb_or(t, s->bitlen, b->bits, b->len);   /* a missing key: no product has it */
        }
        if (gs.g[g].negate) cb_andnot(set, s->bitlen, t, s->bitlen);
        else cb_and(set, s->bitlen, t, s->bitlen);
    }
    if (f->min_price >= 0 || f->max_price >= 0)
        for (size_t i = 0; i < s->bitlen; i++) {
            unsigned v = set[i];
            while (v) {
                int bit = __builtin_ctz(v);
                v &= v - 1;
                double p = s->price[i * 8 + (size_t)bit];
                if ((f->min_price >= 0 && p < f->min_price) || (f->max_price >= 0 && p > f->max_price))
                    set[i] &= (uint8_t)~(1u << bit);
            }
        }
    return 0;
}

/* ---- facets ------------------------------------------------------------------------ */

/* The counts of the bitmaps whose keys start with prefix, within set. */
static struct cat_value_count *cs_counts(const struct cs_snap *s, const uint8_t *set, const char *prefix,
                                         size_t *n)
{
    size_t pl = strlen(prefix), lo = 0, hi = s->nbits;
    /* the keys with the prefix are consecutive in strcmp order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(s->bits[mid].key, prefix, pl) < 0) lo = mid + 1;
        else hi = mid;
    }
    size_t end = lo;
    while (end < s->nbits && !strncmp(s->bits[end].key, prefix, pl)) end++;
    struct cat_value_count *v = malloc((end - lo + 1) * sizeof(*v));
    *n = 0;
    if (!v) return NULL;
    for (size_t i = lo; i < end; i++) {
        size_t c = cb_count_and(set, s->bitlen, s->bits[i].bits, s->bits[i].len);
        if (c) v[(*n)++] = (struct cat_value_count){s->bits[i].key + pl, (long)c};
    }
    return v;
}

json_object *cs_facets(const struct cs_snap *s, const uint8_t *set)
{
    if (!s->nbits) return NULL;
    size_t nz, nf, nc, nd;
    struct cat_value_count *sz = cs_counts(s, set, "size:", &nz), *fam = cs_counts(s, set, "fam:", &nf),
                           *cat = cs_counts(s, set, "cat:", &nc), *des = cs_counts(s, set, "des:", &nd);
    json_object *o = NULL;
    if (sz && fam && cat && des) {
        double lo = 0, hi = 0;
        int any = 0;
        for (size_t i = 0; i < s->bitlen; i++) {
            unsigned v = set[i];
            while (v) {
                int bit = __builtin_ctz(v);
                v &= v - 1;
                double p = s->price[i * 8 + (size_t)bit];
                if (isnan(p)) continue;
                if (!any || p < lo) lo = p;
                if (!any || p > hi) hi = p;
                any = 1;
            }
        }
        o = cat_facets_counted(sz, nz, fam, nf, cat, nc, des, nd, any, lo, hi);
    }
    free(sz);
    free(fam);
    free(cat);
    free(des);
    return o;
}

int cs_store_load(struct store *s, uint64_t version, struct cs_snap **out, char *err, size_t errlen)
{
    struct db *db = stm_db(s, err, errlen);
    if (!db) return ST_ECONN;
    return cs_load(db, version, out, err, errlen);
}
