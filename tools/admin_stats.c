/* admin_stats.c: `troika-admin stats`: what the catalog holds and whether
 * the vector index matches it (same embedder as configured, same count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "common/io/db.h"
#include "index/embed.h"
#include "index/vidx.h"
#include "tools/admin.h"

static int as_query(struct adm *a, const char *sql, struct db_rows *rows)
{
    char err[512];
    if (db_query(a->db, a->ar, sql, NULL, 0, 0, rows, err, sizeof(err)) != DB_OK) {
        fprintf(stderr, "stats: %s: %s\n", sql, err);
        return -1;
    }
    return 0;
}

static const char *as_cell(const struct db_rows *r, size_t row, size_t col)
{
    const char *s = r->nrows > row ? db_cell(r, row, col) : NULL;
    return s ? s : "0";
}

/* The index state, as JSON. */
static json_object *as_index(struct adm *a, long products, long long last_update)
{
    json_object *o = json_object_new_object();
    char err[512], path[1200];
    snprintf(path, sizeof(path), "%s/products.faiss", a->cfg.index_dir);
    json_object_object_add(o, "dir", json_object_new_string(a->cfg.index_dir));
    struct vidx_meta meta, *m = &meta;
    if (vidx_read_meta(a->cfg.index_dir, "products", &meta, err, sizeof(err)) < 0) {
        json_object_object_add(o, "present", json_object_new_boolean(0));
        json_object_object_add(o, "error", json_object_new_string(err));
        return o;
    }
    json_object_object_add(o, "present", json_object_new_boolean(1));
    json_object_object_add(o, "embedder", json_object_new_string(m->embedder));
    json_object_object_add(o, "dim", json_object_new_int(m->dim));
    json_object_object_add(o, "count", json_object_new_int64(m->count));
    json_object_object_add(o, "kind", json_object_new_string(m->kind));
    json_object_object_add(o, "nlist", json_object_new_int(m->nlist));
    json_object_object_add(o, "builtAt", json_object_new_int64(m->built_at));
    struct stat st;
    if (stat(path, &st) == 0) json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.st_size));
    struct embedder *e = emb_open(&a->cfg, err, sizeof(err));
    if (e) {
        int ok = !strcmp(e->name, m->embedder) && e->dim == m->dim;
        json_object_object_add(o, "configuredEmbedder", json_object_new_string(e->name));
        json_object_object_add(o, "matchesConfig", json_object_new_boolean(ok));
        emb_close(e);
    }
    json_object_object_add(o, "upToDate",
                           json_object_new_boolean(m->count == products && last_update <= m->built_at));
    return o;
}

int adm_stats(struct adm *a, int argc, char **argv)
{
    int as_json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc > 1 && !as_json) {
        fprintf(stderr, "Usage: troika-admin stats [--json]\n");
        return ADM_USAGE;
    }
    if (!adm_db(a)) return ADM_FAIL;
    struct db_rows tot, cats, des, upd;
    if (as_query(a, "SELECT COUNT(*), COALESCE(SUM(in_stock), 0), COALESCE(MIN(price), 0), "
                    "COALESCE(MAX(price), 0), COALESCE(ROUND(AVG(price), 2), 0) FROM products",
                 &tot) < 0 ||
        as_query(a, "SELECT category, COUNT(*), MIN(price), MAX(price) FROM products GROUP BY category "
                    "ORDER BY COUNT(*) DESC, category",
                 &cats) < 0 ||
        as_query(a, "SELECT COUNT(DISTINCT designer) FROM products", &des) < 0 ||
        as_query(a, "SELECT COALESCE(MAX(updated_at), ''), COALESCE(UNIX_TIMESTAMP(MAX(updated_at)), 0) "
                    "FROM products", &upd) < 0)
        return ADM_FAIL;
    long products = atol(as_cell(&tot, 0, 0));
    json_object *idx = as_index(a, products, atoll(as_cell(&upd, 0, 1)));
    /* The derived tables' versions (catalog_meta); none on a database
     * loaded before they existed. */
    struct db_rows der = {0};
    char derr[256];
    if (db_query(adm_db(a), a->ar, "SELECT k, v, updated_at FROM catalog_meta ORDER BY k", NULL, 0, 0, &der, derr,
                 sizeof(derr)) != DB_OK)
        der.nrows = 0;

    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "products", json_object_new_int64(products));
        json_object_object_add(o, "inStock", json_object_new_int64(atol(as_cell(&tot, 0, 1))));
        json_object_object_add(o, "designers", json_object_new_int64(atol(as_cell(&des, 0, 0))));
        json_object_object_add(o, "priceMin", json_object_new_double(atof(as_cell(&tot, 0, 2))));
        json_object_object_add(o, "priceMax", json_object_new_double(atof(as_cell(&tot, 0, 3))));
        json_object *co = json_object_new_object();
        for (size_t i = 0; i < cats.nrows; i++)
            json_object_object_add(co, db_cell(&cats, i, 0), json_object_new_int64(atol(db_cell(&cats, i, 1))));
        json_object_object_add(o, "categories", co);
        json_object_object_add(o, "lastUpdated", json_object_new_string(as_cell(&upd, 0, 0)));
        json_object_object_add(o, "index", idx);
        json_object *dj = json_object_new_object();
        for (size_t i = 0; i < der.nrows; i++) {
            json_object *x = json_object_new_object();
            json_object_object_add(x, "version", json_object_new_string(as_cell(&der, i, 1)));
            json_object_object_add(x, "builtAt", json_object_new_string(as_cell(&der, i, 2)));
            json_object_object_add(dj, db_cell(&der, i, 0), x);
        }
        json_object_object_add(o, "derived", dj);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return ADM_OK;
    }
    printf("Catalog (%s on %s)\n", a->cfg.db_name, a->cfg.db_socket[0] ? a->cfg.db_socket : a->cfg.db_host);
    printf("  products:   %ld (%s in stock)\n", products, as_cell(&tot, 0, 1));
    printf("  designers:  %s\n", as_cell(&des, 0, 0));
    printf("  prices:     %s .. %s (average %s) %s\n", as_cell(&tot, 0, 2), as_cell(&tot, 0, 3),
           as_cell(&tot, 0, 4), a->cfg.currency);
    printf("  updated:    %s\n", as_cell(&upd, 0, 0));
    printf("  categories:\n");
    for (size_t i = 0; i < cats.nrows; i++)
        printf("    %-14s %7s   %s .. %s\n", db_cell(&cats, i, 0), db_cell(&cats, i, 1), db_cell(&cats, i, 2),
               db_cell(&cats, i, 3));
    json_object *v;
    printf("Vector index (%s)\n", a->cfg.index_dir);
    if (json_object_object_get_ex(idx, "present", &v) && json_object_get_boolean(v)) {
        json_object *e, *d, *c, *k, *nl, *b, *t, *m, *u, *ce;
        json_object_object_get_ex(idx, "embedder", &e);
        json_object_object_get_ex(idx, "dim", &d);
        json_object_object_get_ex(idx, "count", &c);
        json_object_object_get_ex(idx, "kind", &k);
        json_object_object_get_ex(idx, "nlist", &nl);
        json_object_object_get_ex(idx, "builtAt", &t);
        time_t when = (time_t)json_object_get_int64(t);
        char ts[64];
        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", gmtime(&when));
        printf("  products:   %lld vectors, %s, nlist %d, dim %d\n", (long long)json_object_get_int64(c),
               json_object_get_string(k), json_object_get_int(nl), json_object_get_int(d));
        printf("  embedder:   %s\n", json_object_get_string(e));
        if (json_object_object_get_ex(idx, "bytes", &b))
            printf("  size:       %.1f MB\n", (double)json_object_get_int64(b) / 1048576.0);
        printf("  built:      %s\n", ts);
        if (json_object_object_get_ex(idx, "matchesConfig", &m) && !json_object_get_boolean(m)) {
            json_object_object_get_ex(idx, "configuredEmbedder", &ce);
            printf("  WARNING:    the configured embedder is %s: searches refuse this index; run "
                   "troika-admin build-index\n",
                   json_object_get_string(ce));
        }
        if (json_object_object_get_ex(idx, "upToDate", &u) && !json_object_get_boolean(u))
            printf("  note:       the catalog (%ld products) changed after this build; run troika-admin "
                   "build-index to include the changes\n",
                   products);
    } else {
        json_object *err;
        json_object_object_get_ex(idx, "error", &err);
        printf("  none: %s\n  (searches answer from full-text only; run troika-admin build-index)\n",
               err ? json_object_get_string(err) : "absent");
    }
    printf("Derived tables (import-products rebuilds them; build-index brings them up to date)\n");
    if (!der.nrows) printf("  none: run troika-admin import-products or build-index\n");
    for (size_t i = 0; i < der.nrows; i++) {
        const char *k = as_cell(&der, i, 0);
        const char *name = !strcmp(k, "terms_version")  ? "word counts (search_terms)"
                           : !strcmp(k, "bits_version") ? "attribute bitmaps (attr_bitmaps)"
                                                        : k;
        printf("  %-34s version %s, built %s\n", name, as_cell(&der, i, 1), as_cell(&der, i, 2));
    }
    json_object_put(idx);
    return ADM_OK;
}
