/* test_mp.c: the multipart parser: a body fed split at every offset and
 * byte by byte gives the same parts; preamble and epilogue are ignored;
 * limits (parts, header bytes) fail as they are crossed; a missing final
 * boundary, junk after a delimiter and malformed headers are errors;
 * Content-Type boundary parsing (token, quoted, invalid); and random
 * mutations never crash or read outside the input (run under ASan with
 * --enable-sanitizers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/io/mp.h"
#include "test/unit/unit.h"

struct got {
    char names[8][64];
    char files[8][64];
    char types[8][64];
    char data[8][512];
    size_t dlen[8];
    int nparts;
    int ended;
    int calls;
};

static int g_begin(void *ud, const struct mp_part *p)
{
    struct got *g = ud;
    if (g->nparts >= 8) return -1;
    int i = g->nparts++;
    snprintf(g->names[i], sizeof(g->names[i]), "%s", p->name);
    snprintf(g->files[i], sizeof(g->files[i]), "%s", p->filename ? p->filename : "-");
    snprintf(g->types[i], sizeof(g->types[i]), "%s", p->content_type ? p->content_type : "-");
    g->dlen[i] = 0;
    return 0;
}

static int g_data(void *ud, const char *d, size_t n)
{
    struct got *g = ud;
    int i = g->nparts - 1;
    g->calls++;
    if (i < 0 || g->dlen[i] + n > sizeof(g->data[i])) return -1;
    memcpy(g->data[i] + g->dlen[i], d, n);
    g->dlen[i] += n;
    return 0;
}

static int g_end(void *ud)
{
    ((struct got *)ud)->ended++;
    return 0;
}

static const struct mp_callbacks g_cb = {g_begin, g_data, g_end};

#define BODY                                                                                       \
    "This is a preamble.\r\n--not the boundary\r\n"                                              \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"chatbotId\"\r\n\r\n"                                 \
    "shop-1\r\n"                                                                                   \
    "--XyZ  \t\r\n"                                                                                \
    "content-disposition: form-data; name=title\r\n\r\n"                                         \
    "Size guide\r\n"                                                                               \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\docs\\\\guide.txt\"\r\n"    \
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"                                            \
    "line 1\r\n--XyQ almost\r\r\n\r\n-\r\n--XyZZ? no: that one is bad\r\n"                       \
    "--XyZ--\r\nepilogue --XyZ\r\n junk"

/* BODY has a near-delimiter "\r\n--XyZZ" inside the file: RFC 2046 forbids
 * it, the parser must refuse it. GOOD is BODY without that line. */
#define GOOD_FILE "line 1\r\n--XyQ almost\r\r\n\r\n-\r\n--Xy\r\n\r\r\n--"
static const char good_body[] =
    "This is a preamble.\r\n--not the boundary\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"chatbotId\"\r\n\r\n"
    "shop-1\r\n"
    "--XyZ  \t\r\n"
    "content-disposition: form-data; name=title\r\n\r\n"
    "Size guide\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\docs\\\\guide.txt\"\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    GOOD_FILE "\r\n"
    "--XyZ--\r\nepilogue --XyZ\r\n junk";

static struct mp_limits lim16 = {16, 8192};

static int run(arena_t *ar, const char *b, size_t n, size_t split, size_t step, struct got *g,
               const struct mp_limits *lim)
{
    struct mp_parser p;
    memset(g, 0, sizeof(*g));
    if (mp_init(&p, ar, "XyZ", lim, &g_cb, g) != MP_OK) return -100;
    int rc = MP_OK;
    if (step) {
        for (size_t i = 0; i < n && rc == MP_OK; i += step)
            rc = mp_feed(&p, b + i, n - i < step ? n - i : step);
    } else {
        rc = mp_feed(&p, b, split);
        if (rc == MP_OK) rc = mp_feed(&p, b + split, n - split);
    }
    if (rc == MP_OK) rc = mp_finish(&p);
    return rc;
}

static void check_good(const struct got *g)
{
    CU_ASSERT_EQUAL(g->nparts, 3);
    CU_ASSERT_EQUAL(g->ended, 3);
    CU_ASSERT_STRING_EQUAL(g->names[0], "chatbotId");
    CU_ASSERT_EQUAL(g->dlen[0], 6);
    CU_ASSERT(memcmp(g->data[0], "shop-1", 6) == 0);
    CU_ASSERT_STRING_EQUAL(g->names[1], "title");
    CU_ASSERT_EQUAL(g->dlen[1], 10);
    CU_ASSERT_STRING_EQUAL(g->names[2], "file");
    CU_ASSERT_STRING_EQUAL(g->files[2], "guide.txt");
    CU_ASSERT_STRING_EQUAL(g->types[2], "text/plain; charset=utf-8");
    CU_ASSERT_EQUAL(g->dlen[2], strlen(GOOD_FILE));
    CU_ASSERT(memcmp(g->data[2], GOOD_FILE, strlen(GOOD_FILE)) == 0);
}

static void t_split_everywhere(void)
{
    arena_t *ar = ar_new(1 << 16);
    size_t n = strlen(good_body);
    struct got g;
    for (size_t split = 0; split <= n; split++) {
        int rc = run(ar, good_body, n, split, 0, &g, &lim16);
        CU_ASSERT_EQUAL(rc, MP_OK);
        if (rc != MP_OK) {
            fprintf(stderr, "\n  mp: split at %zu: %d", split, rc);
            break;
        }
        check_good(&g);
        ar_reset(ar);
    }
    for (size_t step = 1; step <= 7; step++) {
        CU_ASSERT_EQUAL(run(ar, good_body, n, 0, step, &g, &lim16), MP_OK);
        check_good(&g);
        ar_reset(ar);
    }
    ar_free(ar);
}

static void t_near_delimiter_in_data(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    CU_ASSERT_EQUAL(run(ar, BODY, strlen(BODY), 0, 1, &g, &lim16), MP_EBAD);
    ar_free(ar);
}

static void t_missing_final(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    const char *b = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 3, 0, &g, &lim16), MP_ETRUNCATED);
    CU_ASSERT_EQUAL(g.nparts, 1);
    /* the delimiter is there but not the closing "--" */
    b = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ\r\n";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 0, 2, &g, &lim16), MP_ETRUNCATED);
    /* a body with no delimiter line at all */
    b = "just some bytes\r\nno boundary here";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 5, 0, &g, &lim16), MP_ETRUNCATED);
    CU_ASSERT_EQUAL(run(ar, "", 0, 0, 0, &g, &lim16), MP_ETRUNCATED);
    /* cut in the middle of the close delimiter */
    b = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ-";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 0, 1, &g, &lim16), MP_ETRUNCATED);
    ar_free(ar);
}

static void t_huge_headers(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    struct mp_limits lim = {16, 256};
    char b[2048];
    int n = snprintf(b, sizeof(b), "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    memset(b + n, 'p', 300);
    n += 300;
    n += snprintf(b + n, sizeof(b) - (size_t)n, "\r\n\r\nv\r\n--XyZ--\r\n");
    CU_ASSERT_EQUAL(run(ar, b, (size_t)n, 100, 0, &g, &lim), MP_EHEADERS);
    CU_ASSERT_EQUAL(g.nparts, 0);
    /* exactly at the limit is fine */
    lim.max_header_bytes = 2048;
    CU_ASSERT_EQUAL(run(ar, b, (size_t)n, 100, 0, &g, &lim), MP_OK);
    /* a header block that never ends stops at the limit, not at the end of input */
    lim.max_header_bytes = 256;
    memset(b, 'h', sizeof(b));
    memcpy(b, "--XyZ\r\n", 7);
    CU_ASSERT_EQUAL(run(ar, b, sizeof(b), 0, 13, &g, &lim), MP_EHEADERS);
    ar_free(ar);
}

static void t_too_many_parts(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    struct mp_limits lim = {3, 8192};
    char b[4096];
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        n += (size_t)snprintf(b + n, sizeof(b) - n, "--XyZ\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n", i);
    n += (size_t)snprintf(b + n, sizeof(b) - n, "--XyZ--\r\n");
    CU_ASSERT_EQUAL(run(ar, b, n, 0, 5, &g, &lim), MP_ETOOMANY);
    CU_ASSERT_EQUAL(g.nparts, 3);
    lim.max_parts = 5;
    CU_ASSERT_EQUAL(run(ar, b, n, 0, 5, &g, &lim), MP_OK);
    CU_ASSERT_EQUAL(g.nparts, 5);
    ar_free(ar);
}

static void t_no_parts_and_empty(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    /* a close delimiter straight away: valid, no parts */
    const char *b = "--XyZ--\r\n";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 4, 0, &g, &lim16), MP_OK);
    CU_ASSERT_EQUAL(g.nparts, 0);
    /* an empty file part */
    b = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.txt\"\r\n\r\n\r\n--XyZ--";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 0, 1, &g, &lim16), MP_OK);
    CU_ASSERT_EQUAL(g.nparts, 1);
    CU_ASSERT_EQUAL(g.dlen[0], 0);
    CU_ASSERT_EQUAL(g.calls, 0);
    ar_free(ar);
}

static void t_bad_headers(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct got g;
    static const char *bad[] = {
        "--XyZ\r\n\r\nno headers\r\n--XyZ--",                                                  /* no disposition */
        "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--",                 /* not form-data */
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",                          /* no name */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",                 /* unterminated quote */
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--XyZ--",        /* obs-fold */
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nNo colon here\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nx\r\n--XyZ--",              /* bare LF */
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: base64\r\n\r\nx\r\n--XyZ--",
        "--XyZ\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",                    /* LF after delimiter */
        "--XyZjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",
        "--XyZ-x\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = run(ar, bad[i], strlen(bad[i]), 0, 3, &g, &lim16);
        if (rc != MP_EBAD) fprintf(stderr, "\n  mp: bad[%zu] gave %d", i, rc);
        CU_ASSERT_EQUAL(rc, MP_EBAD);
        ar_reset(ar);
    }
    /* filename* (RFC 5987) wins over filename */
    const char *b = "--XyZ\r\nContent-Disposition: form-data; name=file; filename=\"x.txt\"; "
                    "filename*=UTF-8''gr%C3%B6%C3%9Fe.md\r\n\r\nx\r\n--XyZ--";
    CU_ASSERT_EQUAL(run(ar, b, strlen(b), 0, 0, &g, &lim16), MP_OK);
    CU_ASSERT_STRING_EQUAL(g.files[0], "gr\xc3\xb6\xc3\x9f" "e.md");
    ar_free(ar);
}

static void t_boundary(void)
{
    char b[MP_BOUNDARY_MAX + 1];
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=abc123", b), 0);
    CU_ASSERT_STRING_EQUAL(b, "abc123");
    CU_ASSERT_EQUAL(mp_boundary("Multipart/Form-Data;boundary=\"a b:c?\"", b), 0);
    CU_ASSERT_STRING_EQUAL(b, "a b:c?");
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; charset=utf-8; BOUNDARY=----WebKitFormBoundary7MA4YWxkTrZu0gW", b), 0);
    CU_ASSERT_STRING_EQUAL(b, "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    CU_ASSERT_EQUAL(mp_boundary("application/json", b), -1);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-dataX; boundary=a", b), -1);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=\"\"", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=\"ends in space \"", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=\"unterminated", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=a; boundary=b", b), -2);
    CU_ASSERT_EQUAL(mp_boundary("multipart/form-data; boundary=bad\x01", b), -2);
    char longb[200];
    memset(longb, 'x', sizeof(longb));
    snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%071d", 7);
    CU_ASSERT_EQUAL(mp_boundary(longb, b), -2);
    snprintf(longb, sizeof(longb), "multipart/form-data; boundary=%070d", 7);
    CU_ASSERT_EQUAL(mp_boundary(longb, b), 0);
    CU_ASSERT_EQUAL(strlen(b), 70);
}

/* Quoted boundary with a space: the delimiter carries it literally. */
static void t_quoted_boundary_body(void)
{
    arena_t *ar = ar_new(1 << 16);
    char bd[MP_BOUNDARY_MAX + 1];
    CU_ASSERT_EQUAL_FATAL(mp_boundary("multipart/form-data; boundary=\"q (x)\"", bd), 0);
    const char *b = "\r\n--q (x)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n\r\n"
                    "# Title\r\n--q (x)--\r\n";
    struct got g = {0};
    struct mp_parser p;
    CU_ASSERT_EQUAL_FATAL(mp_init(&p, ar, bd, &lim16, &g_cb, &g), MP_OK);
    CU_ASSERT_EQUAL(mp_feed(&p, b, strlen(b)), MP_OK);
    CU_ASSERT_EQUAL(mp_finish(&p), MP_OK);
    CU_ASSERT(mp_done(&p));
    CU_ASSERT_EQUAL(g.nparts, 1);
    CU_ASSERT_EQUAL(g.dlen[0], 7);
    ar_free(ar);
}

/* A callback that refuses stops the parse, and later feeds keep failing. */
static int refuse_data(void *ud, const char *d, size_t n)
{
    (void)ud, (void)d, (void)n;
    return 1;
}

static void t_callback_refuses(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct mp_callbacks cb = {NULL, refuse_data, NULL};
    struct mp_parser p;
    CU_ASSERT_EQUAL_FATAL(mp_init(&p, ar, "XyZ", &lim16, &cb, NULL), MP_OK);
    CU_ASSERT_EQUAL(mp_feed(&p, good_body, strlen(good_body)), MP_ECALLBACK);
    CU_ASSERT_EQUAL(mp_feed(&p, "x", 1), MP_ECALLBACK);
    CU_ASSERT_EQUAL(mp_finish(&p), MP_ECALLBACK);
    CU_ASSERT(strlen(mp_errmsg(&p)) > 0);
    ar_free(ar);
}

static int null_begin(void *ud, const struct mp_part *p)
{
    (void)p;
    (*(int *)ud)++;
    return 0;
}

/* Mutated bodies: any result code, no crash, no reads outside the input
 * (each mutated body lives in its own exact-size heap block). */
static void t_mutations(void)
{
    arena_t *ar = ar_new(1 << 16);
    size_t n = strlen(good_body);
    unsigned seed = 99;
    struct mp_callbacks cb = {null_begin, NULL, NULL};
    static const char alphabet[] = "\r\n-XyZ\"; =:\\\0a";
    for (int round = 0; round < 20000; round++) {
        size_t m = n;
        char *b = malloc(m);
        memcpy(b, good_body, m);
        int edits = 1 + (int)(seed % 6);
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % m;
            b[at] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
        }
        seed = seed * 1103515245u + 12345u;
        size_t cut = (seed >> 8) % (m + 1);
        int parts = 0;
        struct mp_parser p;
        struct mp_limits lim = {4, 128};
        if (mp_init(&p, ar, "XyZ", &lim, &cb, &parts) == MP_OK) {
            int rc = mp_feed(&p, b, cut);
            if (rc == MP_OK) rc = mp_feed(&p, b + cut, m - cut);
            if (rc == MP_OK) rc = mp_finish(&p);
            CU_ASSERT(rc <= 0 && rc >= MP_ECALLBACK);
            CU_ASSERT(parts <= 4);
        }
        free(b);
        ar_reset(ar);
    }
    ar_free(ar);
}

void register_mp(void)
{
    static const struct unit_case cases[] = {
        {"split at every offset and byte by byte", t_split_everywhere},
        {"a near-delimiter inside data is refused", t_near_delimiter_in_data},
        {"missing final boundary", t_missing_final},
        {"huge headers", t_huge_headers},
        {"too many parts", t_too_many_parts},
        {"no parts, empty part", t_no_parts_and_empty},
        {"malformed headers", t_bad_headers},
        {"boundary from Content-Type", t_boundary},
        {"quoted boundary in a body", t_quoted_boundary_body},
        {"a refusing callback stops the parse", t_callback_refuses},
        {"mutated bodies", t_mutations},
        {NULL, NULL},
    };
    unit_suite("mp", cases);
}
