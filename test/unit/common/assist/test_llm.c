/* test_llm.c: the upstream SSE parser, chunk parsing, error messages and
 * the word streamer (common/assist/llm); and, against test/fixtures/fake_openai.py,
 * streaming, JSON mode, upstream errors, the stall / total / connect
 * timeouts and an abort that closes the upstream connection (common/io/hc). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/io/hc.h"
#include "common/assist/llm.h"
#include "common/assist/llm_provider.h"
#include "fcgi/request.h"
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

/* ---- providers behind struct llm ---------------------------------------------- */

struct tl_seen {
    char log[512];      /* "sent|word|word|..." in call order */
    int messages;       /* the task's messages() was asked */
    int dropped;
};

static void tl_log(struct tl_seen *s, const char *t, size_t n)
{
    size_t l = strlen(s->log);
    if (l + n + 2 < sizeof(s->log)) {
        memcpy(s->log + l, t, n);
        s->log[l + n] = '|';
        s->log[l + n + 1] = '\0';
    }
}

static int tl_sent(void *arg)
{
    tl_log(arg, "sent", 4);
    return 0;
}

static int tl_delta(void *arg, const char *t, size_t n)
{
    tl_log(arg, t, n);
    return 0;
}

static int tl_compose(void *arg, arena_t *ar, const char **text, size_t *len)
{
    (void)arg, (void)ar;
    *text = "Returns take 7 days [1].";
    *len = strlen(*text);
    return 0;
}

static int tl_messages(void *arg, arena_t *ar, const struct llm_msg **m, size_t *n)
{
    (void)ar;
    struct tl_seen *s = arg;
    s->messages++;
    *m = NULL;
    *n = 0;
    return -1;
}

static void t_builtin_provider(void)
{
    struct cfg c;
    cfg_defaults(&c);
    char err[256];
    struct hc *slot = NULL;
    struct llm *l = llm_open(&c, &slot, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NULL(slot);   /* no HTTP client for a provider without a network */
    CU_ASSERT_STRING_EQUAL(llm_name(l), "builtin");
    arena_t *ar = ar_new(4096);
    struct tl_seen seen = {.log = ""};
    struct llm_task t = {.messages = tl_messages, .compose = tl_compose, .arg = &seen, .temperature = -1};
    struct llm_cb cb = {.delta = tl_delta, .sent = tl_sent, .arg = &seen};
    struct llm_result res;
    CU_ASSERT_EQUAL(llm_stream(l, ar, &t, &cb, &res), LLM_OK);
    /* "sent" first (the question is stored before any text), then word by word */
    CU_ASSERT_STRING_EQUAL(seen.log, "sent|Returns| take| 7| days| [1].|");
    CU_ASSERT_STRING_EQUAL(res.stop_reason, "stop");
    CU_ASSERT_FALSE(res.usage.reported);
    CU_ASSERT_EQUAL(res.upstream_first_byte_ms, 0);
    CU_ASSERT_EQUAL(seen.messages, 0);   /* a model's messages are never built */
    /* JSON mode needs a model: nothing is built, the caller keeps its own */
    char *out = (char *)"x";
    CU_ASSERT_EQUAL(llm_json(l, ar, &t, NULL, NULL, &out, NULL, &res), LLM_ENOMODEL);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_EQUAL(seen.messages, 0);
    CU_ASSERT_FALSE(llm_aborted(LLM_ENOMODEL));
    CU_ASSERT(llm_aborted(-50));
    /* no compose: a PROCESSING_ERROR, not a crash */
    t.compose = NULL;
    CU_ASSERT_EQUAL(llm_stream(l, ar, &t, &cb, &res), LLM_EINTERNAL);
    CU_ASSERT_STRING_EQUAL(res.code, "PROCESSING_ERROR");
    llm_close(l);
    /* an unknown provider is refused by name */
    snprintf(c.llm_provider, sizeof(c.llm_provider), "claude");
    CU_ASSERT_PTR_NULL(llm_open(&c, &slot, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "llm_provider: 'claude'"));
    ar_free(ar);
}

static int tl_keep(void *arg, const char *s, size_t n)
{
    struct tl_seen *seen = arg;
    int bad = n >= 3 && memmem(s, n, "Bad", 3) != NULL;
    seen->dropped += bad;
    return !bad;
}

static void t_sentence_gate(void)
{
    arena_t *ar = ar_new(4096);
    struct tl_seen seen = {.log = ""};
    struct llm_task t = {.keep = tl_keep, .arg = &seen};
    struct llm_cb cb = {.delta = tl_delta, .arg = &seen};
    struct llm_gate g;
    llm_gate_init(&g, ar, &t, &cb);
    /* pieces cut anywhere; whole sentences come out, the bad one never */
    const char *in[] = {"One is", " fine. Bad ", "Lehenga here. Three", " ends"};
    for (size_t i = 0; i < 4; i++) CU_ASSERT_EQUAL(llm_gate_delta(&g, in[i], strlen(in[i])), 0);
    CU_ASSERT_STRING_EQUAL(seen.log, "One is fine. |");
    CU_ASSERT_EQUAL(llm_gate_end(&g), 0);
    CU_ASSERT_STRING_EQUAL(seen.log, "One is fine. |Three ends|");
    CU_ASSERT_EQUAL(seen.dropped, 1);
    /* without keep, text passes at once */
    struct tl_seen plain = {.log = ""};
    struct llm_task t2 = {.arg = &plain};
    struct llm_cb cb2 = {.delta = tl_delta, .arg = &plain};
    llm_gate_init(&g, ar, &t2, &cb2);
    CU_ASSERT_EQUAL(llm_gate_delta(&g, "Half a", 6), 0);
    CU_ASSERT_STRING_EQUAL(plain.log, "Half a|");
    ar_free(ar);
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
        {"builtin provider: sent first, composed words, no model for JSON", t_builtin_provider},
        {"sentence gate keeps whole sentences that pass", t_sentence_gate},
        {NULL, NULL},
    };
    unit_suite("llm", cases);
}

/* ---- against test/fixtures/fake_openai.py ------------------------------------ */

struct tl_fake {
    pid_t pid;
    int port;
    char base[64];
};

static struct tl_fake tl_f;

static int tl_fake_start(void)
{
    if (tl_f.pid > 0) return 0;
    const char *src = getenv("TROIKA_TOP_SRCDIR");
    char script[1024];
    snprintf(script, sizeof(script), "%s/test/fixtures/fake_openai.py", src && *src ? src : ".");
    int fds[2];
    if (pipe(fds) < 0) return -1;
    tl_f.pid = fork();
    if (tl_f.pid < 0) return -1;
    if (tl_f.pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[128] = "";
    if (!in || !fgets(line, sizeof(line), in) || sscanf(line, "listening on %d", &tl_f.port) != 1) {
        if (in) fclose(in);
        kill(tl_f.pid, SIGTERM);
        waitpid(tl_f.pid, NULL, 0);
        tl_f.pid = 0;
        return -1;
    }
    fclose(in);
    snprintf(tl_f.base, sizeof(tl_f.base), "http://127.0.0.1:%d", tl_f.port);
    return 0;
}

static void tl_fake_stop(void)
{
    if (tl_f.pid > 0) {
        kill(tl_f.pid, SIGTERM);
        waitpid(tl_f.pid, NULL, 0);
        tl_f.pid = 0;
    }
}

/* POSTs a JSON body to the fixture (knobs); 0 on 200. */
static int tl_post(struct hc *h, arena_t *ar, const char *path, const char *json)
{
    char url[128], err[256];
    snprintf(url, sizeof(url), "%s%s", tl_f.base, path);
    struct hc_req rq = {.url = url, .body = json, .body_len = strlen(json), .timeout_ms = 5000};
    struct hc_xfer *x;
    int rc = hc_perform(h, ar, &rq, NULL, NULL, &x, err, sizeof(err));
    return rc == HC_OK && hc_status(x) == 200 ? 0 : -1;
}

/* The fixture's record of its last /v1/chat/completions request: 1 when
 * it saw the client close early. */
static int tl_last_closed(struct hc *h, arena_t *ar)
{
    char url[128], err[256];
    snprintf(url, sizeof(url), "%s/_requests", tl_f.base);
    struct hc_req rq = {.url = url, .timeout_ms = 5000};
    struct hc_xfer *x;
    if (hc_perform(h, ar, &rq, NULL, NULL, &x, err, sizeof(err)) != HC_OK) return -1;
    size_t n;
    const char *b = hc_body(x, &n);
    const char *last = NULL;
    for (const char *p = b; (p = strstr(p, "\"closed_at\": ")); p++) last = p;
    return last && strncmp(last + 13, "null", 4) != 0;
}

struct tl_run {
    char text[512];
    size_t len;
    int deltas;
    int stop_after;   /* the callback aborts after this many deltas (0: never) */
};

static int tl_on_delta(void *arg, const char *t, size_t n)
{
    struct tl_run *r = arg;
    if (r->len + n < sizeof(r->text)) {
        memcpy(r->text + r->len, t, n);
        r->len += n;
        r->text[r->len] = '\0';
    }
    r->deltas++;
    return r->stop_after && r->deltas >= r->stop_after ? -10 : 0;
}

struct tl_env {
    struct cfg cfg;
    struct hc *hc;
    struct llm *llm;
    arena_t *ar;
};

static int tl_env_open(struct tl_env *e)
{
    char err[256];
    memset(e, 0, sizeof(*e));
    if (tl_fake_start() < 0) return -1;
    cfg_defaults(&e->cfg);
    snprintf(e->cfg.llm_provider, sizeof(e->cfg.llm_provider), "openai");
    snprintf(e->cfg.llm_url, sizeof(e->cfg.llm_url), "%s", tl_f.base);
    snprintf(e->cfg.llm_model, sizeof(e->cfg.llm_model), "fake");
    e->cfg.llm_stall_timeout_ms = 400;
    e->cfg.llm_timeout_ms = 5000;
    e->hc = hc_open(err, sizeof(err));
    e->llm = e->hc ? llm_open(&e->cfg, &e->hc, err, sizeof(err)) : NULL;
    e->ar = ar_new(1 << 16);
    if (!e->llm || !e->ar) return -1;
    return tl_post(e->hc, e->ar, "/_reset", "{}");
}

static void tl_env_close(struct tl_env *e)
{
    llm_close(e->llm);
    hc_close(e->hc);
    ar_free(e->ar);
}

static int tl_stream(struct tl_env *e, struct tl_run *r, struct llm_result *res)
{
    static const struct llm_msg m[] = {{"system", "Be brief."}, {"user", "What is the return window?"}};
    struct llm_task t = {.msgs = m, .nmsgs = 2, .temperature = -1};
    struct llm_cb cb = {.delta = tl_on_delta, .arg = r};
    return llm_stream(e->llm, e->ar, &t, &cb, res);
}

static void t_net_stream(void)
{
    struct tl_env e;
    CU_ASSERT_EQUAL_FATAL(tl_env_open(&e), 0);
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"answer\": \"Returns take 7 days. Refunds are quick.\"}"), 0);
    struct tl_run r = {.len = 0};
    struct llm_result res;
    for (int round = 0; round < 2; round++) {   /* the second reuses the connection */
        memset(&r, 0, sizeof(r));
        CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_OK);
        CU_ASSERT_STRING_EQUAL(r.text, "Returns take 7 days. Refunds are quick.");
        CU_ASSERT_EQUAL(r.deltas, 7);
        CU_ASSERT_STRING_EQUAL(res.stop_reason, "stop");
        CU_ASSERT(res.usage.reported);
        CU_ASSERT_EQUAL(res.usage.completion_tokens, 7);
        CU_ASSERT_EQUAL(res.usage.total_tokens, res.usage.prompt_tokens + 7);
        CU_ASSERT_EQUAL(res.http_status, 200);
        CU_ASSERT(res.first_delta_ms > 0);
    }
    static const struct llm_msg m[] = {{"user", "suggest"}};
    struct llm_task o = {.msgs = m, .nmsgs = 1, .temperature = -1};
    char *js = NULL;
    size_t jl = 0;
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"json_answer\": \"{\\\"a\\\": [1, 2]}\"}"), 0);
    CU_ASSERT_EQUAL(llm_json(e.llm, e.ar, &o, NULL, NULL, &js, &jl, &res), LLM_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT_STRING_EQUAL(js, "{\"a\": [1, 2]}");
    tl_env_close(&e);
}

static void t_net_errors(void)
{
    struct tl_env e;
    CU_ASSERT_EQUAL_FATAL(tl_env_open(&e), 0);
    struct tl_run r;
    struct llm_result res;
    /* an HTTP error before the first token: its status and message */
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"chat_status\": 429, \"error_message\": \"slow down\"}"), 0);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_EUPSTREAM);
    CU_ASSERT_STRING_EQUAL(res.code, "UPSTREAM_ERROR");
    CU_ASSERT_EQUAL(res.http_status, 429);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "429"));
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "slow down"));
    CU_ASSERT_EQUAL(r.deltas, 0);
    /* the connection drops mid-answer */
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"chat_status\": 0, \"answer\": \"a b c d e f\", "
                                                     "\"fail_after_tokens\": 2, \"fail_mode\": \"drop\"}"), 0);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_EUPSTREAM);
    CU_ASSERT_STRING_EQUAL(r.text, "a b");
    /* an error object mid-answer */
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"fail_mode\": \"error\"}"), 0);
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_EUPSTREAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "slow down"));
    /* nothing listening */
    snprintf(e.cfg.llm_url, sizeof(e.cfg.llm_url), "http://127.0.0.1:1");
    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_EUPSTREAM);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "could not be reached"));
    tl_env_close(&e);
}

static void t_net_timeouts(void)
{
    struct tl_env e;
    CU_ASSERT_EQUAL_FATAL(tl_env_open(&e), 0);
    struct tl_run r;
    struct llm_result res;
    /* a stall: no byte for llm_stall_timeout_ms (400) */
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"answer\": \"a b c d\", \"stall_after_tokens\": 2, "
                                                     "\"stall_ms\": 5000}"), 0);
    memset(&r, 0, sizeof(r));
    int64_t t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_ETIMEOUT);
    int64_t took = clk_mono_ms() - t0;
    CU_ASSERT(took >= 390 && took < 1000);
    CU_ASSERT_STRING_EQUAL(res.code, "UPSTREAM_TIMEOUT");
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "sent nothing for 400 ms"));
    CU_ASSERT_STRING_EQUAL(r.text, "a b");
    /* the whole answer takes longer than llm_timeout_ms */
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"stall_after_tokens\": -1, \"tokens_per_s\": 10, "
                                                     "\"answer\": \"a b c d e f g h i j k l\"}"), 0);
    e.cfg.llm_timeout_ms = 500;
    memset(&r, 0, sizeof(r));
    t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_ETIMEOUT);
    took = clk_mono_ms() - t0;
    CU_ASSERT(took >= 490 && took < 900);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "did not finish within 500 ms"));
    CU_ASSERT(r.deltas >= 3 && r.deltas < 12);
    /* connect: a listener whose queue is full drops the SYN */
    int ls = socket(AF_INET, SOCK_STREAM, 0), filler = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    CU_ASSERT_FATAL(ls >= 0 && filler >= 0);
    CU_ASSERT_EQUAL_FATAL(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(ls, 0), 0);
    CU_ASSERT_EQUAL_FATAL(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    CU_ASSERT_EQUAL(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(e.cfg.llm_url, sizeof(e.cfg.llm_url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    e.cfg.llm_connect_timeout_ms = 300;
    e.cfg.llm_timeout_ms = 5000;
    e.cfg.llm_stall_timeout_ms = 5000;
    memset(&r, 0, sizeof(r));
    t0 = clk_mono_ms();
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), LLM_ETIMEOUT);
    took = clk_mono_ms() - t0;
    CU_ASSERT(took >= 290 && took < 900);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "could not be reached within 300 ms"));
    close(filler);
    close(ls);
    tl_env_close(&e);
}

static void t_net_abort_closes(void)
{
    struct tl_env e;
    CU_ASSERT_EQUAL_FATAL(tl_env_open(&e), 0);
    CU_ASSERT_EQUAL(tl_post(e.hc, e.ar, "/_control", "{\"answer\": \"a b c d e f g h\", \"tokens_per_s\": 20}"), 0);
    struct tl_run r = {.stop_after = 3};
    struct llm_result res;
    CU_ASSERT_EQUAL(tl_stream(&e, &r, &res), -10);
    CU_ASSERT_EQUAL(r.deltas, 3);
    /* the fixture sees its client gone (it looks every 50 ms) */
    int closed = 0;
    for (int i = 0; i < 20 && closed != 1; i++) {
        usleep(25 * 1000);
        closed = tl_last_closed(e.hc, e.ar);
    }
    CU_ASSERT_EQUAL(closed, 1);
    tl_env_close(&e);
    tl_fake_stop();
}

static void t_url_join(void)
{
    arena_t *ar = ar_new(1024);
    CU_ASSERT_STRING_EQUAL(hc_url_join(ar, "http://h:1", "/v1/chat/completions"), "http://h:1/v1/chat/completions");
    CU_ASSERT_STRING_EQUAL(hc_url_join(ar, "http://h:1/v1/", "/v1/chat/completions"),
                           "http://h:1/v1/chat/completions");
    CU_ASSERT_STRING_EQUAL(hc_url_join(ar, "http://h/api/v1/chat/completions", "/v1/chat/completions"),
                           "http://h/api/v1/chat/completions");
    ar_free(ar);
}

void register_llm_net(void)
{
    static const struct unit_case cases[] = {
        {"URL join", t_url_join},
        {"stream and JSON mode against the fake", t_net_stream},
        {"upstream errors", t_net_errors},
        {"stall, total and connect timeouts", t_net_timeouts},
        {"abort closes the upstream connection", t_net_abort_closes},
        {NULL, NULL},
    };
    unit_suite("llm-net", cases);
}
