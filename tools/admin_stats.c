/* admin_stats.c: `troika-admin stats`: what the catalog holds and whether
 * the vector index matches it (same embedder as configured, same count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "common/store/products.h"
#include "index/embed.h"
#include "index/vidx.h"
#include "tools/admin.h"

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

static void as_print_json(const struct pr_stats *t, json_object *idx)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "products", json_object_new_int64(t->products));
    json_object_object_add(o, "inStock", json_object_new_int64(t->in_stock));
    json_object_object_add(o, "designers", json_object_new_int64(t->designers));
    json_object_object_add(o, "priceMin", json_object_new_double(atof(t->price_min)));
    json_object_object_add(o, "priceMax", json_object_new_double(atof(t->price_max)));
    json_object *co = json_object_new_object();
    for (size_t i = 0; i < t->ncategories; i++)
        json_object_object_add(co, t->categories[i].name, json_object_new_int64(t->categories[i].count));
    json_object_object_add(o, "categories", co);
    json_object_object_add(o, "lastUpdated", json_object_new_string(t->last_updated));
    json_object_object_add(o, "index", json_object_get(idx));
    json_object *dj = json_object_new_object();
    for (size_t i = 0; i < t->nderived; i++) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "version", json_object_new_string(t->derived[i].version));
        json_object_object_add(x, "builtAt", json_object_new_string(t->derived[i].built_at));
        json_object_object_add(dj, t->derived[i].key, x);
    }
    json_object_object_add(o, "derived", dj);
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void as_print_catalog(const struct adm *a, const struct pr_stats *t)
{
    printf("Catalog (%s on %s)\n", a->cfg.db_name, a->cfg.db_socket[0] ? a->cfg.db_socket : a->cfg.db_host);
    printf("  products:   %ld (%ld in stock)\n", t->products, t->in_stock);
    printf("  designers:  %ld\n", t->designers);
    printf("  prices:     %s .. %s (average %s) %s\n", t->price_min, t->price_max, t->price_avg, a->cfg.currency);
    printf("  updated:    %s\n", t->last_updated);
    printf("  categories:\n");
    for (size_t i = 0; i < t->ncategories; i++)
        printf("    %-14s %7ld   %s .. %s\n", t->categories[i].name, t->categories[i].count, t->categories[i].min,
               t->categories[i].max);
}

static void as_print_index(const struct adm *a, json_object *idx, long products)
{
    json_object *v;
    printf("Vector index (%s)\n", a->cfg.index_dir);
    if (!json_object_object_get_ex(idx, "present", &v) || !json_object_get_boolean(v)) {
        json_object *err;
        json_object_object_get_ex(idx, "error", &err);
        printf("  none: %s\n  (searches answer from full-text only; run troika-admin build-index)\n",
               err ? json_object_get_string(err) : "absent");
        return;
    }
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
}

static void as_print_derived(const struct pr_stats *t)
{
    printf("Derived tables (import-products rebuilds them; build-index brings them up to date)\n");
    if (!t->nderived) printf("  none: run troika-admin import-products or build-index\n");
    for (size_t i = 0; i < t->nderived; i++) {
        const char *k = t->derived[i].key;
        const char *name = !strcmp(k, "terms_version")  ? "word counts (search_terms)"
                           : !strcmp(k, "bits_version") ? "attribute bitmaps (attr_bitmaps)"
                                                        : k;
        printf("  %-34s version %s, built %s\n", name, t->derived[i].version, t->derived[i].built_at);
    }
}

int adm_stats(struct adm *a, int argc, char **argv)
{
    int as_json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc > 1 && !as_json) {
        fprintf(stderr, "Usage: troika-admin stats [--json]\n");
        return ADM_USAGE;
    }
    struct store *st = adm_store(a);
    if (!st) return ADM_FAIL;
    struct pr_stats t;
    char err[512];
    if (pr_stats(st, a->ar, &t, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "stats: %s\n", err);
        return ADM_FAIL;
    }
    json_object *idx = as_index(a, t.products, t.last_updated_unix);
    if (as_json) {
        as_print_json(&t, idx);
    } else {
        as_print_catalog(a, &t);
        as_print_index(a, idx, t.products);
        as_print_derived(&t);
    }
    json_object_put(idx);
    return ADM_OK;
}
