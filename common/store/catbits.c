/* catbits.c: attribute bitmaps of the catalog; see catbits.h.
 *
 * attr_bitmaps holds one row per attribute value: the key ("tag:velvet"),
 * how many products have it, and a bitset indexed by product id. cb_sync
 * rebuilds them from the child tables in one transaction; cb_plan fetches
 * the ones a browse needs in one statement and intersects them here. */
#include "common/store/catbits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/db.h"
#include "common/search/filters.h"

enum { CB_KEY_MAX = 200 };   /* characters of attr_bitmaps.k */

/* ---- set operations ---------------------------------------------------------- */

size_t cb_count(const uint8_t *b, size_t n)
{
    size_t c = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        c += (size_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) c += (size_t)__builtin_popcount(b[i]);
    return c;
}

size_t cb_count_and(const uint8_t *a, size_t n, const uint8_t *b, size_t bn)
{
    size_t m = bn < n ? bn : n, c = 0, i = 0;
    for (; i + 8 <= m; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        c += (size_t)__builtin_popcountll(x & y);
    }
    for (; i < m; i++) c += (size_t)__builtin_popcount((unsigned)(a[i] & b[i]));
    return c;
}

void cb_and(uint8_t *dst, size_t n, const uint8_t *src, size_t sn)
{
    size_t m = sn < n ? sn : n;
    for (size_t i = 0; i < m; i++) dst[i] &= src[i];
    if (m < n) memset(dst + m, 0, n - m);
}

void cb_andnot(uint8_t *dst, size_t n, const uint8_t *src, size_t sn)
{
    size_t m = sn < n ? sn : n;
    for (size_t i = 0; i < m; i++) dst[i] &= (uint8_t)~src[i];
}

void cb_or(uint8_t *dst, size_t n, const uint8_t *src, size_t sn)
{
    size_t m = sn < n ? sn : n;
    for (size_t i = 0; i < m; i++) dst[i] |= src[i];
}

size_t cb_list(const uint8_t *b, size_t n, int64_t *ids, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        unsigned v = b[i];
        while (v && k < max) {
            int bit = __builtin_ctz(v);
            ids[k++] = (int64_t)(i * 8 + (size_t)bit);
            v &= v - 1;
        }
    }
    return k;
}

int64_t cb_max_id(const uint8_t *b, size_t n)
{
    while (n && !b[n - 1]) n--;
    if (!n) return -1;
    return (int64_t)((n - 1) * 8 + (size_t)(31 - __builtin_clz(b[n - 1])));
}

const char *cb_key(arena_t *ar, const char *prefix, const char *value)
{
    size_t chars = 0;
    for (const char *s = prefix; *s; s++) chars++;
    for (const unsigned char *s = (const unsigned char *)value; *s; s++)
        if ((*s & 0xC0) != 0x80) chars++;
    if (chars > CB_KEY_MAX) return NULL;
    return ar_printf(ar, "%s%s", prefix, value);
}

/* ---- cost model ---------------------------------------------------------------- */

/* The bitmap path fetches the bitmaps (about 20 of them, a fixed cost),
 * reads the survivors it keeps (`read`) by primary key, sorts them and
 * keeps `limit`, then probes the EXISTS filters of those again. */
double cb_cost_bits(const struct cb_cost *c)
{
    double kept = c->read < c->limit ? (double)c->read : (double)c->limit;
    return CB_C_FIXED + (double)c->read * CB_C_READ + kept * c->nexists * CB_C_PROBE;
}

/* The walk meets a match every base / survivors entries in popularity
 * order and stops at the limit-th (all of base when fewer match), probing
 * the EXISTS filters of each entry; with any EXISTS filter MariaDB often
 * materializes the child rows of the value first (a fixed cost). */
double cb_cost_walk(const struct cb_cost *c)
{
    double examined = (double)c->base;
    if (c->survivors > 0) {
        double stop = (double)c->limit * (double)c->base / (double)c->survivors;
        if (stop < examined) examined = stop;
    }
    return examined * (CB_C_ENTRY + c->nexists * CB_C_PROBE) + (c->nexists ? CB_C_SEMIJOIN : 0);
}

int cb_prefer_bits(const struct cb_cost *c)
{
    return cb_cost_bits(c) <= cb_cost_walk(c);
}

/* ---- building ------------------------------------------------------------------- */

/* Where each family of bitmaps comes from: the distinct values (NULL: one
 * fixed key) and the ids of one value. `= ?` compares with the column's
 * collation, so every spelling that the search filter would match lands
 * in the value's bitmap. */
struct cb_src {
    const char *prefix;
    const char *values_sql;
    const char *ids_sql;
};

static const struct cb_src cb_srcs[] = {
    {"#all", NULL, "SELECT id FROM products"},
    {"stock:1", NULL, "SELECT id FROM products WHERE in_stock = 1"},
    {"cat:", "SELECT DISTINCT category FROM products", "SELECT id FROM products WHERE category = ?"},
    {"des:", "SELECT DISTINCT designer FROM products WHERE designer IS NOT NULL",
     "SELECT id FROM products WHERE designer = ?"},
    {"fam:", "SELECT DISTINCT family FROM product_colors", "SELECT product_id FROM product_colors WHERE family = ?"},
    {"col:", "SELECT DISTINCT color FROM product_colors", "SELECT product_id FROM product_colors WHERE color = ?"},
    {"size:", "SELECT DISTINCT size FROM product_sizes", "SELECT product_id FROM product_sizes WHERE size = ?"},
    {"tag:", "SELECT DISTINCT tag FROM product_tags", "SELECT product_id FROM product_tags WHERE tag = ?"},
};

/* Reads the ids of one value into bits[0..len) (cleared first) and stores
 * the row under key. tmp is reset afterwards. */
/* Stores bits[0..len) under key (trailing zero bytes left out). */
static int cb_store(struct db *db, const char *key, const uint8_t *bits, size_t len, char *err, size_t errlen)
{
    while (len && !bits[len - 1]) len--;
    struct db_param p[3] = {DB_STR(key), DB_INT((long long)cb_count(bits, len)), DB_BLOB(bits, len)};
    return db_exec(db, "INSERT INTO attr_bitmaps (k, n, bits) VALUES (?, ?, ?)", p, 3, NULL, NULL, err, errlen);
}

static int cb_put(struct db *db, arena_t *tmp, const char *key, const char *ids_sql, const char *value,
                  uint8_t *bits, size_t len, char *err, size_t errlen)
{
    struct db_param p[1];
    struct db_rows rs;
    memset(bits, 0, len);
    size_t np = 0;
    if (value) p[np++] = DB_STR(value);
    int rc = db_query(db, tmp, ids_sql, p, np, 0, &rs, err, errlen);
    if (rc != DB_OK) goto out;
    for (size_t r = 0; r < rs.nrows; r++) {
        const char *c = db_cell(&rs, r, 0);
        unsigned long long id = c ? strtoull(c, NULL, 10) : 0;
        if (id / 8 < len) bits[id / 8] |= (uint8_t)(1u << (id % 8));
    }
    rc = cb_store(db, key, bits, len, err, errlen);
out:
    ar_reset(tmp);
    return rc;
}

/* Price edges: "pmax:E" holds the products priced at most E, "pmin:E"
 * those priced at least E, for E on a grid of shop-like amounts (1, 1.25,
 * 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 times 100 .. 10,000,000). A price filter
 * takes the nearest edge outside its bound: a superset, which the SQL
 * over the survivors narrows to the exact bound. */
static const double cb_price_steps[] = {1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5};
enum { CB_PRICE_DECADES = 6, CB_PRICE_EDGES = 10 * CB_PRICE_DECADES };

static double cb_price_edge(int i)
{
    double d = 100;
    for (int k = 0; k < i / 10; k++) d *= 10;
    return cb_price_steps[i % 10] * d;
}

static int cb_prices(struct db *db, arena_t *tmp, uint8_t *bits, size_t len, char *err, size_t errlen)
{
    struct db_rows rs;
    int rc = db_query(db, tmp, "SELECT id, price FROM products", NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) goto out;
    for (int dir = 0; dir < 2; dir++)
        for (int e = 0; e < CB_PRICE_EDGES; e++) {
            double edge = cb_price_edge(e);
            memset(bits, 0, len);
            for (size_t r = 0; r < rs.nrows; r++) {
                const char *c = db_cell(&rs, r, 0), *pc = db_cell(&rs, r, 1);
                unsigned long long id = c ? strtoull(c, NULL, 10) : 0;
                double price = pc ? strtod(pc, NULL) : 0;
                if (id / 8 < len && (dir ? price >= edge : price <= edge))
                    bits[id / 8] |= (uint8_t)(1u << (id % 8));
            }
            char key[32];
            snprintf(key, sizeof(key), "%s%.0f", dir ? "pmin:" : "pmax:", edge);
            rc = cb_store(db, key, bits, len, err, errlen);
            if (rc != DB_OK) goto out;
        }
out:
    ar_reset(tmp);
    return rc;
}

/* Popularity tiers: "pop:1" holds the products whose popularity is at
 * least that of the product ranked ceil(N / 2^(CB_TIERS + 1 - t)) by
 * popularity, i.e. about the top 1/256, 1/128, ..., 1/2 of the catalog:
 * always every product at least as popular as any member (an up-set of
 * the browse order), whatever the ties. */
static int cb_tiers(struct db *db, arena_t *ar, arena_t *tmp, uint8_t *bits, size_t len, char *err, size_t errlen)
{
    struct db_rows rs;
    int rc = db_query(db, ar, "SELECT COUNT(*) FROM products", NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    long long n = rs.nrows && db_cell(&rs, 0, 0) ? strtoll(db_cell(&rs, 0, 0), NULL, 10) : 0;
    for (int t = 1; t <= CB_TIERS && n > 0; t++) {
        long long rank = (n + (1LL << (CB_TIERS + 1 - t)) - 1) >> (CB_TIERS + 1 - t);
        struct db_param p[1] = {DB_INT(rank - 1)};
        rc = db_query(db, tmp, "SELECT popularity FROM products ORDER BY popularity DESC LIMIT 1 OFFSET ?", p, 1,
                      0, &rs, err, errlen);
        if (rc != DB_OK) return rc;
        const char *thr = rs.nrows ? db_cell(&rs, 0, 0) : NULL;
        if (!thr) continue;
        char key[16];
        snprintf(key, sizeof(key), "pop:%d", t);
        const char *value = ar_strdup(ar, thr);
        ar_reset(tmp);
        rc = cb_put(db, tmp, key, "SELECT id FROM products WHERE popularity >= ?", value, bits, len, err, errlen);
        if (rc != DB_OK) return rc;
    }
    return DB_OK;
}

static int cb_build(struct db *db, arena_t *ar, arena_t *tmp, char *err, size_t errlen)
{
    struct db_rows rs;
    int rc = db_exec(db, "DELETE FROM attr_bitmaps", NULL, 0, NULL, NULL, err, errlen);
    if (rc != DB_OK) return rc;
    rc = db_query(db, ar, "SELECT COALESCE(MAX(id), 0) FROM products", NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    unsigned long long maxid = rs.nrows && db_cell(&rs, 0, 0) ? strtoull(db_cell(&rs, 0, 0), NULL, 10) : 0;
    if (maxid > CB_MAX_ID) return DB_OK;   /* left empty: browsing walks the indexes */
    size_t len = (size_t)(maxid / 8 + 1);
    uint8_t *bits = ar_alloc(ar, len);
    if (!bits) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    rc = cb_tiers(db, ar, tmp, bits, len, err, errlen);
    if (rc == DB_OK) rc = cb_prices(db, tmp, bits, len, err, errlen);
    if (rc != DB_OK) return rc;
    for (size_t s = 0; s < sizeof(cb_srcs) / sizeof(cb_srcs[0]); s++) {
        const struct cb_src *src = &cb_srcs[s];
        if (!src->values_sql) {
            rc = cb_put(db, tmp, src->prefix, src->ids_sql, NULL, bits, len, err, errlen);
            if (rc != DB_OK) return rc;
            continue;
        }
        struct db_rows vals;
        rc = db_query(db, ar, src->values_sql, NULL, 0, 0, &vals, err, errlen);
        if (rc != DB_OK) return rc;
        for (size_t v = 0; v < vals.nrows; v++) {
            const char *value = db_cell(&vals, v, 0);
            const char *key = value ? cb_key(ar, src->prefix, value) : NULL;
            if (!key) continue;   /* too long for a key: lookups of it walk */
            rc = cb_put(db, tmp, key, src->ids_sql, value, bits, len, err, errlen);
            if (rc != DB_OK) return rc;
        }
    }
    return DB_OK;
}

int cb_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    *rebuilt = 0;
    struct db_rows rs;
    int rc;
    if (!force) {
        rc = db_query(db, ar, "SELECT v FROM catalog_meta WHERE k = 'bits_version'", NULL, 0, 0, &rs, err, errlen);
        if (rc != DB_OK) return rc;
        if (rs.nrows && db_cell(&rs, 0, 0) && !strcmp(db_cell(&rs, 0, 0), CB_VERSION)) return DB_OK;
    }
    arena_t *tmp = ar_new(1 << 20);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    rc = db_begin(db, err, errlen);
    if (rc != DB_OK) goto out;
    rc = cb_build(db, ar, tmp, err, errlen);
    if (rc == DB_OK) {
        struct db_param p[1] = {DB_STR(CB_VERSION)};
        rc = db_exec(db,
                     "INSERT INTO catalog_meta (k, v) VALUES ('bits_version', ?) "
                     "ON DUPLICATE KEY UPDATE v = VALUES(v), updated_at = CURRENT_TIMESTAMP",
                     p, 1, NULL, NULL, err, errlen);
    }
    if (rc == DB_OK) rc = db_commit(db, err, errlen);
    if (rc != DB_OK) db_rollback(db);
    else *rebuilt = 1;
out:
    ar_free(tmp);
    return rc;
}

/* ---- planning a browse ------------------------------------------------------------ */

static const char *const cb_tier_keys[CB_TIERS] = {"pop:1", "pop:2", "pop:3", "pop:4",
                                                   "pop:5", "pop:6", "pop:7", "pop:8"};

static void cb_add(struct cb_groups *gs, arena_t *ar, const char *prefix, const char *const *values, int max,
                   int negate)
{
    struct cb_group *g = &gs->g[gs->n++];
    g->nkeys = 0;
    g->negate = negate;
    for (int i = 0; values[i] && i < max && i < CB_GROUP_KEYS; i++) {
        const char *k = cb_key(ar, prefix, values[i]);
        if (!k) gs->ok = 0;
        else g->keys[g->nkeys++] = k;
    }
}

void cb_groups_of(const struct qp_filters *f, arena_t *ar, int with_price, struct cb_groups *gs)
{
    memset(gs, 0, sizeof(*gs));
    gs->ok = 1;
    gs->cat = -1;
    const char *one[2] = {NULL, NULL};
    one[0] = "";
    cb_add(gs, ar, "#all", one, 1, 0);
    /* a filter matched by its words in the product's text: no bitmap */
    for (int id = 0; id < QPF_N; id++)
        if (qp_filter_broad(f, (enum qp_filter_id)id)) gs->ok = 0;
    for (int id = 0; id < QPF_N; id++) {
        const struct qp_filter_def *d = &qp_filter_defs[id];
        const char *v[QPF_MAX_VALUES + 1];
        int alt, n = qp_filter_values(f, d->id, v, &alt);
        if (!n) continue;
        v[n] = NULL;
        if (d->id == QPF_CATEGORY) gs->cat = gs->n;
        cb_add(gs, ar, alt ? d->alt_bits : d->bits, v, n, 0);
        if (d->table) gs->nexists++;   /* an EXISTS lookup in the walk */
    }
    if (f->in_stock >= 0) {
        one[0] = "1";
        cb_add(gs, ar, qp_filter_defs[QPF_IN_STOCK].bits, one, 1, f->in_stock == 0);
    }
    if (!with_price) return;
    /* Price: the nearest edges outside the bounds (none past the grid). */
    char edge[32];
    if (f->max_price >= 0)
        for (int e = 0; e < CB_PRICE_EDGES; e++)
            if (cb_price_edge(e) >= f->max_price) {
                snprintf(edge, sizeof(edge), "%.0f", cb_price_edge(e));
                one[0] = edge;
                cb_add(gs, ar, qp_filter_defs[QPF_MAX_PRICE].bits, one, 1, 0);
                break;
            }
    if (f->min_price >= 0)
        for (int e = CB_PRICE_EDGES - 1; e >= 0; e--)
            if (cb_price_edge(e) <= f->min_price) {
                snprintf(edge, sizeof(edge), "%.0f", cb_price_edge(e));
                one[0] = edge;
                cb_add(gs, ar, qp_filter_defs[QPF_MIN_PRICE].bits, one, 1, 0);
                break;
            }
}

int cb_plan(struct db *db, arena_t *ar, const struct qp_filters *f, int limit, struct cb_plan *out, char *err,
            size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->ar = ar;
    out->plan = "nobits";
    out->cost.limit = limit;
    struct cb_groups gs;
    cb_groups_of(f, ar, 1, &gs);
    out->cost.nexists = gs.nexists;
    if (!gs.ok) return DB_OK;

    /* One statement: every group's rows, tagged with the group, and the
     * newest product id (a product newer than the bitmaps makes them
     * stale: walk). */
    struct db_param p[CB_GROUPS * CB_GROUP_KEYS + CB_TIERS];
    size_t np = 0;
    buf_t sql;
    buf_init(&sql, ar, 8192);
    for (int g = 0; g < gs.n; g++) {
        if (!gs.g[g].nkeys) continue;
        buf_printf(&sql, "%sSELECT %d, n, bits FROM attr_bitmaps WHERE k IN (", g ? " UNION ALL " : "", g);
        for (int k = 0; k < gs.g[g].nkeys; k++) {
            buf_adds(&sql, k ? ", ?" : "?");
            p[np++] = DB_STR(gs.g[g].keys[k]);
        }
        buf_addc(&sql, ')');
    }
    buf_printf(&sql, " UNION ALL SELECT 100 + CAST(SUBSTRING(k, 5) AS INT), n, bits FROM attr_bitmaps WHERE k IN (");
    for (int t = 1; t <= CB_TIERS; t++) {
        buf_adds(&sql, t > 1 ? ", ?" : "?");
        p[np++] = DB_STR(cb_tier_keys[t - 1]);
    }
    buf_adds(&sql, ") UNION ALL SELECT -1, COALESCE(MAX(id), 0), NULL FROM products"
                   " UNION ALL SELECT -2, v, NULL FROM catalog_meta WHERE k = 'bits_version'");
    if (sql.toobig) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    struct db_rows rs;
    int rc = db_query(db, ar, sql.p, p, np, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;

    const uint8_t *all = NULL;
    size_t alllen = 0;
    long allcount = 0;
    long long newest = 0;
    int current = 0;
    for (size_t r = 0; r < rs.nrows; r++) {
        int g = atoi(db_cell(&rs, r, 0));
        const char *n = db_cell(&rs, r, 1);
        if (g == -2) current = n && !strcmp(n, CB_VERSION);
        else if (g < 0) newest = n ? strtoll(n, NULL, 10) : 0;
        else if (g == 0 && db_cell(&rs, r, 2)) {
            all = (const uint8_t *)db_cell(&rs, r, 2);
            alllen = rs.lens[r * rs.ncols + 2];
            allcount = n ? strtol(n, NULL, 10) : 0;
        }
    }
    /* none built, built by another version (other keys), or stale */
    if (!all || !current || newest > cb_max_id(all, alllen)) return DB_OK;

    uint8_t *w = ar_alloc(ar, alllen + 1), *t = ar_alloc(ar, alllen + 1);
    if (!w || !t) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    memcpy(w, all, alllen);
    out->cost.base = gs.cat < 0 ? allcount : 0;
    for (int g = 1; g < gs.n; g++) {
        memset(t, 0, alllen);
        for (size_t r = 0; r < rs.nrows; r++) {
            if (atoi(db_cell(&rs, r, 0)) != g || !db_cell(&rs, r, 2)) continue;
            cb_or(t, alllen, (const uint8_t *)db_cell(&rs, r, 2), rs.lens[r * rs.ncols + 2]);
            if (g == gs.cat) out->cost.base += db_cell(&rs, r, 1) ? strtol(db_cell(&rs, r, 1), NULL, 10) : 0;
        }
        if (gs.g[g].negate) cb_andnot(w, alllen, t, alllen);
        else cb_and(w, alllen, t, alllen);
    }
    out->cost.survivors = (long)cb_count(w, alllen);
    out->w = w;
    out->scratch = t;
    out->wlen = alllen;
    for (size_t r = 0; r < rs.nrows; r++) {
        int g = atoi(db_cell(&rs, r, 0));
        if (g > 100 && g <= 100 + CB_TIERS && db_cell(&rs, r, 2)) {
            out->tier[g - 101] = (const uint8_t *)db_cell(&rs, r, 2);
            out->tierlen[g - 101] = rs.lens[r * rs.ncols + 2];
        }
    }
    /* The smallest popularity tier that still holds `limit` survivors
     * holds the `limit` best of them: only its survivors need reading. */
    out->at = -1;
    out->cost.read = out->cost.survivors;
    if (cb_plan_widen(out, limit) < 0) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    out->cost.read = (long)out->nids;
    if (!cb_prefer_bits(&out->cost) || out->cost.read > CB_MAX_SURVIVORS) out->plan = "walk";
    else out->plan = "bitmap";
    return DB_OK;
}

int cb_plan_widen(struct cb_plan *pl, long want)
{
    if (pl->at >= CB_TIERS) return 0;
    size_t have = pl->ids ? pl->nids : 0;
    int at = pl->at + 1;
    size_t count = (size_t)pl->cost.survivors;
    for (; at < CB_TIERS; at++) {
        if (!pl->tier[at]) continue;
        count = cb_count_and(pl->w, pl->wlen, pl->tier[at], pl->tierlen[at]);
        if (count >= (size_t)want && count > have) break;
    }
    if (at >= CB_TIERS) count = (size_t)pl->cost.survivors;
    if (pl->ids && count <= have) {
        pl->at = CB_TIERS;
        return 0;
    }
    pl->at = at;
    if (!pl->ids || pl->idcap < count) {
        pl->ids = ar_alloc(pl->ar, (count + 1) * sizeof(*pl->ids));
        pl->idcap = count;
        if (!pl->ids) return -1;
    }
    if (at < CB_TIERS) {
        memcpy(pl->scratch, pl->w, pl->wlen);
        cb_and(pl->scratch, pl->wlen, pl->tier[at], pl->tierlen[at]);
        pl->nids = cb_list(pl->scratch, pl->wlen, pl->ids, count);
    } else {
        pl->nids = cb_list(pl->w, pl->wlen, pl->ids, count);
    }
    return 1;
}
