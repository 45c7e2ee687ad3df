/* embed_openai.c: the openai embedder: POST {model, input:[...]} to any
 * OpenAI-compatible <embedding_url>/v1/embeddings (OpenAI, Ollama, llama.cpp
 * server, vLLM) through the worker HTTP client (common/io/hc), embedding_batch
 * texts a request, with connect and total timeouts and the embedder's
 * cancel callback polled every 20 ms while waiting. The embedder owns one
 * hc client (its connection cache) and one scratch arena, reset at every
 * request; both belong to the process that made them and are made again
 * after a fork. The API key goes only into the Authorization header: never
 * into a log or an error. */
#include "index/embed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/config.h"
#include "common/io/hc.h"
#include "index/embed_provider.h"

enum { OA_MSG_MAX = 200, OA_ARENA_BLOCK = 64 * 1024 };

struct oa {
    struct embedder *e; /* back pointer, for the cancel callback */
    struct hc *hc;
    arena_t *ar;        /* request body and response of the current call */
    pid_t pid;          /* the process that made hc */
    char url[CFG_STR_MAX + 32];
    char model[CFG_STR_MAX];
    char key[CFG_STR_MAX];
    int timeout_ms, connect_timeout_ms, batch;
    size_t resp_max;
    const char *resp;   /* body of the last answer (in ar) */
    size_t resp_len;
};

static int oa_tick(void *arg)
{
    const struct oa *o = arg;
    const struct embedder *e = o->e;
    return e->cancel && e->cancel(e->cancel_arg) ? 1 : 0;
}

/* This process's HTTP client: made on first use and again after a fork
 * (a client and its connections never cross fork: the parent's is left
 * alone). 0 or -1. */
static int oa_client(struct oa *o, char *err, size_t errlen)
{
    pid_t me = getpid();
    if (o->hc && o->pid == me) return 0;
    o->hc = hc_open(err, errlen);
    if (!o->hc) return -1;
    o->pid = me;
    return 0;
}

/* Copies an upstream error message into dst, unless it could carry the key
 * (OpenAI's 401 message quotes part of it). */
static void oa_upstream_msg(const struct oa *o, long status, char *dst, size_t dstlen)
{
    dst[0] = '\0';
    if (status == 401 || status == 403 || !o->resp) return;
    json_object *root = json_tokener_parse(o->resp);
    json_object *eo = NULL, *mo = NULL;
    const char *msg = NULL;
    if (root && json_object_object_get_ex(root, "error", &eo)) {
        if (json_object_is_type(eo, json_type_string)) msg = json_object_get_string(eo);
        else if (json_object_object_get_ex(eo, "message", &mo)) msg = json_object_get_string(mo);
    }
    if (msg && !(o->key[0] && strstr(msg, o->key))) {
        size_t n = strlen(msg);
        if (n > OA_MSG_MAX) n = OA_MSG_MAX;
        if (n >= dstlen) n = dstlen - 1;
        memcpy(dst, msg, n);
        dst[n] = '\0';
        for (char *p = dst; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    if (root) json_object_put(root);
}

/* Reads data[].embedding of the response into out[m * dim], by `index`. */
static int oa_parse(struct oa *o, size_t m, float *out, char *err, size_t errlen)
{
    int rc = -1, dim = o->e->dim;
    unsigned char *seen = calloc(m, 1);
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *root = NULL, *data = NULL;
    if (!seen || !tok) {
        snprintf(err, errlen, "embedding: out of memory");
        goto out;
    }
    root = json_tokener_parse_ex(tok, o->resp ? o->resp : "", (int)o->resp_len);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_object_get_ex(root, "data", &data) || !json_object_is_type(data, json_type_array)) {
        snprintf(err, errlen, "embedding upstream answered something that is not an embeddings response");
        goto out;
    }
    if (json_object_array_length(data) != m) {
        snprintf(err, errlen, "embedding upstream returned %zu vectors for %zu texts",
                 json_object_array_length(data), m);
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        json_object *item = json_object_array_get_idx(data, i), *io = NULL, *vo = NULL;
        size_t at = i;
        if (json_object_object_get_ex(item, "index", &io)) {
            int64_t x = json_object_get_int64(io);
            if (x < 0 || (uint64_t)x >= m) {
                snprintf(err, errlen, "embedding upstream returned index %lld for %zu texts", (long long)x, m);
                goto out;
            }
            at = (size_t)x;
        }
        if (seen[at]++) {
            snprintf(err, errlen, "embedding upstream returned index %zu twice", at);
            goto out;
        }
        if (!json_object_object_get_ex(item, "embedding", &vo) || !json_object_is_type(vo, json_type_array)) {
            snprintf(err, errlen, "embedding upstream returned an item without an embedding array");
            goto out;
        }
        size_t got = json_object_array_length(vo);
        if (got != (size_t)dim) {
            snprintf(err, errlen,
                     "embedding model %s returns %zu-dimensional vectors but embedding_dim is %d",
                     o->model, got, dim);
            goto out;
        }
        float *v = out + at * (size_t)dim;
        for (int j = 0; j < dim; j++) {
            double x = json_object_get_double(json_object_array_get_idx(vo, (size_t)j));
            if (!isfinite(x)) {
                snprintf(err, errlen, "embedding upstream returned a non-finite number");
                goto out;
            }
            v[j] = (float)x;
        }
        if (emb_normalize(v, dim) == 0) {
            snprintf(err, errlen, "embedding upstream returned a zero vector");
            goto out;
        }
    }
    rc = 0;
out:
    if (root) json_object_put(root);
    if (tok) json_tokener_free(tok);
    free(seen);
    return rc;
}

/* One request for texts[0..m). */
static int oa_post(struct oa *o, const char *const *texts, size_t m, float *out, int *timeout,
                   char *err, size_t errlen)
{
    int rc = -1;
    ar_reset(o->ar);
    o->resp = NULL;
    o->resp_len = 0;
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    if (!root || !arr) {
        if (arr) json_object_put(arr);
        snprintf(err, errlen, "embedding: out of memory");
        goto out;
    }
    json_object_object_add(root, "model", json_object_new_string(o->model));
    json_object_object_add(root, "input", arr);
    for (size_t i = 0; i < m; i++) {
        /* OpenAI refuses an empty input string; a space embeds the same. */
        const char *t = texts[i] && texts[i][0] ? texts[i] : " ";
        json_object_array_add(arr, json_object_new_string(t));
    }
    if (oa_client(o, err, errlen) < 0) goto out;
    size_t blen = 0;
    const char *body = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &blen);
    struct hc_req rq = {
        .url = o->url,
        .body = body,
        .body_len = blen,
        .accept = "application/json",
        .bearer = o->key,
        .connect_timeout_ms = o->connect_timeout_ms,
        .timeout_ms = o->timeout_ms,
        .max_body = o->resp_max,
    };
    struct hc_xfer *x = NULL;
    char herr[256] = "";
    int st = hc_perform(o->hc, o->ar, &rq, oa_tick, o, &x, herr, sizeof(herr));
    if (st > 0) {
        snprintf(err, errlen, "embedding cancelled");
        goto out;
    }
    if (st == HC_ETIMEOUT) {
        *timeout = 1;
        snprintf(err, errlen, "embedding upstream timed out (%s; embedding_timeout_ms=%d, embedding_connect_timeout_ms=%d)",
                 herr, o->timeout_ms, o->connect_timeout_ms);
        goto out;
    }
    if (st == HC_ETOOBIG) {
        snprintf(err, errlen, "embedding upstream response is larger than %zu bytes", o->resp_max);
        goto out;
    }
    if (st != HC_OK) {
        snprintf(err, errlen, "embedding upstream request failed: %s", herr[0] ? herr : "error");
        goto out;
    }
    o->resp = hc_body(x, &o->resp_len);
    long status = hc_status(x);
    if (status != 200) {
        char msg[OA_MSG_MAX + 1];
        oa_upstream_msg(o, status, msg, sizeof(msg));
        if (status == 401 || status == 403)
            snprintf(err, errlen, "embedding upstream refused the credentials (HTTP %ld): check embedding_api_key", status);
        else
            snprintf(err, errlen, "embedding upstream answered HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
        goto out;
    }
    rc = oa_parse(o, m, out, err, errlen);
out:
    if (root) json_object_put(root);
    return rc;
}

static int oa_embed(struct embedder *e, const char *const *texts, size_t n, float *out,
                    int *timeout, char *err, size_t errlen)
{
    struct oa *o = e->impl;
    int tmo = 0;
    int rc = 0;
    for (size_t start = 0; start < n && rc == 0; start += (size_t)o->batch) {
        size_t m = n - start < (size_t)o->batch ? n - start : (size_t)o->batch;
        rc = oa_post(o, texts + start, m, out + start * (size_t)e->dim, &tmo, err, errlen);
    }
    if (timeout) *timeout = tmo;
    return rc;
}

static void oa_close(struct embedder *e)
{
    struct oa *o = e->impl;
    if (!o) return;
    if (o->hc && o->pid == getpid()) hc_close(o->hc);
    ar_free(o->ar);
    memset(o->key, 0, sizeof(o->key));
    free(o);
    e->impl = NULL;
}

int emb_openai_init(struct embedder *e, const struct cfg *c, char *err, size_t errlen)
{
    if (c->embedding_dim < 8 || c->embedding_dim > 8192) {
        snprintf(err, errlen, "embedding_dim: %d is out of range (8..8192)", c->embedding_dim);
        return -1;
    }
    if (!c->embedding_model[0] || strlen(c->embedding_model) > sizeof(e->name) - 8) {
        snprintf(err, errlen, "embedding_model: must be 1..%zu characters", sizeof(e->name) - 8);
        return -1;
    }
    if (!c->embedding_url[0]) {
        snprintf(err, errlen, "embedding_url: must be set for embedding_provider=openai");
        return -1;
    }
    struct oa *o = calloc(1, sizeof(*o));
    if (o) o->ar = ar_new(OA_ARENA_BLOCK);
    const char *url = o && o->ar ? hc_url_join(o->ar, c->embedding_url, "/v1/embeddings") : NULL;
    if (!url || strlen(url) >= sizeof(o->url)) {
        if (o) ar_free(o->ar);
        free(o);
        snprintf(err, errlen, url ? "embedding_url: too long" : "embedder: out of memory");
        return -1;
    }
    snprintf(o->url, sizeof(o->url), "%s", url);
    ar_reset(o->ar);
    snprintf(o->model, sizeof(o->model), "%s", c->embedding_model);
    snprintf(o->key, sizeof(o->key), "%s", c->embedding_api_key);
    o->timeout_ms = c->embedding_timeout_ms;
    o->connect_timeout_ms = c->embedding_connect_timeout_ms;
    o->batch = c->embedding_batch;
    /* Room for a batch of vectors written as JSON text (~24 bytes a number). */
    o->resp_max = (size_t)o->batch * (size_t)c->embedding_dim * 32 + (1u << 20);
    o->e = e;
    snprintf(e->name, sizeof(e->name), "openai:%.*s", (int)(sizeof(e->name) - 8), o->model);
    e->dim = c->embedding_dim;
    e->embed = oa_embed;
    e->close = oa_close;
    e->impl = o;
    return 0;
}
