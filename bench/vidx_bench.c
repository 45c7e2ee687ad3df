/* vidx_bench.c: benchmark of the vector index (index/vidx.h), not a test.
 *
 * Builds an index of N vectors, then measures one-thread search latency and
 * recall@10 against exact (brute-force) search over an nprobe sweep, and
 * with --smaps shows how two processes that open the index map it
 * (/proc/<pid>/smaps: the IVF lists must be one shared r--s file mapping,
 * not heap). Results go in bench/results/vidx.md.
 *
 * Data: --data synthetic (default): unit vectors around --clusters random
 * centres (noise --sigma per component), queries drawn from the same
 * mixture but not in the index. --data latent: a mixture in a --latent
 * dimensional space mapped into dim (harder for IVF; see vb_latent).
 * --data texts --texts FILE: one product text a line (e.g. made from
 * `troika-admin gen-catalog`), embedded with the builtin embedder; queries
 * are the lines of --queries-file, else every k-th line held out.
 *
 *   make bench/vidx_bench && ./bench/vidx_bench --n 100000 --smaps */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "common/base/config.h"
#include "index/embed.h"
#include "index/vidx.h"

struct vb_opts {
    size_t n, nq;
    int dim, clusters, latent, threads, smaps, keep;
    double sigma;
    const char *dir, *data, *texts, *qfile;
};

static double vb_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t vb_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double vb_gauss(uint64_t *s)
{
    double u1 = ((double)(vb_rng(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (double)(vb_rng(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void vb_normalize(float *v, int dim)
{
    double ss = 0;
    for (int j = 0; j < dim; j++) ss += (double)v[j] * v[j];
    for (int j = 0; j < dim; j++) v[j] = (float)(v[j] / sqrt(ss));
}

/* n + nq vectors of the mixture; the first n are indexed. */
static float *vb_synthetic(const struct vb_opts *o)
{
    size_t total = o->n + o->nq;
    float *cent = malloc(sizeof(float) * (size_t)o->clusters * (size_t)o->dim);
    float *v = malloc(sizeof(float) * total * (size_t)o->dim);
    if (!cent || !v) return NULL;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (int c = 0; c < o->clusters; c++) {
        for (int j = 0; j < o->dim; j++) cent[(size_t)c * o->dim + j] = (float)vb_gauss(&s);
        vb_normalize(cent + (size_t)c * o->dim, o->dim);
    }
    for (size_t i = 0; i < total; i++) {
        const float *c = cent + (vb_rng(&s) % (uint64_t)o->clusters) * (size_t)o->dim;
        for (int j = 0; j < o->dim; j++) v[i * o->dim + j] = c[j] + (float)(o->sigma * vb_gauss(&s));
        vb_normalize(v + i * o->dim, o->dim);
    }
    free(cent);
    return v;
}

/* n + nq vectors from a low-dimensional latent mixture: z = centre +
 * sigma * N(0, I) in `latent` dims (overlapping clusters, a continuous
 * density), x = normalize(A z + 0.01 noise) with a random 384 x latent A.
 * Neighbours are not decided by cluster membership alone, which makes IVF
 * work harder than the isotropic mixture above. */
static float *vb_latent(const struct vb_opts *o)
{
    size_t total = o->n + o->nq;
    int L = o->latent;
    float *cent = malloc(sizeof(float) * (size_t)o->clusters * (size_t)L);
    float *A = malloc(sizeof(float) * (size_t)o->dim * (size_t)L);
    float *v = malloc(sizeof(float) * total * (size_t)o->dim);
    float *z = malloc(sizeof(float) * (size_t)L);
    if (!cent || !A || !v || !z) return NULL;
    uint64_t s = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < (size_t)o->clusters * (size_t)L; i++) cent[i] = (float)vb_gauss(&s);
    for (size_t i = 0; i < (size_t)o->dim * (size_t)L; i++) A[i] = (float)(vb_gauss(&s) / sqrt((double)L));
    for (size_t i = 0; i < total; i++) {
        const float *c = cent + (vb_rng(&s) % (uint64_t)o->clusters) * (size_t)L;
        for (int j = 0; j < L; j++) z[j] = c[j] + (float)(o->sigma * vb_gauss(&s));
        float *x = v + i * (size_t)o->dim;
        for (int r = 0; r < o->dim; r++) {
            double acc = 0.01 * vb_gauss(&s);
            for (int j = 0; j < L; j++) acc += (double)A[(size_t)r * L + j] * z[j];
            x[r] = (float)acc;
        }
        vb_normalize(x, o->dim);
    }
    free(cent);
    free(A);
    free(z);
    return v;
}

/* Reads the lines of a file; *n gets the count. NULL on error. */
static char **vb_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1024;
    char **lines = malloc(cap * sizeof(char *));
    char *line = NULL;
    size_t ll = 0;
    *n = 0;
    while (lines && getline(&line, &ll, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (*n == cap) lines = realloc(lines, (cap *= 2) * sizeof(char *));
        if (lines) lines[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    return lines;
}

/* Embeds lines with the builtin embedder into out (n * dim). */
static int vb_embed_lines(char **lines, size_t n, int dim, float *out)
{
    struct cfg c;
    char err[256];
    int tmo;
    cfg_defaults(&c);
    c.embedding_dim = dim;
    struct embedder *e = emb_open(&c, err, sizeof(err));
    int rc = e ? e->embed(e, (const char *const *)lines, n, out, &tmo, err, sizeof(err)) : -1;
    if (rc < 0) fprintf(stderr, "embedding failed: %s\n", err);
    emb_close(e);
    return rc;
}

/* --data texts: one product text a line, embedded with the builtin
 * embedder. Queries: the lines of --queries-file, else every k-th line of
 * the file held out of the index. */
static float *vb_texts(struct vb_opts *o)
{
    size_t n = 0, nq = 0;
    char **lines = vb_lines(o->texts, &n), **qlines = NULL;
    if (!lines) return NULL;
    if (o->qfile && !(qlines = vb_lines(o->qfile, &nq))) return NULL;
    if (qlines) o->nq = nq;
    if (!qlines && n < o->nq + 1000) {
        fprintf(stderr, "%s: %zu lines is too few\n", o->texts, n);
        return NULL;
    }
    float *all = malloc(sizeof(float) * (n + nq) * (size_t)o->dim);
    float *v = malloc(sizeof(float) * (n + nq) * (size_t)o->dim);
    if (!all || !v || vb_embed_lines(lines, n, o->dim, all) < 0) return NULL;
    if (qlines) {
        if (vb_embed_lines(qlines, nq, o->dim, all + n * (size_t)o->dim) < 0) return NULL;
        memcpy(v, all, sizeof(float) * (n + nq) * (size_t)o->dim);
        o->n = n;
    } else {
        /* indexed rows first, queries (every step-th line) last */
        size_t step = n / o->nq, qi = 0, di = 0, nd = n - o->nq;
        for (size_t i = 0; i < n; i++) {
            size_t to = (i % step == step - 1 && qi < o->nq) ? nd + qi++ : di++;
            memcpy(v + to * o->dim, all + i * o->dim, sizeof(float) * (size_t)o->dim);
        }
        o->n = nd;
    }
    for (size_t i = 0; i < n; i++) free(lines[i]);
    for (size_t i = 0; i < nq; i++) free(qlines[i]);
    free(lines);
    free(qlines);
    free(all);
    return v;
}

static int vb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Exact top-10 ids of each query by brute force, and the 10th score. */
static void vb_exact(const struct vb_opts *o, const float *base, const float *q, int64_t *truth, float *kth)
{
    for (size_t i = 0; i < o->nq; i++) {
        float best[10];
        int64_t bid[10];
        for (int k = 0; k < 10; k++) best[k] = -INFINITY, bid[k] = -1;
        const float *qv = q + i * o->dim;
        for (size_t r = 0; r < o->n; r++) {
            const float *x = base + r * o->dim;
            float s = 0;
            for (int j = 0; j < o->dim; j++) s += qv[j] * x[j];
            if (s <= best[9]) continue;
            int k = 9;
            while (k > 0 && best[k - 1] < s) {
                best[k] = best[k - 1];
                bid[k] = bid[k - 1];
                k--;
            }
            best[k] = s;
            bid[k] = (int64_t)r;
        }
        memcpy(truth + i * 10, bid, sizeof(bid));
        kth[i] = best[9];
    }
}

static long long vb_fsize(const char *dir, const char *file)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* Prints the smaps entries of pid for files under dir and the heap, plus
 * the process totals. */
static void vb_print_smaps(pid_t pid, const char *dir)
{
    char p[64], line[1024];
    snprintf(p, sizeof(p), "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return;
    int show = 0;
    while (fgets(line, sizeof(line), f)) {
        char a[32], b[32];
        int is_header = sscanf(line, "%31[0-9a-f]-%31[0-9a-f] ", a, b) == 2;
        if (is_header) show = strstr(line, dir) != NULL || strstr(line, "[heap]") != NULL;
        if (!show) continue;
        if (is_header || !strncmp(line, "Size:", 5) || !strncmp(line, "Rss:", 4) || !strncmp(line, "Pss:", 4) ||
            !strncmp(line, "Shared_Clean:", 13) || !strncmp(line, "Private_Clean:", 14) ||
            !strncmp(line, "Private_Dirty:", 14))
            printf("    %s", line);
    }
    fclose(f);
    snprintf(p, sizeof(p), "/proc/%d/smaps_rollup", (int)pid);
    f = fopen(p, "r");
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "Rss:", 4) || !strncmp(line, "Pss:", 4) || !strncmp(line, "Private_Dirty:", 14) ||
            !strncmp(line, "Private_Clean:", 14))
            printf("    total %s", line);
    if (f) fclose(f);
}

/* --hold DIR: what a worker does: open the index, run `nq` searches with
 * random unit queries, tell the parent (fd 3), wait to be killed. A fresh
 * exec, so the smaps show nothing inherited from the benchmark process. */
static int vb_hold(const char *dir, size_t nq, int dim)
{
    vidx_threads_init();
    char err[512];
    struct vidx *v = vidx_open(dir, "bench", err, sizeof(err));
    if (!v) {
        fprintf(stderr, "hold: %s\n", err);
        return 1;
    }
    float *q = malloc(sizeof(float) * (size_t)dim);
    uint64_t s = (uint64_t)getpid() * 2654435761u + 1;
    int64_t ids[10];
    float sc[10];
    int nout;
    for (size_t i = 0; i < nq; i++) {
        for (int j = 0; j < dim; j++) q[j] = (float)vb_gauss(&s);
        vb_normalize(q, dim);
        vidx_search(v, q, 10, 0, ids, sc, &nout);
    }
    if (write(3, "x", 1) != 1) return 1;
    pause();
    return 0;
}

/* Two fresh processes open the index and search; then their mappings. */
static int vb_smaps(const struct vb_opts *o)
{
    pid_t kids[2];
    int ready[2];
    if (pipe(ready) < 0) return -1;
    char nq[32], dim[32];
    snprintf(nq, sizeof(nq), "%zu", o->nq);
    snprintf(dim, sizeof(dim), "%d", o->dim);
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] < 0) return -1;
        if (kids[k] == 0) {
            close(ready[0]);
            if (dup2(ready[1], 3) < 0) _exit(1);
            execl("/proc/self/exe", "vidx_bench", "--hold", o->dir, "--queries", nq, "--dim", dim, (char *)NULL);
            _exit(127);
        }
    }
    close(ready[1]);
    char c;
    for (int k = 0; k < 2; k++)
        if (read(ready[0], &c, 1) != 1) return -1;
    close(ready[0]);
    for (int k = 0; k < 2; k++) {
        printf("\nprocess %d (a fresh process: opened the index, ran %zu searches):\n", (int)kids[k], o->nq);
        vb_print_smaps(kids[k], o->dir);
    }
    for (int k = 0; k < 2; k++) {
        kill(kids[k], SIGTERM);
        waitpid(kids[k], NULL, 0);
    }
    return 0;
}

static void vb_usage(void)
{
    fprintf(stderr,
            "usage: vidx_bench [--n N] [--queries Q] [--dim D] [--data synthetic|latent|texts] [--texts FILE]\n"
            "                  [--queries-file FILE]\n"
            "                  [--clusters C] [--sigma S] [--latent L] [--threads T] [--dir DIR] [--keep]\n"
            "                  [--smaps]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct vb_opts o = {100000, 1000, 384, 0, 32, 1, 0, 0, -1, NULL, "synthetic", NULL, NULL};
    const char *hold = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--smaps")) o.smaps = 1;
        else if (!strcmp(a, "--keep")) o.keep = 1;
        else if (!v) vb_usage();
        else if (!strcmp(a, "--n")) o.n = strtoul(v, NULL, 10), i++;
        else if (!strcmp(a, "--queries")) o.nq = strtoul(v, NULL, 10), i++;
        else if (!strcmp(a, "--dim")) o.dim = atoi(v), i++;
        else if (!strcmp(a, "--clusters")) o.clusters = atoi(v), i++;
        else if (!strcmp(a, "--latent")) o.latent = atoi(v), i++;
        else if (!strcmp(a, "--sigma")) o.sigma = atof(v), i++;
        else if (!strcmp(a, "--threads")) o.threads = atoi(v), i++;
        else if (!strcmp(a, "--dir")) o.dir = v, i++;
        else if (!strcmp(a, "--data")) o.data = v, i++;
        else if (!strcmp(a, "--texts")) o.texts = v, i++;
        else if (!strcmp(a, "--queries-file")) o.qfile = v, i++;
        else if (!strcmp(a, "--hold")) hold = v, i++;
        else vb_usage();
    }
    if (hold) return vb_hold(hold, o.nq, o.dim);
    int latent = !strcmp(o.data, "latent");
    if (!o.clusters) o.clusters = latent ? 100 : 1000;
    if (o.sigma < 0) o.sigma = latent ? 0.6 : 0.06;
    char tmpdir[] = "/tmp/troika-vidx-bench-XXXXXX";
    if (!o.dir) {
        if (!mkdtemp(tmpdir)) return 1;
        o.dir = tmpdir;
    }
    vidx_threads_init();
    omp_set_num_threads(o.threads); /* for the build only; searches below are one query at a time */

    double t0 = vb_now();
    float *all = NULL;
    if (!strcmp(o.data, "texts") && o.texts) all = vb_texts(&o);
    else if (!strcmp(o.data, "synthetic")) all = vb_synthetic(&o);
    else if (latent) all = vb_latent(&o);
    else vb_usage();
    if (!all) return 1;
    const float *q = all + o.n * (size_t)o.dim;
    printf("data: %s, n=%zu, queries=%zu, dim=%d", o.data, o.n, o.nq, o.dim);
    if (!strcmp(o.data, "synthetic")) printf(", clusters=%d, sigma=%.3f", o.clusters, o.sigma);
    if (latent) printf(", latent dims=%d, clusters=%d, sigma=%.3f", o.latent, o.clusters, o.sigma);
    printf(" (generated in %.1f s)\n", vb_now() - t0);

    char err[512];
    t0 = vb_now();
    if (vidx_build(o.dir, "bench", all, NULL, o.n, o.dim, "bench", err, sizeof(err)) < 0) {
        fprintf(stderr, "build: %s\n", err);
        return 1;
    }
    double tb = vb_now() - t0;
    struct vidx_meta m;
    vidx_read_meta(o.dir, "bench", &m, err, sizeof(err));
    printf("build: %.2f s with %d OpenMP thread(s); kind %s, nlist %d, default nprobe %d\n", tb, o.threads, m.kind,
           m.nlist, m.nprobe);
    printf("files: bench.faiss %lld bytes (%.1f MiB), bench.ids %lld bytes\n", vb_fsize(o.dir, "bench.faiss"),
           vb_fsize(o.dir, "bench.faiss") / 1048576.0, vb_fsize(o.dir, "bench.ids"));
    omp_set_num_threads(1);

    int64_t *truth = malloc(sizeof(int64_t) * 10 * o.nq);
    float *kth = malloc(sizeof(float) * o.nq);
    t0 = vb_now();
    vb_exact(&o, all, q, truth, kth);
    printf("exact top-10 by brute force: %.2f ms a query\n", (vb_now() - t0) * 1e3 / (double)o.nq);

    t0 = vb_now();
    struct vidx *v = vidx_open(o.dir, "bench", err, sizeof(err));
    if (!v) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    printf("open: %.2f ms\n\n", (vb_now() - t0) * 1e3);

    static const int sweep[] = {1, 4, 8, 16, 32, 64, 80, 96, 128, 0};
    double *lat = malloc(sizeof(double) * o.nq);
    /* recall@10: share of the exact top-10 ids found. With ties: a hit is
     * any result scoring at least the exact 10th score - 1e-4 (the
     * ann-benchmarks rule), as generated catalogs hold many equal texts. */
    printf("| nprobe | recall@10 | recall@10 with ties | mean ms | p50 ms | p99 ms |\n"
           "|---:|---:|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < sizeof(sweep) / sizeof(sweep[0]); s++) {
        int np = sweep[s];
        if (np == 0 && !m.nlist) continue;
        /* warm the pages once, then measure */
        int64_t ids[10];
        float sc[10];
        int nout;
        for (size_t i = 0; i < o.nq; i++) vidx_search(v, q + i * o.dim, 10, np, ids, sc, &nout);
        double hits = 0, thits = 0, sum = 0;
        for (size_t i = 0; i < o.nq; i++) {
            double a = vb_now();
            vidx_search(v, q + i * o.dim, 10, np, ids, sc, &nout);
            lat[i] = (vb_now() - a) * 1e3;
            sum += lat[i];
            for (int x = 0; x < nout; x++) {
                for (int y = 0; y < 10; y++)
                    if (ids[x] == truth[i * 10 + y]) hits++;
                if (sc[x] >= kth[i] - 1e-4f) thits++;
            }
        }
        qsort(lat, o.nq, sizeof(double), vb_cmp_double);
        char label[32];
        if (np) snprintf(label, sizeof(label), "%d", np);
        else snprintf(label, sizeof(label), "%d (default)", m.nprobe);
        printf("| %s | %.4f | %.4f | %.3f | %.3f | %.3f |\n", label, hits / (10.0 * (double)o.nq),
               thits / (10.0 * (double)o.nq), sum / (double)o.nq,
               lat[o.nq / 2], lat[(size_t)((double)o.nq * 0.99)]);
    }
    vidx_close(v);
    if (o.smaps && vb_smaps(&o) < 0) fprintf(stderr, "smaps: failed\n");
    if (!o.keep && o.dir == tmpdir) {
        const char *files[] = {"bench.faiss", "bench.ids", "bench.meta.json"};
        char p[1024];
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s/%s", o.dir, files[i]);
            unlink(p);
        }
        rmdir(o.dir);
    }
    free(lat);
    free(truth);
    free(kth);
    free(all);
    return 0;
}
