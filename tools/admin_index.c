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

#include "common/base/clock.h"
#include "common/store/catalog.h"
#include "common/store/products.h"
#include "index/embed.h"
#include "index/vidx.h"
#include "tools/admin.h"

enum { AX_PAGE = 2000 };

/* One build: the embedder, the vectors and their ids (malloc'd). */
struct ax_run {
    struct adm *a;
    struct store *st;
    struct embedder *e;
    int batch;
    size_t total, n;
    float *vecs;
    int64_t *ids;
    char err[700];
};

/* 1 when the index exists, was built by e, and is newer than every change
 * to the catalog (same count, built after the last update). */
static int ax_fresh(struct ax_run *x, char *why, size_t whylen)
{
    struct vidx_meta m;
    char err[512];
    const struct embedder *e = x->e;
    if (vidx_read_meta(x->a->cfg.index_dir, "products", &m, err, sizeof(err)) < 0) {
        snprintf(why, whylen, "%s", err);
        return 0;
    }
    if (strcmp(m.embedder, e->name) || m.dim != e->dim) {
        snprintf(why, whylen, "the index was built by %s (%d dims), the config names %s (%d dims)", m.embedder,
                 m.dim, e->name, e->dim);
        return 0;
    }
    long count;
    long long changed;
    if (pr_freshness(x->st, x->a->ar, &count, &changed, err, sizeof(err)) != ST_OK) {
        snprintf(why, whylen, "%s", err);
        return 0;
    }
    if (count != m.count || changed >= m.built_at) {
        snprintf(why, whylen, "the catalog changed since the index was built (%ld products now, %ld indexed)",
                 count, m.count);
        return 0;
    }
    snprintf(why, whylen, "%ld products, %s, %s", m.count, m.embedder, m.kind);
    return 1;
}

static int ax_args(int argc, char **argv, int *batch, int *if_stale)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--if-stale")) {
            *if_stale = 1;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            *batch = atoi(argv[++i]);
            if (*batch < 1 || *batch > 4096) {
                fprintf(stderr, "build-index: --batch must be 1..4096\n");
                return -1;
            }
        } else {
            fprintf(stderr, "Usage: troika-admin build-index [--batch N] [--if-stale]\n");
            return -1;
        }
    }
    return 0;
}

/* Room for every product's vector. */
static int ax_alloc(struct ax_run *x)
{
    long count;
    long long changed;
    if (pr_freshness(x->st, x->a->ar, &count, &changed, x->err, sizeof(x->err)) != ST_OK) {
        fprintf(stderr, "build-index: %s\n", x->err);
        return -1;
    }
    x->total = (size_t)count;
    size_t dim = (size_t)x->e->dim;
    x->vecs = malloc((x->total ? x->total : 1) * dim * sizeof(float));
    x->ids = malloc((x->total ? x->total : 1) * sizeof(int64_t));
    if (!x->vecs || !x->ids) {
        fprintf(stderr, "build-index: out of memory for %zu vectors of %zu dims\n", x->total, dim);
        return -1;
    }
    return 0;
}

/* Embeds rows[0..m) into the next m slots. */
static int ax_embed(struct ax_run *x, arena_t *ar, const struct pr_text *rows, size_t m, const char **texts)
{
    for (size_t k = 0; k < m; k++) {
        buf_t b;
        buf_init(&b, ar, 1 << 16);
        cat_embed_text(&b, rows[k].title, rows[k].category, rows[k].designer, rows[k].colors, rows[k].tags,
                       rows[k].description);
        texts[k] = b.p ? b.p : "";
        x->ids[x->n + k] = rows[k].id;
    }
    int timeout = 0;
    if (x->e->embed(x->e, texts, m, x->vecs + x->n * (size_t)x->e->dim, &timeout, x->err, sizeof(x->err)) < 0) {
        fprintf(stderr, "build-index: embedding failed%s: %s\n", timeout ? " (timeout)" : "", x->err);
        return -1;
    }
    x->n += m;
    return 0;
}

/* Every product, in id order, a page at a time. */
static int ax_embed_all(struct ax_run *x, arena_t *page_ar)
{
    const char **texts = malloc((size_t)x->batch * sizeof(char *));
    if (!texts) return -1;
    long long after = 0;
    int rc = 0;
    for (;;) {
        ar_reset(page_ar);
        struct pr_text *rows;
        size_t nrows;
        if (pr_texts(x->st, page_ar, after, AX_PAGE, &rows, &nrows, x->err, sizeof(x->err)) != ST_OK) {
            fprintf(stderr, "build-index: reading products: %s\n", x->err);
            rc = -1;
            break;
        }
        if (!nrows) break;
        for (size_t r0 = 0; r0 < nrows && !rc; r0 += (size_t)x->batch) {
            size_t m = nrows - r0 < (size_t)x->batch ? nrows - r0 : (size_t)x->batch;
            if (x->n + m > x->total) m = x->total - x->n;   /* rows added while we read: next build */
            if (!m) break;
            rc = ax_embed(x, page_ar, rows + r0, m, texts);
        }
        if (rc) break;
        after = rows[nrows - 1].id;
        if (isatty(fileno(stdout))) {
            printf("\r  %zu / %zu", x->n, x->total);
            fflush(stdout);
        }
        if (x->n >= x->total) break;
    }
    free(texts);
    return rc;
}

/* The index written (temporary names, renamed into place), and what it is. */
static int ax_write(struct ax_run *x, double t0, double t1)
{
    const struct cfg *cfg = &x->a->cfg;
    if (vidx_build(cfg->index_dir, "products", x->vecs, x->ids, x->n, x->e->dim, x->e->name, x->err,
                   sizeof(x->err)) < 0) {
        fprintf(stderr, "build-index: writing the index into %s: %s\n", cfg->index_dir, x->err);
        return -1;
    }
    double t2 = ((double)clk_mono_us() / 1e6);
    struct vidx_meta m;
    char path[1200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/products.faiss", cfg->index_dir);
    if (vidx_read_meta(cfg->index_dir, "products", &m, x->err, sizeof(x->err)) == 0 && stat(path, &st) == 0)
        printf("  wrote %s: %s, %ld vectors, nlist %d, nprobe %d, %.1f MB, in %.2f s\n", path, m.kind, m.count,
               m.nlist, m.nprobe, (double)st.st_size / 1048576.0, t2 - t1);
    else
        printf("  wrote the index into %s in %.2f s\n", cfg->index_dir, t2 - t1);
    printf("build-index: done in %.2f s; running workers use it from their next search\n", t2 - t0);
    return 0;
}

/* Embeds and writes; 0 or -1 after printing why. */
static int ax_build(struct ax_run *x, arena_t *page_ar)
{
    if (ax_alloc(x) < 0) return -1;
    printf("build-index: embedding %zu products with %s (%d dims), %d per batch\n", x->total, x->e->name,
           x->e->dim, x->batch);
    fflush(stdout);
    double t0 = ((double)clk_mono_us() / 1e6);
    if (ax_embed_all(x, page_ar) < 0) return -1;
    double t1 = ((double)clk_mono_us() / 1e6);
    if (isatty(fileno(stdout))) printf("\n");
    printf("  embedded %zu products in %.2f s\n", x->n, t1 - t0);
    fflush(stdout);
    return ax_write(x, t0, t1);
}

int adm_build_index(struct adm *a, int argc, char **argv)
{
    struct ax_run x = {.a = a, .batch = a->cfg.embedding_batch > 0 ? a->cfg.embedding_batch : 64};
    int if_stale = 0, rc = ADM_FAIL;
    if (ax_args(argc, argv, &x.batch, &if_stale) < 0) return ADM_USAGE;
    if (!(x.st = adm_store(a))) return ADM_FAIL;
    adm_derive(a, x.st, 0, "build-index");
    arena_t *page_ar = ar_new(1 << 20);
    x.e = emb_open(&a->cfg, x.err, sizeof(x.err));
    if (!x.e || !page_ar) {
        fprintf(stderr, "build-index: cannot open the embedder (embedding_provider = %s): %s\n",
                a->cfg.embedding_provider, x.e ? "out of memory" : x.err);
        goto out;
    }
    char why[700];
    if (if_stale && ax_fresh(&x, why, sizeof(why))) {
        printf("build-index: the index is up to date (%s); nothing to do\n", why);
        rc = ADM_OK;
        goto out;
    }
    if (if_stale) printf("build-index: rebuilding: %s\n", why);
    if (ax_build(&x, page_ar) == 0) rc = ADM_OK;
out:
    free(x.vecs);
    free(x.ids);
    if (x.e) emb_close(x.e);
    if (page_ar) ar_free(page_ar);
    return rc;
}
