/* fuzz_request.c: a request as FastCGI hands it over (fcgi/request.c):
 * method, REQUEST_URI, QUERY_STRING, Content-Length, X-Request-Id,
 * REMOTE_ADDR and X-Forwarded-For behind trusted proxies (fcgi/ops.c,
 * common/base/addr.c), the body read under its limit, and the route
 * lookup (fcgi/router.c) of the decoded path.
 *
 * Input: NUL-separated pieces in that order (method, uri, query, length,
 * request id, remote address, forwarded-for, base path switch, body).
 * What must hold: the request id is valid (the client's when valid, else
 * a fresh one); the path is not empty; every decoded
 * parameter is a C string no longer than its source; percent-encoding the
 * uri's bytes and decoding them gives them back; a body is never longer
 * than its limit; an address the parser accepts formats to text it
 * parses back to the same address. */
#include "test/fuzz/fuzz.h"

#include <ctype.h>

#include "common/base/addr.h"
#include "common/base/arena.h"
#include "common/base/config.h"
#include "common/base/id.h"
#include "fcgi/app.h"
#include "fcgi/ops.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "handlers/handlers.h"
#include "test/unit/capture.h"

static struct app fz_app;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg_defaults(&fz_app.cfg);
    fz_app.routes = h_routes();
    char err[256];
    if (addr_nets_parse("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8", &fz_app.trusted, err, sizeof(err)) < 0) abort();
    snprintf(fz_app.cfg.proxy_header, sizeof(fz_app.cfg.proxy_header), "X-Forwarded-For");
    return 0;
}

/* Percent-encodes s[0..n) ('+' for space) and checks that the query
 * "k=<encoded>" decodes back to s. */
static void check_roundtrip(arena_t *ar, const char *s, size_t n)
{
    char *q = malloc(3 * n + 3);
    if (!q) abort();
    size_t o = 0;
    q[o++] = 'k';
    q[o++] = '=';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ') q[o++] = '+';
        else if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') q[o++] = (char)c;
        else o += (size_t)sprintf(q + o, "%%%02X", c);
    }
    q[o] = '\0';
    struct kv *kv;
    size_t nkv;
    FZ_CHECK(req_parse_query(ar, q, &kv, &nkv) == 0, "req_parse_query failed");
    FZ_CHECK(nkv == 1 && !strcmp(kv[0].key, "k"), "%zu pairs from one", nkv);
    FZ_CHECK(strlen(kv[0].value) == n && !memcmp(kv[0].value, s, n), "%s did not decode back", q);
    free(q);
}

static void check_addr(const char *s)
{
    uint8_t a[16], b[16];
    if (addr_parse(s, a) < 0) return;
    char text[ADDR_TEXT];
    addr_format(a, text);
    FZ_CHECK(addr_parse(text, b) == 0 && !memcmp(a, b, 16), "%s formats to %s, which does not parse back", s, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    enum { NP = 9 };
    char *pc[NP];
    size_t pl[NP];
    for (int i = 0; i < NP; i++) pc[i] = fz_piece(&f, i == NP - 1 ? -1 : 0, 1 << 16, &pl[i]);

    char *env[16];
    size_t ne = 0;
    static const char *const names[] = {"REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "CONTENT_LENGTH",
                                        "HTTP_X_REQUEST_ID", "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        /* an empty piece leaves the variable out (QUERY_STRING then comes from the uri) */
        if (!pl[i] && i != 0) continue;
        size_t l = strlen(names[i]) + pl[i] + 2;
        env[ne] = malloc(l);
        if (!env[ne]) abort();
        snprintf(env[ne], l, "%s=%s", names[i], pc[i]);
        ne++;
    }
    env[ne] = NULL;

    struct cfg c = fz_app.cfg;
    unsigned sw = pl[7] ? (unsigned char)pc[7][0] : 0;
    if (sw & 1) snprintf(c.base_path, sizeof(c.base_path), "/shop");
    c.max_query_string = (sw & 2) ? 64 : 8192;

    arena_t *ar = ar_new(16 * 1024);
    struct cap_in in;
    cap_in_init(&in, pc[8], pl[8], 1 + (sw >> 4));
    struct req r;
    memset(&r, 0, sizeof(r));
    r.fx = &in.fx;
    int rc = req_init(&r, ar, &c, env);
    FZ_CHECK(rc == REQ_OK || rc == REQ_ETOOBIG || rc == REQ_EBAD, "req_init %d", rc);
    FZ_CHECK(id_valid(r.id), "request id '%s' is not valid", r.id);
    if (pl[4] && id_valid(pc[4])) FZ_CHECK(!strcmp(r.id, pc[4]), "a valid X-Request-Id was not kept");
    if (rc == REQ_OK) {
        /* not always '/...': "OPTIONS *" or an absolute-form target reach us as they came (then 404) */
        FZ_CHECK(r.path && r.path[0], "path '%s'", r.path ? r.path : "(null)");
        for (size_t i = 0; i < r.nparams; i++) {
            FZ_CHECK(r.params[i].key && r.params[i].value, "parameter %zu unset", i);
            FZ_CHECK(strlen(r.params[i].key) + strlen(r.params[i].value) <= strlen(r.query),
                     "parameter %zu longer than the query", i);
        }
        op_client_ip(&fz_app, &r);
        FZ_CHECK(r.client_ip != NULL, "no client address");
        const struct route *rt = NULL;
        char allow[64];
        enum rt_result m = rt_match(&fz_app.routes, r.path, r.method, &rt, allow, sizeof(allow));
        FZ_CHECK(m != RT_FOUND || rt != NULL, "found without a route");
        if (m == RT_BAD_METHOD) FZ_CHECK(allow[0] != '\0', "405 without Allow");
        if (m == RT_OPTIONS) FZ_CHECK(rt != NULL && allow[0] != '\0', "OPTIONS of a known path without its row");
        if (m == RT_FOUND && strchr(rt->path, '{')) {   /* a {name} segment matched: its value is one segment */
            char v[256];
            const char *b = strchr(rt->path, '{'), *e = strchr(b, '}');
            char name[32];
            snprintf(name, sizeof(name), "%.*s", (int)(e - b - 1), b + 1);
            if (rt_param(rt, r.path, name, v, sizeof(v)) == 0) FZ_CHECK(v[0] && !strchr(v, '/'), "param '%s'", v);
        }
        size_t max = (sw & 4) ? 16 : 4096;
        int br = req_read_body(&r, max);
        if (br == REQ_OK) {
            FZ_CHECK(r.body_len <= max && r.body[r.body_len] == '\0', "body of %zu bytes, limit %zu", r.body_len, max);
            FZ_CHECK(r.body_len <= pl[8], "read %zu bytes of %zu", r.body_len, pl[8]);
        }
    }
    check_roundtrip(ar, pc[1], strlen(pc[1]));
    char *dec = req_url_decode(ar, pc[2], pl[2], 1);
    FZ_CHECK(dec && strlen(dec) <= pl[2], "decoded longer than its source");
    check_addr(pc[5]);
    check_addr(pc[6]);
    struct addr_nets nets;
    char err[300];
    (void)addr_nets_parse(pc[6], &nets, err, sizeof(err));

    cap_in_free(&in);
    ar_free(ar);
    for (size_t i = 0; i < ne; i++) free(env[i]);
    for (int i = 0; i < NP; i++) free(pc[i]);
    return 0;
}
