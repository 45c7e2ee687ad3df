/* test_troika_stream.c: the real sales-agent route (h_troika through
 * rt_dispatch and the SSE sink, read back by the strict client parser)
 * with fakes for the LLM, the TTS and the store
 * (test/unit/fakes/fake_store.h, run by test/unit/route.h). A greeting needs no catalog: intent,
 * then generation. The model failing before its first whole sentence went
 * out falls back to the builtin answer; after, the sentence sent is kept,
 * an `error` UPSTREAM_ERROR with partial: true, and the session keeps the
 * partial answer. Speech failing on the second sentence keeps the text
 * (docs/troika-agent.md). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/config.h"

#include "test/unit/common/assist/fake_llm.h"
#include "test/unit/common/assist/fake_tts.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

#define STREAM "/api/troika/intelligent-chat/stream"
#define ANSWER "Hello from the model! Welcome to the store. Tell me the occasion and I will find pieces for it."

struct tfx {
    struct rfx h;
    struct fake_store st;
    struct fake_llm llm;
    struct fake_tts tts;
};

static void tfx_open(struct tfx *f)
{
    fake_store_init(&f->st);
    fake_llm_init(&f->llm, ANSWER);
    fake_tts_init(&f->tts);
    rfx_open(&f->h);
    struct cfg *c = &f->h.app.cfg;
    snprintf(c->db_socket, sizeof(c->db_socket), "/nonexistent/mysqld.sock");   /* the designer list: none */
    snprintf(c->tokenizer_file, sizeof(c->tokenizer_file), "/nonexistent/cl100k_base.json");
    f->h.app.store = &f->st.base;
    f->h.app.llm = &f->llm.l;
    f->h.app.tts = &f->tts.t;
}

static void tfx_close(struct tfx *f)
{
    rfx_close(&f->h);
    fake_store_free(&f->st);
    fake_tts_free(&f->tts);
}

/* POSTs a JSON body; the status. */
static int post(struct tfx *f, const char *path, const char *body)
{
    char len[48];
    char *e[] = {"CONTENT_TYPE=application/json", len, NULL};
    snprintf(len, sizeof(len), "CONTENT_LENGTH=%zu", strlen(body));
    return rfx_run(&f->h, "POST", path, e, body, strlen(body));
}

static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The session id `connected` gave: the server's (a client's id that
 * does not exist is never adopted). */
static const char *connected_sid(const struct rfx *h)
{
    const struct cap_event *e = cap_find(&h->p, "connected", 0);
    const char *sid = e ? cap_str(e->data, "sessionId") : NULL;
    CU_ASSERT_PTR_NOT_NULL(sid);
    return sid ? sid : "";
}

static const char *last_text(const struct rfx *h)
{
    const char *t = "";
    for (size_t i = 0; i < h->p.n; i++)
        if (!strcmp(h->p.ev[i].name, "text")) t = cap_str(h->p.ev[i].data, "fullText");
    return t ? t : "";
}

/* The model fails after its first sentence went out. */
static void t_llm_fails_after_first_sentence(void)
{
    struct tfx f;
    tfx_open(&f);
    f.llm.fail_after = 6;   /* "Hello" " from" " the" " model!" " Welcome" (which ends the first sentence) " to" */
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"message\":\"hello there\",\"sessionId\":\"t1\"}"), 200);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "text"), 1);
    CU_ASSERT_STRING_EQUAL(last_text(&f.h), "Hello from the model! ");
    const struct cap_event *err = cap_find(&f.h.p, "error", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "error"), 1);
    CU_ASSERT_STRING_EQUAL(cap_str(err->data, "code"), "UPSTREAM_ERROR");
    CU_ASSERT(json_object_get_boolean(jget(err->data, "partial")));
    CU_ASSERT(cap_index(&f.h.p, "text") < cap_index(&f.h.p, "error"));
    CU_ASSERT_EQUAL(f.h.p.n, cap_index(&f.h.p, "error") + 2);
    CU_ASSERT_STRING_EQUAL(f.h.p.ev[f.h.p.n - 1].name, "close");
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)), "user/0/hello there\nassistant/1/Hello from the model! ");
    tfx_close(&f);
}

/* The model fails after its first token, before a whole sentence: nothing
 * of it reached the shopper, so the builtin answer is sent instead. */
static void t_llm_fails_after_first_token_falls_back(void)
{
    struct tfx f;
    tfx_open(&f);
    f.llm.fail_after = 1;
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"message\":\"hello there\",\"sessionId\":\"t2\"}"), 200);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "error"), 0);
    CU_ASSERT_PTR_NULL(strstr(last_text(&f.h), "Hello"));   /* the model's token never went out */
    CU_ASSERT_PTR_NOT_NULL(strstr(last_text(&f.h), "I'm Troika"));   /* the builtin greeting */
    int said = 0;
    for (size_t i = 0; i < f.h.p.n; i++) {
        const char *m = !strcmp(f.h.p.ev[i].name, "progress") ? cap_str(f.h.p.ev[i].data, "message") : NULL;
        said |= m && strstr(m, "The language model failed (UPSTREAM_ERROR") && strstr(m, "builtin composer");
    }
    CU_ASSERT(said);
    const struct cap_event *done = cap_find(&f.h.p, "complete", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "complete"), 1);
    CU_ASSERT_STRING_EQUAL(cap_str(done->data, "stopReason"), "fallback");
    char dump[2048], want[2048];
    snprintf(want, sizeof(want), "user/0/hello there\nassistant/0/%s", last_text(&f.h));
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)), want);
    tfx_close(&f);
}

/* Speech fails on the second sentence: the first one's audio, a `tts`
 * progress saying why, the whole text, complete.ttsError; no `error`. */
static void t_tts_fails_on_second_sentence(void)
{
    struct tfx f;
    tfx_open(&f);
    f.tts.fail_at = 2;
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"message\":\"hello there\",\"sessionId\":\"t3\",\"enableTTS\":true}"),
                    200);
    size_t naudio = 0, failed_at = f.h.p.n, first_audio = f.h.p.n;
    for (size_t i = 0; i < f.h.p.n; i++) {
        const struct cap_event *e = &f.h.p.ev[i];
        if (!strcmp(e->name, "audio")) {
            naudio++;
            CU_ASSERT_EQUAL(json_object_get_int(jget(e->data, "sentence")), 1);
            if (first_audio == f.h.p.n) first_audio = i;
        }
        const char *m = !strcmp(e->name, "progress") ? cap_str(e->data, "message") : NULL;
        if (m && strstr(m, "Speech failed, the answer continues as text")) failed_at = i;
    }
    CU_ASSERT(naudio >= 1);
    CU_ASSERT(first_audio < failed_at && failed_at < f.h.p.n);
    CU_ASSERT_STRING_EQUAL(f.tts.said[0], "Hello from the model!");
    CU_ASSERT_STRING_EQUAL(last_text(&f.h), ANSWER);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "error"), 0);
    const struct cap_event *done = cap_find(&f.h.p, "complete", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "complete"), 1);
    json_object *te = jget(done->data, "ttsError");
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    CU_ASSERT_STRING_EQUAL(cap_str(te, "code"), "UPSTREAM_ERROR");
    CU_ASSERT_STRING_EQUAL(cap_str(done->data, "stopReason"), "stop");
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)), "user/0/hello there\nassistant/0/" ANSWER);
    tfx_close(&f);
}

void register_troika_stream(void)
{
    static const struct unit_case cases[] = {
        {"LLM fails after the first sentence", t_llm_fails_after_first_sentence},
        {"LLM fails after the first token: the builtin answer", t_llm_fails_after_first_token_falls_back},
        {"TTS fails on the second sentence", t_tts_fails_on_second_sentence},
        {NULL, NULL},
    };
    unit_suite("troika-stream", cases);
}
