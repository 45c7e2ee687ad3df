/* test_u8.c: UTF-8 checks (common/base/u8.c): validation with the offset of the
 * first bad byte, repair to U+FFFD, holding back an unfinished character,
 * and cut points that never split one. */
#include <string.h>

#include "common/base/arena.h"
#include "common/base/u8.h"
#include "test/unit/unit.h"

#define FFFD "\xEF\xBF\xBD"

struct bad_case {
    const char *s;
    size_t n;
    size_t bad;   /* offset of the first bad byte */
};

static void t_valid(void)
{
    static const char *const good[] = {
        "",
        "plain ascii",
        "caf\xC3\xA9",                 /* U+00E9 */
        "\xC2\x80",                    /* U+0080, smallest 2-byte */
        "\xDF\xBF",                    /* U+07FF */
        "\xE0\xA0\x80",                /* U+0800, smallest 3-byte */
        "\xED\x9F\xBF",                /* U+D7FF, just below the surrogates */
        "\xEE\x80\x80",                /* U+E000, just above */
        "\xEF\xBF\xBF",                /* U+FFFF */
        "\xF0\x90\x80\x80",            /* U+10000, smallest 4-byte */
        "\xF4\x8F\xBF\xBF",            /* U+10FFFF, the last code point */
        "\xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x8E\x89",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t bad = 12345;
        CU_ASSERT(u8_valid(good[i], strlen(good[i]), &bad));
        CU_ASSERT_EQUAL(bad, 12345);   /* untouched when valid */
    }
    /* NUL is a valid character when it is inside the range */
    CU_ASSERT(u8_valid("a\0b", 3, NULL));
}

static void t_invalid_offsets(void)
{
    static const struct bad_case bad[] = {
        {"\x80", 1, 0},                          /* lone continuation */
        {"ab\xBF", 3, 2},
        {"\xC0\x80", 2, 0},                      /* overlong NUL */
        {"x\xC1\xBF", 3, 1},                     /* overlong U+007F */
        {"\xE0\x80\x80", 3, 0},                  /* overlong 3-byte */
        {"\xE0\x9F\xBF", 3, 0},                  /* overlong U+07FF */
        {"\xF0\x80\x80\x80", 4, 0},              /* overlong 4-byte */
        {"\xF0\x8F\xBF\xBF", 4, 0},              /* overlong U+FFFF */
        {"ok\xED\xA0\x80", 5, 2},                /* U+D800 high surrogate */
        {"\xED\xBF\xBF", 3, 0},                  /* U+DFFF low surrogate */
        {"\xF4\x90\x80\x80", 4, 0},              /* U+110000 */
        {"\xF5\x80\x80\x80", 4, 0},              /* lead byte past U+10FFFF */
        {"\xFF", 1, 0},
        {"\xFE\xFE", 2, 0},
        {"abc\xC3", 4, 3},                       /* cut at the end */
        {"abc\xE2\x82", 5, 3},
        {"abc\xF0\x9F\x8E", 6, 3},
        {"\xC3(", 2, 0},                         /* lead without continuation */
        {"\xE2\x82(", 3, 0},
        {"\xC3\xA9\xC3\xA9\xE2(\x82", 7, 4},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t off = 999;
        int ok = u8_valid(bad[i].s, bad[i].n, &off);
        CU_ASSERT_FALSE(ok);
        CU_ASSERT_EQUAL(off, bad[i].bad);
    }
    /* a NULL offset pointer is allowed */
    CU_ASSERT_FALSE(u8_valid("\xFF", 1, NULL));
}

static void t_seqlen(void)
{
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"a", 1), 1);
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"\xC3\xA9", 2), 2);
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"\xE2\x82\xAC", 3), 3);
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"\xF0\x9F\x8E\x89", 4), 4);
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"\xE2\x82\xAC", 2), 0);   /* cut by n */
    CU_ASSERT_EQUAL(u8_seqlen((const unsigned char *)"", 0), 0);
}

static void t_repair(void)
{
    arena_t *ar = ar_new(4096);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
    size_t n = 0;
    char *r = u8_repair(ar, "caf\xC3\xA9", 5, &n);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_STRING_EQUAL(r, "caf\xC3\xA9");

    /* each invalid byte becomes one U+FFFD; valid neighbours are kept */
    r = u8_repair(ar, "a\xFF" "b", 3, &n);
    CU_ASSERT_STRING_EQUAL(r, "a" FFFD "b");
    CU_ASSERT_EQUAL(n, 5);
    r = u8_repair(ar, "caf\xC3", 4, &n);
    CU_ASSERT_STRING_EQUAL(r, "caf" FFFD);
    r = u8_repair(ar, "x\xF0\x9F\x8E", 4, &n);
    CU_ASSERT_STRING_EQUAL(r, "x" FFFD FFFD FFFD);
    r = u8_repair(ar, "\xED\xA0\x80\xC3\xA9", 5, &n);
    CU_ASSERT_STRING_EQUAL(r, FFFD FFFD FFFD "\xC3\xA9");
    r = u8_repair(ar, "\xC0\xAF", 2, &n);
    CU_ASSERT_STRING_EQUAL(r, FFFD FFFD);
    /* worst case: every byte replaced, and the result is valid */
    char worst[64];
    memset(worst, 0xFF, sizeof(worst));
    r = u8_repair(ar, worst, sizeof(worst), &n);
    CU_ASSERT_EQUAL(n, 3 * sizeof(worst));
    CU_ASSERT(u8_valid(r, n, NULL));
    /* outlen may be NULL */
    r = u8_repair(ar, "\x80", 1, NULL);
    CU_ASSERT_STRING_EQUAL(r, FFFD);
    ar_free(ar);
}

static void t_complete_prefix(void)
{
    /* complete input: nothing held back */
    CU_ASSERT_EQUAL(u8_complete_prefix("", 0), 0);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc", 3), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xE2\x82\xAC", 6), 6);
    CU_ASSERT_EQUAL(u8_complete_prefix("\xF0\x9F\x8E\x89", 4), 4);
    /* an unfinished character at the end is held back */
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xC3", 4), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xE2", 4), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xE2\x82", 5), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xF0\x9F", 5), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xF0\x9F\x8E", 6), 3);
    CU_ASSERT_EQUAL(u8_complete_prefix("\xF0\x9F\x8E", 3), 0);
    CU_ASSERT_EQUAL(u8_complete_prefix("\xE0", 1), 0);      /* E0 needs A0..BF next */
    CU_ASSERT_EQUAL(u8_complete_prefix("\xE0\xA0", 2), 0);
    CU_ASSERT_EQUAL(u8_complete_prefix("\xF4\x8F", 2), 0);
    /* invalid tails are not held back (they could never complete): the
     * repair turns them into U+FFFD instead */
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xFF", 4), 4);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\x80", 4), 4);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xC0", 4), 4);
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xE0\x80", 5), 5);   /* overlong start */
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xED\xA0", 5), 5);   /* surrogate start */
    CU_ASSERT_EQUAL(u8_complete_prefix("abc\xF4\x90", 5), 5);   /* > U+10FFFF */
    CU_ASSERT_EQUAL(u8_complete_prefix("\xE2\x82\xAC\x80", 4), 4);

    /* Feeding a text through in every possible two-piece split and holding
     * back the unfinished tail reassembles it exactly, and every piece
     * sent is valid on its own. */
    const char *text = "Gr\xC3\xBC\xC3\x9F" "e \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x8E\x89!";
    size_t tl = strlen(text);
    for (size_t cut = 0; cut <= tl; cut++) {
        char sent[64] = "";
        size_t sl = 0;
        char pending[64];
        size_t pl = 0;
        const char *pieces[2] = {text, text + cut};
        size_t lens[2] = {cut, tl - cut};
        for (int k = 0; k < 2; k++) {
            memcpy(pending + pl, pieces[k], lens[k]);
            pl += lens[k];
            size_t ok = k == 1 ? pl : u8_complete_prefix(pending, pl);
            CU_ASSERT(u8_valid(pending, ok, NULL));
            memcpy(sent + sl, pending, ok);
            sl += ok;
            memmove(pending, pending + ok, pl - ok);
            pl -= ok;
        }
        CU_ASSERT_EQUAL(sl, tl);
        CU_ASSERT(memcmp(sent, text, tl) == 0);
    }
}

static void t_floor(void)
{
    const char *s = "a\xE2\x82\xAC" "b\xF0\x9F\x8E\x89";   /* a € b 🎉 */
    size_t n = strlen(s);                                   /* 9 */
    CU_ASSERT_EQUAL(u8_floor(s, n, 0), 0);
    CU_ASSERT_EQUAL(u8_floor(s, n, 1), 1);
    CU_ASSERT_EQUAL(u8_floor(s, n, 2), 1);
    CU_ASSERT_EQUAL(u8_floor(s, n, 3), 1);
    CU_ASSERT_EQUAL(u8_floor(s, n, 4), 4);
    CU_ASSERT_EQUAL(u8_floor(s, n, 5), 5);
    CU_ASSERT_EQUAL(u8_floor(s, n, 6), 5);
    CU_ASSERT_EQUAL(u8_floor(s, n, 8), 5);
    CU_ASSERT_EQUAL(u8_floor(s, n, 9), 9);
    CU_ASSERT_EQUAL(u8_floor(s, n, 100), 9);
    /* every cut it gives leaves a valid prefix */
    for (size_t m = 0; m <= n; m++) {
        size_t c = u8_floor(s, n, m);
        CU_ASSERT(c <= m);
        CU_ASSERT(u8_valid(s, c, NULL));
    }
}

static void t_chars(void)
{
    const char *s = "a\xE2\x82\xAC" "b\xF0\x9F\x8E\x89";   /* a € b 🎉 */
    CU_ASSERT_EQUAL(u8_chars("", 0), 0);
    CU_ASSERT_EQUAL(u8_chars("abc", 3), 3);
    CU_ASSERT_EQUAL(u8_chars(s, strlen(s)), 4);
    CU_ASSERT_EQUAL(u8_chars(s, 4), 2);                    /* only the range counts */
    CU_ASSERT_EQUAL(u8_chars("\xE0\xA4\xB2\xE0\xA4\xBE\xE0\xA4\xB2", 9), 3);   /* लाल */
}

void register_u8(void)
{
    static const struct unit_case cases[] = {
        {"valid: boundaries of every sequence length", t_valid},
        {"invalid: overlongs, surrogates, > U+10FFFF, cuts; first bad offset", t_invalid_offsets},
        {"seqlen", t_seqlen},
        {"repair: each invalid byte becomes U+FFFD", t_repair},
        {"complete_prefix: holds back only an unfinished character", t_complete_prefix},
        {"floor: never splits a character", t_floor},
        {"chars: counts code points, not bytes", t_chars},
        {NULL, NULL},
    };
    unit_suite("u8", cases);
}
