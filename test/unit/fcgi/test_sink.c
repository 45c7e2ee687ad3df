/* test_sink.c: the SSE and JSON sinks (fcgi/sink.c) seen from the client:
 * headers, id sequencing, one-line UTF-8 JSON data with requestId and
 * timestamp, `close` last, error events, heartbeats, the deadline, a gone
 * client, and the one document of the normal twin. The output goes to a
 * capture buffer and is read back with the strict parser of capture.c. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/u8.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"
#include "test/unit/capture.h"
#include "test/unit/unit.h"

#define RID "unit-rid-1"

struct sfx {
    arena_t *ar;
    struct cfg cfg;
    struct cap cap;
    struct sse_io io;
    struct sink s;
    struct cap_parse p;
};

/* Sets up with defaults; adjust f->cfg, then sfx_start. */
static void sfx_open(struct sfx *f)
{
    memset(f, 0, sizeof(*f));
    f->ar = ar_new(8192);
    cfg_defaults(&f->cfg);
    cap_io(&f->cap, &f->io);
}

static void sfx_start(struct sfx *f, enum sink_mode mode)
{
    sink_init(&f->s, mode, f->ar, &f->cfg, RID, "unit", &f->io, clk_mono_ms());
}

/* Finishes the sink and parses the output; the parse must succeed. */
static int sfx_finish(struct sfx *f)
{
    sink_finish(&f->s);
    int rc = cap_parse(&f->cap, &f->p);
    if (rc) fprintf(stderr, "\n  framing: %s\n  output:\n%s\n", f->p.error, f->cap.p ? f->cap.p : "");
    return rc;
}

static void sfx_close(struct sfx *f)
{
    sink_finish(&f->s);   /* idempotent; makes sure the watcher lets go */
    cap_parse_free(&f->p);
    cap_free(&f->cap);
    ar_free(f->ar);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static json_object *obj1(const char *k, const char *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, k, json_object_new_string(v));
    return o;
}

/* ISO 8601 UTC with milliseconds, within a minute of now. */
static int ts_ok(const char *ts)
{
    struct tm tm;
    int ms, used = 0;
    memset(&tm, 0, sizeof(tm));
    if (!ts || strlen(ts) != 24 || ts[10] != 'T' || ts[23] != 'Z') return 0;
    if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 || used != 24)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    time_t now = time(NULL);
    return t > now - 60 && t < now + 60;
}

/* Every event: requestId and timestamp; ids 1, 2, 3... with pings not
 * counted; `close` last and only once. */
static void check_stream(const struct cap_parse *p)
{
    unsigned long want = 1;
    size_t closes = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct cap_event *e = &p->ev[i];
        if (!strcmp(e->name, "ping")) continue;
        CU_ASSERT_EQUAL(e->id, want);
        want++;
        const char *rid = cap_str(e->data, "requestId");
        CU_ASSERT(rid && !strcmp(rid, RID));
        CU_ASSERT(ts_ok(cap_str(e->data, "timestamp")));
        if (!strcmp(e->name, "close")) closes++;
    }
    CU_ASSERT_EQUAL(closes, 1);
    CU_ASSERT(p->n > 0 && !strcmp(p->ev[p->n - 1].name, "close"));
    const struct cap_event *c = cap_find(p, "close", 0);
    if (c) CU_ASSERT_STRING_EQUAL(cap_str(c->data, "message"), "Stream ended");
}

static size_t count_named(const struct cap_parse *p, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->ev[i].name, name)) n++;
    return n;
}

/* ---- SSE ------------------------------------------------------------------ */

static void t_sse_headers_and_ids(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_header(&f.s, "X-RateLimit-Limit", "30"), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_header(&f.s, "X-Late", "1"), -1);   /* headers are gone */
    CU_ASSERT_EQUAL(sink_progress(&f.s, "text_search", "Searching", 12, 40), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", obj1("type", "product_cards")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "complete", json_object_new_object()), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.p.status, 200);
    CU_ASSERT(f.p.sse);
    char v[128];
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "Content-Type", v, sizeof(v)), "text/event-stream; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "Cache-Control", v, sizeof(v)), "no-cache, no-transform");
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "X-Accel-Buffering", v, sizeof(v)), "no");
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "X-Request-Id", v, sizeof(v)), RID);
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "X-RateLimit-Limit", v, sizeof(v)), "30");
    CU_ASSERT_PTR_NULL(cap_header(&f.p, "X-Late", v, sizeof(v)));
    CU_ASSERT_EQUAL_FATAL(f.p.n, 5);
    static const char *const names[] = {"connected", "progress", "results", "complete", "close"};
    for (size_t i = 0; i < 5; i++) CU_ASSERT_STRING_EQUAL(f.p.ev[i].name, names[i]);
    check_stream(&f.p);
    json_object *pr = f.p.ev[1].data;
    CU_ASSERT_STRING_EQUAL(cap_str(pr, "step"), "text_search");
    CU_ASSERT_STRING_EQUAL(cap_str(pr, "message"), "Searching");
    json_object *v1;
    CU_ASSERT(json_object_object_get_ex(pr, "count", &v1) && json_object_get_int(v1) == 12);
    CU_ASSERT(json_object_object_get_ex(pr, "percent", &v1) && json_object_get_int(v1) == 40);
    /* each event is flushed as it is written */
    CU_ASSERT(f.cap.flushes >= 5);
    CU_ASSERT_EQUAL(f.s.stats.events, 5);
    CU_ASSERT_EQUAL(f.s.stats.bytes, f.cap.len);
    sfx_close(&f);
}

/* sink_progressf: the message formatted; extra's fields kept, count and
 * percent left out when negative, code added when given. */
static void t_progressf(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_progressf(&f.s, obj1("mode", "boolean"), "EMBED_FAILED", "embedding", 0, 25,
                                   "%zu of %d (%s)", (size_t)3, 7, "x"), 0);
    CU_ASSERT_EQUAL(sink_progressf(&f.s, NULL, NULL, "scoring", -1, -1, "done"), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    const struct cap_event *e = cap_find(&f.p, "progress", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    json_object *v;
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "mode"), "boolean");
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "code"), "EMBED_FAILED");
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "step"), "embedding");
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "message"), "3 of 7 (x)");
    CU_ASSERT(json_object_object_get_ex(e->data, "count", &v) && json_object_get_int(v) == 0);
    CU_ASSERT(json_object_object_get_ex(e->data, "percent", &v) && json_object_get_int(v) == 25);
    e = cap_find(&f.p, "progress", (size_t)(e - f.p.ev) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "message"), "done");
    CU_ASSERT_FALSE(json_object_object_get_ex(e->data, "count", NULL));
    CU_ASSERT_FALSE(json_object_object_get_ex(e->data, "percent", NULL));
    CU_ASSERT_FALSE(json_object_object_get_ex(e->data, "code", NULL));
    sfx_close(&f);
}

/* Text with newlines, quotes, control characters and non-ASCII arrives as
 * the same string, in data lines without raw line breaks. */
static void t_sse_escaping(void)
{
    static const char *const texts[] = {
        "line1\nline2\r\nline3\rend",
        "say \"hi\" \\ back\\slash \\n not-a-newline",
        "tab\there \x01\x02\x1f del\x7f",
        "caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x8E\x89 \xE2\x80\xA8 sep \xE2\x80\xA9",
        "data: fake\n\nevent: close\nid: 99\n\n",
        "</script><script>alert(1)</script> https://x.example/y?a=1&b=2",
    };
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    size_t nt = sizeof(texts) / sizeof(texts[0]);
    for (size_t i = 0; i < nt; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "token", json_object_new_string(texts[i]));
        json_object_object_add(o, "fullText", json_object_new_string(texts[i]));
        CU_ASSERT_EQUAL(sink_emit(&f.s, "text", o), 0);
    }
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL_FATAL(f.p.n, nt + 1);
    for (size_t i = 0; i < nt; i++) {
        const struct cap_event *e = &f.p.ev[i];
        CU_ASSERT_STRING_EQUAL(e->name, "text");
        CU_ASSERT_EQUAL(e->lines, 1);
        CU_ASSERT_STRING_EQUAL(cap_str(e->data, "token"), texts[i]);
        CU_ASSERT_PTR_NULL(strchr(e->raw, '\r'));
    }
    /* the escapes json-c uses are on the wire */
    CU_ASSERT_PTR_NOT_NULL(strstr(f.p.ev[0].raw, "line1\\nline2\\r\\nline3\\rend"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.p.ev[1].raw, "say \\\"hi\\\" \\\\ back"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.p.ev[2].raw, "\\u0001"));
    check_stream(&f.p);
    sfx_close(&f);
}

/* A text cut in the middle of a character: the sink sends U+FFFD for each
 * invalid byte instead of invalid UTF-8; a streamer that holds back the
 * unfinished tail with u8_complete_prefix never needs that. */
static void t_sse_cut_utf8(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", obj1("token", "caf\xC3")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", obj1("token", "\xA9 ok")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", obj1("token", "x\xF0\x9F\x8E")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", obj1("token\xFF", "bad key")), 0);

    /* the same text fed through a hold-back streamer */
    static const char *const pieces[] = {"Gr\xC3", "\xBC\xC3", "\x9F" "e ", "\xF0\x9F", "\x8E\x89", "!"};
    char pending[16];
    size_t pl = 0;
    buf_t full;
    buf_init(&full, f.ar, 0);
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        size_t n = strlen(pieces[i]);
        memcpy(pending + pl, pieces[i], n);
        pl += n;
        size_t ok = u8_complete_prefix(pending, pl);
        if (!ok) continue;
        char tok[16];
        memcpy(tok, pending, ok);
        tok[ok] = '\0';
        memmove(pending, pending + ok, pl - ok);
        pl -= ok;
        buf_adds(&full, tok);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "token", json_object_new_string(tok));
        json_object_object_add(o, "fullText", json_object_new_string(full.p));
        CU_ASSERT_EQUAL(sink_emit(&f.s, "text", o), 0);
    }
    CU_ASSERT_EQUAL(pl, 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);   /* also checks every data line is UTF-8 */
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[0].data, "token"), "caf\xEF\xBF\xBD");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[1].data, "token"), "\xEF\xBF\xBD ok");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[2].data, "token"), "x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[3].data, "token\xEF\xBF\xBD"), "bad key");
    const struct cap_event *last = &f.p.ev[f.p.n - 2];
    CU_ASSERT_STRING_EQUAL(last->name, "text");
    CU_ASSERT_STRING_EQUAL(cap_str(last->data, "fullText"), "Gr\xC3\xBC\xC3\x9F" "e \xF0\x9F\x8E\x89!");
    for (size_t i = 4; i + 1 < f.p.n; i++) CU_ASSERT_PTR_NULL(strstr(f.p.ev[i].raw, "\xEF\xBF\xBD"));
    check_stream(&f.p);
    sfx_close(&f);
}

/* Payloads larger than streaming_chunk_size are split into several data
 * lines, each within the limit, that join back to the same JSON. */
static void t_sse_chunking(void)
{
    struct sfx f;
    sfx_open(&f);
    f.cfg.streaming_chunk_size = 64;
    sfx_start(&f, SINK_SSE);
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (int i = 0; i < 30; i++) {
        json_object *p = json_object_new_object();
        char sku[16];
        snprintf(sku, sizeof(sku), "SKU-%d", i);
        json_object_object_add(p, "sku", json_object_new_string(sku));
        json_object_object_add(p, "title", json_object_new_string("Silk, \"red\": [M] {\xE2\x82\xAC}\n"));
        json_object_object_add(p, "price", json_object_new_int(1000 + i));
        json_object_array_add(arr, p);
    }
    json_object_object_add(o, "type", json_object_new_string("product_cards"));
    json_object_object_add(o, "products", arr);
    json_object *copy = NULL;
    json_object_deep_copy(o, &copy, NULL);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", o), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    const struct cap_event *e = cap_find(&f.p, "results", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT(e->lines > 10);
    for (size_t i = 0; i < f.p.n; i++) CU_ASSERT(f.p.ev[i].longest <= 64);
    json_object *products;
    CU_ASSERT(json_object_object_get_ex(e->data, "products", &products));
    json_object *want;
    json_object_object_get_ex(copy, "products", &want);
    CU_ASSERT(json_object_equal(products, want));
    json_object_put(copy);
    sfx_close(&f);
}

static void t_sse_error_event(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_progress(&f.s, "text_search", "Searching", -1, -1), 0);
    CU_ASSERT_EQUAL(sink_error(&f.s, "DB_CONNECTION_ERROR", "The database is \"down\"\n"), 0);
    CU_ASSERT_EQUAL(sink_error(&f.s, "PROCESSING_ERROR", "a second error"), 0);   /* ignored */
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL_FATAL(f.p.n, 4);
    CU_ASSERT_STRING_EQUAL(f.p.ev[2].name, "error");
    json_object *d = f.p.ev[2].data;
    CU_ASSERT_STRING_EQUAL(cap_str(d, "message"), "The database is \"down\"\n");
    CU_ASSERT_STRING_EQUAL(cap_str(d, "error"), "Database connection error");
    CU_ASSERT_STRING_EQUAL(cap_str(d, "code"), "DB_CONNECTION_ERROR");
    json_object *partial;
    CU_ASSERT(json_object_object_get_ex(d, "partial", &partial) && json_object_is_type(partial, json_type_boolean) &&
              !json_object_get_boolean(partial));
    /* progress carries no count/percent when not given */
    CU_ASSERT_FALSE(json_object_object_get_ex(f.p.ev[1].data, "count", NULL));
    CU_ASSERT_EQUAL(count_named(&f.p, "error"), 1);
    check_stream(&f.p);
    sfx_close(&f);

    /* after content events, partial is true */
    static const char *const content[] = {"results", "text", "audio", "intent", "market", "suggestions"};
    for (size_t i = 0; i < sizeof(content) / sizeof(content[0]); i++) {
        sfx_open(&f);
        sfx_start(&f, SINK_SSE);
        CU_ASSERT_EQUAL(sink_emit(&f.s, content[i], json_object_new_object()), 0);
        CU_ASSERT_EQUAL(sink_error(&f.s, "UPSTREAM_ERROR", "upstream failed"), 0);
        CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
        const struct cap_event *e = cap_find(&f.p, "error", 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        CU_ASSERT(json_object_object_get_ex(e->data, "partial", &partial) && json_object_get_boolean(partial));
        CU_ASSERT_STRING_EQUAL(cap_str(e->data, "error"), "Upstream error");
        check_stream(&f.p);
        sfx_close(&f);
    }

    /* an error before any event still opens a valid stream */
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_error(&f.s, "INDEX_UNAVAILABLE", "no index"), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.p.status, 200);
    CU_ASSERT_EQUAL_FATAL(f.p.n, 2);
    CU_ASSERT_STRING_EQUAL(f.p.ev[0].name, "error");
    check_stream(&f.p);
    sfx_close(&f);
}

/* `: ping` after streaming_heartbeat_ms of silence while the handler
 * sleeps; none while events flow faster than that. */
static void t_sse_heartbeat(void)
{
    struct sfx f;
    sfx_open(&f);
    f.cfg.streaming_heartbeat_ms = 60;
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_sleep(&f.s, 400), 0);
    CU_ASSERT_EQUAL(sink_progress(&f.s, "embedding", "done", -1, 100), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_STRING_EQUAL(f.p.ev[0].name, "connected");
    CU_ASSERT(f.p.pings >= 2);
    /* all pings sit between the two events */
    const struct cap_event *pr = cap_find(&f.p, "progress", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pr);
    CU_ASSERT_EQUAL((size_t)(pr - f.p.ev), 1 + f.p.pings);
    check_stream(&f.p);
    sfx_close(&f);

    sfx_open(&f);
    f.cfg.streaming_heartbeat_ms = 400;
    sfx_start(&f, SINK_SSE);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(sink_progress(&f.s, "tick", "tick", i, -1), 0);
        CU_ASSERT_EQUAL(sink_sleep(&f.s, 30), 0);
    }
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.p.pings, 0);
    sfx_close(&f);
}

/* A handler stuck in a step that does not look at the sink (a slow query):
 * the watcher ends the stream at the deadline with STREAM_TIMEOUT and
 * close, and the handler's next emit is refused. */
static void t_sse_deadline_while_blocked(void)
{
    struct sfx f;
    sfx_open(&f);
    f.cfg.streaming_timeout = 150;
    f.cfg.streaming_heartbeat_ms = 50;
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    sleep_ms(450);
    /* (sink_check takes the sink's lock: the watcher's writes are visible) */
    CU_ASSERT_EQUAL(sink_check(&f.s), SINK_ETIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.cap.p, "event: close\n"));   /* already ended */
    size_t len = f.cap.len;
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", json_object_new_object()), SINK_ETIMEOUT);
    CU_ASSERT_EQUAL(sink_error(&f.s, "STREAM_TIMEOUT", "again"), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.cap.len, len);   /* nothing after close */
    const struct cap_event *e = cap_find(&f.p, "error", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "code"), "STREAM_TIMEOUT");
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "error"), "Stream timeout");
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(e->data, "message"), "150 ms"));
    json_object *partial;
    CU_ASSERT(json_object_object_get_ex(e->data, "partial", &partial) && !json_object_get_boolean(partial));
    CU_ASSERT_EQUAL(count_named(&f.p, "error"), 1);
    check_stream(&f.p);
    sfx_close(&f);
}

/* A handler sent its own error and then spends a while before returning:
 * the deadline passing meanwhile must not add a second error event. */
static void t_sse_error_then_deadline(void)
{
    struct sfx f;
    sfx_open(&f);
    f.cfg.streaming_timeout = 150;
    f.cfg.streaming_heartbeat_ms = 50;
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", json_object_new_object()), 0);
    CU_ASSERT_EQUAL(sink_error(&f.s, "UPSTREAM_ERROR", "upstream failed"), 0);
    sleep_ms(350);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(count_named(&f.p, "error"), 1);
    const struct cap_event *e = cap_find(&f.p, "error", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "code"), "UPSTREAM_ERROR");
    check_stream(&f.p);
    sfx_close(&f);
}

/* The client goes away: the failing write ends the stream; later emits,
 * sleeps and the finish write nothing. */
static void t_sse_client_gone(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    f.cap.fail_after = f.cap.len + 5;
    CU_ASSERT_EQUAL(sink_progress(&f.s, "x", "y", -1, -1), SINK_EGONE);
    size_t len = f.cap.len;
    int writes = f.cap.writes;
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", json_object_new_object()), SINK_EGONE);
    CU_ASSERT_EQUAL(sink_check(&f.s), SINK_EGONE);
    CU_ASSERT_EQUAL(sink_sleep(&f.s, 1000), SINK_EGONE);
    sink_error(&f.s, "PROCESSING_ERROR", "x");
    sink_finish(&f.s);
    CU_ASSERT_EQUAL(f.cap.len, len);
    CU_ASSERT_EQUAL(f.cap.writes, writes);
    sfx_close(&f);

    /* gone while the handler waits: noticed at the next heartbeat */
    sfx_open(&f);
    f.cfg.streaming_heartbeat_ms = 50;
    sfx_start(&f, SINK_SSE);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    f.cap.fail_after = f.cap.len;
    int64_t t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(sink_sleep(&f.s, 3000), SINK_EGONE);
    CU_ASSERT(clk_mono_ms() - t0 < 1500);
    sfx_close(&f);
}

static void t_sse_abort(void)
{
    struct sfx f;
    volatile sig_atomic_t flag = 0;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    f.s.abort_flag = &flag;
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_check(&f.s), 0);
    flag = SINK_ABORT_DRAIN;
    CU_ASSERT_EQUAL(sink_sleep(&f.s, 2000), SINK_EABORT);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", json_object_new_object()), SINK_EABORT);
    sfx_close(&f);
}

/* ---- before the stream: reject and respond --------------------------------- */

static void t_reject(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_SSE);
    json_object *extra = obj1("field", "limit");
    CU_ASSERT_EQUAL(sink_header(&f.s, "Retry-After", "12"), 0);
    CU_ASSERT_EQUAL(sink_reject(&f.s, 429, "RATE_LIMIT_EXCEEDED", "Too many streams \xC3", extra), 0);
    CU_ASSERT_EQUAL(sink_reject(&f.s, 400, "INVALID_PARAMETERS", "again", NULL), -1);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", json_object_new_object()), SINK_EIO);
    CU_ASSERT_EQUAL(sink_error(&f.s, "PROCESSING_ERROR", "late"), 0);
    size_t len = f.cap.len;
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.cap.len, len);
    CU_ASSERT_EQUAL(f.p.status, 429);
    CU_ASSERT(strncmp(f.p.headers, "Status: 429 Too Many Requests\r\n", 31) == 0);
    char v[128];
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "Content-Type", v, sizeof(v)), "application/json; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "Retry-After", v, sizeof(v)), "12");
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "X-Request-Id", v, sizeof(v)), RID);
    CU_ASSERT_PTR_NULL(cap_header(&f.p, "X-Accel-Buffering", v, sizeof(v)));
    json_object *b = f.p.body, *st;
    CU_ASSERT_STRING_EQUAL(cap_str(b, "code"), "RATE_LIMIT_EXCEEDED");
    CU_ASSERT_STRING_EQUAL(cap_str(b, "error"), "Streaming rate limit exceeded");
    CU_ASSERT_STRING_EQUAL(cap_str(b, "message"), "Too many streams \xEF\xBF\xBD");
    CU_ASSERT_STRING_EQUAL(cap_str(b, "field"), "limit");
    CU_ASSERT(json_object_object_get_ex(b, "status", &st) && json_object_get_int(st) == 429);
    CU_ASSERT_STRING_EQUAL(cap_str(b, "requestId"), RID);
    CU_ASSERT(ts_ok(cap_str(b, "timestamp")));
    sfx_close(&f);
}

static void t_respond(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_JSON);
    json_object *doc = obj1("status", "ok");
    CU_ASSERT_EQUAL(sink_respond(&f.s, 503, doc), 0);
    CU_ASSERT_EQUAL(sink_respond(&f.s, 200, obj1("again", "no")), SINK_EIO);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.p.status, 503);
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "status"), "ok");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "requestId"), RID);
    CU_ASSERT(ts_ok(cap_str(f.p.body, "timestamp")));
    CU_ASSERT_PTR_NULL(cap_str(f.p.body, "again"));
    sfx_close(&f);
}

/* ---- the JSON sink ------------------------------------------------------ */

static json_object *results(int stage_final, int n)
{
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (int i = 0; i < n; i++) json_object_array_add(arr, json_object_new_int(stage_final ? 100 + i : i));
    json_object_object_add(o, "type", json_object_new_string("product_cards"));
    json_object_object_add(o, "products", arr);
    json_object_object_add(o, "total", json_object_new_int(n));
    json_object_object_add(o, "stage", json_object_new_string(stage_final ? "final" : "text"));
    return o;
}

static void t_json_document(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_JSON);
    json_object *conn = obj1("message", "Stream started");
    json_object_object_add(conn, "query", json_object_new_string("red dress"));
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", conn), 0);
    CU_ASSERT_EQUAL(sink_progress(&f.s, "text_search", "Searching", 5, -1), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", results(0, 5)), 0);
    CU_ASSERT_EQUAL(sink_progress(&f.s, "ranking", "Ranking", -1, 100), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", results(1, 2)), 0);
    json_object *t1 = obj1("token", "Hello");
    json_object_object_add(t1, "fullText", json_object_new_string("Hello"));
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", t1), 0);
    json_object *t2 = obj1("token", " w\xC3\xB6rld\n");
    json_object_object_add(t2, "fullText", json_object_new_string("Hello w\xC3\xB6rld\n"));
    CU_ASSERT_EQUAL(sink_emit(&f.s, "text", t2), 0);
    json_object *sg = json_object_new_object();
    json_object *sa = json_object_new_array();
    json_object_array_add(sa, json_object_new_string("Show me shoes"));
    json_object_object_add(sg, "suggestions", sa);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "suggestions", sg), 0);
    json_object *done = json_object_new_object();
    json_object_object_add(done, "duration", json_object_new_int(12));
    json_object_object_add(done, "tokens", json_object_new_int(3));
    CU_ASSERT_EQUAL(sink_emit(&f.s, "complete", done), 0);
    CU_ASSERT_EQUAL(f.cap.len, 0);   /* nothing is sent before the end */
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);

    CU_ASSERT_EQUAL(f.p.status, 200);
    CU_ASSERT_FALSE(f.p.sse);
    char v[128];
    CU_ASSERT_STRING_EQUAL(cap_header(&f.p, "Content-Type", v, sizeof(v)), "application/json; charset=utf-8");
    json_object *b = f.p.body, *x;
    CU_ASSERT(json_object_object_get_ex(b, "success", &x) && json_object_get_boolean(x));
    CU_ASSERT_STRING_EQUAL(cap_str(b, "query"), "red dress");
    /* the last results replace the earlier ones */
    CU_ASSERT_STRING_EQUAL(cap_str(b, "stage"), "final");
    CU_ASSERT(json_object_object_get_ex(b, "total", &x) && json_object_get_int(x) == 2);
    CU_ASSERT(json_object_object_get_ex(b, "products", &x) && json_object_array_length(x) == 2 &&
              json_object_get_int(json_object_array_get_idx(x, 0)) == 100);
    /* text is the full text, not the last token */
    CU_ASSERT_STRING_EQUAL(cap_str(b, "text"), "Hello w\xC3\xB6rld\n");
    CU_ASSERT(json_object_object_get_ex(b, "suggestions", &x) && json_object_array_length(x) == 1);
    /* complete's totals are merged in */
    CU_ASSERT(json_object_object_get_ex(b, "duration", &x) && json_object_get_int(x) == 12);
    CU_ASSERT(json_object_object_get_ex(b, "tokens", &x) && json_object_get_int(x) == 3);
    /* progress steps are kept in order */
    CU_ASSERT(json_object_object_get_ex(b, "steps", &x) && json_object_array_length(x) == 2);
    if (x && json_object_array_length(x) == 2) {
        CU_ASSERT_STRING_EQUAL(cap_str(json_object_array_get_idx(x, 0), "step"), "text_search");
        CU_ASSERT_STRING_EQUAL(cap_str(json_object_array_get_idx(x, 1), "message"), "Ranking");
    }
    CU_ASSERT_STRING_EQUAL(cap_str(b, "requestId"), RID);
    CU_ASSERT(ts_ok(cap_str(b, "timestamp")));
    CU_ASSERT_PTR_NULL(cap_str(b, "code"));
    sfx_close(&f);
}

static void t_json_error(void)
{
    struct sfx f;
    sfx_open(&f);
    sfx_start(&f, SINK_JSON);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", results(0, 3)), 0);
    CU_ASSERT_EQUAL(sink_error(&f.s, "DB_QUERY_ERROR", "The query failed"), 0);
    CU_ASSERT_EQUAL(sink_error(&f.s, "UPSTREAM_TIMEOUT", "ignored"), 0);
    CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
    CU_ASSERT_EQUAL(f.p.status, 500);
    CU_ASSERT(strncmp(f.p.headers, "Status: 500 Internal Server Error\r\n", 35) == 0);
    json_object *b = f.p.body, *x;
    CU_ASSERT(json_object_object_get_ex(b, "success", &x) && !json_object_get_boolean(x));
    CU_ASSERT_STRING_EQUAL(cap_str(b, "code"), "DB_QUERY_ERROR");
    CU_ASSERT_STRING_EQUAL(cap_str(b, "error"), "Database query error");
    CU_ASSERT_STRING_EQUAL(cap_str(b, "message"), "The query failed");
    CU_ASSERT(json_object_object_get_ex(b, "partial", &x) && json_object_get_boolean(x));
    /* results sent before the error stay valid */
    CU_ASSERT(json_object_object_get_ex(b, "products", &x) && json_object_array_length(x) == 3);
    sfx_close(&f);

    /* each in-stream code maps to its HTTP status */
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"STREAM_TIMEOUT", 504}, {"UPSTREAM_TIMEOUT", 504}, {"UPSTREAM_ERROR", 502},
        {"DB_CONNECTION_ERROR", 503}, {"INDEX_UNAVAILABLE", 503}, {"SHUTTING_DOWN", 503},
        {"PROCESSING_ERROR", 500}, {"INVALID_UTF8", 422}, {"NO_EXTRACTABLE_TEXT", 422},
        {"INVALID_PARAMETERS", 400}, {"PAYLOAD_TOO_LARGE", 413}, {"RATE_LIMIT_EXCEEDED", 429},
        {"STREAMING_DISABLED", 503}, {"NO_SUCH_CODE", 500},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        CU_ASSERT_EQUAL(sink_status_for(map[i].code), map[i].status);
        sfx_open(&f);
        sfx_start(&f, SINK_JSON);
        CU_ASSERT_EQUAL(sink_error(&f.s, map[i].code, "m"), 0);
        CU_ASSERT_EQUAL_FATAL(sfx_finish(&f), 0);
        CU_ASSERT_EQUAL(f.p.status, map[i].status);
        json_object *p;
        CU_ASSERT(json_object_object_get_ex(f.p.body, "partial", &p) && !json_object_get_boolean(p));
        sfx_close(&f);
    }
    CU_ASSERT_STRING_EQUAL(sink_describe("NO_SUCH_CODE"), "Error");
}

/* The normal twin obeys the same deadline: an emit after it fails. */
static void t_json_deadline(void)
{
    struct sfx f;
    sfx_open(&f);
    f.cfg.streaming_timeout = 100;
    sfx_start(&f, SINK_JSON);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "connected", obj1("message", "Stream started")), 0);
    CU_ASSERT_EQUAL(sink_sleep(&f.s, 1000), SINK_ETIMEOUT);
    CU_ASSERT_EQUAL(sink_emit(&f.s, "results", results(0, 1)), SINK_ETIMEOUT);
    sfx_close(&f);
}

void register_sink(void)
{
    static const struct unit_case cases[] = {
        {"sse: headers, ids, requestId/timestamp, close last", t_sse_headers_and_ids},
        {"progressf: formatted message, extra fields, code, counts left out", t_progressf},
        {"sse: newlines, quotes, control chars, non-ASCII", t_sse_escaping},
        {"sse: text cut mid-UTF-8 is repaired; held-back text is exact", t_sse_cut_utf8},
        {"sse: payloads split at streaming_chunk_size", t_sse_chunking},
        {"sse: error event fields and partial", t_sse_error_event},
        {"sse: heartbeats only after silence", t_sse_heartbeat},
        {"sse: deadline ends a blocked stream", t_sse_deadline_while_blocked},
        {"sse: no second error when the deadline follows an error", t_sse_error_then_deadline},
        {"sse: client gone at a write or a heartbeat", t_sse_client_gone},
        {"sse: shutdown flag stops the stream", t_sse_abort},
        {"reject: status, headers, SPEC 2.2 body", t_reject},
        {"respond: plain JSON document", t_respond},
        {"json: the normal twin's document", t_json_document},
        {"json: error status and fields", t_json_error},
        {"json: deadline", t_json_deadline},
        {NULL, NULL},
    };
    unit_suite("sink", cases);
}
