/* test_embed.c: unit tests for index/embed: the builtin embedder's
 * geometry (similar texts closer than unrelated ones, typos, synonyms,
 * Hinglish, colour families), determinism and unit norm; the openai
 * embedder against test/fixtures/fake_openai.py (batching, order, auth
 * header, timeout, cancel, HTTP errors, dimension check). */
#include "test/unit/unit.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/base/config.h"
#include "index/embed.h"
#include "index/embed_provider.h"

enum { D = 384 };

/* See t_deterministic. */
#define TE_GOLDEN (-0.715294)

static struct embedder *te_builtin(int dim)
{
    struct cfg c;
    char err[256];
    cfg_defaults(&c);
    c.embedding_dim = dim;
    struct embedder *e = emb_open(&c, err, sizeof(err));
    if (!e) fprintf(stderr, "emb_open: %s\n", err);
    return e;
}

static void te_vec(struct embedder *e, const char *text, float *out)
{
    char err[256];
    int tmo = 0;
    const char *t[1] = {text};
    CU_ASSERT_EQUAL(e->embed(e, t, 1, out, &tmo, err, sizeof(err)), 0);
}

static double te_dot(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return s;
}

/* cos(a, b) with the builtin embedder. */
static double te_cos(struct embedder *e, const char *a, const char *b)
{
    float va[D], vb[D];
    te_vec(e, a, va);
    te_vec(e, b, vb);
    return te_dot(va, vb, D);
}

static void t_builtin_name_dim(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->name, "builtin-v1");
    CU_ASSERT_EQUAL(e->dim, D);
    emb_close(e);
}

static void t_similar_closer_than_unrelated(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    double near = te_cos(e, "red silk lehenga", "crimson lehenga choli");
    double far = te_cos(e, "red silk lehenga", "men's leather wallet");
    CU_ASSERT(near > far + 0.2);
    CU_ASSERT(near > 0.3);
    CU_ASSERT(fabs(far) < 0.15);
    /* a longer product text against a query */
    CU_ASSERT(te_cos(e, "banarasi silk saree", "Maroon Banarasi silk saree with zari border") >
              te_cos(e, "banarasi silk saree", "Navy cotton kurta set for men") + 0.2);
    emb_close(e);
}

static void t_typo_lehnga(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    /* lexicon spelling variant */
    CU_ASSERT(te_cos(e, "lehnga", "lehenga") > te_cos(e, "lehnga", "saree") + 0.5);
    /* typos the lexicon does not know: character n-grams */
    CU_ASSERT(te_cos(e, "lehengaa", "lehenga") > te_cos(e, "lehengaa", "saree") + 0.3);
    CU_ASSERT(te_cos(e, "sherwaanii", "sherwani") > te_cos(e, "sherwaanii", "kurta") + 0.2);
    CU_ASSERT(te_cos(e, "red lehnga", "red lehenga") > te_cos(e, "red lehnga", "red saree"));
    emb_close(e);
}

static void t_bridal_wedding(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT(te_cos(e, "bridal", "wedding") > te_cos(e, "bridal", "casual") + 0.2);
    CU_ASSERT(te_cos(e, "bridal lehenga", "wedding lehenga") > te_cos(e, "bridal lehenga", "party lehenga"));
    /* Hinglish */
    CU_ASSERT(te_cos(e, "shaadi", "wedding") > 0.99);
    CU_ASSERT(te_cos(e, "laal saree", "red saree") > 0.99);
    CU_ASSERT(te_cos(e, "shaadi ke liye laal lehenga", "red wedding lehenga") > 0.6);
    CU_ASSERT(te_cos(e, "sari", "saree") > 0.99);
    emb_close(e);
}

static void t_colour_family(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT(te_cos(e, "maroon kurta", "red kurta") > te_cos(e, "maroon kurta", "blue kurta") + 0.1);
    CU_ASSERT(te_cos(e, "crimson", "red") > te_cos(e, "crimson", "navy") + 0.2);
    emb_close(e);
}

static void t_normalisation_of_text(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT(te_cos(e, "Red  SILK, Lehenga!", "red silk lehenga") > 0.999);
    CU_ASSERT(te_cos(e, "men's kurta", "mens kurta") > 0.999);
    CU_ASSERT(te_cos(e, "men\xe2\x80\x99s kurta", "men's kurta") > 0.999); /* U+2019 */
    CU_ASSERT(te_cos(e, "lehengas", "lehenga") > 0.99);
    CU_ASSERT(te_cos(e, "dresses", "dress") > 0.99);
    CU_ASSERT(te_cos(e, "the red saree for me", "red saree") > 0.99); /* stopwords */
    emb_close(e);
}

static void t_deterministic(void)
{
    struct embedder *a = te_builtin(D), *b = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    const char *texts[3] = {"red silk lehenga", "", "Sabyasachi ivory organza saree"};
    float one[3 * D], two[3 * D], single[D];
    char err[128];
    int tmo = 1;
    CU_ASSERT_EQUAL(a->embed(a, texts, 3, one, &tmo, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(tmo, 0);
    CU_ASSERT_EQUAL(b->embed(b, texts, 3, two, &tmo, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(memcmp(one, two, sizeof(one)), 0);
    te_vec(a, texts[2], single); /* a batch equals one by one */
    CU_ASSERT_EQUAL(memcmp(one + 2 * D, single, sizeof(single)), 0);
    /* Golden values: if this fails the function changed, so bump BI_NAME
     * ("builtin-v2") in embed_builtin.c, then update these numbers. */
    double dots = 0;
    for (int i = 0; i < D; i++) dots += one[i] * (double)(i % 7 - 3);
    CU_ASSERT(fabs(dots - TE_GOLDEN) < 1e-4);
    if (fabs(dots - TE_GOLDEN) >= 1e-4) fprintf(stderr, "\nbuiltin golden value is now %.6f\n", dots);
    emb_close(a);
    emb_close(b);
}

static void t_unit_norm(void)
{
    struct embedder *e = te_builtin(D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    static char longtext[20000];
    for (size_t i = 0; i + 1 < sizeof(longtext); i++) longtext[i] = "abc defg hij, "[i % 14];
    const char *texts[] = {"", "!!! ???", "a", "red", "लाल साड़ी", longtext, "\xff\xfe bad utf8 \xc3",
                           "12345 6789", "x_y-z"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        float v[D];
        te_vec(e, texts[i], v);
        CU_ASSERT(fabs(te_dot(v, v, D) - 1.0) < 1e-5);
    }
    /* Devanagari lexicon entries land on the English words */
    CU_ASSERT(te_cos(e, "लाल साड़ी", "red saree") > 0.99);
    emb_close(e);
}

static void t_other_dims(void)
{
    struct embedder *e = te_builtin(64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    float v[64];
    te_vec(e, "red silk lehenga", v);
    CU_ASSERT(fabs(te_dot(v, v, 64) - 1.0) < 1e-5);
    emb_close(e);
}

static void t_open_errors(void)
{
    struct cfg c;
    char err[256] = "";
    cfg_defaults(&c);
    snprintf(c.embedding_provider, sizeof(c.embedding_provider), "bert");
    CU_ASSERT_PTR_NULL(emb_open(&c, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "embedding_provider"));
    cfg_defaults(&c);
    c.embedding_dim = 2;
    CU_ASSERT_PTR_NULL(emb_open(&c, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "embedding_dim"));
    /* the config check names the key */
    cfg_defaults(&c);
    CU_ASSERT_EQUAL(cfg_set(&c, "embedding_provider", "bert", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "embedding_provider"));
    CU_ASSERT_EQUAL(cfg_set(&c, "embedding_dim", "100000", err, sizeof(err)), -1);
}

static void t_lexicon_sorted(void)
{
    CU_ASSERT(emb_builtin_lexicon_sorted());
}

/* ---- openai against the fake server ------------------------------------ */

struct te_fake {
    pid_t pid;
    int port;
    char base[64];
};

static int te_fake_start(struct te_fake *f)
{
    const char *src = getenv("TROIKA_TOP_SRCDIR");
    char script[1024];
    snprintf(script, sizeof(script), "%s/test/fixtures/fake_openai.py", src && *src ? src : ".");
    int fds[2];
    if (pipe(fds) < 0) return -1;
    f->pid = fork();
    if (f->pid < 0) return -1;
    if (f->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script, "--port", "0", "--dim", "384", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[128] = "";
    if (!in || !fgets(line, sizeof(line), in) || sscanf(line, "listening on %d", &f->port) != 1) {
        if (in) fclose(in);
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        fprintf(stderr, "cannot start %s\n", script);
        return -1;
    }
    fclose(in);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->port);
    return 0;
}

static void te_fake_stop(struct te_fake *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
}

static size_t te_sink(char *p, size_t s, size_t n, void *arg)
{
    char *dst = arg;
    size_t have = strlen(dst), add = s * n;
    if (have + add < 4096) {
        memcpy(dst + have, p, add);
        dst[have + add] = '\0';
    }
    return s * n;
}

/* POST (body) or GET (NULL) to the fake; the answer into out[4096]. */
static int te_fake_call(const struct te_fake *f, const char *path, const char *body, char *out)
{
    char url[128];
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    out[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c) return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, te_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static struct embedder *te_openai(const struct te_fake *f, int batch, int timeout_ms, const char *key)
{
    struct cfg c;
    char err[256];
    cfg_defaults(&c);
    snprintf(c.embedding_provider, sizeof(c.embedding_provider), "openai");
    snprintf(c.embedding_url, sizeof(c.embedding_url), "%s/", f->base);
    snprintf(c.embedding_model, sizeof(c.embedding_model), "fake-embed");
    snprintf(c.embedding_api_key, sizeof(c.embedding_api_key), "%s", key);
    c.embedding_batch = batch;
    c.embedding_timeout_ms = timeout_ms;
    CU_ASSERT_EQUAL(cfg_check(&c, err, sizeof(err)), 0);
    struct embedder *e = emb_open(&c, err, sizeof(err));
    if (!e) fprintf(stderr, "emb_open: %s\n", err);
    return e;
}

static double te_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void t_openai_batches_and_order(void)
{
    struct te_fake f;
    CU_ASSERT_FATAL(te_fake_start(&f) == 0);
    struct embedder *e = te_openai(&f, 3, 5000, "sk-test-123");
    CU_ASSERT_PTR_NOT_NULL(e);
    char out[4096], err[256] = "";
    if (e) {
        CU_ASSERT_STRING_EQUAL(e->name, "openai:fake-embed");
        const char *texts[7] = {"red silk lehenga", "", "saree", "kurta", "wallet", "gown", "dupatta"};
        static float all[7 * D], one[D], rev[7 * D];
        int tmo = 1;
        CU_ASSERT_EQUAL(e->embed(e, texts, 7, all, &tmo, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(tmo, 0);
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_stats", NULL, out), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"requests\": 3"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"batches\": [3, 3, 1]"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"last_auth\": \"Bearer sk-test-123\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"last_model\": \"fake-embed\""));
        for (int i = 0; i < 7; i++) CU_ASSERT(fabs(te_dot(all + i * D, all + i * D, D) - 1.0) < 1e-5);
        CU_ASSERT(fabs(te_dot(all, all + D, D)) < 0.3); /* different texts, different vectors */
        /* one at a time gives the same vector as in a batch */
        CU_ASSERT_EQUAL(e->embed(e, texts + 4, 1, one, &tmo, err, sizeof(err)), 0);
        CU_ASSERT(te_dot(one, all + 4 * D, D) > 0.99999);
        /* data[] in reverse order: placed by "index" */
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"reverse\": true}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, texts, 7, rev, &tmo, err, sizeof(err)), 0);
        for (int i = 0; i < 7; i++) CU_ASSERT(te_dot(rev + i * D, all + i * D, D) > 0.99999);
        emb_close(e);
    }
    te_fake_stop(&f);
}

static void t_openai_no_key_no_header(void)
{
    struct te_fake f;
    CU_ASSERT_FATAL(te_fake_start(&f) == 0);
    struct embedder *e = te_openai(&f, 8, 5000, "");
    CU_ASSERT_PTR_NOT_NULL(e);
    char out[4096], err[256];
    if (e) {
        const char *t[1] = {"saree"};
        float v[D];
        int tmo;
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_stats", NULL, out), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"last_auth\": null"));
        emb_close(e);
    }
    te_fake_stop(&f);
}

static void t_openai_timeout(void)
{
    struct te_fake f;
    CU_ASSERT_FATAL(te_fake_start(&f) == 0);
    struct embedder *e = te_openai(&f, 8, 300, "");
    char out[4096], err[256] = "";
    CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"delay_ms\": 3000}", out), 0);
    if (e) {
        const char *t[1] = {"saree"};
        float v[D];
        int tmo = 0;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        double ms = te_ms_since(&t0);
        CU_ASSERT_EQUAL(tmo, 1);
        CU_ASSERT(ms >= 250 && ms < 1500);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "timed out"));
        emb_close(e);
    }
    te_fake_stop(&f);
}

static int te_cancel_calls;
static int te_cancel_after_first(void *arg)
{
    (void)arg;
    return ++te_cancel_calls > 1;
}

static void t_openai_cancel(void)
{
    struct te_fake f;
    CU_ASSERT_FATAL(te_fake_start(&f) == 0);
    struct embedder *e = te_openai(&f, 8, 10000, "");
    char out[4096], err[256] = "";
    CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"delay_ms\": 5000}", out), 0);
    if (e) {
        const char *t[1] = {"saree"};
        float v[D];
        int tmo = 0;
        te_cancel_calls = 0;
        e->cancel = te_cancel_after_first;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT(te_ms_since(&t0) < 1000); /* polled every 20 ms */
        CU_ASSERT_EQUAL(tmo, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "cancelled"));
        emb_close(e);
    }
    te_fake_stop(&f);
}

static void t_openai_http_errors(void)
{
    struct te_fake f;
    CU_ASSERT_FATAL(te_fake_start(&f) == 0);
    struct embedder *e = te_openai(&f, 8, 5000, "sk-secret-abc");
    char out[4096], err[256] = "";
    if (e) {
        const char *t[1] = {"saree"};
        float v[D];
        int tmo = 0;
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"status\": 500, \"error_message\": \"model overloaded\"}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 500"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "model overloaded"));
        CU_ASSERT_EQUAL(tmo, 0);
        /* a 401 message can quote the key: never copied */
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control",
                                     "{\"status\": 401, \"error_message\": \"Incorrect API key provided: sk-secret-abc\"}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 401"));
        CU_ASSERT_PTR_NULL(strstr(err, "sk-secret"));
        /* any other status whose message holds the key: dropped too */
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"status\": 400}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 400"));
        CU_ASSERT_PTR_NULL(strstr(err, "sk-secret"));
        /* the wrong dimension */
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"status\": 200, \"dim\": 256}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "256-dimensional"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "embedding_dim is 384"));
        /* and back to normal on the same handle */
        CU_ASSERT_EQUAL(te_fake_call(&f, "/_control", "{\"dim\": 384}", out), 0);
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), 0);
        emb_close(e);
    }
    te_fake_stop(&f);
    /* nobody listening any more: a connection error, not a timeout */
    e = te_openai(&f, 8, 2000, "");
    if (e) {
        const char *t[1] = {"saree"};
        float v[D];
        int tmo = 0;
        CU_ASSERT_EQUAL(e->embed(e, t, 1, v, &tmo, err, sizeof(err)), -1);
        CU_ASSERT_EQUAL(tmo, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "request failed"));
        emb_close(e);
    }
}

void register_embed(void)
{
    static const struct unit_case cases[] = {
        {"builtin name and dim", t_builtin_name_dim},
        {"similar texts closer than unrelated", t_similar_closer_than_unrelated},
        {"typo lehnga lands near lehenga", t_typo_lehnga},
        {"bridal near wedding, Hinglish", t_bridal_wedding},
        {"colour families", t_colour_family},
        {"case, punctuation, plurals, stopwords", t_normalisation_of_text},
        {"deterministic, batch equals single, golden", t_deterministic},
        {"unit norm for any text", t_unit_norm},
        {"other dimensions", t_other_dims},
        {"open errors name the key", t_open_errors},
        {"lexicon sorted", t_lexicon_sorted},
        {"openai batches, order, auth header", t_openai_batches_and_order},
        {"openai without key sends no header", t_openai_no_key_no_header},
        {"openai timeout", t_openai_timeout},
        {"openai cancel callback", t_openai_cancel},
        {"openai HTTP errors and dim check", t_openai_http_errors},
        {NULL, NULL},
    };
    unit_suite("embed", cases);
}
