/* test_files.c: the document management routes (handlers/files/files.c,
 * common/store/context_delete.c) over a fake store
 * (test/unit/fakes/fake_store.h) that fails at step N: a clean delete
 * removes the file's rows and rebuilds the chatbot's index without its
 * chunks; a delete that fails at any step, with either failure class,
 * answers 503 / 500 and leaves every committed row and every index byte as
 * it was, with no transaction open and no staging file left; the last
 * file's delete removes the index. Plus the keys: 401 without one, 403 for
 * another chatbot's key or too small a scope, 404 for an unknown file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/store/access.h"
#include "common/store/context.h"
#include "index/vidx.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

#define BOT "shop-7"
#define KEY "unit-admin-key"
enum { DIM = 384, NA = 3, NB = 2 };

struct dfx {
    struct rfx r;
    struct fake_store st;
    char dir[64];
    long long fa, fb;            /* the two files: A (NA chunks), B (NB chunks) */
};

/* The chatbot's index over both files' chunks, as an upload left it. */
static void dfx_index(struct dfx *d)
{
    size_t n = d->st.committed.nchunks;
    float *v = calloc(n * DIM, sizeof(float));
    int64_t *ids = calloc(n, sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
        memcpy(v + i * DIM, d->st.committed.chunks[i].vec, DIM * sizeof(float));
        ids[i] = d->st.committed.chunks[i].id;
    }
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vidx_build(d->dir, "chatbot-" BOT, v, ids, n, DIM, "builtin-v1", err, sizeof(err)), 0);
    free(v);
    free(ids);
}

static void dfx_open(struct dfx *d)
{
    memset(d, 0, sizeof(*d));
    rfx_open(&d->r);
    fake_store_init(&d->st);
    snprintf(d->dir, sizeof(d->dir), "/tmp/troika-unit-files-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d->dir));
    struct cfg *c = &d->r.app.cfg;
    snprintf(c->upload_api_keys, sizeof(c->upload_api_keys), KEY);
    snprintf(c->index_dir, sizeof(c->index_dir), "%s", d->dir);
    d->r.app.store = &d->st.base;
    d->fa = fake_store_seed_file(&d->st, BOT, "aa", NA, DIM);
    d->fb = fake_store_seed_file(&d->st, BOT, "bb", NB, DIM);
    fake_store_seed_file(&d->st, "other-bot", "cc", 1, DIM);
    fake_store_add_key(&d->st, "manage-7", ACC_MANAGE, BOT);
    fake_store_add_key(&d->st, "manage-other", ACC_MANAGE, "other-bot");
    fake_store_add_key(&d->st, "upload-7", ACC_UPLOAD, BOT);
    dfx_index(d);
}

static void dfx_close(struct dfx *d)
{
    rfx_close(&d->r);
    fake_store_free(&d->st);
    DIR *dp = opendir(d->dir);
    struct dirent *e;
    while (dp && (e = readdir(dp)))
        if (e->d_name[0] != '.') unlinkat(dirfd(dp), e->d_name, 0);
    if (dp) closedir(dp);
    rmdir(d->dir);
}

/* method on /api/context/files/<id> (or the list when id is 0) with key
 * (NULL: none); the status. */
static int dfx_call(struct dfx *d, const char *method, long long id, const char *key, const char *query)
{
    char uri[160], auth[128];
    if (id) snprintf(uri, sizeof(uri), "/api/context/files/%lld%s", id, query ? query : "");
    else snprintf(uri, sizeof(uri), "/api/context/files%s", query ? query : "");
    snprintf(auth, sizeof(auth), "HTTP_AUTHORIZATION=Bearer %s", key ? key : "");
    char *env[] = {key ? auth : "REMOTE_ADDR=10.1.2.3", "REMOTE_ADDR=10.1.2.3", NULL};
    rfx_reset(&d->r);
    return rfx_run(&d->r, method, uri, env, NULL, 0);
}

/* The index files' bytes and the staging files beside them. */
static char *index_bytes(const char *dir, size_t *len, int *staging)
{
    static const char *const exts[] = {".faiss", ".ids", ".meta.json"};
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/chatbot-" BOT "%s", dir, exts[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            n += (size_t)snprintf(out + n, cap - n, "[missing %s]", exts[i]);
            continue;
        }
        n += fread(out + n, 1, cap - n, f);
        fclose(f);
    }
    *staging = 0;
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp && (e = readdir(dp)))
        if (strstr(e->d_name, ".staging-")) (*staging)++;
    if (dp) closedir(dp);
    *len = n;
    return out;
}

/* The row ids the chatbot's index holds (its .ids file after the 32-byte
 * header); -1 when there is no index. */
static long index_ids(const char *dir, int64_t *ids, size_t cap)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/chatbot-" BOT ".ids", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 32, SEEK_SET);
    long n = (long)fread(ids, sizeof(*ids), cap, f);
    fclose(f);
    return n;
}

static int has_chunk_of(const struct fake_store *st, long long file_id)
{
    for (size_t i = 0; i < st->committed.nchunks; i++)
        if (st->committed.chunks[i].file_id == file_id) return 1;
    return 0;
}

/* A clean delete: 200, file A's rows gone, the index rebuilt over B's
 * chunks only; then B, the last: the index is removed. */
static int clean_delete(void)
{
    struct dfx d;
    dfx_open(&d);
    long long a_chunk = d.st.committed.chunks[0].id;
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, KEY, NULL), 200);
    int steps = d.st.steps;
    json_object *x;
    CU_ASSERT(json_object_object_get_ex(d.r.p.body, "deleted", &x) && json_object_get_boolean(x));
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "index"), "rebuilt");
    CU_ASSERT(json_object_object_get_ex(d.r.p.body, "chunksDeleted", &x) && json_object_get_int(x) == NA);
    CU_ASSERT_EQUAL(fake_store_files(&d.st), 2);
    CU_ASSERT_FALSE(has_chunk_of(&d.st, d.fa));
    CU_ASSERT_EQUAL(d.st.commits, 1);
    CU_ASSERT_FALSE(d.st.in_tx);
    int64_t ids[16];
    CU_ASSERT_EQUAL(index_ids(d.dir, ids, 16), NB);
    for (int i = 0; i < NB; i++) CU_ASSERT(ids[i] != a_chunk && ids[i] > d.fb);
    struct vidx_meta m;
    char err[256];
    CU_ASSERT_EQUAL(vidx_read_meta(d.dir, "chatbot-" BOT, &m, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(m.count, NB);
    CU_ASSERT_STRING_EQUAL(m.embedder, "builtin-v1");
    /* the file is gone for GET and a second DELETE */
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", d.fa, KEY, NULL), 404);
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, KEY, NULL), 404);
    /* the last file: the index goes */
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fb, "manage-7", NULL), 200);
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "index"), "removed");
    CU_ASSERT_EQUAL(index_ids(d.dir, ids, 16), -1);
    CU_ASSERT_NOT_EQUAL(vidx_read_meta(d.dir, "chatbot-" BOT, &m, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(fake_store_files(&d.st), 1);   /* the other chatbot's */
    dfx_close(&d);
    return steps;
}

static void t_clean_delete(void)
{
    /* the file (auth), begin, lock, the file again, delete, vectors, commit */
    CU_ASSERT_EQUAL(clean_delete(), 7);
}

/* Every step of a delete fails once, with each failure class: 503 / 500
 * and nothing changed. */
static void t_delete_fails_at_every_step(void)
{
    static const int classes[2] = {ST_ECONN, ST_EQUERY};
    for (int k = 0; k < 2; k++) {
        for (int n = 1; n <= 7; n++) {
            struct dfx d;
            dfx_open(&d);
            size_t before_len, after_len;
            int before_staging, after_staging;
            char *before = index_bytes(d.dir, &before_len, &before_staging);
            fake_store_reset(&d.st, n, classes[k]);
            CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, KEY, NULL), classes[k] == ST_ECONN ? 503 : 500);
            CU_ASSERT_EQUAL(d.st.failed_step, n);
            CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "code"), st_code(classes[k]));
            CU_ASSERT_EQUAL(fake_store_files(&d.st), 3);
            CU_ASSERT_EQUAL(fake_store_chunks(&d.st), NA + NB + 1);
            CU_ASSERT_TRUE(has_chunk_of(&d.st, d.fa));
            CU_ASSERT_FALSE(d.st.in_tx);
            CU_ASSERT_EQUAL(d.st.pending.ndeleted, 0);
            CU_ASSERT_EQUAL(d.st.commits, 0);
            char *after = index_bytes(d.dir, &after_len, &after_staging);
            CU_ASSERT(after_len == before_len && memcmp(before, after, before_len) == 0);
            CU_ASSERT_EQUAL(after_staging, 0);
            free(before);
            free(after);
            /* and a retry once the store is back deletes it */
            fake_store_reset(&d.st, 0, ST_ECONN);
            CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, KEY, NULL), 200);
            CU_ASSERT_FALSE(has_chunk_of(&d.st, d.fa));
            dfx_close(&d);
        }
    }
}

/* The new index cannot be written (where its staging .faiss goes, a
 * directory stands: a rename onto it fails, also for root): 503
 * INDEX_UNAVAILABLE, and the rows and the live index stay as they were. */
static void t_delete_index_fails(void)
{
    struct dfx d;
    dfx_open(&d);
    char block[160], inside[200];
    snprintf(block, sizeof(block), "%s/chatbot-" BOT ".staging-%ld.faiss", d.dir, (long)getpid());
    snprintf(inside, sizeof(inside), "%s/x", block);
    CU_ASSERT_EQUAL_FATAL(mkdir(block, 0700), 0);
    FILE *f = fopen(inside, "w");
    if (f) fclose(f);
    size_t before_len, after_len;
    int staging;
    char *before = index_bytes(d.dir, &before_len, &staging);
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, KEY, NULL), 503);
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "code"), "INDEX_UNAVAILABLE");
    CU_ASSERT_TRUE(has_chunk_of(&d.st, d.fa));
    CU_ASSERT_EQUAL(fake_store_files(&d.st), 3);
    CU_ASSERT_EQUAL(d.st.commits, 0);
    CU_ASSERT_FALSE(d.st.in_tx);
    char *after = index_bytes(d.dir, &after_len, &staging);
    CU_ASSERT(after_len == before_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
    unlink(inside);
    rmdir(block);
    dfx_close(&d);
}

/* Keys and answers: 401, 403 (another chatbot's key, an upload key), 404. */
static void t_keys_and_answers(void)
{
    struct dfx d;
    dfx_open(&d);
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", d.fa, NULL, NULL), 401);
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "code"), "UNAUTHORIZED");
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, "not-a-key", NULL), 401);
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, "manage-other", NULL), 403);
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "code"), "FORBIDDEN");
    CU_ASSERT_EQUAL(dfx_call(&d, "DELETE", d.fa, "upload-7", NULL), 403);
    CU_ASSERT_EQUAL(dfx_call(&d, 0 ? "" : "GET", 0, "manage-other", "?chatbotId=" BOT), 403);
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", 0, "manage-7", ""), 400);          /* chatbotId is required */
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", 999, "manage-7", NULL), 404);
    CU_ASSERT_STRING_EQUAL(cap_str(d.r.p.body, "code"), "NOT_FOUND");
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", d.fa, "manage-7", "?chatbotId=other-bot"), 404);
    CU_ASSERT_EQUAL(fake_store_files(&d.st), 3);   /* nothing was deleted by any of them */

    /* the list: newest first, paged, with the fields of a file */
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", 0, "manage-7", "?chatbotId=" BOT "&limit=1"), 200);
    json_object *files, *x;
    CU_ASSERT_FATAL(json_object_object_get_ex(d.r.p.body, "files", &files));
    CU_ASSERT_EQUAL(json_object_array_length(files), 1);
    json_object *f0 = json_object_array_get_idx(files, 0);
    CU_ASSERT(json_object_object_get_ex(f0, "id", &x) && json_object_get_int64(x) == d.fb);
    static const char *const fields[] = {"id", "title", "type", "bytes", "tokens", "chunks", "pages", "sha256",
                                         "uploadedAt"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        CU_ASSERT(json_object_object_get_ex(f0, fields[i], &x));
    CU_ASSERT(json_object_object_get_ex(d.r.p.body, "total", &x) && json_object_get_int(x) == 2);
    CU_ASSERT_EQUAL(dfx_call(&d, "GET", d.fa, "manage-7", NULL), 200);
    CU_ASSERT(json_object_object_get_ex(d.r.p.body, "file", &x));
    /* a path id that is no number is no file */
    rfx_reset(&d.r);
    char *env[] = {"HTTP_AUTHORIZATION=Bearer " KEY, NULL};
    CU_ASSERT_EQUAL(rfx_run(&d.r, "GET", "/api/context/files/abc", env, NULL, 0), 404);
    dfx_close(&d);
}

void register_files(void)
{
    static const struct unit_case cases[] = {
        {"a clean delete rebuilds the index without the file; the last removes it", t_clean_delete},
        {"a delete failing at every step (connection lost, query error) changes nothing", t_delete_fails_at_every_step},
        {"a delete whose index cannot be written changes nothing", t_delete_index_fails},
        {"keys (401, 403), 404, the list", t_keys_and_answers},
        {NULL, NULL},
    };
    unit_suite("files (handlers/files, common/store/context_delete)", cases);
}
