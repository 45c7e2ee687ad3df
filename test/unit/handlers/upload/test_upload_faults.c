/* test_upload_faults.c: the real upload route (h_upload, cx_upload) over a
 * fake store (test/unit/fakes/fake_store.h) that fails at step N, for every
 * N the upload takes and both failure classes: the stream ends with the
 * right `error` (DB_CONNECTION_ERROR / DB_QUERY_ERROR, partial false) and
 * `close`, the JSON twin answers 503 / 500, and nothing is stored: the
 * committed rows are as before, no transaction is left open, and the
 * chatbot's index files are byte for byte the previous ones, with no
 * staging file left beside them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/store/context.h"
#include "index/vidx.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

#define BOT "shop-7"
#define KEY "unit-key"
#define BOUNDARY "unitBoundary42"
enum { DIM = 384, SEEDED = 3 };

/* A markdown file long enough for two chunk INSERTs (over 64 chunks of at
 * most 32 tokens). */
static char *upload_body(size_t *len)
{
    buf_t text;
    arena_t *ar = ar_new(1 << 16);
    buf_init(&text, ar, 1 << 20);
    buf_adds(&text, "# Care guide\n\n");
    for (int i = 0; i < 90; i++)
        buf_printf(&text, "Silk saree number %d is dry cleaned only, folded in muslin and aired every %d months. ",
                   i, i % 5 + 1);
    size_t cap = text.len + 1024;
    char *b = malloc(cap);
    int n = snprintf(b, cap,
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"chatbotId\"\r\n\r\n" BOT "\r\n"
                     "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"care.md\"\r\n"
                     "Content-Type: text/markdown\r\n\r\n%s\r\n--" BOUNDARY "--\r\n",
                     text.p);
    ar_free(ar);
    *len = (size_t)n;
    return b;
}

struct ufx {
    struct rfx r;
    struct fake_store st;
    char dir[64];
    char *body;
    size_t blen;
    char len_env[64];
};

static void ufx_index_seed(struct ufx *u)
{
    float *v = calloc(SEEDED * DIM, sizeof(float));
    int64_t ids[SEEDED];
    for (size_t i = 0; i < SEEDED; i++) {
        v[i * DIM + i] = 1.0f;
        ids[i] = u->st.committed.chunks[i].id;
    }
    char err[256], name[96];
    cx_index_name(BOT, name, sizeof(name));
    CU_ASSERT_EQUAL_FATAL(vidx_build(u->dir, name, v, ids, SEEDED, DIM, "builtin-v1", err, sizeof(err)), 0);
    free(v);
}

static void ufx_open(struct ufx *u)
{
    memset(u, 0, sizeof(*u));
    rfx_open(&u->r);
    fake_store_init(&u->st);
    snprintf(u->dir, sizeof(u->dir), "/tmp/troika-unit-upload-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(u->dir));
    struct cfg *c = &u->r.app.cfg;
    snprintf(c->upload_api_keys, sizeof(c->upload_api_keys), KEY);
    snprintf(c->index_dir, sizeof(c->index_dir), "%s", u->dir);
    snprintf(c->tokenizer_file, sizeof(c->tokenizer_file), "%s/absent-rank-file.json", u->dir);
    c->chunk_tokens = 32;
    c->chunk_overlap = 0;
    u->r.app.store = &u->st.base;
    /* what an earlier upload left: a file, its chunks, the chatbot's index */
    fake_store_seed_file(&u->st, BOT, "00aa", SEEDED, DIM);
    ufx_index_seed(u);
    u->body = upload_body(&u->blen);
    snprintf(u->len_env, sizeof(u->len_env), "CONTENT_LENGTH=%zu", u->blen);
}

static void ufx_close(struct ufx *u)
{
    rfx_close(&u->r);
    fake_store_free(&u->st);
    DIR *d = opendir(u->dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
    if (d) closedir(d);
    rmdir(u->dir);
    free(u->body);
}

static int ufx_upload(struct ufx *u, int stream)
{
    char *env[] = {"CONTENT_TYPE=multipart/form-data; boundary=" BOUNDARY, u->len_env,
                   "HTTP_AUTHORIZATION=Bearer " KEY, "REMOTE_ADDR=10.1.2.3", NULL};
    rfx_reset(&u->r);
    return rfx_run(&u->r, "POST", stream ? "/api/context/upload-file/stream" : "/api/context/upload-file", env,
                   u->body, u->blen);
}

/* The index files' bytes, concatenated, and how many staging files lie
 * beside them. */
static char *index_bytes(const char *dir, size_t *len, int *staging)
{
    static const char *const exts[] = {".faiss", ".ids", ".meta.json"};
    buf_t b;
    arena_t *ar = ar_new(1 << 16);
    buf_init(&b, ar, 64 << 20);
    for (size_t i = 0; i < 3; i++) {
        char path[256], chunk[4096];
        snprintf(path, sizeof(path), "%s/chatbot-" BOT "%s", dir, exts[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            buf_printf(&b, "[missing %s]", exts[i]);
            continue;
        }
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) buf_add(&b, chunk, n);
        fclose(f);
    }
    *staging = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".staging-")) (*staging)++;
    if (d) closedir(d);
    char *out = malloc(b.len + 1);
    memcpy(out, b.p, b.len);
    *len = b.len;
    ar_free(ar);
    return out;
}

/* The stream's last two events are `error` with code, partial false, then
 * `close`; no `complete`. */
static void expect_error_stream(const struct rfx *r, const char *code, int step)
{
    char names[1024];
    rfx_names(r, names, sizeof(names));
    size_t n = r->p.n;
    int ok = n >= 3 && !strcmp(r->p.ev[n - 2].name, "error") && !strcmp(r->p.ev[n - 1].name, "close");
    if (!ok) fprintf(stderr, "\n  step %d: events %s\n", step, names);
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_PTR_NULL(cap_find(&r->p, "complete", 0));
    json_object *err = r->p.ev[n - 2].data, *partial;
    CU_ASSERT_STRING_EQUAL(cap_str(err, "code"), code);
    CU_ASSERT_TRUE(json_object_object_get_ex(err, "partial", &partial) && !json_object_get_boolean(partial));
    CU_ASSERT_STRING_EQUAL(r->p.ev[0].name, "connected");
}

/* A clean upload: `complete`, the rows committed, the index rebuilt over
 * the old and the new chunks. Returns the steps it took. */
static int clean_run(void)
{
    struct ufx u;
    ufx_open(&u);
    CU_ASSERT_EQUAL(ufx_upload(&u, 1), 200);
    const struct cap_event *done = cap_find(&u.r.p, "complete", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(done);
    json_object *x;
    CU_ASSERT(json_object_object_get_ex(done->data, "chunks", &x) && json_object_get_int(x) > 64);
    long chunks = json_object_get_int(x);
    CU_ASSERT_EQUAL(fake_store_files(&u.st), 2);
    CU_ASSERT_EQUAL(fake_store_chunks(&u.st), SEEDED + (size_t)chunks);
    CU_ASSERT_EQUAL(u.st.commits, 1);
    CU_ASSERT_FALSE(u.st.in_tx);
    struct vidx_meta m;
    char err[256];
    CU_ASSERT_EQUAL(vidx_read_meta(u.dir, "chatbot-" BOT, &m, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(m.count, SEEDED + chunks);
    int steps = u.st.steps;
    ufx_close(&u);
    return steps;
}

static void t_clean_upload(void)
{
    /* find, begin, lock, find again, file row, two chunk INSERTs, ids, older vectors, commit */
    CU_ASSERT_EQUAL(clean_run(), 10);
}

/* Every step of the upload fails once, with each failure class. */
static void t_fail_at_every_step(void)
{
    int steps = clean_run();
    CU_ASSERT_FATAL(steps >= 10);
    static const int classes[2] = {ST_ECONN, ST_EQUERY};
    for (int k = 0; k < 2; k++) {
        const char *code = st_code(classes[k]);
        for (int n = 1; n <= steps; n++) {
            struct ufx u;
            ufx_open(&u);
            size_t before_len, after_len;
            int before_staging, after_staging;
            char *before = index_bytes(u.dir, &before_len, &before_staging);

            fake_store_reset(&u.st, n, classes[k]);
            CU_ASSERT_EQUAL(ufx_upload(&u, 1), 200);
            CU_ASSERT_EQUAL(u.st.failed_step, n);
            expect_error_stream(&u.r, code, n);
            /* the store's own words stay in the log */
            CU_ASSERT_PTR_NULL(strstr(cap_str(u.r.p.ev[u.r.p.n - 2].data, "message"), "fake:"));
            CU_ASSERT_EQUAL(fake_store_files(&u.st), 1);
            CU_ASSERT_EQUAL(fake_store_chunks(&u.st), SEEDED);
            CU_ASSERT_FALSE(u.st.in_tx);
            CU_ASSERT_EQUAL(u.st.pending.nfiles + u.st.pending.nchunks, 0);

            /* the JSON twin: the error's status, success false, nothing stored */
            fake_store_reset(&u.st, n, classes[k]);
            CU_ASSERT_EQUAL(ufx_upload(&u, 0), classes[k] == ST_ECONN ? 503 : 500);
            json_object *x;
            CU_ASSERT(json_object_object_get_ex(u.r.p.body, "success", &x) && !json_object_get_boolean(x));
            CU_ASSERT_STRING_EQUAL(cap_str(u.r.p.body, "code"), code);
            CU_ASSERT_EQUAL(fake_store_files(&u.st), 1);
            CU_ASSERT_EQUAL(fake_store_chunks(&u.st), SEEDED);

            char *after = index_bytes(u.dir, &after_len, &after_staging);
            CU_ASSERT_EQUAL(after_len, before_len);
            CU_ASSERT(after_len == before_len && memcmp(before, after, before_len) == 0);
            CU_ASSERT_EQUAL(before_staging, 0);
            CU_ASSERT_EQUAL(after_staging, 0);
            free(before);
            free(after);
            ufx_close(&u);
        }
    }
}

/* The index cannot be written (its folder is gone): INDEX_UNAVAILABLE
 * without the folder's path or FAISS's source file and line, nothing
 * stored. */
static void t_index_failure_hides_paths(void)
{
    struct ufx u;
    ufx_open(&u);
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/gone/deeper", u.dir);
    snprintf(u.r.app.cfg.index_dir, sizeof(u.r.app.cfg.index_dir), "%s", missing);
    for (int stream = 1; stream >= 0; stream--) {
        int status = ufx_upload(&u, stream);
        const char *msg;
        if (stream) {
            CU_ASSERT_EQUAL(status, 200);
            expect_error_stream(&u.r, "INDEX_UNAVAILABLE", 0);
            msg = cap_str(u.r.p.ev[u.r.p.n - 2].data, "message");
        } else {
            CU_ASSERT_EQUAL(status, 503);
            CU_ASSERT_STRING_EQUAL(cap_str(u.r.p.body, "code"), "INDEX_UNAVAILABLE");
            msg = cap_str(u.r.p.body, "message");
        }
        CU_ASSERT_PTR_NULL(strstr(msg, u.dir));
        CU_ASSERT_PTR_NULL(strstr(msg, "/"));
        CU_ASSERT_PTR_NULL(strstr(msg, ".cpp"));
        CU_ASSERT_PTR_NULL(strstr(msg, "faiss"));
        if (strchr(msg, '/')) fprintf(stderr, "\n  message: %s\n", msg);
        CU_ASSERT_EQUAL(fake_store_files(&u.st), 1);
        CU_ASSERT_EQUAL(fake_store_chunks(&u.st), SEEDED);
    }
    ufx_close(&u);
}

/* A form field with a NUL byte is refused (400 naming it), not cut at the
 * NUL and stored under the part before it. */
static void t_nul_in_fields(void)
{
    static const struct {
        const char *field;
        const char *value;
        size_t len;
    } cases[] = {
        {"chatbotId", BOT "\0other", sizeof(BOT "\0other") - 1},
        {"chatbotId", "\0" BOT, sizeof("\0" BOT) - 1},
        {"title", "Care\0guide", sizeof("Care\0guide") - 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ufx u;
        ufx_open(&u);
        free(u.body);
        size_t cap = 4096, n = 0;
        u.body = malloc(cap);
        n += (size_t)snprintf(u.body + n, cap - n, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
                              cases[i].field);
        memcpy(u.body + n, cases[i].value, cases[i].len);
        n += cases[i].len;
        if (strcmp(cases[i].field, "chatbotId") != 0)
            n += (size_t)snprintf(u.body + n, cap - n,
                                  "\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"chatbotId\"\r\n\r\n" BOT);
        n += (size_t)snprintf(u.body + n, cap - n,
                              "\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                              "Content-Type: text/plain\r\n\r\nSilk sarees are dry cleaned only.\r\n--" BOUNDARY "--\r\n");
        u.blen = n;
        snprintf(u.len_env, sizeof(u.len_env), "CONTENT_LENGTH=%zu", u.blen);
        for (int stream = 0; stream <= 1; stream++) {
            int status = ufx_upload(&u, stream);
            CU_ASSERT_EQUAL(status, 400);
            if (status == 400 && u.r.p.body) {
                CU_ASSERT_STRING_EQUAL(cap_str(u.r.p.body, "code"), "INVALID_PARAMETERS");
                CU_ASSERT_STRING_EQUAL(cap_str(u.r.p.body, "field"), cases[i].field);
            }
            CU_ASSERT_EQUAL(fake_store_files(&u.st), 1);
            CU_ASSERT_EQUAL(u.st.commits, 0);
        }
        ufx_close(&u);
    }
}

void register_upload_faults(void)
{
    static const struct unit_case cases[] = {
        {"fake store: a clean upload commits the rows and rebuilds the index", t_clean_upload},
        {"fake store fails at every step (connection lost, query error): error event, nothing stored",
         t_fail_at_every_step},
        {"a NUL byte in chatbotId or title is refused, not cut", t_nul_in_fields},
        {"an index that cannot be written: no path or FAISS source line in the answer", t_index_failure_hides_paths},
        {NULL, NULL},
    };
    unit_suite("upload over a failing store (handlers/upload, common/store/context_upload)", cases);
}
