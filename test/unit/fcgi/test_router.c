/* test_router.c: route lookup (404, 405 with Allow, GET = HEAD) and the
 * pipeline of rt_dispatch (fcgi/router.c) run with fake routes: the
 * streaming switch, JSON body type and size, and how a handler's return
 * code becomes an error event; plus the real selftest route end to end. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "test/unit/capture.h"
#include "test/unit/unit.h"

/* ---- rt_match ------------------------------------------------------------- */

/* The Allow value the table implies for `path`. */
static void expected_allow(const char *path, char *out, size_t cap, unsigned *have)
{
    const struct rt_table tab = h_routes();
    const struct route *t = tab.row;
    *have = 0;
    for (size_t i = 0; i < tab.n; i++)
        if (!strcmp(t[i].path, path)) *have |= t[i].methods;
    const char *names[3];
    size_t k = 0;
    if (*have & RT_GET) names[k++] = "GET, HEAD";
    if (*have & RT_POST) names[k++] = "POST";
    if (*have & RT_DELETE) names[k++] = "DELETE";
    out[0] = '\0';
    for (size_t i = 0; i < k; i++) snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? ", " : "", names[i]);
}

static void t_match_table(void)
{
    const struct rt_table tab = h_routes();
    const struct route *t = tab.row;
    size_t n = tab.n;
    CU_ASSERT_FATAL(n >= 3);
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"};
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL(t[i].fn);
        CU_ASSERT_PTR_NOT_NULL(t[i].name);
        CU_ASSERT(t[i].path[0] == '/');
        CU_ASSERT(t[i].methods != 0);
        /* a path with a `stream` segment is a stream route and the other way round */
        size_t pl = strlen(t[i].path);
        int stream_seg = strstr(t[i].path, "/stream/") != NULL ||
                         (pl >= 7 && !strcmp(t[i].path + pl - 7, "/stream"));
        CU_ASSERT_EQUAL(stream_seg, (t[i].flags & RT_STREAM) != 0);
        char want[64];
        unsigned have;
        expected_allow(t[i].path, want, sizeof(want), &have);
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            unsigned bit = !strcmp(methods[m], "GET") || !strcmp(methods[m], "HEAD") ? RT_GET
                           : !strcmp(methods[m], "POST")                             ? RT_POST
                           : !strcmp(methods[m], "DELETE")                           ? RT_DELETE
                                                                                     : 0;
            const struct route *r = (const struct route *)1;
            char allow[64] = "untouched";
            enum rt_result res = rt_match(&tab, t[i].path, methods[m], &r, allow, sizeof(allow));
            if (have & bit) {
                CU_ASSERT_EQUAL(res, RT_FOUND);
                CU_ASSERT(r && !strcmp(r->path, t[i].path) && (r->methods & bit));
                CU_ASSERT_STRING_EQUAL(allow, "untouched");
            } else if (!strcmp(methods[m], "OPTIONS")) {   /* a known path: its first row, for CORS */
                CU_ASSERT_EQUAL(res, RT_OPTIONS);
                CU_ASSERT(r && !strcmp(r->path, t[i].path));
                CU_ASSERT_STRING_EQUAL(allow, want);
            } else {
                CU_ASSERT_EQUAL(res, RT_BAD_METHOD);
                CU_ASSERT_PTR_NULL(r);
                CU_ASSERT_STRING_EQUAL(allow, want);
            }
        }
    }
    /* no two rows share a path and a method */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT(strcmp(t[i].path, t[j].path) != 0 || (t[i].methods & t[j].methods) == 0);
}

static void t_match_known(void)
{
    const struct rt_table routes = h_routes();
    const struct route *r;
    char allow[64];
    CU_ASSERT_EQUAL(rt_match(&routes, "/api/health", "GET", &r, allow, sizeof(allow)), RT_FOUND);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(r->fn == h_health);
    const struct route *h;
    CU_ASSERT_EQUAL(rt_match(&routes, "/api/health", "HEAD", &h, allow, sizeof(allow)), RT_FOUND);
    CU_ASSERT_PTR_EQUAL(h, r);   /* HEAD is GET */

    CU_ASSERT_EQUAL(rt_match(&routes, "/api/health", "POST", &r, allow, sizeof(allow)), RT_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD");
    CU_ASSERT_EQUAL(rt_match(&routes, "/api/stream/selftest", "DELETE", &r, allow, sizeof(allow)), RT_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD");
    /* a small Allow buffer is cut, not overrun; NULL is allowed */
    char small[5];
    memset(small, 'x', sizeof(small));
    CU_ASSERT_EQUAL(rt_match(&routes, "/api/health", "PUT", &r, small, sizeof(small)), RT_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(small, "GET,");
    CU_ASSERT_EQUAL(rt_match(&routes, "/api/health", "PUT", &r, NULL, 0), RT_BAD_METHOD);

    static const char *const missing[] = {"/api/nope", "/api/health/", "/api/healthz", "/API/HEALTH",
                                          "/api", "", "/", "api/health", "/api//health"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        strcpy(allow, "untouched");
        CU_ASSERT_EQUAL(rt_match(&routes, missing[i], "GET", &r, allow, sizeof(allow)), RT_NOT_FOUND);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_STRING_EQUAL(allow, "untouched");
        /* a missing path is 404 whatever the method */
        CU_ASSERT_EQUAL(rt_match(&routes, missing[i], "PUT", &r, allow, sizeof(allow)), RT_NOT_FOUND);
    }
}

static int h_fake_ok(struct ctx *c);

/* Path parameters: `{name}` takes one non-empty segment, no more, no less;
 * literal segments must match exactly; rt_param hands the value out. */
static void t_match_params(void)
{
    CU_ASSERT_TRUE(rt_path_match("/api/context/files/{id}", "/api/context/files/42"));
    CU_ASSERT_TRUE(rt_path_match("/a/{x}/b/{y}", "/a/1/b/two"));
    CU_ASSERT_TRUE(rt_path_match("/api/health", "/api/health"));
    static const char *const no[] = {"/api/context/files/", "/api/context/files", "/api/context/files/4/2",
                                     "/api/context/files//", "/api/context/file/4", "/api/context/files/4/",
                                     "api/context/files/4", "", "/"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CU_ASSERT_FALSE(rt_path_match("/api/context/files/{id}", no[i]));
    CU_ASSERT_FALSE(rt_path_match("/a/{x}/b/{y}", "/a/1/c/2"));
    CU_ASSERT_FALSE(rt_path_match("/api/health", "/api/health/"));

    const struct route r = {"/a/{x}/b/{yy}", RT_GET, 0, h_fake_ok, "p"};
    char v[8];
    CU_ASSERT_EQUAL(rt_param(&r, "/a/1/b/two", "x", v, sizeof(v)), 0);
    CU_ASSERT_STRING_EQUAL(v, "1");
    CU_ASSERT_EQUAL(rt_param(&r, "/a/1/b/two", "yy", v, sizeof(v)), 0);
    CU_ASSERT_STRING_EQUAL(v, "two");
    CU_ASSERT_EQUAL(rt_param(&r, "/a/1/b/two", "y", v, sizeof(v)), -1);         /* no such name */
    CU_ASSERT_EQUAL(rt_param(&r, "/a/1/c/two", "x", v, sizeof(v)), -1);         /* no match */
    CU_ASSERT_EQUAL(rt_param(&r, "/a/1/b/12345678", "yy", v, sizeof(v)), -1);   /* does not fit */
    CU_ASSERT_EQUAL(rt_param(NULL, "/a/1/b/2", "x", v, sizeof(v)), -1);

    /* the real table: one file's GET and DELETE, the list, and the rest */
    const struct rt_table tab = h_routes();
    const struct route *m;
    char allow[64];
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files/17", "DELETE", &m, allow, sizeof(allow)), RT_FOUND);
    CU_ASSERT(m && m->fn == h_file);
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files/17", "GET", &m, allow, sizeof(allow)), RT_FOUND);
    CU_ASSERT(m && m->fn == h_file);
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files", "GET", &m, allow, sizeof(allow)), RT_FOUND);
    CU_ASSERT(m && m->fn == h_files_list);
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files/17", "POST", &m, allow, sizeof(allow)), RT_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, DELETE");
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files", "DELETE", &m, allow, sizeof(allow)), RT_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD");
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/context/files/17/x", "GET", &m, allow, sizeof(allow)), RT_NOT_FOUND);
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/chat/query/stream", "OPTIONS", &m, allow, sizeof(allow)), RT_OPTIONS);
    CU_ASSERT_STRING_EQUAL(allow, "POST");
    CU_ASSERT_EQUAL(rt_match(&tab, "/api/nope", "OPTIONS", &m, allow, sizeof(allow)), RT_NOT_FOUND);
}

/* ---- rt_dispatch with fake routes ------------------------------------------ */

struct seen {
    int calls;
    char body[256];
    size_t body_len;
    int rc;
};

static struct seen seen;   /* what the fake handlers saw, reset per case */

static int h_fake_ok(struct ctx *c)
{
    seen.calls++;
    if (c->req->body) {
        seen.body_len = c->req->body_len;
        snprintf(seen.body, sizeof(seen.body), "%s", c->req->body);
    }
    int rc = hx_connected(c, NULL);
    if (rc) return rc;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "products", json_object_new_array());
    rc = sink_emit(c->sink, "results", o);
    if (rc) return rc;
    return sink_emit(c->sink, "complete", json_object_new_object());
}

static int h_fake_fail(struct ctx *c)
{
    seen.calls++;
    int rc = hx_connected(c, NULL);
    return rc ? rc : -1;
}

static int h_fake_quiet(struct ctx *c)
{
    (void)c;
    seen.calls++;
    return 0;
}

static int h_fake_slow(struct ctx *c)
{
    seen.calls++;
    int rc = hx_connected(c, NULL);
    if (rc) return rc;
    seen.rc = sink_sleep(c->sink, 5000);
    return seen.rc;
}

static int h_fake_bad_field(struct ctx *c)
{
    seen.calls++;
    return hx_bad_field(c, "limit", "limit must be a whole number from 1 to 50");
}

/* A parameter error found after the first event (JSON mode: the reject
 * replaces the document the event began). */
static int h_fake_late_reject(struct ctx *c)
{
    seen.calls++;
    int rc = hx_connected(c, NULL);
    if (rc) return rc;
    return hx_bad_field(c, "limit", "limit must be a whole number from 1 to 50");
}

struct dfx {
    arena_t *ar;
    struct app app;
    struct cap cap;
    struct sse_io io;
    struct sink s;
    struct req r;
    struct cap_in in;
    struct cap_parse p;
    volatile sig_atomic_t abort;
};

static void dfx_open(struct dfx *f)
{
    memset(f, 0, sizeof(*f));
    memset(&seen, 0, sizeof(seen));
    f->ar = ar_new(8192);
    cfg_defaults(&f->app.cfg);
    cap_io(&f->cap, &f->io);
}

/* Builds the request from env (and a body), then dispatches like the
 * worker does. Returns rt_dispatch's status; the output, if any, must be
 * well-formed and is parsed into f->p. */
static int dfx_run(struct dfx *f, const struct route *rt, char **env, const char *body, size_t blen, size_t piece)
{
    cap_in_init(&f->in, body ? body : "", body ? blen : 0, piece);
    f->r.fx = &f->in.fx;
    CU_ASSERT_EQUAL_FATAL(req_init(&f->r, f->ar, &f->app.cfg, env), REQ_OK);
    sink_init(&f->s, (rt->flags & RT_STREAM) ? SINK_SSE : SINK_JSON, f->ar, &f->app.cfg, "rid-router", rt->name,
              &f->io, f->r.t0_ms);
    f->s.abort_flag = &f->abort;
    int status = rt_dispatch(&f->app, &f->r, &f->s, rt);
    if (f->cap.len && cap_parse(&f->cap, &f->p) != 0) {
        fprintf(stderr, "\n  framing: %s\n  output:\n%s\n", f->p.error, f->cap.p ? f->cap.p : "");
        CU_FAIL("response is not well-formed");
    }
    return status;
}

static void dfx_close(struct dfx *f)
{
    sink_finish(&f->s);
    cap_parse_free(&f->p);
    cap_free(&f->cap);
    cap_in_free(&f->in);
    ar_free(f->ar);
}

static void expect_reject(struct dfx *f, int status, const char *code)
{
    CU_ASSERT_EQUAL(f->p.status, status);
    CU_ASSERT_FALSE(f->p.sse);
    CU_ASSERT_STRING_EQUAL(cap_str(f->p.body, "code"), code);
    json_object *st;
    CU_ASSERT(json_object_object_get_ex(f->p.body, "status", &st) && json_object_get_int(st) == status);
    CU_ASSERT_PTR_NOT_NULL(cap_str(f->p.body, "error"));
    CU_ASSERT_PTR_NOT_NULL(cap_str(f->p.body, "message"));
    CU_ASSERT_STRING_EQUAL(cap_str(f->p.body, "requestId"), "rid-router");
}

static char *env_get[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/fake", NULL};

static void t_streaming_disabled(void)
{
    const struct route stream = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_ok, "fake"};
    const struct route normal = {"/api/fake", RT_GET, 0, h_fake_ok, "fake"};
    struct dfx f;

    dfx_open(&f);
    f.app.cfg.streaming_enabled = 0;
    CU_ASSERT_EQUAL(dfx_run(&f, &stream, env_get, NULL, 0, 0), 503);
    expect_reject(&f, 503, "STREAMING_DISABLED");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "error"), "Streaming is disabled");
    CU_ASSERT_EQUAL(seen.calls, 0);
    dfx_close(&f);

    /* the normal twin still works */
    dfx_open(&f);
    f.app.cfg.streaming_enabled = 0;
    CU_ASSERT_EQUAL(dfx_run(&f, &normal, env_get, NULL, 0, 0), 200);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_EQUAL(f.p.status, 200);
    json_object *ok;
    CU_ASSERT(json_object_object_get_ex(f.p.body, "success", &ok) && json_object_get_boolean(ok));
    dfx_close(&f);

    /* and with streaming on, the stream route streams */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &stream, env_get, NULL, 0, 0), 200);
    CU_ASSERT(f.p.sse);
    CU_ASSERT_EQUAL(f.p.n, 4);
    CU_ASSERT_EQUAL(seen.calls, 1);
    dfx_close(&f);
}

static void t_body_json(void)
{
    const struct route rt = {"/api/fake", RT_POST, RT_BODY_JSON, h_fake_ok, "fake"};
    const struct route srt = {"/api/stream/fake", RT_POST, RT_STREAM | RT_BODY_JSON, h_fake_ok, "fake"};
    const char *body = "{\"query\":\"red dress\"}";
    size_t blen = strlen(body);
    struct dfx f;

    /* accepted content types */
    static const char *const good[] = {"CONTENT_TYPE=application/json", "CONTENT_TYPE=application/json; charset=utf-8",
                                       "CONTENT_TYPE=Application/JSON", "CONTENT_TYPE=application/json;charset=UTF-8"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", (char *)good[i], "CONTENT_LENGTH=21", NULL};
        dfx_open(&f);
        CU_ASSERT_EQUAL(dfx_run(&f, &rt, env, body, blen, 4), 200);
        CU_ASSERT_EQUAL(seen.calls, 1);
        CU_ASSERT_EQUAL(seen.body_len, blen);
        CU_ASSERT_STRING_EQUAL(seen.body, body);
        dfx_close(&f);
    }

    /* wrong or missing content type: 415, nothing read */
    static const char *const bad[] = {"CONTENT_TYPE=text/plain", "CONTENT_TYPE=application/jsonx",
                                      "CONTENT_TYPE=application/x-www-form-urlencoded", "CONTENT_TYPE=",
                                      "X_NO_TYPE=1", "CONTENT_TYPE=multipart/form-data; boundary=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", (char *)bad[i], "CONTENT_LENGTH=21", NULL};
        dfx_open(&f);
        CU_ASSERT_EQUAL(dfx_run(&f, &rt, env, body, blen, 4), 415);
        expect_reject(&f, 415, "UNSUPPORTED_MEDIA_TYPE");
        CU_ASSERT_EQUAL(seen.calls, 0);
        CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
        dfx_close(&f);
    }

    /* declared larger than max_json_body: 413 before reading a byte */
    static char big[70000];
    memset(big, ' ', sizeof(big));
    char *env_big[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json",
                       "CONTENT_LENGTH=65537", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_big, big, 65537, 4096), 413);
    expect_reject(&f, 413, "PAYLOAD_TOO_LARGE");
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(f.p.body, "message"), "65536"));
    CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
    CU_ASSERT_EQUAL(f.in.fills, 0);
    CU_ASSERT_EQUAL(seen.calls, 0);
    dfx_close(&f);

    /* the same on a stream route: a plain 413, no stream opened */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &srt, env_big, big, 65537, 4096), 413);
    expect_reject(&f, 413, "PAYLOAD_TOO_LARGE");
    CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
    dfx_close(&f);

    /* a configured smaller limit applies; exactly the limit passes */
    char *env_256[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json",
                       "CONTENT_LENGTH=256", NULL};
    char body256[257];
    memset(body256, ' ', 256);
    body256[0] = '{';
    body256[255] = '}';
    body256[256] = '\0';
    dfx_open(&f);
    f.app.cfg.max_json_body = 256;
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_256, body256, 256, 100), 200);
    CU_ASSERT_EQUAL(seen.body_len, 256);
    dfx_close(&f);
    char *env_257[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json",
                       "CONTENT_LENGTH=257", NULL};
    dfx_open(&f);
    f.app.cfg.max_json_body = 256;
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_257, big, 257, 100), 413);
    CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
    dfx_close(&f);

    /* no Content-Length (chunked upload): refused once past the limit */
    char *env_chunked[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json", NULL};
    dfx_open(&f);
    f.app.cfg.max_json_body = 256;
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_chunked, big, 5000, 64), 413);
    CU_ASSERT(cap_in_consumed(&f.in) <= 257);
    CU_ASSERT_EQUAL(seen.calls, 0);
    dfx_close(&f);

    /* the client sends less than it declared; or a bad length */
    char *env_short[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json",
                         "CONTENT_LENGTH=100", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_short, body, blen, 8), 400);
    expect_reject(&f, 400, "INVALID_PARAMETERS");
    CU_ASSERT_EQUAL(seen.calls, 0);
    dfx_close(&f);
    char *env_badlen[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/fake", "CONTENT_TYPE=application/json",
                          "CONTENT_LENGTH=twenty", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &rt, env_badlen, body, blen, 8), 400);
    CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
    dfx_close(&f);

    /* a route without RT_BODY_JSON does not touch the body */
    const struct route plain = {"/api/fake", RT_POST, 0, h_fake_ok, "fake"};
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &plain, env_big, big, 65537, 4096), 200);
    CU_ASSERT_EQUAL(cap_in_consumed(&f.in), 0);
    dfx_close(&f);
}

static void t_handler_outcomes(void)
{
    const struct route fail = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_fail, "fake"};
    const struct route quiet = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_quiet, "fake"};
    const struct route bad = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_bad_field, "fake"};
    const struct route jfail = {"/api/fake", RT_GET, 0, h_fake_fail, "fake"};
    struct dfx f;

    /* a failing handler: PROCESSING_ERROR, then close */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &fail, env_get, NULL, 0, 0), 200);
    CU_ASSERT_EQUAL_FATAL(f.p.n, 3);
    CU_ASSERT_STRING_EQUAL(f.p.ev[0].name, "connected");
    CU_ASSERT_STRING_EQUAL(f.p.ev[1].name, "error");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[1].data, "code"), "PROCESSING_ERROR");
    CU_ASSERT_STRING_EQUAL(f.p.ev[2].name, "close");
    CU_ASSERT_EQUAL(f.p.ev[2].id, 3);
    dfx_close(&f);

    /* the same on the normal twin: a 500 document */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &jfail, env_get, NULL, 0, 0), 500);
    CU_ASSERT_EQUAL(f.p.status, 500);
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "code"), "PROCESSING_ERROR");
    dfx_close(&f);

    /* a handler that sent nothing still gives a valid stream */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &quiet, env_get, NULL, 0, 0), 200);
    CU_ASSERT_EQUAL_FATAL(f.p.n, 2);
    CU_ASSERT_STRING_EQUAL(f.p.ev[0].name, "connected");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[0].data, "message"), "Stream started");
    CU_ASSERT_STRING_EQUAL(f.p.ev[1].name, "close");
    dfx_close(&f);

    /* a parameter error before the stream: a plain 400 naming the field */
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &bad, env_get, NULL, 0, 0), 400);
    expect_reject(&f, 400, "INVALID_PARAMETERS");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "field"), "limit");
    dfx_close(&f);
}

/* A stream past streaming_timeout ends with STREAM_TIMEOUT, then close. */
static void t_deadline(void)
{
    const struct route slow = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_slow, "fake"};
    const struct route jslow = {"/api/fake", RT_GET, 0, h_fake_slow, "fake"};
    struct dfx f;
    dfx_open(&f);
    f.app.cfg.streaming_timeout = 200;
    f.app.cfg.streaming_heartbeat_ms = 60;
    int64_t t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(dfx_run(&f, &slow, env_get, NULL, 0, 0), 200);
    int64_t took = clk_mono_ms() - t0;
    CU_ASSERT(took >= 190 && took < 1500);
    CU_ASSERT_EQUAL(seen.rc, SINK_ETIMEOUT);
    CU_ASSERT_FATAL(f.p.n >= 3);
    CU_ASSERT_STRING_EQUAL(f.p.ev[0].name, "connected");
    CU_ASSERT_STRING_EQUAL(f.p.ev[f.p.n - 2].name, "error");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.ev[f.p.n - 2].data, "code"), "STREAM_TIMEOUT");
    CU_ASSERT_STRING_EQUAL(f.p.ev[f.p.n - 1].name, "close");
    CU_ASSERT_EQUAL(f.p.pings + 3, f.p.n);   /* connected, pings, error, close */
    dfx_close(&f);

    dfx_open(&f);
    f.app.cfg.streaming_timeout = 150;
    CU_ASSERT_EQUAL(dfx_run(&f, &jslow, env_get, NULL, 0, 0), 504);
    CU_ASSERT_EQUAL(f.p.status, 504);
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "code"), "STREAM_TIMEOUT");
    dfx_close(&f);
}

static void t_abort_and_gone(void)
{
    const struct route slow = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_slow, "fake"};
    struct dfx f;
    dfx_open(&f);
    f.abort = SINK_ABORT_DRAIN;
    int64_t t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(dfx_run(&f, &slow, env_get, NULL, 0, 0), 200);
    CU_ASSERT(clk_mono_ms() - t0 < 1000);
    CU_ASSERT_EQUAL(seen.rc, SINK_EABORT);
    const struct cap_event *e = cap_find(&f.p, "error", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(cap_str(e->data, "code"), "SHUTTING_DOWN");
    CU_ASSERT_STRING_EQUAL(f.p.ev[f.p.n - 1].name, "close");
    dfx_close(&f);

    /* the client is gone after the headers: nothing more is written and
     * the handler is stopped by its first emit */
    const struct route ok = {"/api/stream/fake", RT_GET, RT_STREAM, h_fake_ok, "fake"};
    dfx_open(&f);
    f.cap.fail_after = 1;
    CU_ASSERT_EQUAL(dfx_run(&f, &ok, env_get, NULL, 0, 0), 200);
    CU_ASSERT_EQUAL(f.cap.len, 0);
    CU_ASSERT_EQUAL(f.s.state, SINK_EGONE);
    CU_ASSERT_EQUAL(seen.calls, 1);
    dfx_close(&f);
}

/* ---- the real selftest route ------------------------------------------------ */

static void t_late_reject(void)
{
    const struct route late = {"/api/fake", RT_GET, 0, h_fake_late_reject, "fake"};
    struct dfx f;
    dfx_open(&f);
    CU_ASSERT_EQUAL(dfx_run(&f, &late, env_get, NULL, 0, 0), 400);
    expect_reject(&f, 400, "INVALID_PARAMETERS");
    CU_ASSERT_PTR_NULL(f.s.doc);   /* put by rt_dispatch, not left to leak */
    dfx_close(&f);
}

static void t_selftest_route(void)
{
    const struct rt_table routes = h_routes();
    const struct route *rt;
    struct dfx f;
    char *env_s[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/stream/selftest?n=3&interval_ms=0", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL_FATAL(rt_match(&routes, "/api/stream/selftest", "GET", &rt, NULL, 0), RT_FOUND);
    CU_ASSERT_EQUAL(dfx_run(&f, rt, env_s, NULL, 0, 0), 200);
    CU_ASSERT_EQUAL_FATAL(f.p.n, 6);
    static const char *const names[] = {"connected", "progress", "progress", "progress", "complete", "close"};
    for (size_t i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(f.p.ev[i].name, names[i]);
        CU_ASSERT_EQUAL(f.p.ev[i].id, i + 1);
    }
    json_object *x;
    CU_ASSERT(json_object_object_get_ex(f.p.ev[0].data, "n", &x) && json_object_get_int(x) == 3);
    CU_ASSERT(json_object_object_get_ex(f.p.ev[3].data, "percent", &x) && json_object_get_int(x) == 100);
    CU_ASSERT(json_object_object_get_ex(f.p.ev[4].data, "total", &x) && json_object_get_int(x) == 3);
    dfx_close(&f);

    char *env_j[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/selftest?n=2&interval_ms=0", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL_FATAL(rt_match(&routes, "/api/selftest", "GET", &rt, NULL, 0), RT_FOUND);
    CU_ASSERT_EQUAL(dfx_run(&f, rt, env_j, NULL, 0, 0), 200);
    CU_ASSERT(json_object_object_get_ex(f.p.body, "success", &x) && json_object_get_boolean(x));
    CU_ASSERT(json_object_object_get_ex(f.p.body, "steps", &x) && json_object_array_length(x) == 2);
    CU_ASSERT(json_object_object_get_ex(f.p.body, "total", &x) && json_object_get_int(x) == 2);
    dfx_close(&f);

    char *env_bad[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/stream/selftest?n=99", NULL};
    dfx_open(&f);
    CU_ASSERT_EQUAL_FATAL(rt_match(&routes, "/api/stream/selftest", "GET", &rt, NULL, 0), RT_FOUND);
    CU_ASSERT_EQUAL(dfx_run(&f, rt, env_bad, NULL, 0, 0), 400);
    expect_reject(&f, 400, "INVALID_PARAMETERS");
    CU_ASSERT_STRING_EQUAL(cap_str(f.p.body, "field"), "n");
    dfx_close(&f);
}

void register_router(void)
{
    static const struct unit_case cases[] = {
        {"match: every table row, every method, Allow", t_match_table},
        {"match: 404, 405 + Allow, HEAD = GET", t_match_known},
        {"match: {name} path parameters, OPTIONS", t_match_params},
        {"dispatch: STREAMING_ENABLED=false is 503 on stream routes only", t_streaming_disabled},
        {"dispatch: JSON body type (415) and size (413, unread)", t_body_json},
        {"dispatch: handler failure, silence, parameter error", t_handler_outcomes},
        {"dispatch: deadline gives STREAM_TIMEOUT then close", t_deadline},
        {"dispatch: shutdown and a gone client", t_abort_and_gone},
        {"selftest route end to end", t_selftest_route},
        {"dispatch: a reject after an event releases the JSON document", t_late_reject},
        {NULL, NULL},
    };
    unit_suite("router", cases);
}
