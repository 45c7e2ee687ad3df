/* test_suggest.c: follow-up prompts (common/assist/suggest). */
#include <string.h>

#include "common/base/arena.h"
#include "common/assist/suggest.h"
#include "test/unit/unit.h"

static void t_headings(void)
{
    arena_t *ar = ar_new(4096);
    const char *h[8];
    size_t n = 0;
    const char *text = "# Returns and exchanges\nItems can be returned within 7 days.\n\n## Shipping:\nWe ship "
                       "everywhere in India within a week.\nSize Guide\nA size M kurta fits a 38 inch chest and "
                       "more.\nshort\nnot a heading because lower case\n# Returns and exchanges\nSize guide for sarees. (part 1)\nA longer line of text follows the sentence above.\n";
    sug_headings(ar, text, strlen(text), h, &n, 8);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(h[0], "Returns and exchanges");
    CU_ASSERT_STRING_EQUAL(h[1], "Shipping");
    CU_ASSERT_STRING_EQUAL(h[2], "Size Guide");
    ar_free(ar);
}

static void t_from_context(void)
{
    arena_t *ar = ar_new(4096);
    const char *topics[] = {"Returns and exchanges", "Shipping", "How do I pick a size?", "Fabric care"};
    const char *asked[] = {"what about shipping to Pune"};
    struct sug_in in = {.query = "Can I return a saree?", .asked = asked, .nasked = 1, .topics = topics,
                        .ntopics = 4};
    const char *out[SUG_MAX];
    size_t n = sug_from_context(ar, &in, out, SUG_MAX);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(out[0], "How do I pick a size?");
    CU_ASSERT_STRING_EQUAL(out[1], "Tell me about Fabric care");
    /* no topics at all: still two general prompts */
    struct sug_in none = {.query = "hello"};
    n = sug_from_context(ar, &none, out, SUG_MAX);
    CU_ASSERT_EQUAL(n, SUG_MIN);
    ar_free(ar);
}

static void t_parse(void)
{
    arena_t *ar = ar_new(4096);
    const char *out[SUG_MAX];
    const char *j = "{\"suggestions\": [\"Do you ship abroad?\", \"\", 7, \"Do you ship abroad?\", \"What about "
                    "silk?\", \"Any sale?\", \"One more\"]}";
    size_t n = sug_parse(ar, j, strlen(j), out, SUG_MAX);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(out[0], "Do you ship abroad?");
    CU_ASSERT_STRING_EQUAL(out[1], "What about silk?");
    CU_ASSERT_STRING_EQUAL(out[3], "One more");
    CU_ASSERT_EQUAL(sug_parse(ar, "[\"a?\", \"b?\"]", 12, out, SUG_MAX), 2);
    CU_ASSERT_EQUAL(sug_parse(ar, "{\"questions\": [\"a?\"]}", 21, out, SUG_MAX), 1);
    CU_ASSERT_EQUAL(sug_parse(ar, "not json", 8, out, SUG_MAX), 0);
    ar_free(ar);
}

void register_suggest(void)
{
    static const struct unit_case cases[] = {
        {"headings", t_headings},
        {"from the context", t_from_context},
        {"parse", t_parse},
        {NULL, NULL},
    };
    unit_suite("suggest", cases);
}
