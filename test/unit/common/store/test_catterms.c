/* test_catterms.c: the full-text plan's pieces: how words are split, and
 * which words FULLTEXT matches and which are checked on the rows, from the
 * catalog's word counts (common/store/catterms.h). */
#include <stdlib.h>
#include <string.h>

#include "common/store/catterms.h"
#include "test/unit/unit.h"

static void t_words(void)
{
    const char *w[8];
    size_t wl[8];
    size_t n = ct_words("  Hand-embroidered, a zari saree ok? naïve 12 123", w, wl, 8);
    CU_ASSERT_EQUAL(n, 6);   /* "a", "ok", "12" are under three characters */
    CU_ASSERT(wl[0] == 4 && !strncmp(w[0], "Hand", 4));
    CU_ASSERT(wl[1] == 11 && !strncmp(w[1], "embroidered", 11));
    CU_ASSERT(wl[2] == 4 && !strncmp(w[2], "zari", 4));
    CU_ASSERT(wl[3] == 5 && !strncmp(w[3], "saree", 5));
    CU_ASSERT(wl[4] == strlen("naïve") && !strncmp(w[4], "naïve", wl[4]));
    CU_ASSERT(wl[5] == 3 && !strncmp(w[5], "123", 3));
    /* max stops the scan */
    CU_ASSERT_EQUAL(ct_words("one two three four", w, wl, 2), 2);
    CU_ASSERT_EQUAL(ct_words("", w, wl, 8), 0);
    CU_ASSERT_EQUAL(ct_words(NULL, w, wl, 8), 0);
    /* three characters, not bytes: "éé" is 4 bytes but 2 characters */
    CU_ASSERT_EQUAL(ct_words("éé ééé", w, wl, 8), 1);
}

/* The chosen set as the words it holds, space-separated, in v's order. */
static const char *chosen(struct ct_word *v, size_t n, long long products, char *out, size_t outlen)
{
    qsort(v, n, sizeof(*v), ct_by_docs);
    size_t set = ct_choose(v, n, products);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (set & ((size_t)1 << i)) {
            if (out[0]) strncat(out, " ", outlen - strlen(out) - 1);
            strncat(out, v[i].w, outlen - strlen(out) - 1);
        }
    return out;
}

static void t_choose_frequent_word_on_rows(void)
{
    /* The 100k generated catalog: "hand" is in 47% of products (care
     * lines), "embroidered" in 3%; the query's category is saree (18%).
     * FULLTEXT matches the rare word and the category word; "hand" is
     * checked on the few rows left. */
    char buf[128];
    struct ct_word v[] = {{"hand", 46627, 0}, {"embroidered", 3226, 0}, {"saree", 17674, 1}};
    CU_ASSERT_STRING_EQUAL(chosen(v, 3, 100000, buf, sizeof(buf)), "embroidered saree");
}

static void t_choose_keeps_comparable_words(void)
{
    char buf[128];
    /* "silk saree" (silk 24%, saree 18%): both narrow each other cheaply */
    struct ct_word a[] = {{"silk", 23858, 0}, {"saree", 17674, 1}};
    CU_ASSERT_STRING_EQUAL(chosen(a, 2, 100000, buf, sizeof(buf)), "saree silk");
    /* two rare words: both, rarest first */
    struct ct_word b[] = {{"studio", 7591, 0}, {"kesar", 1200, 0}};
    CU_ASSERT_STRING_EQUAL(chosen(b, 2, 100000, buf, sizeof(buf)), "kesar studio");
    /* "pastel lehenga": pastel 7%, lehenga (category) 17%: the category word
     * still pays for itself by cutting the rows fetched and filtered */
    struct ct_word c[] = {{"pastel", 6717, 0}, {"lehenga", 17020, 1}};
    CU_ASSERT_STRING_EQUAL(chosen(c, 2, 100000, buf, sizeof(buf)), "pastel lehenga");
}

static void t_choose_rare_words_alone(void)
{
    char buf[128];
    /* a rare word with a large category: the category word would only add
     * reading its long list */
    struct ct_word v[] = {{"zardozi", 0, 0}, {"lehenga", 17020, 1}};
    CU_ASSERT_STRING_EQUAL(chosen(v, 2, 100000, buf, sizeof(buf)), "zardozi");
    /* a single query word is always matched somehow: never an empty set */
    struct ct_word w[] = {{"the", 100000, 0}};
    CU_ASSERT_STRING_EQUAL(chosen(w, 1, 100000, buf, sizeof(buf)), "the");
}

static void t_choose_many_words(void)
{
    /* over CT_CHOOSE_MAX words: every query word, no category word */
    struct ct_word v[CT_CHOOSE_MAX + 2];
    static const char *const names[] = {"w00", "w01", "w02", "w03", "w04", "w05", "w06",
                                        "w07", "w08", "w09", "w10", "w11"};
    for (size_t i = 0; i < CT_CHOOSE_MAX + 2; i++)
        v[i] = (struct ct_word){names[i], (long long)(1000 * (i + 1)), i == 0};
    size_t set = ct_choose(v, CT_CHOOSE_MAX + 2, 100000);
    CU_ASSERT_EQUAL(set & 1, 0);
    for (size_t i = 1; i < CT_CHOOSE_MAX + 2; i++) CU_ASSERT(set & ((size_t)1 << i));
}

void register_catterms(void)
{
    static const struct unit_case cases[] = {
        {"words", t_words},
        {"a frequent word is checked on the rows", t_choose_frequent_word_on_rows},
        {"comparable words stay in FULLTEXT", t_choose_keeps_comparable_words},
        {"a rare word alone", t_choose_rare_words_alone},
        {"many words", t_choose_many_words},
        {NULL, NULL},
    };
    unit_suite("catterms", cases);
}
