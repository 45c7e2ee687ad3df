/* test_tok.c: the cl100k_base tokenizer against counts the real tiktoken
 * produced (test/fixtures/tokenizer/cases.json, made by
 * test/tokenizer/tiktoken-peer.js), plus the estimate mode, piece coverage
 * and the two merge implementations against each other.
 *
 * The rank file: $TROIKA_TOKENIZER_FILE, else tools/fetch-tokenizer.sh's
 * cache. Without it the exact checks fail, unless TROIKA_SKIP_TOKENIZER=1
 * left them out (the runner names each one). $TROIKA_TOK_CASES names an
 * extra table (test/tokenizer/peer.sh passes random strings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/text/tok.h"
#include "test/unit/unit.h"

#ifndef TROIKA_TEST_SRCDIR
#define TROIKA_TEST_SRCDIR "."
#endif

static struct tok *tk_exact;
static int tk_tried;

const char *unit_tok_path(char *buf, size_t cap)
{
    const char *p = getenv("TROIKA_TOKENIZER_FILE");
    if (p && *p) return p;
    const char *cache = getenv("TROIKA_CACHE_DIR");
    const char *home = getenv("HOME");
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (cache && *cache) snprintf(buf, cap, "%s/tiktoken-1.0.22/package/encoders/cl100k_base.json", cache);
    else if (xdg && *xdg) snprintf(buf, cap, "%s/troika/tiktoken-1.0.22/package/encoders/cl100k_base.json", xdg);
    else snprintf(buf, cap, "%s/.cache/troika/tiktoken-1.0.22/package/encoders/cl100k_base.json", home ? home : "");
    return buf;
}

struct tok *unit_tok_exact(void)
{
    static char why[256];
    if (!tk_tried) {
        tk_tried = 1;
        char buf[1024], err[256];
        struct tok *t = tok_open(unit_tok_path(buf, sizeof(buf)), why, sizeof(why), err, sizeof(err));
        if (t && tok_exact(t)) tk_exact = t;
        else tok_close(t);
    }
    if (!tk_exact) {
        fprintf(stderr, "\n  tok: rank file not loaded (%s)\n", why);
        CU_FAIL(UNIT_NO_RANK_FILE);
    }
    return tk_exact;
}

static int tk_check_table(struct tok *t, const char *file, int *rows)
{
    json_object *root = json_object_from_file(file);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_FATAL(json_object_is_type(root, json_type_array));
    int bad = 0;
    size_t n = json_object_array_length(root);
    for (size_t i = 0; i < n; i++) {
        json_object *row = json_object_array_get_idx(root, i), *jt, *jc;
        CU_ASSERT_FATAL(json_object_object_get_ex(row, "text", &jt) && json_object_object_get_ex(row, "count", &jc));
        const char *s = json_object_get_string(jt);
        size_t len = (size_t)json_object_get_string_len(jt);
        long want = json_object_get_int64(jc);
        long got = tok_count(t, s, len);
        if (got != want) {
            bad++;
            fprintf(stderr, "\n  tok: %s row %zu: %ld tokens, tiktoken says %ld: \"%.60s\"", file, i, got, want, s);
        }
    }
    *rows = (int)n;
    json_object_put(root);
    return bad;
}

static void t_table(void)
{
    struct tok *t = unit_tok_exact();
    if (!t) return;
    int rows = 0;
    int bad = tk_check_table(t, TROIKA_TEST_SRCDIR "/test/fixtures/tokenizer/cases.json", &rows);
    CU_ASSERT(rows > 100);
    CU_ASSERT_EQUAL(bad, 0);
    const char *extra = getenv("TROIKA_TOK_CASES");
    if (extra && *extra) {
        bad = tk_check_table(t, extra, &rows);
        CU_ASSERT(rows > 0);
        CU_ASSERT_EQUAL(bad, 0);
    }
}

static void t_known(void)
{
    struct tok *t = unit_tok_exact();
    if (!t) return;
    CU_ASSERT_STRING_EQUAL(tok_name(t), "cl100k_base");
    CU_ASSERT_EQUAL(tok_count(t, "hello world", 11), 2);
    CU_ASSERT_EQUAL(tok_count(t, "", 0), 0);
    /* 12345678 -> 123 456 78 */
    CU_ASSERT_EQUAL(tok_count(t, "12345678", 8), 3);
    uint32_t st[32];
    CU_ASSERT_EQUAL(tok_piece_starts(t, "hello", 5, st, 32), 1);
    /* a piece that is not one token: its starts are increasing from 0 */
    long k = tok_piece_starts(t, "zzzzzzzzzzzzzzzzzzz", 19, st, 32);
    CU_ASSERT_EQUAL(k, 10);   /* tiktoken: 10 */
    CU_ASSERT_EQUAL(st[0], 0);
    for (long i = 1; i < k; i++) CU_ASSERT(st[i] > st[i - 1]);
    CU_ASSERT_EQUAL(tok_piece_starts(t, "zzzzzzzzzzzzzzzzzzz", 19, st, 1), -1);   /* cap */
}

/* The heap merge (long pieces) and tiktoken's simple merge agree. */
static void t_merge_agree(void)
{
    struct tok *t = unit_tok_exact();
    if (!t) return;
    static const char *alpha[] = {"a", "b", "ab", "the", "ing", " ", "z", "é", "日", "😀", "ſ", "1", "-"};
    unsigned seed = 12345;
    char buf[4096];
    for (int round = 0; round < 300; round++) {
        size_t len = 0;
        int parts = 1 + (int)(seed % 700);
        for (int j = 0; j < parts; j++) {
            seed = seed * 1103515245u + 12345u;
            const char *a = alpha[(seed >> 16) % (sizeof(alpha) / sizeof(alpha[0]))];
            size_t al = strlen(a);
            if (len + al >= sizeof(buf)) break;
            memcpy(buf + len, a, al);
            len += al;
        }
        long h = tok_bpe_count_heap(t, buf, len), s = tok_bpe_count_simple(t, buf, len);
        CU_ASSERT(h > 0);
        if (h != s) fprintf(stderr, "\n  tok: merge differs on %zu bytes: heap %ld simple %ld", len, h, s);
        CU_ASSERT_EQUAL(h, s);
    }
    /* a long run of one letter is one piece; its count must match both ways */
    memset(buf, 'a', 3000);
    CU_ASSERT_EQUAL(tok_bpe_count_heap(t, buf, 3000), tok_bpe_count_simple(t, buf, 3000));
    CU_ASSERT_EQUAL(tok_count(t, buf, 3000), tok_bpe_count_simple(t, buf, 3000));
}

struct cover {
    size_t next;
    size_t pieces;
    size_t tokens;
    int gap;
};

static int cover_fn(void *ud, size_t off, size_t len, size_t ntok)
{
    struct cover *c = ud;
    if (off != c->next || len == 0) c->gap = 1;
    c->next = off + len;
    c->pieces++;
    c->tokens += ntok;
    return 0;
}

static int stop_fn(void *ud, size_t off, size_t len, size_t ntok)
{
    (void)off, (void)len, (void)ntok;
    return ++*(int *)ud == 3 ? 7 : 0;
}

/* The estimate: same pieces, ceil(chars / 4) each. */
static void t_estimate(void)
{
    char err[128], why[256];
    struct tok *t = tok_open(NULL, why, sizeof(why), err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_FALSE(tok_exact(t));
    CU_ASSERT_STRING_EQUAL(tok_name(t), "estimate:chars/4");
    CU_ASSERT(strlen(why) > 0);
    /* "hello" (5 chars: 2) + " world" (6: 2) */
    CU_ASSERT_EQUAL(tok_count(t, "hello world", 11), 4);
    /* 8 CJK characters in one piece: 2 */
    CU_ASSERT_EQUAL(tok_count(t, "日本語のテキスト", strlen("日本語のテキスト")), 2);
    uint32_t st[8];
    CU_ASSERT_EQUAL(tok_piece_starts(t, "日本語のテキスト", strlen("日本語のテキスト"), st, 8), 2);
    CU_ASSERT_EQUAL(st[1], 12);   /* 4 three-byte characters */
    tok_close(t);

    t = tok_open("/nonexistent/cl100k_base.json", why, sizeof(why), err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_FALSE(tok_exact(t));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "/nonexistent/cl100k_base.json"));
    tok_close(t);
}

/* A file that is not the rank file falls back to the estimate. */
static void t_bad_file(void)
{
    char path[] = "/tmp/troika-tok-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char junk[] = "{\"bpe_ranks\": \"! 0 YQ== Yg==\", \"pat_str\": \"x\"}";
    CU_ASSERT(write(fd, junk, sizeof(junk) - 1) == (ssize_t)(sizeof(junk) - 1));
    close(fd);
    char err[128], why[256];
    struct tok *t = tok_open(path, why, sizeof(why), err, sizeof(err));
    unlink(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_FALSE(tok_exact(t));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "pattern"));
    tok_close(t);
}

/* tok_scan's pieces cover the text without gaps and count what tok_count
 * counts; a callback's non-zero return stops it. */
static void scan_check(struct tok *u)
{
    const char *text = "It's 12345 lehengas!\r\n\n  Price: ₹4,999 — 😀 नमस्ते\t\tend   ";
    struct cover c = {0};
    CU_ASSERT_EQUAL(tok_scan(u, text, strlen(text), cover_fn, &c), 0);
    CU_ASSERT_FALSE(c.gap);
    CU_ASSERT_EQUAL(c.next, strlen(text));
    CU_ASSERT_EQUAL((long)c.tokens, tok_count(u, text, strlen(text)));
    int calls = 0;
    CU_ASSERT_EQUAL(tok_scan(u, text, strlen(text), stop_fn, &calls), 7);
    CU_ASSERT_EQUAL(calls, 3);
}

static void t_scan_exact(void)
{
    struct tok *t = unit_tok_exact();
    if (!t) return;
    scan_check(t);
}

static void t_scan(void)
{
    char err[128];
    struct tok *est = tok_open(NULL, NULL, 0, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(est);
    scan_check(est);
    /* invalid UTF-8 is refused, not guessed */
    CU_ASSERT_EQUAL(tok_count(est, "ab\xff", 3), -1);
    CU_ASSERT_EQUAL(tok_count(est, "\xe6\x97", 2), -1);
    tok_close(est);
}

static void t_cleanup(void)
{
    tok_close(tk_exact);
    tk_exact = NULL;
    tk_tried = 0;
}

void register_tok(void)
{
    static const struct unit_case cases[] = {
        {"estimate without the rank file", t_estimate},
        {"a wrong rank file falls back", t_bad_file},
        {"pieces cover the text (estimate)", t_scan},
        {NULL, NULL},
    };
    unit_suite("tok", cases);
    static const struct unit_case exact[] = {
        {"tiktoken table", t_table},
        {"known counts and piece starts", t_known},
        {"heap and simple merges agree", t_merge_agree},
        {"pieces cover the text", t_scan_exact},
        {"cleanup", t_cleanup},
        {NULL, NULL},
    };
    unit_suite_needs(UNIT_NEEDS_TOKENIZER, "tok cl100k_base", exact);
}
