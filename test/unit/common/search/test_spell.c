/* test_spell.c: the catalog's vocabulary and typo correction
 * (common/search/spell.c): the edit distance (a swap of neighbours is one
 * edit), the 5- and 9-letter rules, the choice among candidates, and words
 * never corrected. */
#include <string.h>

#include "common/search/spell.h"
#include "test/unit/unit.h"

static const char *const words[] = {"chikankari", "kurta",   "kurtas",  "palazzo", "palazzos", "saree",
                                    "sarees",     "anarkali", "lehenga", "libas",   "embroidered",
                                    "dupatta",    "sharara", "sherwani", "zari",    "net", "gota"};
static const unsigned docs[] = {12, 746, 20, 40, 84, 210, 4, 51, 65, 23, 183, 57, 3, 17, 55, 42, 20};

static void with_vocab(struct sp_vocab *v)
{
    CU_ASSERT_EQUAL_FATAL(sp_vocab_build(v, words, docs, sizeof(words) / sizeof(words[0])), 0);
}

static void t_distance(void)
{
    CU_ASSERT_EQUAL(sp_distance("kurta", 5, "kurta", 5, 2), 0);
    CU_ASSERT_EQUAL(sp_distance("kurta", 5, "kurtha", 6, 2), 1);          /* insertion */
    CU_ASSERT_EQUAL(sp_distance("palazo", 6, "palazzo", 7, 2), 1);
    CU_ASSERT_EQUAL(sp_distance("chikenkari", 10, "chikankari", 10, 2), 1);   /* substitution */
    CU_ASSERT_EQUAL(sp_distance("anarakli", 8, "anarkali", 8, 2), 1);     /* a swap is one edit */
    CU_ASSERT_EQUAL(sp_distance("sraee", 5, "saree", 5, 2), 1);
    CU_ASSERT_EQUAL(sp_distance("duppata", 7, "dupatta", 7, 2), 2);
    CU_ASSERT_EQUAL(sp_distance("abc", 3, "xyz", 3, 1), 2);               /* over max: max + 1 */
    CU_ASSERT_EQUAL(sp_distance("lehenga", 7, "le", 2, 2), 3);            /* lengths alone say so */
}

static void t_allowed(void)
{
    CU_ASSERT_EQUAL(sp_allowed(4), 0);
    CU_ASSERT_EQUAL(sp_allowed(5), 1);
    CU_ASSERT_EQUAL(sp_allowed(8), 1);
    CU_ASSERT_EQUAL(sp_allowed(9), 2);
    CU_ASSERT_EQUAL(sp_allowed(20), 2);
}

static void t_correct(void)
{
    struct sp_vocab v;
    with_vocab(&v);
    CU_ASSERT_EQUAL(v.n, sizeof(words) / sizeof(words[0]));
    CU_ASSERT_EQUAL(sp_docs(&v, "kurta"), 746);
    CU_ASSERT_EQUAL(sp_docs(&v, "kurtha"), 0);
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "chikenkari"), "chikankari");
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "palazo"), "palazzo");
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "kurtha"), "kurta");
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "anarakli"), "anarkali");       /* swapped letters */
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "libaas"), "libas");
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "embroidred"), "embroidered");   /* 10 letters: 1 of 2 */
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "embrodred"), "embroidered");    /* 9 letters: 2 edits */
    /* two edits are too many under 9 letters */
    CU_ASSERT_PTR_NULL(sp_correct(&v, "duppata"));
    CU_ASSERT_PTR_NULL(sp_correct(&v, "shrraa"));
    /* under 5 letters nothing is corrected; a known word is not either */
    CU_ASSERT_PTR_NULL(sp_correct(&v, "zaro"));
    CU_ASSERT_PTR_NULL(sp_correct(&v, "kurta"));
    /* nothing close */
    CU_ASSERT_PTR_NULL(sp_correct(&v, "bomkai"));
    /* equally close: the word in more products ("saree" 210 over "sarees" 4
     * for "sareee"), then the first in order */
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "sareee"), "saree");
    CU_ASSERT_STRING_EQUAL(sp_correct(&v, "kurtaz"), "kurta");
    sp_vocab_free(&v);
    /* an empty vocabulary corrects nothing */
    CU_ASSERT_EQUAL(sp_vocab_build(&v, NULL, NULL, 0), 0);
    CU_ASSERT_PTR_NULL(sp_correct(&v, "chikenkari"));
    CU_ASSERT_EQUAL(sp_docs(&v, "kurta"), 0);
    sp_vocab_free(&v);
}

void register_spell(void)
{
    static const struct unit_case cases[] = {
        {"edit distance (swaps are one edit)", t_distance},
        {"edits allowed by length", t_allowed},
        {"corrections from the vocabulary", t_correct},
        {NULL, NULL},
    };
    unit_suite("spell", cases);
}
