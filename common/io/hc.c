/* hc.c: the worker's HTTP client over one curl multi handle; see hc.h.
 *
 * Memory: a transfer (struct hc_xfer, its body buffer and header list) lives
 * in the request arena; an arena cleanup ends it if the caller did not. The
 * easy handles belong to the client and are reset and reused. */
#include "common/io/hc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/base/clock.h"

enum { HC_POOL = 4 };

struct hc {
    CURLM *m;
    CURL *pool[HC_POOL];
    int busy[HC_POOL];
    unsigned long activity;   /* bumped by callbacks and completions */
};

struct hc_xfer {
    struct hc *h;
    int slot;                 /* index in the pool, -1 once ended */
    CURL *e;
    struct curl_slist *headers;
    buf_t body;
    size_t taken;             /* body bytes already handed out */
    size_t max_body;
    int state;
    long status;
    enum hc_timeout tkind;
    long stall_ms;
    int64_t started_ms;
    int64_t last_rx_ms;
    int64_t first_byte_ms;
    char err[CURL_ERROR_SIZE + 64];
    char curl_err[CURL_ERROR_SIZE];
};

struct hc *hc_open(char *err, size_t errlen)
{
    struct hc *h = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init failed");
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h || !(h->m = curl_multi_init())) {
        snprintf(err, errlen, "out of memory opening the HTTP client");
        free(h);
        curl_global_cleanup();
        return NULL;
    }
    curl_multi_setopt(h->m, CURLMOPT_MAXCONNECTS, 8L);
    return h;
}

void hc_close(struct hc *h)
{
    if (!h) return;
    for (int i = 0; i < HC_POOL; i++) {
        if (!h->pool[i]) continue;
        if (h->busy[i]) curl_multi_remove_handle(h->m, h->pool[i]);
        curl_easy_cleanup(h->pool[i]);
    }
    curl_multi_cleanup(h->m);
    free(h);
    curl_global_cleanup();
}

/* ---- callbacks (inside curl_multi_perform: touch only the transfer) ------- */

static size_t hc_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct hc_xfer *x = arg;
    size_t n = size * nmemb;
    int64_t now = clk_mono_ms();
    x->last_rx_ms = now;
    x->h->activity++;
    if (!x->status) curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &x->status);
    if (n && !x->first_byte_ms) x->first_byte_ms = now;
    if (x->taken == x->body.len) {   /* everything was read: start over */
        buf_clear(&x->body);
        x->taken = 0;
    }
    if (x->body.len - x->taken + n > x->max_body || buf_add(&x->body, p, n) < 0) {
        x->state = HC_ETOOBIG;
        snprintf(x->err, sizeof(x->err), "the response is larger than %zu bytes", x->max_body);
        return 0;   /* aborts the transfer */
    }
    return n;
}

static size_t hc_on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct hc_xfer *x = arg;
    (void)p;
    x->last_rx_ms = clk_mono_ms();
    return size * nmemb;
}

/* ---- transfers ------------------------------------------------------------ */

static void hc_xfer_cleanup(void *arg)
{
    struct hc_xfer *x = arg;
    if (x->slot >= 0) hc_end(x->h, x);
}

static void hc_fail(struct hc_xfer *x, int state, enum hc_timeout kind, const char *msg)
{
    x->state = state;
    x->tkind = kind;
    snprintf(x->err, sizeof(x->err), "%s", msg);
}

/* A free slot of the pool with its easy handle made, or -1 with err. */
static int hc_take_slot(struct hc *h, char *err, size_t errlen)
{
    int slot = -1;
    for (int i = 0; i < HC_POOL && slot < 0; i++)
        if (!h->busy[i]) slot = i;
    if (slot < 0) {
        snprintf(err, errlen, "too many upstream transfers at once");
        return -1;
    }
    if (!h->pool[slot] && !(h->pool[slot] = curl_easy_init())) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    return slot;
}

/* The request's headers: content type (with a body), no Expect, Accept,
 * the bearer key. NULL when out of memory (nothing left allocated). */
static struct curl_slist *hc_headers(arena_t *ar, const struct hc_req *rq)
{
    char ct[160], acc[160];
    const char *h[4];
    int n = 0;
    snprintf(ct, sizeof(ct), "Content-Type: %s", rq->content_type ? rq->content_type : "application/json");
    if (rq->body) h[n++] = ct;
    h[n++] = "Expect:";
    if (rq->accept) {
        snprintf(acc, sizeof(acc), "Accept: %s", rq->accept);
        h[n++] = acc;
    }
    if (rq->bearer && *rq->bearer && !(h[n++] = ar_printf(ar, "Authorization: Bearer %s", rq->bearer))) return NULL;
    struct curl_slist *hl = NULL, *t;
    for (int i = 0; i < n; i++) {
        if (!(t = curl_slist_append(hl, h[i]))) {
            curl_slist_free_all(hl);
            return NULL;
        }
        hl = t;
    }
    return hl;
}

/* The easy handle set up for x: URL, headers, body, callbacks into x,
 * http(s) only, timeouts. */
static void hc_setopts(CURL *e, struct hc_xfer *x, const struct hc_req *rq, struct curl_slist *hl)
{
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    if (rq->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, hc_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, hc_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "troika/0.1");
    if (rq->connect_timeout_ms > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
    if (rq->timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
}

int hc_start(struct hc *h, arena_t *ar, const struct hc_req *rq, struct hc_xfer **out, char *err,
             size_t errlen)
{
    int slot = hc_take_slot(h, err, errlen);
    if (slot < 0) return -1;
    struct hc_xfer *x = ar_calloc(ar, 1, sizeof(*x));
    struct curl_slist *hl = x ? hc_headers(ar, rq) : NULL;
    if (!hl) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    CURL *e = h->pool[slot];
    curl_easy_reset(e);
    x->h = h;
    x->slot = -1;
    x->e = e;
    x->state = HC_RUNNING;
    x->max_body = rq->max_body ? rq->max_body : 16u << 20;
    x->stall_ms = rq->stall_ms;
    x->started_ms = x->last_rx_ms = clk_mono_ms();
    buf_init(&x->body, ar, (size_t)-1 / 2);
    x->headers = hl;
    hc_setopts(e, x, rq, hl);
    /* The cleanup first: a transfer the arena cannot end would outlive the
     * memory its callbacks write to. */
    const char *why = ar_defer(ar, hc_xfer_cleanup, x) < 0                ? "out of memory"
                      : curl_multi_add_handle(h->m, e) != CURLM_OK ? "curl_multi_add_handle failed"
                                                                   : NULL;
    if (why) {
        curl_slist_free_all(hl);
        x->headers = NULL;
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    h->busy[slot] = 1;
    x->slot = slot;
    *out = x;
    return 0;
}

/* Records how a transfer that curl finished ended. */
static void hc_completed(struct hc_xfer *x, CURLcode res)
{
    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->state != HC_RUNNING) return;   /* already failed (too big) */
    const char *detail = x->curl_err[0] ? x->curl_err : curl_easy_strerror(res);
    switch (res) {
    case CURLE_OK:
        x->state = HC_OK;
        return;
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t ct = 0;
        curl_easy_getinfo(x->e, CURLINFO_CONNECT_TIME_T, &ct);
        hc_fail(x, HC_ETIMEOUT, ct == 0 && x->status == 0 ? HC_TO_CONNECT : HC_TO_TOTAL, detail);
        return;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        hc_fail(x, HC_ECONNECT, HC_TO_NONE, detail);
        return;
    case CURLE_OUT_OF_MEMORY:
        hc_fail(x, HC_ENOMEM, HC_TO_NONE, detail);
        return;
    default:
        hc_fail(x, HC_EIO, HC_TO_NONE, detail);
        return;
    }
}

/* Detaches the easy handle; a running transfer's connection is closed. */
static void hc_detach(struct hc *h, struct hc_xfer *x)
{
    if (x->slot < 0) return;
    curl_multi_remove_handle(h->m, x->e);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    h->busy[x->slot] = 0;
    x->slot = -1;
}

static void hc_collect(struct hc *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->m, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        struct hc_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x) continue;
        hc_completed(x, msg->data.result);
        hc_detach(h, x);
        h->activity++;
    }
}

static void hc_check_stalls(struct hc *h)
{
    int64_t now = clk_mono_ms();
    for (int i = 0; i < HC_POOL; i++) {
        if (!h->busy[i]) continue;
        struct hc_xfer *x = NULL;
        curl_easy_getinfo(h->pool[i], CURLINFO_PRIVATE, (char **)&x);
        if (!x || x->state != HC_RUNNING || x->stall_ms <= 0) continue;
        if (now - x->last_rx_ms >= x->stall_ms) {
            char m[96];
            snprintf(m, sizeof(m), "no data from the upstream for %ld ms", x->stall_ms);
            hc_fail(x, HC_ETIMEOUT, HC_TO_STALL, m);
            hc_detach(h, x);
            h->activity++;
        }
    }
}

int hc_step(struct hc *h, int max_ms)
{
    unsigned long before = h->activity;
    int running = 0;
    if (curl_multi_perform(h->m, &running) != CURLM_OK) return -1;
    hc_collect(h);
    hc_check_stalls(h);
    if (h->activity != before || max_ms <= 0) return 0;
    if (curl_multi_poll(h->m, NULL, 0, max_ms, NULL) != CURLM_OK) return -1;
    if (curl_multi_perform(h->m, &running) != CURLM_OK) return -1;
    hc_collect(h);
    hc_check_stalls(h);
    return 0;
}

int hc_state(const struct hc_xfer *x) { return x->state; }
long hc_status(const struct hc_xfer *x) { return x->status; }
enum hc_timeout hc_timeout_kind(const struct hc_xfer *x) { return x->tkind; }
const char *hc_error(const struct hc_xfer *x) { return x->err; }
int64_t hc_first_byte_ms(const struct hc_xfer *x) { return x->first_byte_ms; }

size_t hc_take(struct hc_xfer *x, const char **p)
{
    size_t n = x->body.len - x->taken;
    *p = x->body.p ? x->body.p + x->taken : "";
    x->taken = x->body.len;
    return n;
}

const char *hc_body(const struct hc_xfer *x, size_t *len)
{
    *len = x->body.len - x->taken;
    return x->body.p ? x->body.p + x->taken : "";
}

void hc_end(struct hc *h, struct hc_xfer *x)
{
    if (!x || x->slot < 0) return;
    if (x->state == HC_RUNNING) hc_fail(x, HC_EIO, HC_TO_NONE, "ended by the caller");
    hc_detach(h, x);
}

int hc_perform(struct hc *h, arena_t *ar, const struct hc_req *rq, int (*tick)(void *arg), void *arg,
               struct hc_xfer **out, char *err, size_t errlen)
{
    struct hc_xfer *x;
    if (out) *out = NULL;
    if (hc_start(h, ar, rq, &x, err, errlen) < 0) return HC_ENOMEM;
    if (out) *out = x;
    int rc = 0;
    while (x->state == HC_RUNNING) {
        if (tick && (rc = tick(arg)) != 0) {
            hc_end(h, x);
            return rc;
        }
        if (hc_step(h, 20) < 0) {
            hc_fail(x, HC_EIO, HC_TO_NONE, "curl multi failure");
            break;
        }
    }
    hc_end(h, x);
    if (x->state != HC_OK) snprintf(err, errlen, "%s", x->err);
    return x->state;
}

char *hc_url_join(arena_t *ar, const char *base, const char *endpoint)
{
    size_t bl = strlen(base), el = strlen(endpoint);
    while (bl > 0 && base[bl - 1] == '/') bl--;
    if (bl >= el && memcmp(base + bl - el, endpoint, el) == 0) return ar_strndup(ar, base, bl);
    if (bl >= 3 && memcmp(base + bl - 3, "/v1", 3) == 0 && strncmp(endpoint, "/v1/", 4) == 0) endpoint += 3;
    return ar_printf(ar, "%.*s%s", (int)bl, base, endpoint);
}
