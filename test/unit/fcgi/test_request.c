/* test_request.c: the request as handlers see it (fcgi/request.c): query
 * string decoding, path and base_path, request ids, and the body limit
 * enforced while reading (a declared-too-large body is not read at all). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/id.h"
#include "fcgi/request.h"

#include <fcgiapp.h>
#include "test/unit/capture.h"
#include "test/unit/unit.h"

struct dec {
    const char *in;
    int plus;
    const char *out;
};

static void t_url_decode(void)
{
    static const struct dec cases[] = {
        {"", 1, ""},
        {"plain", 1, "plain"},
        {"a%20b", 1, "a b"},
        {"a+b", 1, "a b"},
        {"a+b", 0, "a+b"},            /* paths: '+' is itself */
        {"%2B", 1, "+"},              /* an encoded plus is not a space */
        {"%41%42c", 1, "ABc"},
        {"%e2%82%ac", 1, "\xE2\x82\xAC"},   /* lower-case hex */
        {"%C3%A9t%C3%A9", 1, "\xC3\xA9t\xC3\xA9"},
        {"%zz", 1, "%zz"},            /* not hex: kept */
        {"%4g", 1, "%4g"},
        {"%g4", 1, "%g4"},
        {"100%", 1, "100%"},          /* trailing % */
        {"%4", 1, "%4"},              /* one digit at the end */
        {"a%", 1, "a%"},
        {"%00", 1, "%00"},            /* NUL is never produced */
        {"x%00y", 1, "x%00y"},
        {"%%41", 1, "%A"},
        {"%+41", 1, "% 41"},
        {"%25", 1, "%"},
        {"%2525", 1, "%25"},          /* decoded once only */
    };
    arena_t *ar = ar_new(4096);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *o = req_url_decode(ar, cases[i].in, strlen(cases[i].in), cases[i].plus);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        CU_ASSERT_STRING_EQUAL(o, cases[i].out);
        if (strcmp(o, cases[i].out)) fprintf(stderr, "\n  '%s' -> '%s'\n", cases[i].in, o);
    }
    /* only s[0..n) is read: an escape cut by n is kept as it is */
    CU_ASSERT_STRING_EQUAL(req_url_decode(ar, "ab%41zz", 5, 1), "abA");
    CU_ASSERT_STRING_EQUAL(req_url_decode(ar, "ab%41", 4, 1), "ab%4");
    CU_ASSERT_STRING_EQUAL(req_url_decode(ar, "ab%41", 3, 1), "ab%");
    ar_free(ar);
}

static void t_parse_query(void)
{
    arena_t *ar = ar_new(4096);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    struct kv *kv;
    size_t n;

    CU_ASSERT_EQUAL(req_parse_query(ar, "q=red+silk%20dress&limit=10", &kv, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(kv[0].key, "q");
    CU_ASSERT_STRING_EQUAL(kv[0].value, "red silk dress");
    CU_ASSERT_STRING_EQUAL(kv[1].key, "limit");
    CU_ASSERT_STRING_EQUAL(kv[1].value, "10");

    /* repeated keys are all kept, in order */
    CU_ASSERT_EQUAL(req_parse_query(ar, "a=1&b=x&a=2", &kv, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(kv[2].key, "a");
    CU_ASSERT_STRING_EQUAL(kv[2].value, "2");

    /* keys without '=', empty values, empty segments */
    CU_ASSERT_EQUAL(req_parse_query(ar, "&&flag&x=&=v&&", &kv, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(kv[0].key, "flag");
    CU_ASSERT_STRING_EQUAL(kv[0].value, "");
    CU_ASSERT_STRING_EQUAL(kv[1].key, "x");
    CU_ASSERT_STRING_EQUAL(kv[1].value, "");
    CU_ASSERT_STRING_EQUAL(kv[2].key, "");
    CU_ASSERT_STRING_EQUAL(kv[2].value, "v");

    /* only the first '=' splits; encoded '=' and '&' do not split */
    CU_ASSERT_EQUAL(req_parse_query(ar, "a=b=c&k%3Dx=v%26w", &kv, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(kv[0].value, "b=c");
    CU_ASSERT_STRING_EQUAL(kv[1].key, "k=x");
    CU_ASSERT_STRING_EQUAL(kv[1].value, "v&w");

    /* bad escapes and %00 survive literally; '+' in keys is a space too */
    CU_ASSERT_EQUAL(req_parse_query(ar, "q=%zz%&n=%00&my+key=%4", &kv, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(kv[0].value, "%zz%");
    CU_ASSERT_STRING_EQUAL(kv[1].value, "%00");
    CU_ASSERT_STRING_EQUAL(kv[2].key, "my key");
    CU_ASSERT_STRING_EQUAL(kv[2].value, "%4");

    CU_ASSERT_EQUAL(req_parse_query(ar, "", &kv, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(req_parse_query(ar, NULL, &kv, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(req_parse_query(ar, "&", &kv, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    ar_free(ar);
}

struct rfx {
    arena_t *ar;
    struct cfg cfg;
    struct req r;
};

static int rfx_init(struct rfx *f, char **env, struct FCGX_Request *fx)
{
    f->ar = ar_new(4096);
    cfg_defaults(&f->cfg);
    memset(&f->r, 0, sizeof(f->r));
    f->r.fx = fx;
    return req_init(&f->r, f->ar, &f->cfg, env);
}

static void t_init(void)
{
    struct rfx f;
    char *env[] = {
        "REQUEST_METHOD=POST",
        "REQUEST_URI=/troika/api/stream/search%20x?ignored=1",
        "QUERY_STRING=q=red+dress&limit=5&q=second",
        "CONTENT_TYPE=application/json",
        "CONTENT_LENGTH=12",
        "REMOTE_ADDR=10.1.2.3",
        "HTTP_X_REQUEST_ID=abc-DEF_1.2",
        NULL,
    };
    cfg_defaults(&f.cfg);
    f.ar = ar_new(4096);
    memset(&f.r, 0, sizeof(f.r));
    snprintf(f.cfg.base_path, sizeof(f.cfg.base_path), "/troika");
    CU_ASSERT_EQUAL_FATAL(req_init(&f.r, f.ar, &f.cfg, env), REQ_OK);
    CU_ASSERT_STRING_EQUAL(f.r.method, "POST");
    CU_ASSERT_STRING_EQUAL(f.r.path, "/api/stream/search x");
    CU_ASSERT_STRING_EQUAL(f.r.query, "q=red+dress&limit=5&q=second");
    CU_ASSERT_EQUAL(f.r.nparams, 3);
    CU_ASSERT_STRING_EQUAL(req_param(&f.r, "q"), "red dress");   /* the first one */
    CU_ASSERT_STRING_EQUAL(req_param(&f.r, "limit"), "5");
    CU_ASSERT_PTR_NULL(req_param(&f.r, "ignored"));
    CU_ASSERT_PTR_NULL(req_param(&f.r, "Q"));
    CU_ASSERT_STRING_EQUAL(f.r.content_type, "application/json");
    CU_ASSERT_EQUAL(f.r.content_length, 12);
    CU_ASSERT_STRING_EQUAL(f.r.client_ip, "10.1.2.3");
    CU_ASSERT_STRING_EQUAL(f.r.id, "abc-DEF_1.2");
    CU_ASSERT_STRING_EQUAL(req_env(&f.r, "REMOTE_ADDR"), "10.1.2.3");
    CU_ASSERT_PTR_NULL(req_env(&f.r, "REMOTE"));   /* whole names only */
    ar_free(f.ar);
}

static void t_init_path_and_query(void)
{
    struct rfx f;
    /* no QUERY_STRING: the query comes from REQUEST_URI */
    char *e1[] = {"REQUEST_URI=/api/health?x=1%262", NULL};
    CU_ASSERT_EQUAL(rfx_init(&f, e1, NULL), REQ_OK);
    CU_ASSERT_STRING_EQUAL(f.r.method, "GET");
    CU_ASSERT_STRING_EQUAL(f.r.path, "/api/health");
    CU_ASSERT_STRING_EQUAL(req_param(&f.r, "x"), "1&2");
    CU_ASSERT_EQUAL(f.r.content_length, -1);
    CU_ASSERT_STRING_EQUAL(f.r.content_type, "");
    ar_free(f.ar);

    /* base_path is stripped only at a segment boundary */
    static const struct {
        const char *uri, *path;
    } bp[] = {
        {"REQUEST_URI=/troika/api/health", "/api/health"},
        {"REQUEST_URI=/troika", "/"},
        {"REQUEST_URI=/troika?x=1", "/"},
        {"REQUEST_URI=/troikax/api/health", "/troikax/api/health"},
        {"REQUEST_URI=/api/health", "/api/health"},
    };
    for (size_t i = 0; i < sizeof(bp) / sizeof(bp[0]); i++) {
        char *e[] = {(char *)bp[i].uri, NULL};
        f.ar = ar_new(4096);
        cfg_defaults(&f.cfg);
        snprintf(f.cfg.base_path, sizeof(f.cfg.base_path), "/troika");
        memset(&f.r, 0, sizeof(f.r));
        CU_ASSERT_EQUAL(req_init(&f.r, f.ar, &f.cfg, e), REQ_OK);
        CU_ASSERT_STRING_EQUAL(f.r.path, bp[i].path);
        ar_free(f.ar);
    }

    /* without REQUEST_URI: SCRIPT_NAME + PATH_INFO */
    char *e2[] = {"SCRIPT_NAME=/api", "PATH_INFO=/health", "QUERY_STRING=", NULL};
    CU_ASSERT_EQUAL(rfx_init(&f, e2, NULL), REQ_OK);
    CU_ASSERT_STRING_EQUAL(f.r.path, "/api/health");
    CU_ASSERT_EQUAL(f.r.nparams, 0);
    ar_free(f.ar);

    /* a query string over max_query_string is refused */
    static char longq[9000] = "QUERY_STRING=";
    memset(longq + 13, 'a', 8193);
    char *e3[] = {"REQUEST_URI=/api/health", longq, NULL};
    CU_ASSERT_EQUAL(rfx_init(&f, e3, NULL), REQ_ETOOBIG);
    ar_free(f.ar);
    longq[13 + 8192] = '\0';   /* exactly the limit is fine */
    CU_ASSERT_EQUAL(rfx_init(&f, e3, NULL), REQ_OK);
    ar_free(f.ar);

    /* malformed Content-Length */
    static const char *const bad_cl[] = {"CONTENT_LENGTH=abc", "CONTENT_LENGTH=-5", "CONTENT_LENGTH=12x"};
    for (size_t i = 0; i < 3; i++) {
        char *e[] = {"REQUEST_URI=/", (char *)bad_cl[i], NULL};
        CU_ASSERT_EQUAL(rfx_init(&f, e, NULL), REQ_OK);
        CU_ASSERT_EQUAL(f.r.content_length, -2);
        CU_ASSERT_EQUAL(req_read_body(&f.r, 100), REQ_EBAD);
        ar_free(f.ar);
    }
}

static void t_request_id(void)
{
    struct rfx f;
    static const char *const bad[] = {
        "HTTP_X_REQUEST_ID=bad id!",
        "HTTP_X_REQUEST_ID=",
        "HTTP_X_REQUEST_ID=a\"b",
        "HTTP_X_REQUEST_ID=0123456789012345678901234567890123456789012345678901234567890123x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *e[] = {"REQUEST_URI=/", (char *)bad[i], NULL};
        CU_ASSERT_EQUAL(rfx_init(&f, e, NULL), REQ_OK);
        CU_ASSERT_EQUAL(strlen(f.r.id), 32);   /* a fresh one */
        CU_ASSERT(id_valid(f.r.id));
        ar_free(f.ar);
    }
    CU_ASSERT(id_valid("0123456789012345678901234567890123456789012345678901234567890123"));
    CU_ASSERT_FALSE(id_valid("0123456789012345678901234567890123456789012345678901234567890123x"));
    CU_ASSERT_FALSE(id_valid(""));
    CU_ASSERT_FALSE(id_valid("a/b"));
    char a[33], b[33];
    id_new(a);
    id_new(b);
    CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), 32);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

/* req_read_body against a libfcgi input stream. */
static int body_case(const char *cl, const char *data, size_t len, size_t piece, size_t max,
                     struct rfx *f, struct cap_in *in)
{
    char clbuf[64] = "";
    if (cl) snprintf(clbuf, sizeof(clbuf), "CONTENT_LENGTH=%s", cl);
    char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", cl ? clbuf : NULL, NULL};
    cap_in_init(in, data, len, piece);
    CU_ASSERT_EQUAL(rfx_init(f, env, &in->fx), REQ_OK);
    return req_read_body(&f->r, max);
}

static void t_read_body(void)
{
    struct rfx f;
    struct cap_in in;
    char data[200];
    for (size_t i = 0; i < sizeof(data); i++) data[i] = (char)('a' + i % 26);

    /* declared and within the limit, delivered in small pieces */
    CU_ASSERT_EQUAL(body_case("10", data, 10, 3, 50, &f, &in), REQ_OK);
    CU_ASSERT_EQUAL(f.r.body_len, 10);
    CU_ASSERT(memcmp(f.r.body, data, 10) == 0);
    CU_ASSERT_EQUAL(f.r.body[10], '\0');
    CU_ASSERT(in.fills >= 4);   /* the pieces really came one by one */
    ar_free(f.ar);
    cap_in_free(&in);

    /* exactly the limit */
    CU_ASSERT_EQUAL(body_case("50", data, 50, 7, 50, &f, &in), REQ_OK);
    CU_ASSERT_EQUAL(f.r.body_len, 50);
    ar_free(f.ar);
    cap_in_free(&in);

    /* declared over the limit: refused before a single byte is read */
    CU_ASSERT_EQUAL(body_case("51", data, 51, 7, 50, &f, &in), REQ_ETOOBIG);
    CU_ASSERT_EQUAL(cap_in_consumed(&in), 0);
    CU_ASSERT_EQUAL(in.fills, 0);
    CU_ASSERT_PTR_NULL(f.r.body);
    ar_free(f.ar);
    cap_in_free(&in);
    CU_ASSERT_EQUAL(body_case("99999999999999", data, 200, 7, 50, &f, &in), REQ_ETOOBIG);
    CU_ASSERT_EQUAL(cap_in_consumed(&in), 0);
    ar_free(f.ar);
    cap_in_free(&in);

    /* undeclared and too large: stops one byte past the limit */
    CU_ASSERT_EQUAL(body_case(NULL, data, 200, 7, 50, &f, &in), REQ_ETOOBIG);
    CU_ASSERT(cap_in_consumed(&in) <= 51);
    ar_free(f.ar);
    cap_in_free(&in);

    /* undeclared and small: read to the end */
    CU_ASSERT_EQUAL(body_case(NULL, data, 30, 7, 50, &f, &in), REQ_OK);
    CU_ASSERT_EQUAL(f.r.body_len, 30);
    CU_ASSERT(memcmp(f.r.body, data, 30) == 0);
    ar_free(f.ar);
    cap_in_free(&in);

    /* the client sends less than it declared */
    CU_ASSERT_EQUAL(body_case("20", data, 5, 2, 50, &f, &in), REQ_EIO);
    ar_free(f.ar);
    cap_in_free(&in);

    /* more is available than declared: only the declared length is read */
    CU_ASSERT_EQUAL(body_case("10", data, 40, 40, 50, &f, &in), REQ_OK);
    CU_ASSERT_EQUAL(f.r.body_len, 10);
    CU_ASSERT_EQUAL(cap_in_consumed(&in), 10);
    ar_free(f.ar);
    cap_in_free(&in);

    /* empty body */
    CU_ASSERT_EQUAL(body_case("0", data, 0, 1, 50, &f, &in), REQ_OK);
    CU_ASSERT_EQUAL(f.r.body_len, 0);
    CU_ASSERT_STRING_EQUAL(f.r.body, "");
    ar_free(f.ar);
    cap_in_free(&in);
}

/* ---- a real libfcgi connection and a slow sender ---------------------------- */

/* The web server's side: one FastCGI request whose STDIN carries `body`,
 * one byte every `gap_ms` (0: all at once). */
struct slow_peer {
    char path[108];
    const char *body;
    size_t len;
    int gap_ms;
    int fd;
};

static int fcgi_record(int fd, int type, const void *data, size_t n)
{
    unsigned char h[8] = {1, (unsigned char)type, 0, 1, (unsigned char)(n >> 8), (unsigned char)n, 0, 0};
    return write(fd, h, 8) != 8 || (n && write(fd, data, n) != (ssize_t)n) ? -1 : 0;
}

static void *slow_peer_run(void *arg)
{
    struct slow_peer *p = arg;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", p->path);
    p->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0) return NULL;
    static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};   /* responder, no keep-alive */
    fcgi_record(p->fd, 1, begin, 8);
    char params[256];
    size_t n = 0;
    const char *kv[][2] = {{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/aza/search"}, {"CONTENT_LENGTH", NULL}};
    char cl[32];
    snprintf(cl, sizeof(cl), "%zu", p->len);
    kv[2][1] = cl;
    for (size_t i = 0; i < 3; i++) {
        params[n++] = (char)strlen(kv[i][0]);
        params[n++] = (char)strlen(kv[i][1]);
        memcpy(params + n, kv[i][0], strlen(kv[i][0]));
        n += strlen(kv[i][0]);
        memcpy(params + n, kv[i][1], strlen(kv[i][1]));
        n += strlen(kv[i][1]);
    }
    fcgi_record(p->fd, 4, params, n);
    fcgi_record(p->fd, 4, NULL, 0);
    if (!p->gap_ms) {
        fcgi_record(p->fd, 5, p->body, p->len);
    } else {
        for (size_t i = 0; i < p->len; i++) {
            if (fcgi_record(p->fd, 5, p->body + i, 1) < 0) break;   /* the worker hung up */
            usleep((useconds_t)p->gap_ms * 1000);
            if ((i + 1) * (size_t)p->gap_ms > 3000) break;   /* long after any deadline here */
        }
    }
    fcgi_record(p->fd, 5, NULL, 0);
    return NULL;
}

/* Accepts one request from a slow_peer and reads its body with
 * body_timeout_ms = timeout_ms; *took_ms: how long the read took. */
static int slow_body(const char *body, int gap_ms, int timeout_ms, int64_t *took_ms, size_t *got)
{
    struct slow_peer p = {.body = body, .len = strlen(body), .gap_ms = gap_ms, .fd = -1};
    snprintf(p.path, sizeof(p.path), "/tmp/troika-unit-fcgi-%d.sock", (int)getpid());
    unlink(p.path);
    CU_ASSERT_EQUAL_FATAL(FCGX_Init(), 0);
    int ls = FCGX_OpenSocket(p.path, 4);
    CU_ASSERT_FATAL(ls >= 0);
    pthread_t th;
    pthread_create(&th, NULL, slow_peer_run, &p);
    FCGX_Request fx;
    FCGX_InitRequest(&fx, ls, 0);
    CU_ASSERT_EQUAL_FATAL(FCGX_Accept_r(&fx), 0);
    struct cfg cfg;
    cfg_defaults(&cfg);
    cfg.body_timeout_ms = timeout_ms;
    arena_t *ar = ar_new(4096);
    struct req r = {.fx = &fx};
    CU_ASSERT_EQUAL(req_init(&r, ar, &cfg, fx.envp), REQ_OK);
    int64_t t0 = clk_mono_ms();
    int rc = req_read_body(&r, 1000);
    *took_ms = clk_mono_ms() - t0;

    *got = r.body_len;
    /* the worker's finish: its linger is bounded, also while the peer
     * still drips (libfcgi's own lingers 2 s after every byte) */
    int64_t f0 = clk_mono_ms();
    req_finish(&fx, 300);
    int64_t fin = clk_mono_ms() - f0;
    CU_ASSERT(fin < 500);
    if (fin >= 500) fprintf(stderr, "\n  finishing took %lld ms\n", (long long)fin);
    pthread_join(th, NULL);
    if (p.fd >= 0) close(p.fd);
    close(ls);
    unlink(p.path);
    ar_free(ar);
    return rc;
}

/* A body sent a byte at a time ends at body_timeout_ms with
 * REQ_ETIMEOUT (the worker is free again), not when the sender stops; a
 * body that arrives in time, even in pieces, is read whole. */
static void t_read_body_deadline(void)
{
    static const char body[] = "{\"query\": \"red silk lehenga for a wedding\", \"limit\": 5}";
    int64_t took;
    size_t got;
    CU_ASSERT_EQUAL(slow_body(body, 0, 500, &took, &got), REQ_OK);
    CU_ASSERT_EQUAL(got, strlen(body));
    CU_ASSERT(took < 400);
    CU_ASSERT_EQUAL(slow_body(body, 2, 2000, &took, &got), REQ_OK);   /* pieces, well in time */
    CU_ASSERT_EQUAL(got, strlen(body));
    CU_ASSERT_EQUAL(slow_body(body, 150, 600, &took, &got), REQ_ETIMEOUT);
    CU_ASSERT(took >= 550 && took < 1200);
    if (took >= 1200) fprintf(stderr, "\n  the slow body took %lld ms\n", (long long)took);
}

void register_request(void)
{
    static const struct unit_case cases[] = {
        {"url_decode: percent, plus, bad escapes, %00", t_url_decode},
        {"parse_query: repeats, empty values, keys without =", t_parse_query},
        {"init: method, path, params, type, length, ip, id", t_init},
        {"init: base_path, query source, query limit, bad length", t_init_path_and_query},
        {"request id: kept when valid, else fresh", t_request_id},
        {"read_body: limits enforced while reading", t_read_body},
        {"read_body: a body sent a byte at a time ends at body_timeout_ms", t_read_body_deadline},
        {NULL, NULL},
    };
    unit_suite("request", cases);
}
