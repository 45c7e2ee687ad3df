/* test_cors.c: CORS (fcgi/cors.c) through real routes (test/unit/route.h)
 * over a fake store: the preflight of the Fetch standard (204 with the
 * path's methods, the headers the API reads and Max-Age for an allowed
 * origin; 403 FORBIDDEN for another origin, a method the path lacks or a
 * header the API does not read; OPTIONS without Origin is 204 with
 * Allow), and the actual answers: Access-Control-Allow-Origin and
 * Access-Control-Expose-Headers for allowed origins only, Vary: Origin on
 * every answer, `*` when only "*" admits it, and an origin that one
 * chatbot lists kept for that chatbot's requests only. Plus the origin
 * rules (common/base/origin). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/origin.h"
#include "fcgi/cors.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

struct kfx {
    struct rfx r;
    struct fake_store st;
};

static void kfx_open(struct kfx *k, const char *allowed)
{
    memset(k, 0, sizeof(*k));
    rfx_open(&k->r);
    fake_store_init(&k->st);
    snprintf(k->r.app.cfg.cors_allowed_origins, sizeof(k->r.app.cfg.cors_allowed_origins), "%s", allowed);
    snprintf(k->r.app.cfg.index_dir, sizeof(k->r.app.cfg.index_dir), "/nonexistent/troika-unit-index");
    k->r.app.cfg.cors_max_age = 321;
    k->r.app.store = &k->st.base;
    fake_store_add_origin(&k->st, "shop-b", "https://b.example");
}

static void kfx_close(struct kfx *k)
{
    rfx_close(&k->r);
    fake_store_free(&k->st);
}

/* One request with headers ("NAME=value" CGI variables, NULL-ended); the
 * status. */
static int kfx_run(struct kfx *k, const char *method, const char *uri, char **env, const char *body)
{
    rfx_reset(&k->r);
    return rfx_run(&k->r, method, uri, env, body, body ? strlen(body) : 0);
}

static const char *hdr(struct kfx *k, const char *name)
{
    static char v[512];
    return cap_header(&k->r.p, name, v, sizeof(v));
}

static void t_preflight(void)
{
    struct kfx k;
    kfx_open(&k, "https://shop.example, http://127.0.0.1:8000");
    char *ok[] = {"HTTP_ORIGIN=https://shop.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST",
                  "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=content-type, authorization", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/chat/query/stream", ok, NULL), 204);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://shop.example");
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Methods"), "POST");
    CU_ASSERT_PTR_NOT_NULL(strstr(hdr(&k, "Access-Control-Allow-Headers"), "Content-Type"));
    CU_ASSERT_PTR_NOT_NULL(strstr(hdr(&k, "Access-Control-Allow-Headers"), "Authorization"));
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Max-Age"), "321");
    CU_ASSERT_PTR_NOT_NULL(strstr(hdr(&k, "Vary"), "Origin"));
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Credentials"));

    /* the file routes: GET, HEAD and DELETE */
    char *del[] = {"HTTP_ORIGIN=http://127.0.0.1:8000", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=DELETE",
                   "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=x-api-key", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/context/files/12", del, NULL), 204);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Methods"), "GET, HEAD, DELETE");

    /* refused: another origin, a method the path lacks, a header the API does not read */
    char *evil[] = {"HTTP_ORIGIN=https://evil.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/chat/query/stream", evil, NULL), 403);
    CU_ASSERT_STRING_EQUAL(cap_str(k.r.p.body, "code"), "FORBIDDEN");
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    char *put[] = {"HTTP_ORIGIN=https://shop.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=PUT", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/chat/query/stream", put, NULL), 403);
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    char *cookie[] = {"HTTP_ORIGIN=https://shop.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST",
                      "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=content-type, x-secret", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/chat/query/stream", cookie, NULL), 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(k.r.p.body, "message"), "x-secret"));
    /* a trailing slash is another origin */
    char *slash[] = {"HTTP_ORIGIN=https://shop.example/", "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/chat/query/stream", slash, NULL), 403);

    /* not a preflight: the methods, for anyone */
    CU_ASSERT_EQUAL(kfx_run(&k, "OPTIONS", "/api/context/files/12", NULL, NULL), 204);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Allow"), "GET, HEAD, DELETE, OPTIONS");
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    kfx_close(&k);
}

static void t_actual_requests(void)
{
    struct kfx k;
    kfx_open(&k, "https://shop.example");
    char *from_shop[] = {"HTTP_ORIGIN=https://shop.example", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=1&interval_ms=0", from_shop, NULL), 200);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://shop.example");
    CU_ASSERT_PTR_NOT_NULL(strstr(hdr(&k, "Access-Control-Expose-Headers"), "X-Request-Id"));
    CU_ASSERT_PTR_NOT_NULL(strstr(hdr(&k, "Access-Control-Expose-Headers"), "X-RateLimit-Remaining"));
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Vary"), "Origin");
    /* an error before the stream is readable too */
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=99", from_shop, NULL), 400);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://shop.example");

    char *from_evil[] = {"HTTP_ORIGIN=https://evil.example", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=1&interval_ms=0", from_evil, NULL), 200);
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Expose-Headers"));
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Vary"), "Origin");
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=1&interval_ms=0", NULL, NULL), 200);
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Vary"), "Origin");

    /* shop-b's own origin: its chatbot's routes and the ones of no chatbot, not another chatbot's */
    char *from_b[] = {"HTTP_ORIGIN=https://b.example", "CONTENT_TYPE=application/json", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=1&interval_ms=0", from_b, NULL), 200);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://b.example");
    CU_ASSERT_EQUAL(kfx_run(&k, "POST", "/api/chat/query", from_b, "{\"query\":\"hi there\",\"chatbotId\":\"shop-b\"}"),
                    200);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://b.example");
    CU_ASSERT_EQUAL(kfx_run(&k, "POST", "/api/chat/query", from_b, "{\"query\":\"hi there\",\"chatbotId\":\"shop-a\"}"),
                    200);
    CU_ASSERT_PTR_NULL(hdr(&k, "Access-Control-Allow-Origin"));
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Vary"), "Origin");
    /* a global origin works for every chatbot */
    char *shop_json[] = {"HTTP_ORIGIN=https://shop.example", "CONTENT_TYPE=application/json", NULL};
    CU_ASSERT_EQUAL(kfx_run(&k, "POST", "/api/chat/query", shop_json, "{\"query\":\"hi there\",\"chatbotId\":\"shop-a\"}"),
                    200);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "https://shop.example");
    kfx_close(&k);

    /* "*": any origin, answered with * */
    kfx_open(&k, "*");
    CU_ASSERT_EQUAL(kfx_run(&k, "GET", "/api/stream/selftest?n=1&interval_ms=0", from_evil, NULL), 200);
    CU_ASSERT_STRING_EQUAL(hdr(&k, "Access-Control-Allow-Origin"), "*");
    kfx_close(&k);
}

static void t_origin_rules(void)
{
    char err[256];
    static const char *const good[] = {"https://shop.example", "http://127.0.0.1:8000", "https://a-b.c.example:443",
                                       "http://[::1]:8080", "HTTPS://Shop.Example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) CU_ASSERT_EQUAL(org_check(good[i], err, sizeof(err)), 0);
    static const char *const bad[] = {"shop.example", "https://shop.example/", "https://shop.example/path",
                                      "ftp://shop.example", "https://", "https://shop.example:0",
                                      "https://shop.example:99999", "https://shop example", "https://sh%6fp.example",
                                      "*.shop.example", "null"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) CU_ASSERT_EQUAL(org_check(bad[i], err, sizeof(err)), -1);
    CU_ASSERT_EQUAL(org_list_check("https://a.example, http://b.example:81 *", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(org_list_check("", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(org_list_check("https://a.example, https://b.example/", err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "https://b.example/"));
    CU_ASSERT_EQUAL(org_listed("https://a.example,https://b.example", "https://B.example"), ORG_EXACT);
    CU_ASSERT_EQUAL(org_listed("https://a.example", "https://a.example.evil"), ORG_NO);
    CU_ASSERT_EQUAL(org_listed("https://a.example", "https://a.exampl"), ORG_NO);
    CU_ASSERT_EQUAL(org_listed("https://a.example *", "https://z.example"), ORG_STAR);
    CU_ASSERT_EQUAL(org_listed("* https://a.example", "https://a.example"), ORG_EXACT);
    CU_ASSERT_EQUAL(org_listed("", "https://a.example"), ORG_NO);
    char low[ORG_MAX];
    CU_ASSERT_EQUAL(org_lower("HTTPS://Shop.Example:8443", low, sizeof(low)), 0);
    CU_ASSERT_STRING_EQUAL(low, "https://shop.example:8443");
    CU_ASSERT_EQUAL(org_lower("https://x", low, 5), -1);
}

void register_cors(void)
{
    static const struct unit_case cases[] = {
        {"preflight: allowed, refused (origin, method, header), not a preflight", t_preflight},
        {"actual requests: allowed origins only, Vary, *, a chatbot's own origin", t_actual_requests},
        {"origins: the rules and the lists", t_origin_rules},
        {NULL, NULL},
    };
    unit_suite("cors", cases);
}
