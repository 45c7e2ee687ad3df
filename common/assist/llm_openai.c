/* llm_openai.c: the `openai` LLM provider (llm.h): any OpenAI-compatible
 * /v1/chat/completions over the worker's HTTP client. A streaming answer
 * is parsed as it arrives (the upstream's SSE, one chat.completion.chunk
 * per event); JSON mode is one plain call. Each call is counted in the
 * `llm` upstream metrics. The API key goes only into the Authorization
 * header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/assist/llm.h"
#include "common/assist/llm_provider.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/u8.h"
#include "common/host/metrics.h"
#include "common/io/hc.h"

struct oa {
    const struct cfg *cfg;   /* read at every call */
    struct hc *hc;           /* the worker's client, shared (not ours to close) */
};

/* ---- SSE parser ----------------------------------------------------------- */

void llm_sse_init(struct llm_sse *p, arena_t *ar, size_t max)
{
    memset(p, 0, sizeof(*p));
    buf_init(&p->line, ar, max);
    buf_init(&p->data, ar, max);
}

static int sse_line(struct llm_sse *p, llm_sse_fn fn, void *arg)
{
    const char *s = p->line.p ? p->line.p : "";
    size_t n = p->line.len;
    int rc = 0;
    if (n == 0) {
        if (p->have_data) rc = fn(arg, p->data.p ? p->data.p : "", p->data.len);
        buf_clear(&p->data);
        p->have_data = 0;
    } else if (s[0] != ':') {
        const char *colon = memchr(s, ':', n);
        size_t fl = colon ? (size_t)(colon - s) : n;
        if (fl == 4 && memcmp(s, "data", 4) == 0) {
            const char *v = colon ? colon + 1 : s + n;
            if (v < s + n && *v == ' ') v++;
            if (p->have_data && buf_addc(&p->data, '\n') < 0) rc = -1;
            else if (buf_add(&p->data, v, (size_t)(s + n - v)) < 0) rc = -1;
            p->have_data = 1;
        }
    }
    buf_clear(&p->line);
    return rc;
}

int llm_sse_feed(struct llm_sse *p, const char *bytes, size_t n, llm_sse_fn fn, void *arg)
{
    size_t i = 0;
    while (i < n) {
        if (p->cr) {
            p->cr = 0;
            if (bytes[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < n && bytes[j] != '\n' && bytes[j] != '\r') j++;
        if (j > i && buf_add(&p->line, bytes + i, j - i) < 0) return -1;
        if (j == n) break;
        p->cr = bytes[j] == '\r';
        int rc = sse_line(p, fn, arg);
        if (rc) return rc;
        i = j + 1;
    }
    return 0;
}

int llm_sse_end(struct llm_sse *p, llm_sse_fn fn, void *arg)
{
    int rc = 0;
    if (p->line.len) rc = sse_line(p, fn, arg);
    if (!rc && p->have_data) rc = sse_line(p, fn, arg);   /* the blank line */
    return rc;
}

/* ---- chunks ----------------------------------------------------------------- */

static long llm_jlong(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? (long)json_object_get_int64(v) : 0;
}

static void llm_usage_parse(json_object *u, struct llm_usage *out)
{
    out->prompt_tokens = llm_jlong(u, "prompt_tokens");
    out->completion_tokens = llm_jlong(u, "completion_tokens");
    out->total_tokens = llm_jlong(u, "total_tokens");
    if (!out->total_tokens) out->total_tokens = out->prompt_tokens + out->completion_tokens;
    out->reported = 1;
}

static const char *llm_err_of(arena_t *ar, json_object *o)
{
    json_object *e, *m;
    if (!json_object_object_get_ex(o, "error", &e) || json_object_is_type(e, json_type_null)) return NULL;
    if (json_object_is_type(e, json_type_string)) return ar_strdup(ar, json_object_get_string(e));
    if (json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
        return ar_strdup(ar, json_object_get_string(m));
    return ar_strdup(ar, json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
}

/* llm_chunk_parse with the caller's tokener (reset here), so a stream
 * parses all its chunks with one. */
static int llm_chunk_parse_tok(json_tokener *tok, arena_t *ar, const char *data, size_t n, struct llm_chunk *out)
{
    memset(out, 0, sizeof(*out));
    while (n && (*data == ' ' || *data == '\t')) data++, n--;
    while (n && (data[n - 1] == ' ' || data[n - 1] == '\t' || data[n - 1] == '\n')) n--;
    if (n == 6 && memcmp(data, "[DONE]", 6) == 0) {
        out->done = 1;
        return 0;
    }
    int rc = -1;
    if (tok) json_tokener_reset(tok);
    json_object *o = tok ? json_tokener_parse_ex(tok, data, (int)n) : NULL;
    if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object))
        goto out;
    out->error = llm_err_of(ar, o);
    json_object *choices, *u;
    if (json_object_object_get_ex(o, "usage", &u) && json_object_is_type(u, json_type_object)) {
        llm_usage_parse(u, &out->usage);
        out->has_usage = 1;
    }
    if (json_object_object_get_ex(o, "choices", &choices) && json_object_is_type(choices, json_type_array) &&
        json_object_array_length(choices) > 0) {
        json_object *c0 = json_object_array_get_idx(choices, 0), *delta, *v;
        if (json_object_object_get_ex(c0, "delta", &delta) && json_object_object_get_ex(delta, "content", &v) &&
            json_object_is_type(v, json_type_string)) {
            out->content_len = (size_t)json_object_get_string_len(v);
            out->content = ar_strndup(ar, json_object_get_string(v), out->content_len);
        }
        if (json_object_object_get_ex(c0, "finish_reason", &v) && json_object_is_type(v, json_type_string))
            out->finish = ar_strdup(ar, json_object_get_string(v));
    }
    rc = 0;
out:
    if (o) json_object_put(o);
    return rc;
}

int llm_chunk_parse(arena_t *ar, const char *data, size_t n, struct llm_chunk *out)
{
    json_tokener *tok = json_tokener_new();
    int rc = llm_chunk_parse_tok(tok, ar, data, n, out);
    if (tok) json_tokener_free(tok);
    return rc;
}

const char *llm_error_message(arena_t *ar, const char *body, size_t n, size_t max)
{
    const char *msg = NULL;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)n) : NULL;
    if (o && json_object_is_type(o, json_type_object)) {
        msg = llm_err_of(ar, o);
        json_object *m;
        if (!msg && json_object_object_get_ex(o, "message", &m) && json_object_is_type(m, json_type_string))
            msg = ar_strdup(ar, json_object_get_string(m));
    }
    if (o) json_object_put(o);
    if (tok) json_tokener_free(tok);
    if (!msg) msg = ar_strndup(ar, body, n);
    if (!msg) return "";
    size_t len = strlen(msg);
    /* one line, no control characters */
    char *c = ar_strndup(ar, msg, len > max ? u8_floor(msg, len, max) : len);
    if (!c) return "";
    for (char *q = c; *q; q++)
        if ((unsigned char)*q < 0x20) *q = ' ';
    return c;
}


/* ---- requests ------------------------------------------------------------------ */

static json_object *oa_body(const struct cfg *c, const struct llm_task *t, const struct llm_msg *msgs, size_t n,
                            int stream, int json_mode)
{
    json_object *b = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(b, "model", json_object_new_string(c->llm_model));
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "role", json_object_new_string(msgs[i].role));
        json_object_object_add(m, "content", json_object_new_string(msgs[i].content ? msgs[i].content : ""));
        json_object_array_add(arr, m);
    }
    json_object_object_add(b, "messages", arr);
    json_object_object_add(b, "max_tokens", json_object_new_int(t->max_tokens > 0 ? t->max_tokens : c->llm_max_tokens));
    double temp = t->temperature >= 0 ? t->temperature : c->llm_temperature;
    char ts[32];
    snprintf(ts, sizeof(ts), "%g", temp);
    json_object_object_add(b, "temperature", json_object_new_double_s(temp, ts));
    json_object_object_add(b, "stream", json_object_new_boolean(stream));
    if (stream) {
        json_object *so = json_object_new_object();
        json_object_object_add(so, "include_usage", json_object_new_boolean(1));
        json_object_object_add(b, "stream_options", so);
    }
    if (json_mode) {
        json_object *rf = json_object_new_object();
        json_object_object_add(rf, "type", json_object_new_string("json_object"));
        json_object_object_add(b, "response_format", rf);
    }
    return b;
}

/* Maps an ended transfer that did not succeed (or answered >= 300). */
static void oa_fail_xfer(const struct cfg *c, arena_t *ar, struct hc_xfer *x, struct llm_result *res)
{
    int st = hc_state(x);
    res->http_status = hc_status(x);
    if (st == HC_ETIMEOUT) {
        switch (hc_timeout_kind(x)) {
        case HC_TO_CONNECT:
            llm_fail(res, LLM_ETIMEOUT, "UPSTREAM_TIMEOUT", "The LLM could not be reached within %d ms",
                     c->llm_connect_timeout_ms);
            break;
        case HC_TO_STALL:
            llm_fail(res, LLM_ETIMEOUT, "UPSTREAM_TIMEOUT", "The LLM sent nothing for %d ms",
                     c->llm_stall_timeout_ms);
            break;
        default:
            llm_fail(res, LLM_ETIMEOUT, "UPSTREAM_TIMEOUT", "The LLM did not finish within %d ms",
                     c->llm_timeout_ms);
        }
    } else if (st == HC_OK && res->http_status >= 300) {
        size_t n;
        const char *b = hc_body(x, &n);
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM answered HTTP %ld: %s", res->http_status,
                 llm_error_message(ar, b, n, 200));
    } else if (st == HC_ECONNECT) {
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM could not be reached: %s", hc_error(x));
    } else {
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM connection failed: %s", hc_error(x));
    }
}

/* The task's request (messages built now) as an hc_req in the arena. 0, or
 * -1 with res filled. */
static int oa_request(const struct oa *o, arena_t *ar, const struct llm_task *t, int stream, struct hc_req *rq,
                      struct llm_result *res)
{
    const struct cfg *c = o->cfg;
    const struct llm_msg *msgs;
    size_t n;
    if (llm_task_messages(t, ar, &msgs, &n) < 0) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "out of memory");
        return -1;
    }
    json_object *body = oa_body(c, t, msgs, n, stream, !stream);
    size_t len;
    const char *js = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
    char *copy = js ? ar_strndup(ar, js, len) : NULL;
    json_object_put(body);
    char *url = hc_url_join(ar, c->llm_url, "/v1/chat/completions");
    if (!copy || !url) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "out of memory");
        return -1;
    }
    memset(rq, 0, sizeof(*rq));
    rq->url = url;
    rq->body = copy;
    rq->body_len = len;
    rq->accept = stream ? "text/event-stream" : "application/json";
    rq->bearer = c->llm_api_key;
    rq->connect_timeout_ms = c->llm_connect_timeout_ms;
    rq->timeout_ms = c->llm_timeout_ms;
    rq->stall_ms = c->llm_stall_timeout_ms;
    rq->max_body = 4u << 20;
    return 0;
}

/* ---- streaming -------------------------------------------------------------------- */

struct oa_run {
    arena_t *ar;
    struct llm_result *res;
    struct llm_gate gate;  /* hands text to the caller (llm_task.keep) */
    json_tokener *tok;     /* parses every chunk of the stream */
    char hold[4];          /* an unfinished UTF-8 character */
    size_t holdn;
    int done;              /* [DONE] seen, or the answer reached `cap` */
    const char *error;     /* an error object in the stream */
    size_t cap;            /* answer bytes taken at most (oa_answer_cap) */
};

/* The most answer text a stream is read for: 32 bytes a token of the
 * max_tokens asked for (a cl100k token is about 4 characters of English,
 * a few bytes of any script), at least 4 KiB. An upstream that ignores
 * max_tokens (100 MB of deltas were relayed to the client, each text event
 * carrying them) is cut there: the answer ends with stopReason "length",
 * as if it had honoured it, and the transfer is closed. */
static size_t oa_answer_cap(const struct cfg *c, const struct llm_task *t)
{
    size_t toks = (size_t)(t->max_tokens > 0 ? t->max_tokens : c->llm_max_tokens);
    return toks * 32 > 4096 ? toks * 32 : 4096;
}

static int oa_deliver(struct oa_run *r, const char *s, size_t n)
{
    if (!n) return 0;
    const char *p = s;
    if (r->holdn) {
        char *cat = ar_alloc(r->ar, r->holdn + n);
        if (!cat) return LLM_EINTERNAL;
        memcpy(cat, r->hold, r->holdn);
        memcpy(cat + r->holdn, s, n);
        p = cat;
        n += r->holdn;
        r->holdn = 0;
    }
    size_t k = u8_complete_prefix(p, n);
    if (n - k > 0 && n - k < sizeof(r->hold)) {
        memcpy(r->hold, p + k, n - k);
        r->holdn = n - k;
    } else {
        k = n;
    }
    if (!k) return 0;
    if (r->cap && r->res->text_len + k >= r->cap) {
        /* over max_tokens: the rest is not read (whole characters only) */
        k = r->res->text_len < r->cap ? u8_floor(p, k, r->cap - r->res->text_len) : 0;
        r->holdn = 0;
        r->done = 1;
        snprintf(r->res->stop_reason, sizeof(r->res->stop_reason), "length");
        if (!k) return 0;
    }
    if (!r->res->first_delta_ms) r->res->first_delta_ms = clk_mono_ms();
    r->res->text_len += k;
    return llm_gate_delta(&r->gate, p, k);
}

static int oa_on_event(void *arg, const char *data, size_t n)
{
    struct oa_run *r = arg;
    struct llm_chunk ch;
    if (r->done) return 0;
    if (llm_chunk_parse_tok(r->tok, r->ar, data, n, &ch) < 0) return 0;   /* not JSON: skipped (keep-alives) */
    if (ch.done) {
        r->done = 1;
        return 0;
    }
    if (ch.error) {
        r->error = ch.error;
        return LLM_EUPSTREAM;
    }
    if (ch.has_usage) r->res->usage = ch.usage;
    if (ch.finish) snprintf(r->res->stop_reason, sizeof(r->res->stop_reason), "%s", ch.finish);
    if (ch.content && ch.content_len) return oa_deliver(r, ch.content, ch.content_len);
    return 0;
}

/* Drives the transfer until it ends, [DONE] comes, or a callback stops it.
 * The caller's `sent` runs after the first step (the request is out). */
static int oa_pump(struct oa *o, struct hc_xfer *x, const struct llm_cb *cb, struct oa_run *run)
{
    struct llm_sse sse;
    llm_sse_init(&sse, run->ar, 1u << 20);
    int rc = 0, stepped = 0;
    for (;;) {
        if (cb->tick && (rc = cb->tick(cb->arg)) != 0) break;
        if (hc_step(o->hc, 20) < 0) break;
        if (!stepped++ && cb->sent && (rc = cb->sent(cb->arg)) != 0) break;
        int st = hc_state(x);
        long status = hc_status(x);
        if (status && status < 300) {
            const char *p;
            size_t n = hc_take(x, &p);
            if (n && (rc = llm_sse_feed(&sse, p, n, oa_on_event, run)) != 0) break;
            if (st == HC_OK && (rc = llm_sse_end(&sse, oa_on_event, run)) != 0) break;
        }
        if (st != HC_RUNNING || run->done) break;
    }
    return rc;
}

/* Classifies how the stream ended into res. */
static void oa_outcome(struct oa *o, struct hc_xfer *x, struct oa_run *run, int rc, struct llm_result *res)
{
    if (rc == LLM_EUPSTREAM && run->error) {
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM failed mid-answer: %s",
                 llm_error_message(run->ar, run->error, strlen(run->error), 200));
    } else if (rc == -1 && !run->error) {
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM sent a malformed stream");
    } else if (rc == LLM_EINTERNAL) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "out of memory");
    } else if (rc) {
        res->rc = rc;   /* the caller's own reason (client gone, deadline) */
        snprintf(res->err, sizeof(res->err), "aborted");
    } else if (run->done || (hc_state(x) == HC_OK && res->http_status < 300 && res->stop_reason[0])) {
        res->rc = LLM_OK;
    } else if (hc_state(x) == HC_OK && res->http_status < 300) {
        llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM stream ended before the answer was complete");
    } else {
        oa_fail_xfer(o->cfg, run->ar, x, res);
    }
}

static int oa_stream(struct llm *l, arena_t *ar, const struct llm_task *t, const struct llm_cb *cb,
                     struct llm_result *res)
{
    struct oa *o = l->impl;
    int64_t t0 = clk_mono_ms();
    struct hc_req rq;
    struct hc_xfer *x = NULL;
    char err[256];
    struct oa_run run = {.ar = ar, .res = res, .cap = oa_answer_cap(o->cfg, t)};
    if (oa_request(o, ar, t, 1, &rq, res) < 0) goto out;
    if (hc_start(o->hc, ar, &rq, &x, err, sizeof(err)) < 0) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "%s", err);
        goto out;
    }
    if (!(run.tok = json_tokener_new())) {
        hc_end(o->hc, x);
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "out of memory");
        goto out;
    }
    llm_gate_init(&run.gate, ar, t, cb);
    int rc = oa_pump(o, x, cb, &run);
    hc_end(o->hc, x);   /* closes the connection when we stopped early */
    json_tokener_free(run.tok);
    res->upstream_first_byte_ms = hc_first_byte_ms(x);
    res->http_status = hc_status(x);
    if (rc == 0 && run.holdn) {   /* a cut character at the very end: the sink repairs it */
        res->text_len += run.holdn;
        rc = llm_gate_delta(&run.gate, run.hold, run.holdn);
        run.holdn = 0;
    }
    oa_outcome(o, x, &run, rc, res);
    if (res->rc == LLM_OK) res->rc = llm_gate_end(&run.gate);
out:
    mx_upstream("llm", res->rc == LLM_OK, (long)(clk_mono_ms() - t0));
    return res->rc;
}

/* ---- JSON mode ---------------------------------------------------------------------- */

/* Reads a chat.completion body: the message content into *out, usage and
 * finish_reason into res. 0, or -1 when there is no content. */
static int oa_json_body(arena_t *ar, const char *b, size_t n, char **out, size_t *outlen, struct llm_result *res)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, b, (int)n) : NULL, *choices, *u;
    if (o && json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "usage", &u) && json_object_is_type(u, json_type_object))
            llm_usage_parse(u, &res->usage);
        if (json_object_object_get_ex(o, "choices", &choices) && json_object_is_type(choices, json_type_array) &&
            json_object_array_length(choices) > 0) {
            json_object *c0 = json_object_array_get_idx(choices, 0), *m, *v;
            if (json_object_object_get_ex(c0, "message", &m) && json_object_object_get_ex(m, "content", &v) &&
                json_object_is_type(v, json_type_string)) {
                size_t len = (size_t)json_object_get_string_len(v);
                if ((*out = ar_strndup(ar, json_object_get_string(v), len))) res->text_len = len;
            }
            if (json_object_object_get_ex(c0, "finish_reason", &v) && json_object_is_type(v, json_type_string))
                snprintf(res->stop_reason, sizeof(res->stop_reason), "%s", json_object_get_string(v));
        }
    }
    if (o) json_object_put(o);
    if (tok) json_tokener_free(tok);
    if (outlen) *outlen = *out ? res->text_len : 0;
    return *out ? 0 : -1;
}

static int oa_json(struct llm *l, arena_t *ar, const struct llm_task *t, llm_tick_fn tick, void *arg, char **out,
                   size_t *outlen, struct llm_result *res)
{
    struct oa *o = l->impl;
    int64_t t0 = clk_mono_ms();
    struct hc_req rq;
    struct hc_xfer *x = NULL;
    char err[256];
    if (oa_request(o, ar, t, 0, &rq, res) < 0) goto out;
    int rc = hc_perform(o->hc, ar, &rq, tick, arg, &x, err, sizeof(err));
    if (!x) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "%s", err);
        goto out;
    }
    res->upstream_first_byte_ms = hc_first_byte_ms(x);
    res->http_status = hc_status(x);
    if (rc != HC_OK && rc != HC_ETIMEOUT && rc != HC_ECONNECT && rc != HC_EIO && rc != HC_ETOOBIG &&
        rc != HC_ENOMEM) {
        res->rc = rc;   /* tick's code */
        snprintf(res->err, sizeof(res->err), "aborted");
    } else if (rc != HC_OK || res->http_status >= 300) {
        oa_fail_xfer(o->cfg, ar, x, res);
    } else {
        size_t n;
        const char *b = hc_body(x, &n);
        if (oa_json_body(ar, b, n, out, outlen, res) < 0)
            llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM answer had no message content");
        else
            res->rc = LLM_OK;
    }
out:
    mx_upstream("llm", res->rc == LLM_OK, (long)(clk_mono_ms() - t0));
    return res->rc;
}

/* ---- the provider ------------------------------------------------------------------- */

static void oa_close(struct llm *l) { free(l->impl); }

int llm_openai_init(struct llm *l, const struct cfg *c, struct hc **hc, char *err, size_t errlen)
{
    if (!hc) {
        snprintf(err, errlen, "llm: the openai provider needs the HTTP client");
        return -1;
    }
    if (!*hc && !(*hc = hc_open(err, errlen))) return -1;
    struct oa *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    o->cfg = c;
    o->hc = *hc;
    snprintf(l->name, sizeof(l->name), "openai:%s", c->llm_model);
    l->stream = oa_stream;
    l->json = oa_json;
    l->close = oa_close;
    l->impl = o;
    return 0;
}
