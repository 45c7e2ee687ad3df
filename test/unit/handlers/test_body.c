/* test_body.c: hx_json_body (handlers/body.c), the strict JSON of the POST
 * routes' bodies: what it accepts, and for what it refuses, the 400's
 * message as a client reads it (sink_reject through the capture). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/config.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"
#include "handlers/body.h"
#include "test/unit/capture.h"
#include "test/unit/unit.h"

struct bfx {
    arena_t *ar;
    struct cfg cfg;
    struct cap cap;
    struct sse_io io;
    struct sink s;
    struct req r;
    struct route route;
    struct ctx c;
    struct cap_parse p;
};

/* Runs hx_json_body over body[0..n); returns its result. On a refusal,
 * f->p holds the parsed 400. */
static int bfx_run(struct bfx *f, const char *body, size_t n)
{
    memset(f, 0, sizeof(*f));
    f->ar = ar_new(16 * 1024);
    cfg_defaults(&f->cfg);
    cap_io(&f->cap, &f->io);
    sink_init(&f->s, SINK_JSON, f->ar, &f->cfg, "rid-body", "aza-search", &f->io, 0);
    f->r.ar = f->ar;
    f->r.cfg = &f->cfg;
    f->r.body = body;
    f->r.body_len = n;
    f->route.name = "aza-search";
    f->c = (struct ctx){.req = &f->r, .sink = &f->s, .ar = f->ar, .route = &f->route};
    json_object *o = NULL;
    int rc = hx_json_body(&f->c, &o);
    CU_ASSERT_EQUAL(rc == 0, o != NULL);
    if (rc) CU_ASSERT_EQUAL(cap_parse(&f->cap, &f->p), 0);
    return rc;
}

static void bfx_free(struct bfx *f)
{
    cap_parse_free(&f->p);
    cap_free(&f->cap);
    ar_free(f->ar);
}

/* The refusal's message (a 400 INVALID_PARAMETERS naming `body`). */
static const char *bfx_message(struct bfx *f)
{
    json_object *v;
    CU_ASSERT_EQUAL(f->p.status, 400);
    if (!f->p.body) return "";
    CU_ASSERT(json_object_object_get_ex(f->p.body, "code", &v) &&
              !strcmp(json_object_get_string(v), "INVALID_PARAMETERS"));
    CU_ASSERT(json_object_object_get_ex(f->p.body, "field", &v) && !strcmp(json_object_get_string(v), "body"));
    return json_object_object_get_ex(f->p.body, "message", &v) ? json_object_get_string(v) : "";
}

static int refused_with(const char *body, size_t n, const char *needle)
{
    struct bfx f;
    int rc = bfx_run(&f, body, n);
    int ok = rc < 0 && strstr(bfx_message(&f), needle) != NULL;
    if (!ok) fprintf(stderr, "\n  body %.40s: rc %d, message: %s\n", body, rc, rc ? bfx_message(&f) : "(accepted)");
    bfx_free(&f);
    return ok;
}

static int accepted(const char *body, size_t n)
{
    struct bfx f;
    int rc = bfx_run(&f, body, n);
    if (rc) fprintf(stderr, "\n  body %.40s refused: %s\n", body, bfx_message(&f));
    bfx_free(&f);
    return rc == 0;
}

/* A body cut short says so, not json-c's "continue". */
static void t_truncated(void)
{
    static const char *const cut[] = {"{\"query\": \"red lehenga", "{\"query\": ", "{", "{\"limit\": 1",
                                      "[1, 2"};
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        CU_ASSERT(refused_with(cut[i], strlen(cut[i]), "ends before the JSON value is complete"));
        struct bfx f;
        bfx_run(&f, cut[i], strlen(cut[i]));
        CU_ASSERT_PTR_NULL(strstr(bfx_message(&f), "continue"));
        bfx_free(&f);
    }
}

/* Raw control characters inside a string are not JSON (RFC 8259 §7: they
 * must be escaped); outside strings only space, tab, LF and CR are. */
static void t_control_characters(void)
{
    static const char *const bad[] = {
        "{\"query\": \"red\x01lehenga\"}", "{\"query\": \"red\nlehenga\"}", "{\"query\": \"red\tlehenga\"}",
        "{\"query\": \"red\rlehenga\"}",   "{\"query\": \"a\x1f\"}",         "{\"q\x02\": 1}",
        "{\"query\":\x0b\"a\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT(refused_with(bad[i], strlen(bad[i]), "control character"));

    /* a NUL byte, raw, inside a string */
    static const char nul[] = "{\"query\": \"a\0b\"}";
    CU_ASSERT(refused_with(nul, sizeof(nul) - 1, "control character"));
    /* escaped forms and whitespace between tokens are fine */
    static const char *const good[] = {
        "{\"query\": \"red\\nlehenga\\t\\u0001\"}",
        "{\n\t\"query\":\r\n \"red lehenga\"\n}\n",
        "{\"query\": \"back\\\\slash \\\" quote\"}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) CU_ASSERT(accepted(good[i], strlen(good[i])));
}

/* Nesting: HX_JSON_MAX_DEPTH containers deep (a value inside the
 * innermost) is allowed, one more is refused. */
static void t_depth(void)
{
    char b[1024];
    for (int depth = HX_JSON_MAX_DEPTH - 1; depth <= HX_JSON_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        n += (size_t)snprintf(b + n, sizeof(b) - n, "{\"filters\": ");
        for (int i = 1; i < depth; i++) b[n++] = '[';
        b[n++] = '1';
        for (int i = 1; i < depth; i++) b[n++] = ']';
        b[n++] = '}';
        b[n] = '\0';
        if (depth <= HX_JSON_MAX_DEPTH) {
            CU_ASSERT(accepted(b, n));
        } else {
            CU_ASSERT(refused_with(b, n, "nested too deeply"));
        }
    }
}

/* json-c's strict mode takes NaN, Infinity and a fraction without digits;
 * JSON has none of them. */
static void t_non_json_numbers(void)
{
    static const char *const bad[] = {"{\"limit\": NaN}", "{\"limit\": Infinity}", "{\"limit\": -Infinity}",
                                      "{\"limit\": 1.}", "{\"minScore\": 0.}", "[NaN]", "{\"a\": [1., 2]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT(refused_with(bad[i], strlen(bad[i]), "not valid JSON"));
    static const char *const good[] = {"{\"limit\": 1.5, \"x\": -0, \"y\": 1E+2, \"z\": 2e-3}",
                                       "{\"query\": \"NaN Infinity 1.\"}", "{\"t\": true, \"f\": false, \"n\": null}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) CU_ASSERT(accepted(good[i], strlen(good[i])));
}

void register_body(void)
{
    static const struct unit_case cases[] = {
        {"a truncated body is named as such", t_truncated},
        {"raw control characters are refused", t_control_characters},
        {"nesting up to the documented depth", t_depth},
        {"NaN, Infinity and 1. are not JSON", t_non_json_numbers},
        {NULL, NULL},
    };
    unit_suite("body", cases);
}
