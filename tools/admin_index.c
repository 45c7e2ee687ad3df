/* admin_index.c: `troika-admin build-index`: embeds every product with the
 * configured embedder and writes the vector index "products" into
 * index_dir (index/vidx.h: written under temporary names and renamed into
 * place, so running workers switch to it at their next search).
 *
 * Products are read from the database in id order, a page at a time; the
 * text embedded for a product is "title. category. designer. colours. tags.
 * description" (search_embed_text in the handler embeds queries with the
 * same embedder; common/store/catalog.c cat_embed_text). Memory: the vectors of the whole catalog (n * dim floats)
 * are held until vidx_build writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/store/catalog.h"
#include "common/io/db.h"
#include "index/embed.h"
#include "index/vidx.h"
#include "tools/admin.h"

enum { AX_PAGE = 2000 };

/* 1 when the index exists, was built by e, and is newer than every change
 * to the catalog (same count, built after the last update). */
static int ax_fresh(struct adm *a, struct db *db, const struct embedder *e, char *why, size_t whylen)
{
    struct vidx_meta m;
    char err[512];
    struct db_rows rows;
    if (vidx_read_meta(a->cfg.index_dir, "products", &m, err, sizeof(err)) < 0) {
        snprintf(why, whylen, "%s", err);
        return 0;
    }
    if (strcmp(m.embedder, e->name) || m.dim != e->dim) {
        snprintf(why, whylen, "the index was built by %s (%d dims), the config names %s (%d dims)", m.embedder,
                 m.dim, e->name, e->dim);
        return 0;
    }
    if (db_query(db, a->ar, "SELECT COUNT(*), COALESCE(UNIX_TIMESTAMP(MAX(updated_at)), 0) FROM products",
                 NULL, 0, 0, &rows, err, sizeof(err)) != DB_OK) {
        snprintf(why, whylen, "%s", err);
        return 0;
    }
    long count = atol(db_cell(&rows, 0, 0));
    long long changed = atoll(db_cell(&rows, 0, 1));
    if (count != m.count || changed >= m.built_at) {
        snprintf(why, whylen, "the catalog changed since the index was built (%ld products now, %ld indexed)",
                 count, m.count);
        return 0;
    }
    snprintf(why, whylen, "%ld products, %s, %s", m.count, m.embedder, m.kind);
    return 1;
}

int adm_build_index(struct adm *a, int argc, char **argv)
{
    int batch = a->cfg.embedding_batch > 0 ? a->cfg.embedding_batch : 64;
    int if_stale = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--if-stale")) {
            if_stale = 1;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = atoi(argv[++i]);
            if (batch < 1 || batch > 4096) {
                fprintf(stderr, "build-index: --batch must be 1..4096\n");
                return ADM_USAGE;
            }
        } else {
            fprintf(stderr, "Usage: troika-admin build-index [--batch N] [--if-stale]\n");
            return ADM_USAGE;
        }
    }
    struct db *db = adm_db(a);
    if (!db) return ADM_FAIL;
    adm_derive(a, db, 0, "build-index");
    int rc = ADM_FAIL;
    char err[700];
    float *vecs = NULL;
    int64_t *ids = NULL;
    arena_t *page_ar = ar_new(1 << 20);
    struct embedder *e = emb_open(&a->cfg, err, sizeof(err));
    if (!e || !page_ar) {
        fprintf(stderr, "build-index: cannot open the embedder (embedding_provider = %s): %s\n",
                a->cfg.embedding_provider, e ? "out of memory" : err);
        goto out;
    }
    if (if_stale) {
        char why[700];
        if (ax_fresh(a, db, e, why, sizeof(why))) {
            printf("build-index: the index is up to date (%s); nothing to do\n", why);
            rc = ADM_OK;
            goto out;
        }
        printf("build-index: rebuilding: %s\n", why);
    }
    struct db_rows cnt;
    if (db_query(db, a->ar, "SELECT COUNT(*) FROM products", NULL, 0, 0, &cnt, err, sizeof(err)) != DB_OK) {
        fprintf(stderr, "build-index: %s\n", err);
        goto out;
    }
    size_t total = strtoull(db_cell(&cnt, 0, 0), NULL, 10), n = 0;
    size_t dim = (size_t)e->dim;
    vecs = malloc((total ? total : 1) * dim * sizeof(float));
    ids = malloc((total ? total : 1) * sizeof(int64_t));
    if (!vecs || !ids) {
        fprintf(stderr, "build-index: out of memory for %zu vectors of %zu dims\n", total, dim);
        goto out;
    }
    printf("build-index: embedding %zu products with %s (%d dims), %d per batch\n", total, e->name, e->dim,
           batch);
    fflush(stdout);
    double t0 = adm_now();
    long long after = 0;
    const char **texts = malloc((size_t)batch * sizeof(char *));
    if (!texts) goto out;
    for (;;) {
        ar_reset(page_ar);
        struct db_rows rows;
        struct db_param p[2] = {DB_INT(after), DB_INT(AX_PAGE)};
        if (db_query(db, page_ar,
                     "SELECT id, title, category, designer, colors, tags, description FROM products "
                     "WHERE id > ? ORDER BY id LIMIT ?",
                     p, 2, 0, &rows, err, sizeof(err)) != DB_OK) {
            fprintf(stderr, "build-index: reading products: %s\n", err);
            free(texts);
            goto out;
        }
        if (!rows.nrows) break;
        for (size_t r0 = 0; r0 < rows.nrows; r0 += (size_t)batch) {
            size_t m = rows.nrows - r0 < (size_t)batch ? rows.nrows - r0 : (size_t)batch;
            if (n + m > total) m = total - n;   /* rows added while we read: next build */
            if (!m) break;
            for (size_t k = 0; k < m; k++) {
                size_t r = r0 + k;
                buf_t b;
                buf_init(&b, page_ar, 1 << 16);
                cat_embed_text(&b, db_cell(&rows, r, 1), db_cell(&rows, r, 2), db_cell(&rows, r, 3),
                               db_cell(&rows, r, 4), db_cell(&rows, r, 5), db_cell(&rows, r, 6));
                texts[k] = b.p ? b.p : "";
                ids[n + k] = strtoll(db_cell(&rows, r, 0), NULL, 10);
            }
            int timeout = 0;
            if (e->embed(e, texts, m, vecs + n * dim, &timeout, err, sizeof(err)) < 0) {
                fprintf(stderr, "build-index: embedding failed%s: %s\n", timeout ? " (timeout)" : "", err);
                free(texts);
                goto out;
            }
            n += m;
        }
        after = strtoll(db_cell(&rows, rows.nrows - 1, 0), NULL, 10);
        if (isatty(fileno(stdout))) {
            printf("\r  %zu / %zu", n, total);
            fflush(stdout);
        }
        if (n >= total) break;
    }
    free(texts);
    double t1 = adm_now();
    if (isatty(fileno(stdout))) printf("\n");
    printf("  embedded %zu products in %.2f s\n", n, t1 - t0);
    fflush(stdout);
    if (vidx_build(a->cfg.index_dir, "products", vecs, ids, n, e->dim, e->name, err, sizeof(err)) < 0) {
        fprintf(stderr, "build-index: writing the index into %s: %s\n", a->cfg.index_dir, err);
        goto out;
    }
    double t2 = adm_now();
    struct vidx_meta m;
    char path[1200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/products.faiss", a->cfg.index_dir);
    if (vidx_read_meta(a->cfg.index_dir, "products", &m, err, sizeof(err)) == 0 && stat(path, &st) == 0)
        printf("  wrote %s: %s, %ld vectors, nlist %d, nprobe %d, %.1f MB, in %.2f s\n", path, m.kind, m.count,
               m.nlist, m.nprobe, (double)st.st_size / 1048576.0, t2 - t1);
    else
        printf("  wrote the index into %s in %.2f s\n", a->cfg.index_dir, t2 - t1);
    printf("build-index: done in %.2f s; running workers use it from their next search\n", t2 - t0);
    rc = ADM_OK;
out:
    free(vecs);
    free(ids);
    if (e) emb_close(e);
    if (page_ar) ar_free(page_ar);
    return rc;
}
