/* test_upload.c: the upload pipeline's parts without a server: declared
 * types and sniffing, extraction of every fixture type (test/fixtures/upload),
 * API-key checks, and chunking (size limit, sentence and paragraph cuts in
 * the last 20%, overlap, UTF-8 safety, pages, offsets) with the estimate
 * and, when its rank file is installed, the exact cl100k_base tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/text/tok.h"
#include "common/base/u8.h"
#include "common/store/context.h"
#include "handlers/upload/upload.h"
#include "test/unit/unit.h"

#ifndef TROIKA_TEST_SRCDIR
#define TROIKA_TEST_SRCDIR "."
#endif

static char *slurp(const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/test/fixtures/upload/%s", TROIKA_TEST_SRCDIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *d = malloc((size_t)len + 1);
    if (d && fread(d, 1, (size_t)len, f) != (size_t)len) {
        free(d);
        d = NULL;
    }
    fclose(f);
    if (d) d[len] = '\0';
    *n = (size_t)len;
    return d;
}

/* ---- types and sniffing ----------------------------------------------------- */

static void t_declared(void)
{
    int fe;
    CU_ASSERT_EQUAL(up_declared("text/plain; charset=utf-8", "a.bin", &fe), UP_TEXT);
    CU_ASSERT_FALSE(fe);
    CU_ASSERT_EQUAL(up_declared("Application/PDF", "x", &fe), UP_PDF);
    CU_ASSERT_EQUAL(up_declared("application/octet-stream", "Guide.MD", &fe), UP_MARKDOWN);
    CU_ASSERT_TRUE(fe);
    CU_ASSERT_EQUAL(up_declared("", "sizes.csv", &fe), UP_CSV);
    CU_ASSERT_EQUAL(up_declared(NULL, "p.json", &fe), UP_JSON);
    CU_ASSERT_EQUAL(up_declared("application/vnd.ms-excel", "sizes.csv", &fe), UP_CSV);
    CU_ASSERT_EQUAL(up_declared("image/png", "photo.png", &fe), UP_NONE);
    CU_ASSERT_EQUAL(up_declared("", "noext", &fe), UP_NONE);
    CU_ASSERT_EQUAL(up_declared("", "trailingdot.", &fe), UP_NONE);
    CU_ASSERT_EQUAL(up_declared("text/html", "", &fe), UP_HTML);
    CU_ASSERT_STRING_EQUAL(up_type_mime(UP_MARKDOWN), "text/markdown");
}

static void t_sniff(void)
{
    char why[256];
    CU_ASSERT_EQUAL(up_sniff(UP_PDF, "%PDF-1.4\n", 9, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(up_sniff(UP_PDF, "\x89PNG\r\n\x1a\n....", 12, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "PNG"));
    CU_ASSERT_EQUAL(up_sniff(UP_PDF, "%PD", 3, why, sizeof(why)), -1);
    CU_ASSERT_EQUAL(up_sniff(UP_TEXT, "%PDF-1.7 binary", 15, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "PDF"));
    CU_ASSERT_EQUAL(up_sniff(UP_TEXT, "ab\0cd", 5, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "offset 2"));
    CU_ASSERT_EQUAL(up_sniff(UP_CSV, "\xff\xd8\xff\xe0 jpeg", 8, why, sizeof(why)), -1);
    CU_ASSERT_EQUAL(up_sniff(UP_HTML, "PK\x03\x04zip", 7, why, sizeof(why)), -1);
    CU_ASSERT_EQUAL(up_sniff(UP_MARKDOWN, "# hi\n", 5, why, sizeof(why)), 0);
    /* Latin-1 text passes sniffing: it is refused later as INVALID_UTF8 with its offset */
    CU_ASSERT_EQUAL(up_sniff(UP_TEXT, "Caf\xe9", 4, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, "{\"a\": [1, 2]}\n", 14, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, "\xef\xbb\xbf[true]", 9, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, "{\"a\": }", 7, why, sizeof(why)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "not valid JSON"));
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, "{} {}", 5, why, sizeof(why)), -1);
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, "[1, 2", 5, why, sizeof(why)), -1);
    /* nesting deeper than the parser's limit is refused, not recursed into */
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    CU_ASSERT_EQUAL(up_sniff(UP_JSON, deep, 600, why, sizeof(why)), -1);
}

/* ---- extraction ---------------------------------------------------------------- */

static int extract_fixture(arena_t *ar, const char *name, enum up_type t, struct up_text *out, char *why,
                           size_t *bad)
{
    size_t n;
    char *d = slurp(name, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char *keep = ar_alloc(ar, n + 1);   /* the text may point into the input */
    memcpy(keep, d, n + 1);
    free(d);
    return up_extract(ar, t, keep, n, 1 << 22, out, bad, why, 256, NULL, NULL);
}

static int has(const struct up_text *t, const char *s)
{
    return t->s && memmem(t->s, t->n, s, strlen(s)) != NULL;
}

static void t_extract_text(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[256];
    size_t bad = 0;
    CU_ASSERT_EQUAL(extract_fixture(ar, "guide.txt", UP_TEXT, &t, why, &bad), UP_EX_OK);
    CU_ASSERT(has(&t, "Custom-tailored blouses are final sale."));
    CU_ASSERT_EQUAL(extract_fixture(ar, "guide.md", UP_MARKDOWN, &t, why, &bad), UP_EX_OK);
    CU_ASSERT(has(&t, "## Returns"));   /* markdown kept as it is */
    CU_ASSERT_EQUAL(extract_fixture(ar, "latin1.txt", UP_TEXT, &t, why, &bad), UP_EX_UTF8);
    CU_ASSERT_EQUAL(bad, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "offset 3"));
    /* only white space */
    CU_ASSERT_EQUAL(up_extract(ar, UP_TEXT, " \n\t ", 4, 100, &t, &bad, why, sizeof(why), NULL, NULL), UP_EX_NOTEXT);
    /* a byte order mark is dropped */
    CU_ASSERT_EQUAL(up_extract(ar, UP_TEXT, "\xef\xbb\xbfhi", 5, 100, &t, &bad, why, sizeof(why), NULL, NULL), UP_EX_OK);
    CU_ASSERT_EQUAL(t.n, 2);
    ar_free(ar);
}

static void t_extract_csv(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[256];
    size_t bad;
    CU_ASSERT_EQUAL_FATAL(extract_fixture(ar, "sizes.csv", UP_CSV, &t, why, &bad), UP_EX_OK);
    CU_ASSERT(has(&t, "name: Lehenga Rani\nsize: M\nchest: 36\nnotes: Silk, hand embroidered\n\n"));
    CU_ASSERT(has(&t, "notes: Six yards; \"pre-draped\" option"));   /* "" inside quotes */
    CU_ASSERT(has(&t, "name: Saree Meera\nsize: Free\nnotes:"));      /* the empty chest is left out */
    CU_ASSERT(has(&t, "notes: Cotton machine wash cold"));            /* a newline inside quotes */
    /* semicolon-separated, a header without rows, more fields than names */
    const char *semi = "a;b\n1;2;3\n";
    CU_ASSERT_EQUAL(up_extract(ar, UP_CSV, semi, strlen(semi), 1000, &t, &bad, why, sizeof(why), NULL, NULL), UP_EX_OK);
    CU_ASSERT(has(&t, "a: 1\nb: 2\ncolumn 3: 3\n"));
    CU_ASSERT_EQUAL(up_extract(ar, UP_CSV, "x,y\n", 4, 1000, &t, &bad, why, sizeof(why), NULL, NULL), UP_EX_NOTEXT);
    /* an unterminated quote takes the rest, without reading past the end */
    const char *unterminated = "q\n\"abc";
    CU_ASSERT_EQUAL(up_extract(ar, UP_CSV, unterminated, strlen(unterminated), 1000, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_OK);
    CU_ASSERT(has(&t, "q: abc"));
    ar_free(ar);
}

static void t_extract_json(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[256];
    size_t bad;
    CU_ASSERT_EQUAL_FATAL(extract_fixture(ar, "products.json", UP_JSON, &t, why, &bad), UP_EX_OK);
    CU_ASSERT(has(&t, "store: Troika\n"));
    CU_ASSERT(has(&t, "products[0].sizes[1]: M\n"));
    CU_ASSERT(has(&t, "products[0].care.wash: dry clean only\n"));
    CU_ASSERT(has(&t, "products[1].price: 8999.5\n"));
    CU_ASSERT(has(&t, "products[0].inStock: true\n"));
    CU_ASSERT_FALSE(has(&t, "notes"));   /* null is left out */
    /* a top-level scalar; a lone surrogate escape becomes U+FFFD, not bad bytes */
    CU_ASSERT_EQUAL(up_extract(ar, UP_JSON, "\"hi \\ud800 there\"", 17, 1000, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_OK);
    CU_ASSERT(u8_valid(t.s, t.n, NULL));
    CU_ASSERT_EQUAL(up_extract(ar, UP_JSON, "{\"a\": null}", 11, 1000, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_NOTEXT);
    /* docs/upload.md: at most 64 levels deep (a value inside 64 containers) */
    char deep[1024];
    for (int depth = 63; depth <= 65; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"a\":");
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "\"leaf\"");
        for (int i = 0; i < depth; i++) deep[n++] = '}';
        deep[n] = '\0';
        int sn = up_sniff(UP_JSON, deep, n, why, sizeof(why));
        int rc = up_extract(ar, UP_JSON, deep, n, 1 << 16, &t, &bad, why, sizeof(why), NULL, NULL);
        if (depth <= 64) {
            CU_ASSERT_EQUAL(sn, 0);
            CU_ASSERT(rc == UP_EX_OK && has(&t, ": leaf"));
        } else {
            CU_ASSERT_EQUAL(sn, -1);
            CU_ASSERT_EQUAL(rc, UP_EX_FAIL);
        }
    }
    ar_free(ar);
}

static void t_extract_html(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[256];
    size_t bad;
    CU_ASSERT_EQUAL_FATAL(extract_fixture(ar, "care.html", UP_HTML, &t, why, &bad), UP_EX_OK);
    CU_ASSERT(has(&t, "Care guide\n\nCaring for your silk\n\nDry clean only.\nStore folded in muslin."));
    CU_ASSERT(has(&t, "Steam on low heat\nKeep away from perfume & deodorant"));
    CU_ASSERT(has(&t, "Size | Bust\nM | 36\""));
    CU_ASSERT_FALSE(has(&t, "tracking"));       /* script */
    CU_ASSERT_FALSE(has(&t, "font-family"));    /* style */
    CU_ASSERT_FALSE(has(&t, "Hidden promo"));   /* hidden attribute */
    CU_ASSERT_FALSE(has(&t, "Also hidden"));    /* display: none */
    CU_ASSERT_FALSE(has(&t, "JavaScript"));     /* noscript */
    CU_ASSERT_FALSE(has(&t, "comment"));
    /* nesting: the text at any depth is kept (libxml2 alone stops at 256
     * levels and drops what lies below, reporting success), also text after
     * the deep part */
    static const size_t depths[] = {150, 255, 256, 257, 300, 3000, 20000};
    char *deep = malloc(20000 * 7 + 64);
    for (size_t k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
        size_t n = 0, depth = depths[k];
        for (size_t i = 0; i < depth; i++) memcpy(deep + n, "<b>", 3), n += 3;
        memcpy(deep + n, "core", 4), n += 4;
        for (size_t i = 0; i < depth; i++) memcpy(deep + n, "</b>", 4), n += 4;
        memcpy(deep + n, "<p>tail", 7), n += 7;
        int rc = up_extract(ar, UP_HTML, deep, n, 1 << 20, &t, &bad, why, sizeof(why), NULL, NULL);
        CU_ASSERT_EQUAL(rc, UP_EX_OK);
        CU_ASSERT(rc == UP_EX_OK && has(&t, "core") && has(&t, "tail"));
        if (rc != UP_EX_OK || !has(&t, "core")) fprintf(stderr, "\n  depth %zu: rc %d (%s)\n", depth, rc, why);
    }
    free(deep);
    CU_ASSERT_EQUAL(up_extract(ar, UP_HTML, "<script>x()</script>", 20, 1000, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_NOTEXT);
    ar_free(ar);
}

static void t_extract_pdf(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[256];
    size_t bad;
    CU_ASSERT_EQUAL_FATAL(extract_fixture(ar, "guide.pdf", UP_PDF, &t, why, &bad), UP_EX_OK);
    CU_ASSERT_EQUAL(t.npages, 2);
    CU_ASSERT(has(&t, "Page 1 of the Troika care and size guide"));
    CU_ASSERT(has(&t, "Page 2 of the Troika care and size guide"));
    CU_ASSERT_EQUAL(t.pages[0], 0);
    CU_ASSERT(t.pages[1] > 0 && t.pages[1] < t.n);
    CU_ASSERT(memcmp(t.s + t.pages[1], "Page 2", 6) == 0);
    CU_ASSERT_EQUAL(extract_fixture(ar, "scanned.pdf", UP_PDF, &t, why, &bad), UP_EX_NOTEXT);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "no text layer"));
    CU_ASSERT_EQUAL(extract_fixture(ar, "photo.pdf", UP_PDF, &t, why, &bad), UP_EX_FAIL);
    const char *trunc = "%PDF-1.4\n1 0 obj\n<<";
    CU_ASSERT_EQUAL(up_extract(ar, UP_PDF, trunc, strlen(trunc), 1000, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_FAIL);
    ar_free(ar);
}

/* ---- extraction in a bounded child (upload_child.c) ------------------------------ */

/* This process's resident memory, in KiB (VmRSS). */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static int cancel_after;   /* polls before the cancel callback says stop */

static int cancel_soon(void *arg)
{
    (void)arg;
    return --cancel_after < 0;
}

static void t_extract_bounded(void)
{
    arena_t *ar = ar_new(1 << 16);
    struct up_text t;
    char why[512];
    size_t bad, n;
    struct up_bounds b = {10000, 256L << 20};
    /* the same text and pages as in this process */
    char *pdf = slurp("guide.pdf", &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pdf);
    CU_ASSERT_EQUAL(up_extract_bounded(ar, UP_PDF, pdf, n, 1 << 20, &b, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_OK);
    CU_ASSERT_EQUAL(t.npages, 2);
    CU_ASSERT(has(&t, "Page 2 of the Troika care and size guide"));
    CU_ASSERT(t.npages == 2 && memcmp(t.s + t.pages[1], "Page 2", 6) == 0);
    free(pdf);
    /* its errors are the child's: a scanned PDF has no text */
    pdf = slurp("scanned.pdf", &n);
    CU_ASSERT_EQUAL(up_extract_bounded(ar, UP_PDF, pdf, n, 1 << 20, &b, &t, &bad, why, sizeof(why), NULL, NULL),
                    UP_EX_NOTEXT);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "no text layer"));
    free(pdf);

    /* the bomb: one page, a 10 MB content stream of "(...) Tj 0 0 Td" in
     * 31 KB; killed at the time limit, and this process did not grow */
    char *bomb = slurp("bomb.pdf", &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bomb);
    long rss0 = rss_kib();
    b.timeout_ms = 1500;
    int64_t t0 = clk_mono_ms();
    int rc = up_extract_bounded(ar, UP_PDF, bomb, n, 40 << 20, &b, &t, &bad, why, sizeof(why), NULL, NULL);
    int64_t took = clk_mono_ms() - t0;
    CU_ASSERT_EQUAL(rc, UP_EX_FAIL);
    CU_ASSERT(took >= 1400 && took < 3000);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "extract_timeout_ms"));
    CU_ASSERT(rss_kib() - rss0 < 20 * 1024);
    if (rc != UP_EX_FAIL || took >= 3000) fprintf(stderr, "\n  bomb: rc %d in %lld ms: %s\n", rc, (long long)took, why);
    /* ... or at the memory limit first */
    b.timeout_ms = 20000;
    b.memory = 64L << 20;
    t0 = clk_mono_ms();
    rc = up_extract_bounded(ar, UP_PDF, bomb, n, 40 << 20, &b, &t, &bad, why, sizeof(why), NULL, NULL);
    CU_ASSERT_EQUAL(rc, UP_EX_FAIL);
    CU_ASSERT(strstr(why, "memory") || strstr(why, "extract_timeout_ms"));
    CU_ASSERT(clk_mono_ms() - t0 < 20500);
    /* a client that goes away stops it at once */
    b.memory = 256L << 20;
    cancel_after = 10;
    t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(up_extract_bounded(ar, UP_PDF, bomb, n, 40 << 20, &b, &t, &bad, why, sizeof(why), cancel_soon,
                                       NULL),
                    UP_EX_FAIL);
    CU_ASSERT(clk_mono_ms() - t0 < 1000);
    free(bomb);

    /* HTML three million tags deep: past 64 MiB, refused */
    size_t depth = 3000000;
    char *deep = malloc(depth * 3 + 8);
    for (size_t i = 0; i < depth; i++) memcpy(deep + i * 3, "<b>", 3);
    memcpy(deep + depth * 3, "core", 5);
    b.memory = 64L << 20;
    t0 = clk_mono_ms();
    rc = up_extract_bounded(ar, UP_HTML, deep, depth * 3 + 4, 40 << 20, &b, &t, &bad, why, sizeof(why), NULL, NULL);
    CU_ASSERT_EQUAL(rc, UP_EX_FAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "memory"));
    free(deep);
    /* plain types are parsed here, as they are */
    CU_ASSERT_EQUAL(up_extract_bounded(ar, UP_TEXT, "hello there", 11, 100, &b, &t, &bad, why, sizeof(why), NULL,
                                       NULL),
                    UP_EX_OK);
    CU_ASSERT(has(&t, "hello there"));
    ar_free(ar);
}

/* ---- auth ----------------------------------------------------------------------- */

static void t_keys(void)
{
    CU_ASSERT_TRUE(up_key_ok("alpha, beta ,gamma", "beta", 4));
    CU_ASSERT_TRUE(up_key_ok("alpha, beta ,gamma", "gamma", 5));
    CU_ASSERT_TRUE(up_key_ok("alpha", "alpha", 5));
    CU_ASSERT_FALSE(up_key_ok("alpha, beta", "bet", 3));
    CU_ASSERT_FALSE(up_key_ok("alpha, beta", "betaa", 5));
    CU_ASSERT_FALSE(up_key_ok("alpha, beta", "", 0));
    CU_ASSERT_FALSE(up_key_ok("", "alpha", 5));
    CU_ASSERT_FALSE(up_key_ok(" , ,", " ", 1));
    CU_ASSERT_FALSE(up_key_ok("alpha", "ALPHA", 5));
    CU_ASSERT_TRUE(cx_chatbot_id_ok("shop-1_A"));
    CU_ASSERT_FALSE(cx_chatbot_id_ok(""));
    CU_ASSERT_FALSE(cx_chatbot_id_ok("../etc"));
    CU_ASSERT_FALSE(cx_chatbot_id_ok("a.b"));
    char l[80];
    memset(l, 'a', 65);
    l[65] = '\0';
    CU_ASSERT_FALSE(cx_chatbot_id_ok(l));
    l[64] = '\0';
    CU_ASSERT_TRUE(cx_chatbot_id_ok(l));
}

/* ---- chunking ---------------------------------------------------------------- */

static struct tok *open_tok(int exact)
{
    char buf[1024], why[256], err[256];
    struct tok *t = tok_open(exact ? unit_tok_path(buf, sizeof(buf)) : NULL, why, sizeof(why), err, sizeof(err));
    if (t && exact && !tok_exact(t)) {
        tok_close(t);
        CU_FAIL(UNIT_NO_RANK_FILE);
        return NULL;
    }
    return t;
}

/* The invariants every chunking must keep. */
static void check_chunks(struct tok *t, const struct up_text *x, const struct up_chunking *ch, int T, int O)
{
    CU_ASSERT_FATAL(ch->n > 0);
    size_t prev_end = 0;
    for (size_t i = 0; i < ch->n; i++) {
        const struct up_chunk *c = &ch->chunks[i];
        CU_ASSERT(c->len > 0 && c->off + c->len <= x->n);
        CU_ASSERT(u8_valid(x->s + c->off, c->len, NULL));               /* never inside a character */
        long real = tok_count(t, x->s + c->off, c->len);
        CU_ASSERT(c->tokens <= T);
        if (real != c->tokens) fprintf(stderr, "\n  chunk %zu: %d tokens counted, %ld alone", i, c->tokens, real);
        CU_ASSERT_EQUAL(real, c->tokens);
        size_t chars = 0;
        for (size_t b = 0; b < c->off; b++)
            if (((unsigned char)x->s[b] & 0xC0) != 0x80) chars++;
        CU_ASSERT_EQUAL(c->char_off, chars);
        if (i) {
            const struct up_chunk *p = &ch->chunks[i - 1];
            CU_ASSERT(c->off > p->off);                     /* moves on */
            CU_ASSERT(c->off <= prev_end);                  /* no gap */
            if (c->off < prev_end && O > 0) {
                long ov = tok_count(t, x->s + c->off, prev_end - c->off);
                CU_ASSERT(ov > 0 && ov <= O);               /* the overlap stays within O */
            }
        }
        prev_end = c->off + c->len;
    }
    CU_ASSERT_EQUAL(prev_end, x->n);   /* the whole text is covered */
    CU_ASSERT_EQUAL((long)ch->total_tokens, tok_count(t, x->s, x->n));
}

static void chunk_sentences(struct tok *t)
{
    arena_t *ar = ar_new(1 << 16);
    buf_t b;
    buf_init(&b, ar, 0);
    for (int i = 0; i < 400; i++) buf_printf(&b, "Sentence number %d tells about silk care. ", i);
    struct up_text x = {.s = b.p, .n = b.len};
    struct up_chunking ch;
    CU_ASSERT_EQUAL_FATAL(up_chunk(t, ar, &x, 128, 16, &ch, NULL, NULL), 0);
    CU_ASSERT_EQUAL(up_chunk_recount(t, &x, &ch), 0);
    check_chunks(t, &x, &ch, 128, 16);
    CU_ASSERT(ch.n > 10);
    for (size_t i = 0; i + 1 < ch.n; i++) {
        const struct up_chunk *c = &ch.chunks[i];
        /* every chunk but the last ends at a sentence end inside its last 20% */
        CU_ASSERT_EQUAL(x.s[c->off + c->len - 1], '.');
        CU_ASSERT(c->tokens >= 128 * 8 / 10);
        CU_ASSERT(c->exact_edges);
    }
    ar_free(ar);
}

static void chunk_paragraphs(struct tok *t)
{
    arena_t *ar = ar_new(1 << 16);
    buf_t b;
    buf_init(&b, ar, 0);
    /* paragraphs of 85-100% of a chunk: a blank line always falls in the
     * last 20%, after the sentence ends in the same zone */
    for (int p = 0; p < 30; p++) {
        size_t start = b.len;
        for (int s = 0; tok_count(t, b.p + start, b.len - start) < 109; s++)
            buf_printf(&b, "Paragraph %d line %d. ", p, s);
        buf_adds(&b, "\n\n");
        CU_ASSERT(tok_count(t, b.p + start, b.len - start) <= 128);
    }
    struct up_text x = {.s = b.p, .n = b.len};
    struct up_chunking ch;
    CU_ASSERT_EQUAL_FATAL(up_chunk(t, ar, &x, 128, 0, &ch, NULL, NULL), 0);
    check_chunks(t, &x, &ch, 128, 0);
    for (size_t i = 0; i + 1 < ch.n; i++) {
        const struct up_chunk *c = &ch.chunks[i];
        const char *end = x.s + c->off + c->len;
        CU_ASSERT(end[-1] == '\n' && end[-2] == '\n');   /* cut after the blank line, not a sentence */
    }
    ar_free(ar);
}

static void chunk_no_boundaries(struct tok *t)
{
    arena_t *ar = ar_new(1 << 16);
    buf_t b;
    buf_init(&b, ar, 0);
    for (int i = 0; i < 3000; i++) buf_adds(&b, i % 7 ? "word " : "lehenga ");
    struct up_text x = {.s = b.p, .n = b.len};
    struct up_chunking ch;
    CU_ASSERT_EQUAL_FATAL(up_chunk(t, ar, &x, 100, 20, &ch, NULL, NULL), 0);
    CU_ASSERT_EQUAL(up_chunk_recount(t, &x, &ch), 0);
    check_chunks(t, &x, &ch, 100, 20);
    for (size_t i = 0; i + 1 < ch.n; i++) CU_ASSERT(ch.chunks[i].tokens >= 95);   /* hard cuts fill the chunk */
    ar_free(ar);
}

/* One piece far longer than a chunk, of multi-byte characters: it is cut
 * between tokens but never inside a character. */
static void chunk_long_piece(struct tok *t)
{
    arena_t *ar = ar_new(1 << 16);
    buf_t b;
    buf_init(&b, ar, 0);
    for (int i = 0; i < 2000; i++) buf_adds(&b, "日本語");
    buf_adds(&b, " and ");
    for (int i = 0; i < 1500; i++) buf_adds(&b, "😀");
    struct up_text x = {.s = b.p, .n = b.len};
    struct up_chunking ch;
    CU_ASSERT_EQUAL_FATAL(up_chunk(t, ar, &x, 64, 8, &ch, NULL, NULL), 0);
    CU_ASSERT_EQUAL(up_chunk_recount(t, &x, &ch), 0);
    CU_ASSERT(ch.n > 10);
    for (size_t i = 0; i < ch.n; i++) {
        CU_ASSERT(u8_valid(x.s + ch.chunks[i].off, ch.chunks[i].len, NULL));
        CU_ASSERT(ch.chunks[i].tokens <= 64 + 4);   /* recounted alone: a cut inside a piece may differ a little */
    }
    ar_free(ar);
}

static void chunk_pages_and_space(struct tok *t)
{
    arena_t *ar = ar_new(1 << 16);
    buf_t b;
    buf_init(&b, ar, 0);
    size_t pages[3];
    for (int p = 0; p < 3; p++) {
        if (p) buf_adds(&b, "\n\n");
        pages[p] = b.len;
        for (int s = 0; s < 40; s++) buf_printf(&b, "Page %d sentence %d. ", p + 1, s);
    }
    struct up_text x = {.s = b.p, .n = b.len, .pages = pages, .npages = 3};
    struct up_chunking ch;
    CU_ASSERT_EQUAL_FATAL(up_chunk(t, ar, &x, 64, 8, &ch, NULL, NULL), 0);
    check_chunks(t, &x, &ch, 64, 8);
    int seen[4] = {0};
    for (size_t i = 0; i < ch.n; i++) {
        const struct up_chunk *c = &ch.chunks[i];
        CU_ASSERT(c->page >= 1 && c->page <= 3);
        size_t at = c->off;
        while (x.s[at] == ' ' || x.s[at] == '\n') at++;
        int want = at >= pages[2] ? 3 : at >= pages[1] ? 2 : 1;
        CU_ASSERT_EQUAL(c->page, want);
        seen[c->page] = 1;
    }
    CU_ASSERT(seen[1] && seen[2] && seen[3]);
    /* white space alone gives no chunk */
    struct up_text w = {.s = "   \n\n\t  ", .n = 8};
    CU_ASSERT_EQUAL(up_chunk(t, ar, &w, 64, 8, &ch, NULL, NULL), 0);
    CU_ASSERT_EQUAL(ch.n, 0);
    /* a short text is one chunk */
    struct up_text s1 = {.s = "Short.", .n = 6};
    CU_ASSERT_EQUAL(up_chunk(t, ar, &s1, 64, 8, &ch, NULL, NULL), 0);
    CU_ASSERT_EQUAL(ch.n, 1);
    CU_ASSERT_EQUAL(ch.chunks[0].page, 0);
    ar_free(ar);
}

static int stop_at_first(void *arg, size_t done)
{
    (void)done;
    return ++*(int *)arg >= 2 ? -11 : 0;
}

static void t_chunk_estimate(void)
{
    struct tok *t = open_tok(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    chunk_sentences(t);
    chunk_paragraphs(t);
    chunk_no_boundaries(t);
    chunk_long_piece(t);
    chunk_pages_and_space(t);
    /* a progress callback that says stop stops the scan with its value */
    arena_t *ar = ar_new(1 << 16);
    size_t n = 3 << 20;
    char *big = ar_alloc(ar, n + 1);
    for (size_t i = 0; i < n; i++) big[i] = i % 6 == 5 ? ' ' : 'x';
    big[n] = '\0';
    struct up_text x = {.s = big, .n = n};
    struct up_chunking ch;
    int calls = 0;
    CU_ASSERT_EQUAL(up_chunk(t, ar, &x, 512, 64, &ch, stop_at_first, &calls), -11);
    ar_free(ar);
    tok_close(t);
}

static void t_chunk_exact(void)
{
    struct tok *t = open_tok(1);
    if (!t) return;
    chunk_sentences(t);
    chunk_paragraphs(t);
    chunk_no_boundaries(t);
    chunk_long_piece(t);
    chunk_pages_and_space(t);
    tok_close(t);
}

void register_upload(void)
{
    static const struct unit_case cases[] = {
        {"declared types", t_declared},
        {"content sniffing", t_sniff},
        {"extract text, markdown, invalid UTF-8", t_extract_text},
        {"extract CSV", t_extract_csv},
        {"extract JSON", t_extract_json},
        {"extract HTML", t_extract_html},
        {"extract PDF", t_extract_pdf},
        {"extraction in a bounded child: PDF bomb, deep HTML, cancel", t_extract_bounded},
        {"API keys and chatbot ids", t_keys},
        {"chunking with the estimate", t_chunk_estimate},
        {NULL, NULL},
    };
    unit_suite("upload", cases);
    static const struct unit_case exact[] = {
        {"chunking with cl100k_base", t_chunk_exact},
        {NULL, NULL},
    };
    unit_suite_needs(UNIT_NEEDS_TOKENIZER, "upload cl100k_base", exact);
}
