/* products.c: the products store's SQL (MariaDB); see products.h. Every
 * value is a bound parameter; multi-row statements are built from fixed
 * fragments ("(?,?,...)" tuples). */
#include "common/store/products.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store/catbits.h"
#include "common/store/catterms.h"
#include "common/store/mariadb.h"

enum { PR_UPSERT_COLS = 16, PR_DELETE_BATCH = 500 };

#define PR_DB(s, err, errlen)                       \
    struct db *d = stm_db((s), (err), (errlen));    \
    if (!d) return ST_ECONN

static int pr_oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return ST_EQUERY;
}

static const char *pr_cell(const struct db_rows *r, size_t row, size_t col)
{
    const char *s = r->nrows > row ? db_cell(r, row, col) : NULL;
    return s ? s : "0";
}

/* "(?,?,...)" n times, comma-separated, with k placeholders each. */
static void pr_tuples(buf_t *b, int n, int k)
{
    for (int i = 0; i < n; i++) {
        buf_adds(b, i ? ",(" : "(");
        for (int j = 0; j < k; j++) buf_adds(b, j ? ",?" : "?");
        buf_addc(b, ')');
    }
}

static struct db_param pr_opt(const char *s)
{
    return s ? DB_STR(s) : DB_NULL;
}

static int prm_hashes(struct store *s, arena_t *ar, struct pr_hash **out, size_t *n, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_rows rows;
    *n = 0;
    int rc = db_query(d, ar, "SELECT sku, content_hash FROM products", NULL, 0, 0, &rows, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rows.nrows ? rows.nrows : 1) * sizeof(**out));
    if (!*out) return pr_oom(err, errlen);
    for (size_t i = 0; i < rows.nrows; i++)
        (*out)[i] = (struct pr_hash){db_cell(&rows, i, 0),
                                     strtoull(db_cell(&rows, i, 1) ? db_cell(&rows, i, 1) : "0", NULL, 10)};
    *n = rows.nrows;
    return ST_OK;
}

/* ---- upsert ----------------------------------------------------------------- */

static const char pr_upsert_head[] =
    "INSERT INTO products (sku, title, description, category, designer, colors, sizes, price, currency, "
    "in_stock, stock_count, tags, image_url, url, popularity, content_hash) VALUES ";
static const char pr_upsert_tail[] =
    " ON DUPLICATE KEY UPDATE title = VALUES(title), description = VALUES(description), "
    "category = VALUES(category), designer = VALUES(designer), colors = VALUES(colors), "
    "sizes = VALUES(sizes), price = VALUES(price), currency = VALUES(currency), "
    "in_stock = VALUES(in_stock), stock_count = VALUES(stock_count), tags = VALUES(tags), "
    "image_url = VALUES(image_url), url = VALUES(url), popularity = VALUES(popularity), "
    "content_hash = VALUES(content_hash)";

/* The product rows, one statement. */
static int pr_upsert_rows(struct db *d, arena_t *ar, struct pr_product *const *v, int n, struct db_param *p,
                          char *err, size_t errlen)
{
    buf_t sql;
    buf_init(&sql, ar, 1 << 22);
    buf_adds(&sql, pr_upsert_head);
    pr_tuples(&sql, n, PR_UPSERT_COLS);
    buf_adds(&sql, pr_upsert_tail);
    if (!sql.p) return pr_oom(err, errlen);
    size_t np = 0;
    for (int i = 0; i < n; i++) {
        const struct pr_product *x = v[i];
        p[np++] = DB_STR(x->sku);
        p[np++] = DB_STR(x->title);
        p[np++] = pr_opt(x->description);
        p[np++] = DB_STR(x->category);
        p[np++] = pr_opt(x->designer);
        p[np++] = DB_STR(x->colors_json);
        p[np++] = DB_STR(x->sizes_json);
        p[np++] = DB_STR(x->price);
        p[np++] = DB_STR(x->currency);
        p[np++] = DB_INT(x->in_stock);
        p[np++] = x->stock_count >= 0 ? DB_INT(x->stock_count) : DB_NULL;
        p[np++] = DB_STR(x->tags_text);
        p[np++] = pr_opt(x->image_url);
        p[np++] = pr_opt(x->url);
        p[np++] = DB_DOUBLE(x->popularity);
        p[np++] = DB_INT((long long)x->hash);
    }
    return db_exec(d, sql.p, p, np, NULL, NULL, err, errlen);
}

/* The ids of v[0..n) after their upsert, into ids[]. */
static int pr_upsert_ids(struct db *d, arena_t *ar, struct pr_product *const *v, int n, struct db_param *p,
                         long long *ids, char *err, size_t errlen)
{
    buf_t sql;
    buf_init(&sql, ar, 1 << 20);
    buf_adds(&sql, "SELECT id, sku FROM products WHERE sku IN ");
    pr_tuples(&sql, 1, n);
    if (!sql.p) return pr_oom(err, errlen);
    for (int i = 0; i < n; i++) p[i] = DB_STR(v[i]->sku);
    struct db_rows rows;
    int rc = db_query(d, ar, sql.p, p, (size_t)n, 0, &rows, err, errlen);
    if (rc != DB_OK) return rc;
    for (size_t k = 0; k < rows.nrows; k++)
        for (int i = 0; i < n; i++)
            if (!strcmp(db_cell(&rows, k, 1), v[i]->sku)) ids[i] = strtoll(db_cell(&rows, k, 0), NULL, 10);
    for (int i = 0; i < n; i++)
        if (!ids[i]) {
            snprintf(err, errlen, "sku %s vanished after its upsert", v[i]->sku);
            return ST_EQUERY;
        }
    return ST_OK;
}

/* Sizes, colours and tags of v[0..n) replaced: deleted, then inserted. */
static int pr_upsert_children(struct db *d, arena_t *ar, struct pr_product *const *v, const long long *ids, int n,
                              char *err, size_t errlen)
{
    static const char *const tables[] = {"product_sizes", "product_colors", "product_tags"};
    struct db_param *p = ar_alloc(ar, (size_t)n * PR_MAX_TAGS * 3 * sizeof(*p) + sizeof(*p) * (size_t)n);
    if (!p) return pr_oom(err, errlen);
    for (size_t t = 0; t < 3; t++) {
        buf_t sql;
        buf_init(&sql, ar, 1 << 20);
        buf_printf(&sql, "DELETE FROM %s WHERE product_id IN ", tables[t]);
        pr_tuples(&sql, 1, n);
        for (int i = 0; i < n; i++) p[i] = DB_INT(ids[i]);
        int rc = sql.p ? db_exec(d, sql.p, p, (size_t)n, NULL, NULL, err, errlen) : pr_oom(err, errlen);
        if (rc != DB_OK) return rc;
    }
    for (size_t t = 0; t < 3; t++) {
        size_t np = 0;
        int rowsn = 0;
        int k = t == 1 ? 3 : 2;
        for (int i = 0; i < n; i++) {
            int cnt = t == 0 ? v[i]->nsizes : t == 1 ? v[i]->ncolors : v[i]->ntags;
            for (int j = 0; j < cnt; j++) {
                p[np++] = DB_INT(ids[i]);
                if (t == 0) p[np++] = DB_STR(v[i]->sizes[j]);
                if (t == 1) p[np++] = DB_STR(v[i]->colors[j]), p[np++] = DB_STR(v[i]->families[j]);
                if (t == 2) p[np++] = DB_STR(v[i]->tags[j]);
                rowsn++;
            }
        }
        if (!rowsn) continue;
        buf_t sql;
        buf_init(&sql, ar, 1 << 20);
        buf_printf(&sql, "INSERT INTO %s VALUES ", tables[t]);
        pr_tuples(&sql, rowsn, k);
        int rc = sql.p ? db_exec(d, sql.p, p, np, NULL, NULL, err, errlen) : pr_oom(err, errlen);
        if (rc != DB_OK) return rc;
    }
    return DB_OK;
}

static int prm_upsert(struct store *s, arena_t *ar, struct pr_product *const *v, int n, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    int rc = db_begin(d, err, errlen);
    if (rc != DB_OK) return rc;
    struct db_param *p = ar_alloc(ar, (size_t)n * PR_UPSERT_COLS * sizeof(*p));
    long long *ids = ar_calloc(ar, (size_t)n, sizeof(*ids));
    if (!p || !ids) rc = pr_oom(err, errlen);
    if (rc == DB_OK) rc = pr_upsert_rows(d, ar, v, n, p, err, errlen);
    if (rc == DB_OK) rc = pr_upsert_ids(d, ar, v, n, p, ids, err, errlen);
    if (rc == DB_OK) rc = pr_upsert_children(d, ar, v, ids, n, err, errlen);
    if (rc == DB_OK) rc = db_commit(d, err, errlen);
    if (rc != DB_OK && rc != DB_ECONN) db_rollback(d);
    return rc;
}

/* ---- prune, statistics, derived tables -------------------------------------- */

static int prm_delete_skus(struct store *s, arena_t *ar, const char *const *skus, size_t n, char *err,
                           size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_param p[PR_DELETE_BATCH];
    int rc = db_begin(d, err, errlen);
    for (size_t off = 0; rc == DB_OK && off < n; off += PR_DELETE_BATCH) {
        size_t np = n - off < PR_DELETE_BATCH ? n - off : PR_DELETE_BATCH;
        buf_t sql;
        buf_init(&sql, ar, 1 << 16);
        buf_adds(&sql, "DELETE FROM products WHERE sku IN (");
        for (size_t k = 0; k < np; k++) {
            buf_adds(&sql, k ? ",?" : "?");
            p[k] = DB_STR(skus[off + k]);
        }
        buf_addc(&sql, ')');
        rc = sql.p ? db_exec(d, sql.p, p, np, NULL, NULL, err, errlen) : pr_oom(err, errlen);
    }
    if (rc == DB_OK) rc = db_commit(d, err, errlen);
    if (rc != DB_OK && rc != DB_ECONN) db_rollback(d);
    return rc;
}

/* After a bulk change, so that the optimizer's plans for the search
 * filters do not depend on when InnoDB's background sampling last ran. */
static int prm_analyze(struct store *s, arena_t *ar, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_rows rows;
    return db_query(d, ar, "ANALYZE TABLE products, product_sizes, product_colors, product_tags", NULL, 0, 0, &rows,
                    err, errlen);
}

static int prm_sync_terms(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    return ct_sync(d, ar, force, rebuilt, err, errlen);
}

static int prm_sync_bits(struct store *s, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    return cb_sync(d, ar, force, rebuilt, err, errlen);
}

static int prm_bump_version(struct store *s, arena_t *ar, char *err, size_t errlen)
{
    (void)ar;
    PR_DB(s, err, errlen);
    return db_exec(d,
                   "INSERT INTO catalog_meta (k, v) VALUES ('catalog_version', '1') "
                   "ON DUPLICATE KEY UPDATE v = CAST(v AS UNSIGNED) + 1",
                   NULL, 0, NULL, NULL, err, errlen);
}

/* ---- reads for build-index and stats ----------------------------------------- */

static int prm_freshness(struct store *s, arena_t *ar, long *count, long long *changed, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_rows rows;
    int rc = db_query(d, ar, "SELECT COUNT(*), COALESCE(UNIX_TIMESTAMP(MAX(updated_at)), 0) FROM products", NULL,
                      0, 0, &rows, err, errlen);
    if (rc != DB_OK) return rc;
    *count = atol(pr_cell(&rows, 0, 0));
    *changed = atoll(pr_cell(&rows, 0, 1));
    return ST_OK;
}

static int prm_texts(struct store *s, arena_t *ar, long long after, int limit, struct pr_text **out, size_t *n,
                     char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_rows rows;
    struct db_param p[2] = {DB_INT(after), DB_INT(limit)};
    *n = 0;
    int rc = db_query(d, ar,
                      "SELECT id, title, category, designer, colors, tags, description FROM products "
                      "WHERE id > ? ORDER BY id LIMIT ?",
                      p, 2, 0, &rows, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rows.nrows ? rows.nrows : 1) * sizeof(**out));
    if (!*out) return pr_oom(err, errlen);
    for (size_t r = 0; r < rows.nrows; r++)
        (*out)[r] = (struct pr_text){strtoll(db_cell(&rows, r, 0), NULL, 10), db_cell(&rows, r, 1),
                                     db_cell(&rows, r, 2), db_cell(&rows, r, 3), db_cell(&rows, r, 4),
                                     db_cell(&rows, r, 5), db_cell(&rows, r, 6)};
    *n = rows.nrows;
    return ST_OK;
}

static int prm_categories(struct db *d, arena_t *ar, struct pr_stats *out, char *err, size_t errlen)
{
    struct db_rows cats;
    int rc = db_query(d, ar,
                      "SELECT category, COUNT(*), MIN(price), MAX(price) FROM products GROUP BY category "
                      "ORDER BY COUNT(*) DESC, category",
                      NULL, 0, 0, &cats, err, errlen);
    if (rc != DB_OK) return rc;
    out->categories = ar_alloc(ar, (cats.nrows ? cats.nrows : 1) * sizeof(*out->categories));
    if (!out->categories) return pr_oom(err, errlen);
    for (size_t i = 0; i < cats.nrows; i++)
        out->categories[i] = (struct pr_category){db_cell(&cats, i, 0) ? db_cell(&cats, i, 0) : "",
                                                  atol(pr_cell(&cats, i, 1)), pr_cell(&cats, i, 2),
                                                  pr_cell(&cats, i, 3)};
    out->ncategories = cats.nrows;
    return ST_OK;
}

/* The derived tables' versions (catalog_meta); none on a database loaded
 * before they existed, so a failure here is not one of stats. */
static void prm_derived(struct db *d, arena_t *ar, struct pr_stats *out)
{
    struct db_rows der;
    char derr[256];
    out->nderived = 0;
    if (db_query(d, ar, "SELECT k, v, updated_at FROM catalog_meta ORDER BY k", NULL, 0, 0, &der, derr,
                 sizeof(derr)) != DB_OK)
        return;
    out->derived = ar_alloc(ar, (der.nrows ? der.nrows : 1) * sizeof(*out->derived));
    if (!out->derived) return;
    for (size_t i = 0; i < der.nrows; i++)
        out->derived[i] = (struct pr_derived){pr_cell(&der, i, 0), pr_cell(&der, i, 1), pr_cell(&der, i, 2)};
    out->nderived = der.nrows;
}

static int prm_stats(struct store *s, arena_t *ar, struct pr_stats *out, char *err, size_t errlen)
{
    PR_DB(s, err, errlen);
    struct db_rows tot, des, upd;
    memset(out, 0, sizeof(*out));
    int rc = db_query(d, ar,
                      "SELECT COUNT(*), COALESCE(SUM(in_stock), 0), COALESCE(MIN(price), 0), "
                      "COALESCE(MAX(price), 0), COALESCE(ROUND(AVG(price), 2), 0) FROM products",
                      NULL, 0, 0, &tot, err, errlen);
    if (rc == DB_OK) rc = prm_categories(d, ar, out, err, errlen);
    if (rc == DB_OK)
        rc = db_query(d, ar, "SELECT COUNT(DISTINCT designer) FROM products", NULL, 0, 0, &des, err, errlen);
    if (rc == DB_OK)
        rc = db_query(d, ar,
                      "SELECT COALESCE(MAX(updated_at), ''), COALESCE(UNIX_TIMESTAMP(MAX(updated_at)), 0) "
                      "FROM products",
                      NULL, 0, 0, &upd, err, errlen);
    if (rc != DB_OK) return rc;
    out->products = atol(pr_cell(&tot, 0, 0));
    out->in_stock = atol(pr_cell(&tot, 0, 1));
    out->price_min = pr_cell(&tot, 0, 2);
    out->price_max = pr_cell(&tot, 0, 3);
    out->price_avg = pr_cell(&tot, 0, 4);
    out->designers = atol(pr_cell(&des, 0, 0));
    out->last_updated = pr_cell(&upd, 0, 0);
    out->last_updated_unix = atoll(pr_cell(&upd, 0, 1));
    prm_derived(d, ar, out);
    return ST_OK;
}

const struct pr_ops pr_mariadb = {
    .hashes = prm_hashes,
    .upsert = prm_upsert,
    .delete_skus = prm_delete_skus,
    .analyze = prm_analyze,
    .sync_terms = prm_sync_terms,
    .sync_bits = prm_sync_bits,
    .bump_version = prm_bump_version,
    .freshness = prm_freshness,
    .texts = prm_texts,
    .stats = prm_stats,
};
