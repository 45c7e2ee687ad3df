/* test_chat.c: the chat pipeline's pure parts (handlers/chat/chat.h): rank
 * fusion, source numbering, query terms, the builtin composer, the prompt
 * and citation marks. */
#include <string.h>

#include "common/base/arena.h"
#include "common/assist/llm.h"
#include "common/store/session.h"
#include "handlers/chat/chat.h"
#include "test/unit/unit.h"

static void t_rrf(void)
{
    /* vector: 7 3 9; text: 3 5 7 -> 3 (1/62 + 1/61) and 7 (1/61 + 1/63) lead */
    const long long v[] = {7, 3, 9}, t[] = {3, 5, 7};
    long long ids[8];
    double sc[8];
    int vr[8], tr[8];
    size_t n = chat_rrf(v, 3, t, 3, 60, 8, ids, sc, vr, tr);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_EQUAL(ids[0], 3);
    CU_ASSERT_EQUAL(ids[1], 7);
    CU_ASSERT_EQUAL(vr[0], 2);
    CU_ASSERT_EQUAL(tr[0], 1);
    CU_ASSERT_DOUBLE_EQUAL(sc[0], 1.0 / 62 + 1.0 / 61, 1e-12);
    CU_ASSERT(sc[1] > sc[2] && sc[2] >= sc[3]);
    /* 5 (text rank 2) beats 9 (vector rank 3) */
    CU_ASSERT_EQUAL(ids[2], 5);
    CU_ASSERT_EQUAL(ids[3], 9);
    CU_ASSERT_EQUAL(chat_rrf(v, 3, t, 3, 60, 2, ids, NULL, NULL, NULL), 2);
    CU_ASSERT_EQUAL(chat_rrf(NULL, 0, t, 3, 60, 8, ids, sc, vr, tr), 3);
    CU_ASSERT_EQUAL(ids[0], 3);
    CU_ASSERT_EQUAL(vr[0], 0);
}

static void t_sources(void)
{
    struct chat_chunk ch[4];
    memset(ch, 0, sizeof(ch));
    ch[0].file_id = 1, ch[0].page = 2;
    ch[1].file_id = 2, ch[1].page = 0;
    ch[2].file_id = 1, ch[2].page = 2;
    ch[3].file_id = 1, ch[3].page = 3;
    CU_ASSERT_EQUAL(chat_number_sources(ch, 4), 3);
    CU_ASSERT_EQUAL(ch[0].source, 1);
    CU_ASSERT_EQUAL(ch[1].source, 2);
    CU_ASSERT_EQUAL(ch[2].source, 1);
    CU_ASSERT_EQUAL(ch[3].source, 3);
}

static void t_terms(void)
{
    arena_t *ar = ar_new(4096);
    const char *w[16];
    const char *q = "How many days do I have for Returns of shipped items?";
    size_t n = chat_terms(ar, q, strlen(q), w, 16);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    CU_ASSERT_STRING_EQUAL(w[0], "many");
    CU_ASSERT_STRING_EQUAL(w[1], "day");
    CU_ASSERT_STRING_EQUAL(w[2], "return");
    CU_ASSERT_STRING_EQUAL(w[3], "ship");
    CU_ASSERT_STRING_EQUAL(w[4], "item");
    ar_free(ar);
}

static struct chat_chunk mk(const char *title, long long file, int source, const char *text)
{
    struct chat_chunk c;
    memset(&c, 0, sizeof(c));
    c.title = title;
    c.file_id = file;
    c.source = source;
    c.text = text;
    c.len = strlen(text);
    return c;
}

static void t_compose(void)
{
    arena_t *ar = ar_new(4096);
    struct chat_chunk ch[2] = {
        mk("Policies", 1, 1,
           "# Returns\nUnworn items can be returned within 7 days of delivery. Shipping is free on orders over "
           "Rs. 2,000. Custom lehengas cannot be returned."),
        mk("FAQ", 2, 2, "Items bought on sale can be returned within 7 days of delivery too, e.g. sarees."),
    };
    unsigned char cited[2];
    const char *a = chat_compose(ar, "How many days to return items?", ch, 2, 2, cited);
    CU_ASSERT_STRING_EQUAL(a, "Unworn items can be returned within 7 days of delivery [1]. Items bought on sale can "
                              "be returned within 7 days of delivery too, e.g. sarees [2].");
    CU_ASSERT(cited[0] && cited[1]);
    /* nothing in common with the query: the honest answer */
    a = chat_compose(ar, "Do you sell helicopters?", ch, 2, 2, cited);
    CU_ASSERT_STRING_EQUAL(a, CHAT_NO_ANSWER);
    CU_ASSERT(!cited[0] && !cited[1]);
    CU_ASSERT_STRING_EQUAL(chat_compose(ar, "return window", NULL, 0, 0, NULL), CHAT_NO_ANSWER);
    /* the same sentence from two overlapping chunks is said once */
    struct chat_chunk dup[2] = {mk("P", 1, 1, "Express delivery costs Rs. 250 extra."),
                                mk("P", 1, 1, "Express delivery costs Rs. 250 extra. It arrives in 2 days.")};
    a = chat_compose(ar, "express delivery cost", dup, 2, 1, NULL);
    CU_ASSERT_STRING_EQUAL(a, "Express delivery costs Rs. 250 extra [1].");
    ar_free(ar);
}

static void t_prompt_and_cites(void)
{
    arena_t *ar = ar_new(4096);
    struct chat_chunk ch[1] = {mk("Size guide", 3, 1, "A size M kurta fits a 38 inch chest.")};
    ch[0].page = 4;
    struct sess_msg hist[2] = {{"user", "hello", 5, 0, NULL}, {"assistant", "Hi! How can I help?", 19, 1, NULL}};
    size_t n = 0;
    struct llm_msg *m = chat_prompt(ar, "Which size fits 38?", ch, 1, hist, 2, &n);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(m[0].role, "system");
    CU_ASSERT_PTR_NOT_NULL(strstr(m[0].content, "[1] Size guide, page 4:\nA size M kurta fits a 38 inch chest."));
    CU_ASSERT_PTR_NOT_NULL(strstr(m[0].content, CHAT_NO_ANSWER));
    CU_ASSERT_STRING_EQUAL(m[1].role, "user");
    CU_ASSERT_STRING_EQUAL(m[2].role, "assistant");
    CU_ASSERT_STRING_EQUAL(m[2].content, "Hi! How can I help?");
    CU_ASSERT_STRING_EQUAL(m[3].content, "Which size fits 38?");
    unsigned char cited[3] = {0, 0, 0};
    const char *t = "Size M [1], see also [3] and [7] and [x] and [2";
    chat_mark_cited(t, strlen(t), 3, cited);
    CU_ASSERT(cited[0] == 1 && cited[1] == 0 && cited[2] == 1);
    ar_free(ar);
}

void register_chat(void)
{
    static const struct unit_case cases[] = {
        {"reciprocal rank fusion", t_rrf},
        {"source numbers", t_sources},
        {"query terms", t_terms},
        {"builtin composer", t_compose},
        {"prompt and citations", t_prompt_and_cites},
        {NULL, NULL},
    };
    unit_suite("chat", cases);
}
