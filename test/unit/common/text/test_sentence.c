/* test_sentence.c: the streaming sentence splitter (common/text/sentence). */
#include <string.h>

#include "common/base/arena.h"
#include "common/text/sentence.h"
#include "test/unit/unit.h"

struct got {
    char s[16][256];
    int n;
};

static int collect(void *arg, const char *s, size_t n)
{
    struct got *g = arg;
    if (g->n < 16) {
        memcpy(g->s[g->n], s, n < 255 ? n : 255);
        g->s[g->n][n < 255 ? n : 255] = '\0';
        g->n++;
    }
    return 0;
}

/* Splits text fed in pieces of `step` bytes (0: all at once), then flushes. */
static void split(const char *text, size_t step, struct got *g)
{
    arena_t *ar = ar_new(4096);
    struct sent sp;
    sent_init(&sp, ar, 400);
    memset(g, 0, sizeof(*g));
    size_t n = strlen(text);
    if (!step) step = n ? n : 1;
    for (size_t i = 0; i < n; i += step) CU_ASSERT_EQUAL(sent_feed(&sp, text + i, i + step > n ? n - i : step, collect, g), 0);
    CU_ASSERT_EQUAL(sent_flush(&sp, collect, g), 0);
    ar_free(ar);
}

static void t_basic(void)
{
    struct got g;
    split("Hello there. How are you? Fine!", 0, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 3);
    CU_ASSERT_STRING_EQUAL(g.s[0], "Hello there.");
    CU_ASSERT_STRING_EQUAL(g.s[1], "How are you?");
    CU_ASSERT_STRING_EQUAL(g.s[2], "Fine!");
}

static void t_abbreviations(void)
{
    struct got g;
    split("The lehenga costs Rs. 40,000 today. Dr. Mehta designed it, e.g. the red one. Next.", 0, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 3);
    CU_ASSERT_STRING_EQUAL(g.s[0], "The lehenga costs Rs. 40,000 today.");
    CU_ASSERT_STRING_EQUAL(g.s[1], "Dr. Mehta designed it, e.g. the red one.");
    CU_ASSERT_STRING_EQUAL(g.s[2], "Next.");
}

static void t_numbers(void)
{
    struct got g;
    split("Delivery takes 1.5 days. The price is \xe2\x82\xb9" "40,000. Returns are free.", 0, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 3);
    CU_ASSERT_STRING_EQUAL(g.s[0], "Delivery takes 1.5 days.");
    CU_ASSERT_STRING_EQUAL(g.s[1], "The price is \xe2\x82\xb9" "40,000.");
    CU_ASSERT_STRING_EQUAL(g.s[2], "Returns are free.");
}

static void t_streaming_pieces(void)
{
    /* fed one byte at a time, the cuts are the same */
    const char *text = "First one. Second, with approx. two words. \"Quoted.\" Last";
    struct got a, b;
    split(text, 0, &a);
    split(text, 1, &b);
    CU_ASSERT_EQUAL_FATAL(a.n, 4);
    CU_ASSERT_EQUAL_FATAL(b.n, 4);
    for (int i = 0; i < 4; i++) CU_ASSERT_STRING_EQUAL(a.s[i], b.s[i]);
    CU_ASSERT_STRING_EQUAL(a.s[1], "Second, with approx. two words.");
    CU_ASSERT_STRING_EQUAL(a.s[2], "\"Quoted.\"");
    CU_ASSERT_STRING_EQUAL(a.s[3], "Last");
}

static void t_waits_for_next_sentence(void)
{
    /* "Rs." or a sentence end? Undecided until the next character. */
    CU_ASSERT_EQUAL(sent_boundary("It costs Rs.", 12, 0), 0);
    CU_ASSERT_EQUAL(sent_boundary("It is done. ", 12, 0), 0);
    CU_ASSERT_EQUAL(sent_boundary("It is done. N", 13, 0), 11);
    CU_ASSERT_EQUAL(sent_boundary("It is done. n", 13, 0), 0);   /* lowercase: not an end */
    CU_ASSERT_EQUAL(sent_boundary("It is done.", 11, 1), 11);
    CU_ASSERT_EQUAL(sent_boundary("Pay Rs. 500 now", 15, 0), 0);
}

static void t_newlines_and_scripts(void)
{
    struct got g;
    split("Options:\n- Silk saree\n- Cotton kurta\n\nकीमत ₹500 है। धन्यवाद", 0, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 5);
    CU_ASSERT_STRING_EQUAL(g.s[0], "Options:");
    CU_ASSERT_STRING_EQUAL(g.s[1], "- Silk saree");
    CU_ASSERT_STRING_EQUAL(g.s[2], "- Cotton kurta");
    CU_ASSERT_STRING_EQUAL(g.s[3], "कीमत ₹500 है।");
    CU_ASSERT_STRING_EQUAL(g.s[4], "धन्यवाद");
}

static void t_long_text_is_cut(void)
{
    char text[1200];
    size_t o = 0;
    while (o + 6 < sizeof(text) - 1) {
        memcpy(text + o, "word, ", 6);
        o += 6;
    }
    text[o] = '\0';
    struct got g;
    split(text, 7, &g);
    CU_ASSERT(g.n >= 3);
    for (int i = 0; i < g.n && i < 16; i++) CU_ASSERT(strlen(g.s[i]) <= 255);
}

static void t_speakable(void)
{
    arena_t *ar = ar_new(4096);
    size_t n;
    char *s = sent_speakable(ar, "- **Returns** are free within 7 days [1].", 41, &n);
    CU_ASSERT_STRING_EQUAL(s, "Returns are free within 7 days.");
    CU_ASSERT_EQUAL(n, strlen(s));
    s = sent_speakable(ar, "See [2] and `code` # now", 24, NULL);
    CU_ASSERT_STRING_EQUAL(s, "See and code now");
    ar_free(ar);
}

void register_sentence(void)
{
    static const struct unit_case cases[] = {
        {"basic", t_basic},
        {"abbreviations", t_abbreviations},
        {"numbers", t_numbers},
        {"streaming pieces", t_streaming_pieces},
        {"waits for the next sentence", t_waits_for_next_sentence},
        {"newlines and scripts", t_newlines_and_scripts},
        {"long text is cut", t_long_text_is_cut},
        {"speakable", t_speakable},
        {NULL, NULL},
    };
    unit_suite("sentence", cases);
}
