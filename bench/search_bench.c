/* search_bench.c: product search measured in-process (bench/run-search.py
 * drives it; results in bench/results/search.md). Not a test.
 *
 *   search_bench -c CONF latency QUERIES ITERATIONS
 *       Runs GET /api/products/search/stream for every line of QUERIES
 *       through rt_dispatch with an SSE sink writing to nowhere: the whole
 *       handler (parsing, MariaDB, embedding, FAISS, fusion, JSON) without
 *       FastCGI or nginx. Prints p50/p90/p99/max in ms, as JSON.
 *   search_bench -c CONF recall QUERIES NPROBE,NPROBE,...
 *       Embeds the catalog as build-index does, finds the exact 10 nearest
 *       products of every query by brute force, and reports recall@10 and
 *       the time per search of the index for each nprobe, as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/store/catalog.h"
#include "common/base/config.h"
#include "common/store/products.h"
#include "common/store/store.h"
#include "common/base/log.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "index/embed.h"
#include "index/pidx.h"
#include "index/vidx.h"

static double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int sb_write(void *ctx, const char *p, size_t n)
{
    (void)p;
    *(size_t *)ctx += n;
    return 0;
}

static int sb_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static int sb_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double sb_pct(const double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Lines of a file (without newlines); *n gets the count. */
static char **sb_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char **v = NULL, line[1024];
    size_t cap = 0;
    *n = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            v = realloc(v, cap * sizeof(*v));
        }
        v[(*n)++] = strdup(line);
    }
    fclose(f);
    return v;
}

static char *sb_urlenc(const char *s)
{
    char *o = malloc(strlen(s) * 3 + 1), *p = o;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.')
            *p++ = (char)c;
        else if (c == ' ')
            *p++ = '+';
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = '\0';
    return o;
}

/* One request through the router, as a worker would run it. ms, or -1. */
static double sb_request(struct app *app, arena_t *ar, const char *qs, size_t *bytes, int *status)
{
    char uri[4096], qsv[4096];
    snprintf(uri, sizeof(uri), "REQUEST_URI=/api/products/search/stream?%s", qs);
    snprintf(qsv, sizeof(qsv), "QUERY_STRING=%s", qs);
    char *env[] = {"REQUEST_METHOD=GET", uri, qsv, "REMOTE_ADDR=127.0.0.1", "SERVER_PROTOCOL=HTTP/1.1", NULL};
    double t0 = sb_now();
    struct req r = {0};
    if (req_init(&r, ar, &app->cfg, env) != REQ_OK) return -1;
    const struct route *route;
    char allow[64];
    if (rt_match(&app->routes, r.path, r.method, &route, allow, sizeof(allow)) != RT_FOUND) return -1;
    struct sse_io io = {sb_write, sb_flush, bytes};
    struct sink s;
    sink_init(&s, SINK_SSE, ar, &app->cfg, r.id, route->name, &io, r.t0_ms);
    *status = rt_dispatch(app, &r, &s, route);
    double ms = sb_now() - t0;
    ar_reset(ar);
    return ms;
}

static int sb_latency(struct app *app, char **qs, size_t nq, int iters)
{
    arena_t *ar = ar_new(64 * 1024);
    size_t n = nq * (size_t)iters, k = 0, bytes = 0;
    double *ms = malloc(n * sizeof(double));
    int status = 0, bad = 0;
    /* warm-up: open the connection, the embedder and the index; page cache */
    for (size_t i = 0; i < nq; i++) sb_request(app, ar, qs[i], &bytes, &status);
    bytes = 0;
    double t0 = sb_now();
    for (int it = 0; it < iters; it++)
        for (size_t i = 0; i < nq; i++) {
            ms[k++] = sb_request(app, ar, qs[i], &bytes, &status);
            if (status != 200) bad++;
        }
    double wall = sb_now() - t0;
    qsort(ms, n, sizeof(double), sb_cmp);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += ms[i];
    printf("{\"requests\":%zu,\"queries\":%zu,\"non200\":%d,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"req_per_s\":%.1f,\"bytes_per_response\":%zu}\n",
           n, nq, bad, sum / (double)n, sb_pct(ms, n, 0.5), sb_pct(ms, n, 0.9), sb_pct(ms, n, 0.99), ms[n - 1],
           (double)n / (wall / 1e3), bytes / n);
    free(ms);
    ar_free(ar);
    return bad ? 1 : 0;
}

/* ---- recall ----------------------------------------------------------------- */

static int sb_recall(struct app *app, char **queries, size_t nq, const char *nprobes)
{
    char err[700];
    struct embedder *e = emb_open(&app->cfg, err, sizeof(err));
    struct vidx *vx = e ? vidx_open(app->cfg.index_dir, PIDX_NAME, err, sizeof(err)) : NULL;
    struct store *st = app->store;
    arena_t *ar = ar_new(1 << 20);
    long count = 0;
    long long changed;
    if (!vx || pr_freshness(st, ar, &count, &changed, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "recall: %s\n", err);
        return 1;
    }
    size_t total = (size_t)count, n = 0, dim = (size_t)e->dim;
    float *vecs = malloc(total * dim * sizeof(float));
    int64_t *ids = malloc(total * sizeof(int64_t));
    long long after = 0;
    enum { PAGE = 2000 };
    const char **texts = malloc(PAGE * sizeof(char *));
    double t0 = sb_now();
    while (n < total) {
        ar_reset(ar);
        struct pr_text *rows;
        size_t nrows;
        if (pr_texts(st, ar, after, PAGE, &rows, &nrows, err, sizeof(err)) != ST_OK || !nrows) break;
        size_t m = nrows < total - n ? nrows : total - n;
        for (size_t r = 0; r < m; r++) {
            buf_t b;
            buf_init(&b, ar, 1 << 16);
            cat_embed_text(&b, rows[r].title, rows[r].category, rows[r].designer, rows[r].colors, rows[r].tags,
                           rows[r].description);
            texts[r] = b.p ? b.p : "";
            ids[n + r] = rows[r].id;
        }
        int to;
        if (e->embed(e, texts, m, vecs + n * dim, &to, err, sizeof(err)) < 0) {
            fprintf(stderr, "recall: embed: %s\n", err);
            return 1;
        }
        n += m;
        after = ids[n - 1];
    }
    fprintf(stderr, "recall: embedded %zu products in %.1f s\n", n, (sb_now() - t0) / 1e3);

    enum { K = 10 };
    float *q = malloc(nq * dim * sizeof(float));
    int64_t (*exact)[K] = malloc(nq * sizeof(*exact));
    double exact_ms = 0;
    for (size_t i = 0; i < nq; i++) {
        int to;
        const char *t[1] = {queries[i]};
        e->embed(e, t, 1, q + i * dim, &to, err, sizeof(err));
        double best[K];
        for (int k = 0; k < K; k++) best[k] = -1e9, exact[i][k] = -1;
        double s0 = sb_now();
        for (size_t j = 0; j < n; j++) {
            const float *v = vecs + j * dim, *qq = q + i * dim;
            double d = 0;
            for (size_t x = 0; x < dim; x++) d += v[x] * qq[x];
            if (d <= best[K - 1]) continue;
            int k = K - 1;
            while (k > 0 && best[k - 1] < d) {
                best[k] = best[k - 1];
                exact[i][k] = exact[i][k - 1];
                k--;
            }
            best[k] = d;
            exact[i][k] = ids[j];
        }
        exact_ms += sb_now() - s0;
    }
    printf("{\"products\":%zu,\"queries\":%zu,\"kind\":\"%s\",\"nlist\":%d,\"default_nprobe\":%d,"
           "\"exact_ms_per_query\":%.2f,\"sweep\":[",
           n, nq, vidx_meta(vx)->kind, vidx_meta(vx)->nlist, vidx_meta(vx)->nprobe, exact_ms / (double)nq);
    char list[256];
    snprintf(list, sizeof(list), "%s", nprobes);
    int first = 1;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        int np = atoi(tok);
        double hit = 0, ms = 0;
        for (size_t i = 0; i < nq; i++) {
            int64_t got[K];
            float sc[K];
            int nout = 0;
            double s0 = sb_now();
            vidx_search(vx, q + i * dim, K, np, got, sc, &nout);
            ms += sb_now() - s0;
            for (int a = 0; a < nout; a++)
                for (int b = 0; b < K; b++)
                    if (got[a] == exact[i][b] && got[a] >= 0) hit++;
        }
        printf("%s{\"nprobe\":%d,\"recall_at_10\":%.4f,\"ms_per_search\":%.3f}", first ? "" : ",", np,
               hit / (double)(nq * K), ms / (double)nq);
        first = 0;
    }
    printf("]}\n");
    return 0;
}

int main(int argc, char **argv)
{
    static struct app app;
    if (argc < 6 || strcmp(argv[1], "-c")) {
        fprintf(stderr, "usage: search_bench -c CONF latency QUERIES ITERATIONS\n"
                        "       search_bench -c CONF recall QUERIES NPROBE[,NPROBE...]\n");
        return 2;
    }
    char err[700];
    cfg_defaults(&app.cfg);
    if (cfg_load(&app.cfg, argv[2], err, sizeof(err)) < 0) {
        fprintf(stderr, "config: %s\n", err);
        return 1;
    }
    log_open("", LOG_LVL_ERROR);
    vidx_threads_init();
    app.sb_slot = -1;
    app.routes = h_routes();
    app.store = st_open(&app.cfg, err, sizeof(err));
    if (!app.store) {
        fprintf(stderr, "store: %s\n", err);
        return 1;
    }
    size_t nq;
    char **lines = sb_lines(argv[4], &nq);
    if (!lines || !nq) {
        fprintf(stderr, "no queries in %s\n", argv[4]);
        return 1;
    }
    if (!strcmp(argv[3], "recall")) return sb_recall(&app, lines, nq, argv[5]);
    char **qs = malloc(nq * sizeof(char *));
    for (size_t i = 0; i < nq; i++) {
        char *enc = sb_urlenc(lines[i]);
        qs[i] = malloc(strlen(enc) + 16);
        sprintf(qs[i], "q=%s&limit=8", enc);
        free(enc);
    }
    return sb_latency(&app, qs, nq, atoi(argv[5]));
}
