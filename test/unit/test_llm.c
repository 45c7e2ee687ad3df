/* test_llm.c: the upstream SSE parser, chunk parsing, error messages and
 * the word streamer (common/llm). */
#include <string.h>

#include "common/arena.h"
#include "common/llm.h"
#include "test/unit/unit.h"

struct evs {
    char d[8][256];
    int n;
};

static int on_event(void *arg, const char *data, size_t n)
{
    struct evs *e = arg;
    if (e->n < 8) {
        memcpy(e->d[e->n], data, n < 255 ? n : 255);
        e->d[e->n][n < 255 ? n : 255] = '\0';
        e->n++;
    }
    return 0;
}

static void feed_in_steps(const char *s, size_t step, struct evs *e, size_t max)
{
    arena_t *ar = ar_new(4096);
    struct llm_sse p;
    llm_sse_init(&p, ar, max);
    memset(e, 0, sizeof(*e));
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += step)
        CU_ASSERT_EQUAL(llm_sse_feed(&p, s + i, i + step > n ? n - i : step, on_event, e), 0);
    CU_ASSERT_EQUAL(llm_sse_end(&p, on_event, e), 0);
    ar_free(ar);
}

static void t_sse_lines(void)
{
    const char *s = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\ndata:{\"b\":2}\r\n\r\n"
                    "data: one\ndata: two\n\ndata: [DONE]\n\n";
    for (size_t step = 1; step <= strlen(s); step += 3) {
        struct evs e;
        feed_in_steps(s, step, &e, 1024);
        CU_ASSERT_EQUAL_FATAL(e.n, 4);
        CU_ASSERT_STRING_EQUAL(e.d[0], "{\"a\":1}");
        CU_ASSERT_STRING_EQUAL(e.d[1], "{\"b\":2}");
        CU_ASSERT_STRING_EQUAL(e.d[2], "one\ntwo");
        CU_ASSERT_STRING_EQUAL(e.d[3], "[DONE]");
    }
}

static void t_sse_cr_and_unterminated(void)
{
    struct evs e;
    feed_in_steps("data: a\r\rdata: b", 1, &e, 1024);   /* CR line ends; the last one unterminated */
    CU_ASSERT_EQUAL_FATAL(e.n, 2);
    CU_ASSERT_STRING_EQUAL(e.d[0], "a");
    CU_ASSERT_STRING_EQUAL(e.d[1], "b");
}

static void t_sse_line_too_long(void)
{
    arena_t *ar = ar_new(4096);
    struct llm_sse p;
    struct evs e = {.n = 0};
    llm_sse_init(&p, ar, 16);
    CU_ASSERT_EQUAL(llm_sse_feed(&p, "data: 0123456789abcdefghij\n\n", 28, on_event, &e), -1);
    ar_free(ar);
}

static void t_chunk_parse(void)
{
    arena_t *ar = ar_new(4096);
    struct llm_chunk c;
    const char *d = "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\" Hi\\u00e9\"},"
                    "\"finish_reason\":null}]}";
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, d, strlen(d), &c), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.content);
    CU_ASSERT_STRING_EQUAL(c.content, " Hi\xc3\xa9");
    CU_ASSERT_EQUAL(c.content_len, 5);
    CU_ASSERT_PTR_NULL(c.finish);
    d = "{\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}";
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, d, strlen(d), &c), 0);
    CU_ASSERT_PTR_NULL(c.content);
    CU_ASSERT_STRING_EQUAL(c.finish, "length");
    d = "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}}";
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, d, strlen(d), &c), 0);
    CU_ASSERT(c.has_usage);
    CU_ASSERT_EQUAL(c.usage.prompt_tokens, 12);
    CU_ASSERT_EQUAL(c.usage.completion_tokens, 30);
    CU_ASSERT_EQUAL(c.usage.total_tokens, 42);
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, " [DONE] ", 8, &c), 0);
    CU_ASSERT(c.done);
    d = "{\"error\":{\"message\":\"model overloaded\",\"code\":500}}";
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, d, strlen(d), &c), 0);
    CU_ASSERT_STRING_EQUAL(c.error, "model overloaded");
    CU_ASSERT_EQUAL(llm_chunk_parse(ar, "{not json", 9, &c), -1);
    ar_free(ar);
}

static void t_error_message(void)
{
    arena_t *ar = ar_new(4096);
    const char *b = "{\"error\":{\"message\":\"Rate limit reached\\nretry\",\"type\":\"x\"}}";
    CU_ASSERT_STRING_EQUAL(llm_error_message(ar, b, strlen(b), 200), "Rate limit reached retry");
    CU_ASSERT_STRING_EQUAL(llm_error_message(ar, "{\"error\":\"bad key\"}", 19, 200), "bad key");
    CU_ASSERT_STRING_EQUAL(llm_error_message(ar, "<html>Bad Gateway</html>", 24, 10), "<html>Bad ");
    /* never cut inside a character */
    CU_ASSERT_STRING_EQUAL(llm_error_message(ar, "ab\xc3\xa9", 4, 3), "ab");
    ar_free(ar);
}

struct words {
    char w[16][32];
    int n;
};

static int on_word(void *arg, const char *t, size_t n)
{
    struct words *w = arg;
    memcpy(w->w[w->n], t, n);
    w->w[w->n][n] = '\0';
    return ++w->n >= 16 ? 1 : 0;
}

static void t_words(void)
{
    struct words w = {.n = 0};
    const char *t = "Silk  sarees\ncost \xe2\x82\xb9" "500.";
    CU_ASSERT_EQUAL(llm_words(t, strlen(t), on_word, &w), 0);
    CU_ASSERT_EQUAL_FATAL(w.n, 4);
    CU_ASSERT_STRING_EQUAL(w.w[0], "Silk");
    CU_ASSERT_STRING_EQUAL(w.w[1], "  sarees");
    CU_ASSERT_STRING_EQUAL(w.w[2], "\ncost");
    CU_ASSERT_STRING_EQUAL(w.w[3], " \xe2\x82\xb9" "500.");
}

void register_llm(void)
{
    static const struct unit_case cases[] = {
        {"SSE lines and events", t_sse_lines},
        {"SSE CR endings and an unterminated last event", t_sse_cr_and_unterminated},
        {"SSE line too long", t_sse_line_too_long},
        {"chunk parse", t_chunk_parse},
        {"error message", t_error_message},
        {"words", t_words},
        {NULL, NULL},
    };
    unit_suite("llm", cases);
}
