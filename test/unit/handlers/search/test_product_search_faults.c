/* test_product_search_faults.c: the real product search route
 * (h_product_search) over a fake store (test/unit/fakes/fake_store.h) and
 * a real vector index of its products, with the store failing at each step
 * the search takes. The case the integration test reaches by stopping
 * MariaDB (test_search.py DatabaseGoneTest): the connection is lost after
 * the text results went out, when the filters step reads the vector
 * candidates: an `error` DB_CONNECTION_ERROR with partial true, then
 * `close`, and no `complete`. Before any results, partial is false; a
 * failure reading the designer list, the vocabulary, the categories, the
 * catalog version or the catalog snapshot is not an error of the search (a lost connection fails the
 * next call it cannot do without). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/store/catalog.h"
#include "index/embed.h"
#include "index/pidx.h"
#include "index/vidx.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

#define URI "/api/products/search/stream?q=red+silk+saree&limit=4"
enum { NPROD = 6 };

static const char *const titles[NPROD] = {
    "Red silk saree with zari border", "Maroon silk saree, Banarasi weave", "Red georgette saree",
    "Crimson silk lehenga",            "Red cotton kurta",                   "Ivory silk saree, red border",
};

struct sfx {
    struct rfx r;
    struct fake_store st;
    char dir[64];
};

static void sfx_products(struct fake_store *st)
{
    static char skus[NPROD][16], prices[NPROD][16];
    for (size_t i = 0; i < NPROD; i++) {
        snprintf(skus[i], sizeof(skus[i]), "SKU-%zu", i + 1);
        snprintf(prices[i], sizeof(prices[i]), "%zu999.00", i + 2);
        st->products[i] = (struct cat_product){
            .id = (int64_t)(i + 1) * 10, .sku = skus[i], .title = titles[i], .category = "saree",
            .designer = NULL, .currency = "INR", .colors = "[\"red\"]", .sizes = "[]", .price_text = prices[i],
            .price = strtod(prices[i], NULL), .in_stock = 1, .popularity = (double)(NPROD - i)};
    }
    st->nproducts = NPROD;
}

/* The products' vectors, as build-index writes them, under dir. */
static void sfx_index(struct sfx *f)
{
    char err[512];
    struct embedder *e = emb_open(&f->r.app.cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    float *v = calloc(NPROD * (size_t)e->dim, sizeof(float));
    int64_t ids[NPROD];
    const char *texts[NPROD];
    for (size_t i = 0; i < NPROD; i++) {
        texts[i] = titles[i];
        ids[i] = f->st.products[i].id;
    }
    int timeout;
    CU_ASSERT_EQUAL_FATAL(e->embed(e, texts, NPROD, v, &timeout, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vidx_build(f->dir, PIDX_NAME, v, ids, NPROD, e->dim, e->name, err, sizeof(err)), 0);
    free(v);
    emb_close(e);
}

static void sfx_open(struct sfx *f)
{
    memset(f, 0, sizeof(*f));
    rfx_open(&f->r);
    fake_store_init(&f->st);
    sfx_products(&f->st);
    snprintf(f->dir, sizeof(f->dir), "/tmp/troika-unit-search-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(f->dir));
    struct cfg *c = &f->r.app.cfg;
    snprintf(c->index_dir, sizeof(c->index_dir), "%s", f->dir);
    c->search_min_vector_score = -1;   /* every neighbour is a candidate: the filters step reads them */
    c->troika_designer_refresh_ms = 0; /* the designer list is read on every request */
    f->r.app.store = &f->st.base;
    sfx_index(f);
}

static void sfx_close(struct sfx *f)
{
    rfx_close(&f->r);
    fake_store_free(&f->st);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
    if (d) closedir(d);
    rmdir(f->dir);
}

static int sfx_search(struct sfx *f)
{
    char *env[] = {"REMOTE_ADDR=10.1.2.3", NULL};
    rfx_reset(&f->r);
    return rfx_run(&f->r, "GET", URI, env, NULL, 0);
}

/* The `results` stages sent, space-separated. */
static const char *stages(const struct rfx *r, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (const struct cap_event *e = cap_find(&r->p, "results", 0); e;
         e = cap_find(&r->p, "results", (size_t)(e - r->p.ev) + 1)) {
        int w = snprintf(out + o, cap - o, "%s%s", o ? " " : "", cap_str(e->data, "stage"));
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return out;
}

/* The calls of a clean search, in order (the catalog version, the
 * vocabulary and the categories, the designers, the text search, the
 * vector candidates' fetch, the catalog snapshot): op names are string
 * literals of the fake. */
static const char *clean_ops[32];

/* A call whose failure the search survives: what it derives from the
 * catalog (designer names, the vocabulary and categories that correct and
 * read the words, the version they hang on, the snapshot for exact totals)
 * is a nicety, logged and done without. */
static int nicety(const char *op)
{
    return !strcmp(op, "designers") || !strcmp(op, "version") || !strcmp(op, "snapshot") || !strcmp(op, "vocab") ||
           !strcmp(op, "categories");
}

/* The steps a clean search takes; *fetch gets the fetch's. */
static int clean_steps(int *fetch)
{
    struct sfx f;
    sfx_open(&f);
    CU_ASSERT_EQUAL(sfx_search(&f), 200);
    char st[128], names[1024];
    CU_ASSERT_PTR_NOT_NULL(cap_find(&f.r.p, "complete", 0));
    CU_ASSERT_STRING_EQUAL(stages(&f.r, st, sizeof(st)), "text semantic final");
    rfx_names(&f.r, names, sizeof(names));
    CU_ASSERT_PTR_NOT_NULL(strstr(names, "complete close"));
    int steps = f.st.steps;
    *fetch = fake_store_step_of(&f.st, "fetch");
    for (int i = 0; i < steps && i < (int)(sizeof(clean_ops) / sizeof(clean_ops[0])); i++) clean_ops[i] = f.st.ops[i];
    sfx_close(&f);
    return steps;
}

static void t_db_lost_between_steps(void)
{
    int fetch;
    clean_steps(&fetch);
    CU_ASSERT_FATAL(fetch > 0);
    struct sfx f;
    sfx_open(&f);
    fake_store_reset(&f.st, fetch, ST_ECONN);   /* after the text search: the vector candidates' fetch */
    CU_ASSERT_EQUAL(sfx_search(&f), 200);
    CU_ASSERT_STRING_EQUAL(f.st.failed_op, "fetch");
    char st[128], names[1024];
    CU_ASSERT_STRING_EQUAL(stages(&f.r, st, sizeof(st)), "text");
    rfx_names(&f.r, names, sizeof(names));
    size_t n = f.r.p.n;
    CU_ASSERT_FATAL(n >= 3);
    CU_ASSERT_STRING_EQUAL(f.r.p.ev[n - 2].name, "error");
    CU_ASSERT_STRING_EQUAL(f.r.p.ev[n - 1].name, "close");
    json_object *err = f.r.p.ev[n - 2].data, *x;
    CU_ASSERT_STRING_EQUAL(cap_str(err, "code"), "DB_CONNECTION_ERROR");
    CU_ASSERT(json_object_object_get_ex(err, "partial", &x) && json_object_get_boolean(x));
    CU_ASSERT_PTR_NULL(cap_find(&f.r.p, "complete", 0));
    /* the text results came before the error, whole */
    const struct cap_event *text = cap_find(&f.r.p, "results", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT(json_object_object_get_ex(text->data, "products", &x) && json_object_array_length(x) == 4);
    sfx_close(&f);
}

static void t_fail_at_every_step(void)
{
    int fetch, steps = clean_steps(&fetch);
    int text = 0;
    for (int i = 0; i < steps; i++)
        if (!strcmp(clean_ops[i], "text_search")) text = i + 1;
    CU_ASSERT_FATAL(steps >= 4 && fetch > text && text > 0);
    static const int classes[2] = {ST_ECONN, ST_EQUERY};
    for (int k = 0; k < 2; k++)
        for (int n = 1; n <= steps; n++) {
            /* the call that ends the search: step n, or with a lost
             * connection the first later call the search cannot do without */
            int ends = 0;
            for (int i = n; i <= steps && !ends; i++)
                if (!nicety(clean_ops[i - 1]) && (i == n || classes[k] == ST_ECONN)) ends = i;
            struct sfx f;
            sfx_open(&f);
            fake_store_reset(&f.st, n, classes[k]);
            CU_ASSERT_EQUAL(sfx_search(&f), 200);
            CU_ASSERT_EQUAL(f.st.failed_step, n);
            CU_ASSERT_STRING_EQUAL(f.st.failed_op, clean_ops[n - 1]);
            size_t m = f.r.p.n;
            CU_ASSERT_FATAL(m >= 2);
            CU_ASSERT_STRING_EQUAL(f.r.p.ev[m - 1].name, "close");
            if (!ends) {
                CU_ASSERT_STRING_EQUAL(f.r.p.ev[m - 2].name, "complete");
            } else {
                json_object *err = f.r.p.ev[m - 2].data, *x;
                CU_ASSERT_STRING_EQUAL(f.r.p.ev[m - 2].name, "error");
                CU_ASSERT_STRING_EQUAL(cap_str(err, "code"), st_code(classes[k]));
                int sent = cap_find(&f.r.p, "results", 0) != NULL;
                CU_ASSERT_EQUAL(sent, ends > text);
                CU_ASSERT(json_object_object_get_ex(err, "partial", &x) && json_object_get_boolean(x) == sent);
                CU_ASSERT_PTR_NULL(cap_find(&f.r.p, "complete", 0));
            }
            sfx_close(&f);
        }
}

void register_product_search_faults(void)
{
    static const struct unit_case cases[] = {
        {"fake store: DB lost between text results and the filters step: error partial, close",
         t_db_lost_between_steps},
        {"fake store fails at every step of a search (connection lost, query error)", t_fail_at_every_step},
        {NULL, NULL},
    };
    unit_suite("product search over a failing store (handlers/search)", cases);
}
