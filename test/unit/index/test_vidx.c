/* test_vidx.c: unit tests for index/vidx (the FAISS shim): build, open and
 * search on the Flat and IVF paths, the IVF lists memory-mapped shared,
 * atomic rebuilds (a failed build leaves the old files as they were),
 * refresh after a rebuild, refusal of files from two builds, metadata. */
#include "test/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "index/vidx.h"

/* ---- helpers ------------------------------------------------------------ */

struct tv_dir {
    char path[64];
};

static int tv_mkdir(struct tv_dir *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/troika-vidx-test-XXXXXX");
    return mkdtemp(d->path) ? 0 : -1;
}

static void tv_rmdir(struct tv_dir *d)
{
    DIR *dh = opendir(d->path);
    if (dh) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(dh))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(p, sizeof(p), "%s/%s", d->path, de->d_name);
            unlink(p);
        }
        closedir(dh);
    }
    rmdir(d->path);
}

/* Number of entries in the directory (temporary files left behind show). */
static int tv_count_files(const struct tv_dir *d)
{
    int n = 0;
    DIR *dh = opendir(d->path);
    struct dirent *de;
    while (dh && (de = readdir(dh)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    if (dh) closedir(dh);
    return n;
}

static uint64_t tv_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double tv_gauss(uint64_t *s)
{
    double u1 = ((double)(tv_rng(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (double)(tv_rng(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void tv_normalize(float *v, int dim)
{
    double ss = 0;
    for (int j = 0; j < dim; j++) ss += (double)v[j] * v[j];
    for (int j = 0; j < dim; j++) v[j] = (float)(v[j] / sqrt(ss));
}

/* n unit vectors around `clusters` random centres. Caller frees. */
static float *tv_vectors(size_t n, int dim, int clusters, uint64_t seed)
{
    float *cent = malloc(sizeof(float) * (size_t)clusters * (size_t)dim);
    float *v = malloc(sizeof(float) * n * (size_t)dim);
    uint64_t s = seed | 1;
    for (int c = 0; c < clusters; c++) {
        for (int j = 0; j < dim; j++) cent[c * dim + j] = (float)tv_gauss(&s);
        tv_normalize(cent + c * dim, dim);
    }
    for (size_t i = 0; i < n; i++) {
        const float *c = cent + (tv_rng(&s) % (uint64_t)clusters) * (size_t)dim;
        for (int j = 0; j < dim; j++) v[i * dim + j] = c[j] + 0.15f * (float)tv_gauss(&s);
        tv_normalize(v + i * dim, dim);
    }
    free(cent);
    return v;
}

static int64_t *tv_ids(size_t n, int64_t base)
{
    int64_t *ids = malloc(sizeof(int64_t) * n);
    for (size_t i = 0; i < n; i++) ids[i] = base + (int64_t)i * 7;
    return ids;
}

static char *tv_slurp(const char *dir, const char *file, size_t *len)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct tv_snap {
    char *b[3];
    size_t n[3];
};
static const char *const tv_files[3] = {"p.faiss", "p.ids", "p.meta.json"};

static void tv_snap_take(const struct tv_dir *d, struct tv_snap *s)
{
    for (int i = 0; i < 3; i++) s->b[i] = tv_slurp(d->path, tv_files[i], &s->n[i]);
}

static int tv_snap_same(const struct tv_dir *d, const struct tv_snap *s)
{
    int same = 1;
    for (int i = 0; i < 3; i++) {
        size_t n;
        char *b = tv_slurp(d->path, tv_files[i], &n);
        if (!b || !s->b[i] || n != s->n[i] || memcmp(b, s->b[i], n) != 0) same = 0;
        free(b);
    }
    return same;
}

static void tv_snap_free(struct tv_snap *s)
{
    for (int i = 0; i < 3; i++) free(s->b[i]);
}

/* Every vector (every `step`-th) finds its own id first. */
static int tv_self_first(struct vidx *v, const float *vecs, const int64_t *ids, size_t n, int dim, int nprobe,
                         size_t step)
{
    int bad = 0;
    for (size_t i = 0; i < n; i += step) {
        int64_t got[5];
        float sc[5];
        int nout = -1;
        if (vidx_search(v, vecs + i * (size_t)dim, 5, nprobe, got, sc, &nout) < 0 || nout < 1 || got[0] != ids[i] ||
            fabsf(sc[0] - 1.0f) > 1e-4f)
            bad++;
    }
    return bad;
}

/* 1 when /proc/self/maps has a shared read-only mapping of this file. */
static int tv_mapped_shared(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    while (f && fgets(line, sizeof(line), f)) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        size_t ll = strlen(line), pl = strlen(path);
        if (ll >= pl && !strcmp(line + ll - pl, path) && strstr(line, " r--s ")) found = 1;
    }
    if (f) fclose(f);
    return found;
}

/* ---- tests -------------------------------------------------------------- */

static void t_flat_roundtrip(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 300, DIM = 32 };
    float *vecs = tv_vectors(N, DIM, 10, 1);
    int64_t *ids = tv_ids(N, 1000);
    char err[512] = "";
    long long t0 = (long long)time(NULL);
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", vecs, ids, N, DIM, "test-emb", err, sizeof(err)), 0);
    struct vidx *v = vidx_open(d.path, "p", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v) {
        const struct vidx_meta *m = vidx_meta(v);
        CU_ASSERT_STRING_EQUAL(m->kind, "Flat");
        CU_ASSERT_STRING_EQUAL(m->embedder, "test-emb");
        CU_ASSERT_EQUAL(m->dim, DIM);
        CU_ASSERT_EQUAL(m->count, N);
        CU_ASSERT_EQUAL(m->nlist, 0);
        CU_ASSERT(m->built_at >= t0 && m->built_at <= t0 + 5);
        CU_ASSERT_EQUAL(strlen(m->build_id), 16);
        CU_ASSERT_EQUAL(tv_self_first(v, vecs, ids, N, DIM, 0, 1), 0);
        /* k beyond the count: only real hits, best first */
        int64_t got[500];
        float sc[500];
        int nout = 0;
        CU_ASSERT_EQUAL(vidx_search(v, vecs, 500, 0, got, sc, &nout), 0);
        CU_ASSERT_EQUAL(nout, N);
        for (int i = 1; i < nout; i++) CU_ASSERT(sc[i] <= sc[i - 1]);
        vidx_close(v);
    }
    /* no ids: row numbers */
    CU_ASSERT_EQUAL(vidx_build(d.path, "q", vecs, NULL, N, DIM, "test-emb", err, sizeof(err)), 0);
    v = vidx_open(d.path, "q", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v) {
        int64_t got[1];
        float sc[1];
        int nout = 0;
        CU_ASSERT_EQUAL(vidx_search(v, vecs + 17 * DIM, 1, 0, got, sc, &nout), 0);
        CU_ASSERT_EQUAL(nout, 1);
        CU_ASSERT_EQUAL(got[0], 17);
        vidx_close(v);
    }
    CU_ASSERT_EQUAL(tv_count_files(&d), 6);
    free(vecs);
    free(ids);
    tv_rmdir(&d);
}

static void t_ivf_roundtrip_mmap(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 3000, DIM = 32 };
    float *vecs = tv_vectors(N, DIM, 40, 2);
    int64_t *ids = tv_ids(N, 5);
    char err[512] = "", path[256];
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", vecs, ids, N, DIM, "test-emb", err, sizeof(err)), 0);
    struct vidx *v = vidx_open(d.path, "p", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v) {
        const struct vidx_meta *m = vidx_meta(v);
        CU_ASSERT_STRING_EQUAL(m->kind, "IVFFlat");
        /* 4*sqrt(3000) = 219 lists would leave < 39 training points each */
        CU_ASSERT_EQUAL(m->nlist, 3000 / 39);
        CU_ASSERT(m->nprobe >= 1 && m->nprobe <= m->nlist);
        CU_ASSERT_EQUAL(tv_self_first(v, vecs, ids, N, DIM, 0, 1), 0);
        CU_ASSERT_EQUAL(tv_self_first(v, vecs, ids, N, DIM, 1, 7), 0);
        CU_ASSERT_EQUAL(tv_self_first(v, vecs, ids, N, DIM, 100000, 7), 0); /* clamped to nlist */
        /* the inverted lists are a shared read-only mapping, not heap */
        snprintf(path, sizeof(path), "%s/p.faiss", d.path);
        CU_ASSERT(tv_mapped_shared(path));
        snprintf(path, sizeof(path), "%s/p.ids", d.path);
        CU_ASSERT(tv_mapped_shared(path));
        vidx_close(v);
        snprintf(path, sizeof(path), "%s/p.faiss", d.path);
        CU_ASSERT(!tv_mapped_shared(path)); /* unmapped on close */
    }
    free(vecs);
    free(ids);
    tv_rmdir(&d);
}

static void t_failed_build_keeps_old_files(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 3000, DIM = 32 };
    float *vecs = tv_vectors(N, DIM, 40, 3);
    float *other = tv_vectors(N, DIM, 40, 4);
    int64_t *ids = tv_ids(N, 1);
    char err[512] = "";
    CU_ASSERT_FATAL(vidx_build(d.path, "p", vecs, ids, N, DIM, "test-emb", err, sizeof(err)) == 0);
    struct vidx_meta before;
    CU_ASSERT_EQUAL(vidx_read_meta(d.path, "p", &before, err, sizeof(err)), 0);
    struct tv_snap snap;
    tv_snap_take(&d, &snap);

    /* dim mismatch: 32-dim vectors declared as 64-dim are not unit vectors */
    err[0] = '\0';
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", other, ids, N / 2, 2 * DIM, "test-emb", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "L2-normalised"));
    CU_ASSERT(tv_snap_same(&d, &snap));
    /* a vector with NaN */
    other[5] = NAN;
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", other, ids, N, DIM, "test-emb", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "non-finite"));
    other[5] = 0;
    tv_normalize(other, DIM);
    /* a directory that is not there */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nope", d.path);
    CU_ASSERT_EQUAL(vidx_build(missing, "p", other, ids, N, DIM, "test-emb", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope"));

    /* the disk fills up half way through writing (RLIMIT_FSIZE works for
     * root too): in a child, so the limit stays there */
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {64 * 1024, 64 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        char e2[512] = "";
        int rc = vidx_build(d.path, "p", other, ids, N, DIM, "test-emb", e2, sizeof(e2));
        _exit(rc == -1 && strstr(e2, "cannot write") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT(tv_snap_same(&d, &snap));
    CU_ASSERT_EQUAL(tv_count_files(&d), 3); /* no temporary file left behind */

    struct vidx *v = vidx_open(d.path, "p", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v) {
        CU_ASSERT_STRING_EQUAL(vidx_meta(v)->build_id, before.build_id);
        CU_ASSERT_EQUAL(tv_self_first(v, vecs, ids, N, DIM, 0, 11), 0);
        vidx_close(v);
    }
    tv_snap_free(&snap);
    free(vecs);
    free(other);
    free(ids);
    tv_rmdir(&d);
}

static void t_refresh_picks_up_rebuild(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 1500, DIM = 24 };
    float *a = tv_vectors(N, DIM, 20, 5), *b = tv_vectors(N + 100, DIM, 20, 6);
    int64_t *ia = tv_ids(N, 100000), *ib = tv_ids(N + 100, 200000);
    char err[512] = "";
    struct vidx *v = NULL;
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), -1); /* nothing yet */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "absent"));
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_FATAL(vidx_build(d.path, "p", a, ia, N, DIM, "test-emb", err, sizeof(err)) == 0);
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), 1); /* first open */
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(vidx_meta(v)->count, N);

    CU_ASSERT_EQUAL(vidx_build(d.path, "p", b, ib, N + 100, DIM, "test-emb", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(vidx_meta(v)->count, N + 100);
    CU_ASSERT_EQUAL(tv_self_first(v, b, ib, N + 100, DIM, 0, 13), 0);
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), 0);

    /* the index removed: an error, and the open one still answers */
    char p[256];
    snprintf(p, sizeof(p), "%s/p.meta.json", d.path);
    unlink(p);
    CU_ASSERT_EQUAL(vidx_refresh(&v, d.path, "p", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "absent"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(tv_self_first(v, b, ib, N + 100, DIM, 0, 13), 0);
    vidx_close(v);
    free(a);
    free(b);
    free(ia);
    free(ib);
    tv_rmdir(&d);
}

static void t_mixed_builds_refused(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 200, DIM = 16 };
    float *a = tv_vectors(N, DIM, 5, 7), *b = tv_vectors(N, DIM, 5, 8);
    int64_t *ids = tv_ids(N, 0);
    char err[512] = "";
    CU_ASSERT_FATAL(vidx_build(d.path, "p", a, ids, N, DIM, "test-emb", err, sizeof(err)) == 0);
    size_t n;
    char *old_ids = tv_slurp(d.path, "p.ids", &n);
    CU_ASSERT_FATAL(vidx_build(d.path, "p", b, ids, N, DIM, "test-emb", err, sizeof(err)) == 0);
    /* put the first build's id file back beside the second build's index */
    char p[256];
    snprintf(p, sizeof(p), "%s/p.ids", d.path);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fwrite(old_ids, 1, n, f);
    fclose(f);
    err[0] = '\0';
    CU_ASSERT_PTR_NULL(vidx_open(d.path, "p", err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "different builds"));
    free(old_ids);
    free(a);
    free(b);
    free(ids);
    tv_rmdir(&d);
}

static void t_meta_roundtrip(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    enum { N = 1200, DIM = 16 };
    float *a = tv_vectors(N, DIM, 8, 9);
    char err[512] = "";
    struct vidx_meta m;
    CU_ASSERT_EQUAL(vidx_read_meta(d.path, "p", &m, err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(strncmp(err, "absent", 6), 0);
    CU_ASSERT_PTR_NULL(vidx_open(d.path, "p", err, sizeof(err)));
    CU_ASSERT_EQUAL(strncmp(err, "absent", 6), 0);
    CU_ASSERT_FATAL(vidx_build(d.path, "p", a, NULL, N, DIM, "openai:text-embedding-3-small", err, sizeof(err)) == 0);
    CU_ASSERT_EQUAL(vidx_read_meta(d.path, "p", &m, err, sizeof(err)), 0);
    struct vidx *v = vidx_open(d.path, "p", err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    const struct vidx_meta *o = vidx_meta(v);
    CU_ASSERT_STRING_EQUAL(m.embedder, "openai:text-embedding-3-small");
    CU_ASSERT_STRING_EQUAL(o->embedder, m.embedder);
    CU_ASSERT_STRING_EQUAL(o->kind, m.kind);
    CU_ASSERT_STRING_EQUAL(o->build_id, m.build_id);
    CU_ASSERT_EQUAL(o->dim, DIM);
    CU_ASSERT_EQUAL(o->count, N);
    CU_ASSERT_EQUAL(o->nlist, m.nlist);
    CU_ASSERT_EQUAL(o->nprobe, m.nprobe);
    CU_ASSERT_EQUAL(o->built_at, m.built_at);
    /* the file is JSON a person can read */
    size_t n;
    char *text = tv_slurp(d.path, "p.meta.json", &n);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"kind\": \"IVFFlat\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"metric\": \"inner_product\""));
    free(text);
    /* embedder and dimension checks */
    CU_ASSERT_EQUAL(vidx_compatible(v, "openai:text-embedding-3-small", DIM, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(vidx_compatible(v, "builtin-v1", DIM, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "builtin-v1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "openai:text-embedding-3-small"));
    CU_ASSERT_EQUAL(vidx_compatible(v, "openai:text-embedding-3-small", 384, err, sizeof(err)), -1);
    vidx_close(v);
    free(a);
    tv_rmdir(&d);
}

static void t_bad_arguments(void)
{
    vidx_threads_init();
    struct tv_dir d;
    CU_ASSERT_FATAL(tv_mkdir(&d) == 0);
    float *a = tv_vectors(10, 8, 2, 10);
    char err[512];
    CU_ASSERT_EQUAL(vidx_build(d.path, "../x", a, NULL, 10, 8, "e", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(vidx_build(d.path, ".x", a, NULL, 10, 8, "e", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(vidx_build(d.path, "", a, NULL, 10, 8, "e", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", a, NULL, 0, 8, "e", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", a, NULL, 10, 0, "e", err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(vidx_build(d.path, "p", a, NULL, 10, 8, "", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NULL(vidx_open(d.path, "a/b", err, sizeof(err)));
    CU_ASSERT_EQUAL(tv_count_files(&d), 0);
    int64_t got[1];
    float sc[1];
    int nout = 5;
    CU_ASSERT_EQUAL(vidx_search(NULL, a, 1, 0, got, sc, &nout), -1);
    CU_ASSERT_EQUAL(nout, 0);
    free(a);
    tv_rmdir(&d);
}

void register_vidx(void)
{
    static const struct unit_case cases[] = {
        {"flat build, open, search, meta", t_flat_roundtrip},
        {"IVF build, open mmap shared, search", t_ivf_roundtrip_mmap},
        {"failed build keeps the old files", t_failed_build_keeps_old_files},
        {"refresh picks up a rebuild", t_refresh_picks_up_rebuild},
        {"files of two builds refused", t_mixed_builds_refused},
        {"meta round trip and compatibility", t_meta_roundtrip},
        {"bad arguments", t_bad_arguments},
        {NULL, NULL},
    };
    unit_suite("vidx", cases);
}
