/* test_chat_stream.c: the real chat route (h_chat through rt_dispatch and
 * the SSE sink, read back by the strict client parser) with fakes for the
 * LLM, the TTS and the store (test/unit/fakes/fake_store.h, run by test/unit/route.h): a model
 * failing after its first token, speech failing on the second sentence,
 * with speech done at once (espeak-like) and in the background
 * (network-like), and what the session keeps each time. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/assist/llm.h"
#include "common/base/b64.h"
#include "common/base/config.h"
#include "common/store/session.h"
#include "test/unit/common/assist/fake_llm.h"
#include "test/unit/common/assist/fake_tts.h"
#include "test/unit/fakes/fake_store.h"
#include "test/unit/route.h"
#include "test/unit/unit.h"

#define STREAM "/api/chat/query/stream"
#define NORMAL "/api/chat/query"
#define ANSWER "Returns are accepted within 7 days [1]. Refunds reach you in 5 working days [1]. Sale items are final."

static const char *const policy =
    "# Returns\nUnworn items can be returned within 7 days of delivery. Refunds take 5 working days.";

struct cfx {
    struct rfx h;
    struct fake_store st;
    struct fake_llm llm;
    struct fake_tts tts;
};

static void cfx_open(struct cfx *f, const char *answer)
{
    fake_store_init(&f->st);
    fake_store_seed_text(&f->st, "shop1", "Policies", policy);
    fake_llm_init(&f->llm, answer);
    fake_tts_init(&f->tts);
    rfx_open(&f->h);
    struct cfg *c = &f->h.app.cfg;
    snprintf(c->index_dir, sizeof(c->index_dir), "/nonexistent/troika-unit-index");   /* full-text only */
    snprintf(c->tokenizer_file, sizeof(c->tokenizer_file), "/nonexistent/cl100k_base.json");
    f->h.app.store = &f->st.base;
    f->h.app.llm = &f->llm.l;
    f->h.app.tts = &f->tts.t;
}

static void cfx_close(struct cfx *f)
{
    rfx_close(&f->h);
    fake_store_free(&f->st);
    fake_tts_free(&f->tts);
}

/* POSTs a JSON body; the status. */
static int post(struct cfx *f, const char *path, const char *body)
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

static int jint(json_object *o, const char *k) { return json_object_get_int(jget(o, k)); }

/* The last `text` event's fullText ("" when none). */
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

/* The decoded MP3 of sentence k's audio events into out. */
static size_t sentence_audio(const struct rfx *h, int k, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < h->p.n; i++) {
        if (strcmp(h->p.ev[i].name, "audio") || jint(h->p.ev[i].data, "sentence") != k) continue;
        const char *b = cap_str(h->p.ev[i].data, "chunk");
        size_t bl = b ? strlen(b) : 0;
        if (!b || n + bl > cap) return 0;
        long d = b64_decode(b, bl, (unsigned char *)out + n);
        if (d < 0) return 0;
        n += (size_t)d;
    }
    out[n < cap ? n : cap - 1] = '\0';
    return n;
}

/* A sanity run: the whole answer as text, each sentence spoken in order,
 * the question and answer stored. */
static void t_answer_and_speech(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    CU_ASSERT_EQUAL(post(&f, STREAM,
                             "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\",\"sessionId\":\"s1\","
                             "\"enableTTS\":true}"),
                    200);
    CU_ASSERT_STRING_EQUAL(last_text(&f.h), ANSWER);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "error"), 0);
    const struct cap_event *done = cap_find(&f.h.p, "complete", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "complete"), 1);
    CU_ASSERT_EQUAL(jint(done->data, "sentencesSpoken"), 3);
    CU_ASSERT_STRING_EQUAL(cap_str(done->data, "llm"), "fake:model");
    CU_ASSERT_STRING_EQUAL(cap_str(done->data, "tts"), "fake:tts");
    CU_ASSERT_PTR_NULL(jget(done->data, "ttsError"));
    CU_ASSERT_STRING_EQUAL(f.h.p.ev[f.h.p.n - 1].name, "close");
    /* the model saw the passage; the speech the sentences without their marks */
    CU_ASSERT_PTR_NOT_NULL(strstr(f.llm.system, "Unworn items can be returned within 7 days"));
    CU_ASSERT_STRING_EQUAL(f.tts.said[0], "Returns are accepted within 7 days.");
    char mp3[512];
    CU_ASSERT(sentence_audio(&f.h, 2, mp3, sizeof(mp3)) > 0);
    CU_ASSERT_STRING_EQUAL(mp3, "FAKE-MP3 2: Refunds reach you in 5 working days.");
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)),
                           "user/0/How many days for returns?\nassistant/0/" ANSWER);
    cfx_close(&f);
}

/* The model fails after its first token: that token stays sent, an
 * `error` UPSTREAM_ERROR with partial: true, then `close`; the session
 * keeps the question and the partial answer (partial = 1). */
static void t_llm_fails_after_first_token(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    f.llm.fail_after = 1;
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\","
                                           "\"sessionId\":\"s2\"}"),
                    200);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "text"), 1);
    CU_ASSERT_STRING_EQUAL(last_text(&f.h), "Returns");
    const struct cap_event *err = cap_find(&f.h.p, "error", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "error"), 1);
    CU_ASSERT_STRING_EQUAL(cap_str(err->data, "code"), "UPSTREAM_ERROR");
    CU_ASSERT(json_object_get_boolean(jget(err->data, "partial")));
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(err->data, "message"), "fake crash after 1 words"));
    CU_ASSERT(cap_index(&f.h.p, "text") < cap_index(&f.h.p, "error"));
    CU_ASSERT_EQUAL(f.h.p.n, cap_index(&f.h.p, "error") + 2);   /* only close follows */
    CU_ASSERT_STRING_EQUAL(f.h.p.ev[f.h.p.n - 1].name, "close");
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "complete"), 0);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "suggestions"), 0);
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)),
                           "user/0/How many days for returns?\nassistant/1/Returns");
    cfx_close(&f);

    /* the normal twin: 502 with the partial text */
    cfx_open(&f, ANSWER);
    f.llm.fail_after = 1;
    CU_ASSERT_EQUAL(post(&f, NORMAL, "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\"}"),
                    502);
    CU_ASSERT_STRING_EQUAL(cap_str(f.h.p.body, "code"), "UPSTREAM_ERROR");
    CU_ASSERT_FALSE(json_object_get_boolean(jget(f.h.p.body, "success")));
    CU_ASSERT(json_object_get_boolean(jget(f.h.p.body, "partial")));
    CU_ASSERT_PTR_NOT_NULL(cap_str(f.h.p.body, "text"));
    if (cap_str(f.h.p.body, "text")) CU_ASSERT_STRING_EQUAL(cap_str(f.h.p.body, "text"), "Returns");
    cfx_close(&f);
}

/* A timeout before any token: no text, partial: false; the question is
 * kept, no answer stored. */
static void t_llm_times_out_before_any_token(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    f.llm.fail_after = -1;
    f.llm.fail_rc = LLM_ETIMEOUT;
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\","
                                           "\"sessionId\":\"s4\"}"),
                    200);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "text"), 0);
    const struct cap_event *err = cap_find(&f.h.p, "error", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "error"), 1);
    CU_ASSERT_STRING_EQUAL(cap_str(err->data, "code"), "UPSTREAM_TIMEOUT");
    CU_ASSERT_FALSE(json_object_get_boolean(jget(err->data, "partial")));
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)), "user/0/How many days for returns?");
    cfx_close(&f);
}

/* The store is lost when the question is written (the provider's `sent`,
 * before any token reaches the client): DB_CONNECTION_ERROR, no text,
 * nothing stored. Store steps: 1 the session's lookup (s5 does not exist:
 * a fresh id), 2 connect, 3 the full-text search, 4 the chunks, 5 the
 * turn. */
static void t_question_not_stored(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    fake_store_reset(&f.st, 5, ST_ECONN);
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\","
                                           "\"sessionId\":\"s5\"}"),
                    200);
    CU_ASSERT_EQUAL(f.llm.streams, 1);
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "text"), 0);
    const struct cap_event *err = cap_find(&f.h.p, "error", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "error"), 1);
    CU_ASSERT_STRING_EQUAL(cap_str(err->data, "code"), "DB_CONNECTION_ERROR");
    CU_ASSERT_STRING_EQUAL(cap_str(err->data, "message"), "The database is unreachable (storing the question)");
    CU_ASSERT_FALSE(json_object_get_boolean(jget(err->data, "partial")));
    CU_ASSERT_STRING_EQUAL(f.st.failed_op ? f.st.failed_op : "", "sess_turn");
    CU_ASSERT_EQUAL(f.st.nmsgs, 0);
    cfx_close(&f);
}

/* Speech fails on the second sentence: the first sentence's audio was
 * sent, then a `progress {step: "tts"}` says why, the text goes on to the
 * end, no `error`, and `complete.ttsError` reports it (docs/chat.md). */
static void check_tts_second_sentence(int background)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    f.tts.fail_at = 2;
    f.tts.background = background;
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop1\","
                                           "\"sessionId\":\"s3\",\"enableTTS\":true,\"voice\":\"fake-b\"}"),
                    200);
    size_t naudio = 0, first_audio = f.h.p.n, failed_at = f.h.p.n;
    for (size_t i = 0; i < f.h.p.n; i++) {
        const struct cap_event *e = &f.h.p.ev[i];
        if (!strcmp(e->name, "audio")) {
            naudio++;
            CU_ASSERT_EQUAL(jint(e->data, "sentence"), 1);
            if (first_audio == f.h.p.n) first_audio = i;
        }
        const char *m = !strcmp(e->name, "progress") ? cap_str(e->data, "message") : NULL;
        if (m && !strcmp(cap_str(e->data, "step"), "tts") && strstr(m, "Speech failed")) {
            failed_at = i;
            CU_ASSERT_PTR_NOT_NULL(strstr(m, "the answer continues as text"));
            CU_ASSERT_PTR_NOT_NULL(strstr(m, "fake outage on sentence 2"));
        }
    }
    CU_ASSERT(naudio >= 1);
    CU_ASSERT(first_audio < failed_at && failed_at < f.h.p.n);
    char mp3[512];
    CU_ASSERT(sentence_audio(&f.h, 1, mp3, sizeof(mp3)) > 0);
    CU_ASSERT_STRING_EQUAL(mp3, "FAKE-MP3 1: Returns are accepted within 7 days.");
    CU_ASSERT_STRING_EQUAL(last_text(&f.h), ANSWER);   /* the text went on */
    CU_ASSERT_EQUAL(cap_count(&f.h.p, "error"), 0);
    CU_ASSERT_EQUAL(f.tts.begun, 2);                    /* nothing spoken after the failure */
    const struct cap_event *done = cap_find(&f.h.p, "complete", 0);
    CU_ASSERT_EQUAL_FATAL(cap_count(&f.h.p, "complete"), 1);
    json_object *te = jget(done->data, "ttsError");
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    CU_ASSERT_STRING_EQUAL(cap_str(te, "code"), "UPSTREAM_ERROR");
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(te, "message"), "503"));
    CU_ASSERT_EQUAL(jint(done->data, "sentencesSpoken"), 1);
    CU_ASSERT_EQUAL(jint(done->data, "audioChunks"), (int)naudio);
    CU_ASSERT_STRING_EQUAL(f.h.p.ev[f.h.p.n - 1].name, "close");
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, connected_sid(&f.h), dump, sizeof(dump)),
                           "user/0/How many days for returns?\nassistant/0/" ANSWER);
    cfx_close(&f);
}

static void t_tts_fails_on_second_sentence(void) { check_tts_second_sentence(0); }
static void t_tts_fails_on_second_sentence_background(void) { check_tts_second_sentence(1); }

/* The progress event of the session step that carries the outcome. */
static json_object *session_progress(const struct rfx *h)
{
    for (size_t i = 0; i < h->p.n; i++)
        if (!strcmp(h->p.ev[i].name, "progress") && cap_str(h->p.ev[i].data, "step") &&
            !strcmp(cap_str(h->p.ev[i].data, "step"), "session") && jget(h->p.ev[i].data, "newSession"))
            return h->p.ev[i].data;
    return NULL;
}

/* A session belongs to its chatbot: shop1's session sent with shop2 starts
 * a fresh session (progress says so), and nothing of shop1's conversation
 * reaches the model; shop1 itself continues it with its history. A
 * client's own id is never adopted, an idle session is not continued, nor
 * the sales agent's, nor a row from before owners. */
static void t_session_belongs_to_its_chatbot(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    fake_store_seed_text(&f.st, "shop2", "Other shop", "Returns within 30 days at the other shop.");
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"My phone is 98765 43210, returns?\",\"chatbotId\":\"shop1\"}"),
                    200);
    char sid[65];
    snprintf(sid, sizeof(sid), "%s", connected_sid(&f.h));
    CU_ASSERT_EQUAL(strlen(sid), 32);

    /* shop2 sends shop1's id */
    rfx_reset(&f.h);
    char body[256];
    snprintf(body, sizeof(body), "{\"query\":\"How many days for returns?\",\"chatbotId\":\"shop2\",\"sessionId\":\"%s\"}",
             sid);
    CU_ASSERT_EQUAL(post(&f, STREAM, body), 200);
    CU_ASSERT_STRING_NOT_EQUAL(connected_sid(&f.h), sid);
    json_object *sp = session_progress(&f.h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    CU_ASSERT(json_object_get_boolean(jget(sp, "newSession")));
    CU_ASSERT_STRING_EQUAL(cap_str(sp, "reason"), "other_owner");
    CU_ASSERT_STRING_EQUAL(cap_str(sp, "requestedSessionId"), sid);
    CU_ASSERT_PTR_NOT_NULL(strstr(cap_str(sp, "message"), "belongs to another chatbot"));
    CU_ASSERT_EQUAL(f.llm.nmsgs, 2);                           /* the system prompt and the question only */
    CU_ASSERT_PTR_NULL(strstr(f.llm.all, "98765"));
    CU_ASSERT_PTR_NULL(strstr(f.llm.system, "98765"));
    char dump[2048];
    CU_ASSERT_STRING_EQUAL(fake_store_messages(&f.st, sid, dump, sizeof(dump)),
                           "user/0/My phone is 98765 43210, returns?\nassistant/0/" ANSWER);   /* untouched */
    CU_ASSERT_EQUAL(fake_store_session(&f.st, connected_sid(&f.h))->kind, SESS_CHAT);
    CU_ASSERT_STRING_EQUAL(fake_store_session(&f.st, connected_sid(&f.h))->chatbot, "shop2");

    /* shop1 continues it, with its history */
    rfx_reset(&f.h);
    snprintf(body, sizeof(body), "{\"query\":\"And exchanges?\",\"chatbotId\":\"shop1\",\"sessionId\":\"%s\"}", sid);
    CU_ASSERT_EQUAL(post(&f, STREAM, body), 200);
    CU_ASSERT_STRING_EQUAL(connected_sid(&f.h), sid);
    CU_ASSERT_FALSE(json_object_get_boolean(jget(session_progress(&f.h), "newSession")));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.llm.all, "98765"));        /* its own history does reach the model */

    /* idle past session_idle_timeout_s: not continued */
    f.h.app.cfg.session_idle_timeout_s = 3600;
    fake_store_add_session(&f.st, "0123456789abcdef0123456789abcdef", SESS_CHAT, "shop1", 3600);
    fake_store_add_session(&f.st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SESS_AGENT, "shop1", 0);
    fake_store_add_session(&f.st, "legacy-1", SESS_LEGACY, "shop1", 0);
    static const struct {
        const char *id, *reason;
    } cases[] = {{"0123456789abcdef0123456789abcdef", "expired"},
                 {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "other_owner"},
                 {"legacy-1", "before_owners"},
                 {"my-own-id", "unknown"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rfx_reset(&f.h);
        snprintf(body, sizeof(body), "{\"query\":\"returns?\",\"chatbotId\":\"shop1\",\"sessionId\":\"%s\"}",
                 cases[i].id);
        CU_ASSERT_EQUAL(post(&f, STREAM, body), 200);
        CU_ASSERT_STRING_NOT_EQUAL(connected_sid(&f.h), cases[i].id);
        CU_ASSERT_EQUAL(strlen(connected_sid(&f.h)), 32);
        sp = session_progress(&f.h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
        CU_ASSERT_STRING_EQUAL(cap_str(sp, "reason"), cases[i].reason);
    }
    CU_ASSERT_PTR_NULL(fake_store_session(&f.st, "my-own-id"));   /* never adopted */
    cfx_close(&f);
}

/* The session lookup fails before `connected`: a plain 503 with the SPEC
 * body, no stream. */
static void t_session_lookup_fails(void)
{
    struct cfx f;
    cfx_open(&f, ANSWER);
    fake_store_reset(&f.st, 1, ST_ECONN);
    CU_ASSERT_EQUAL(post(&f, STREAM, "{\"query\":\"returns?\",\"chatbotId\":\"shop1\",\"sessionId\":\"abc\"}"), 503);
    CU_ASSERT_STRING_EQUAL(cap_str(f.h.p.body, "code"), "DB_CONNECTION_ERROR");
    CU_ASSERT_EQUAL(f.h.p.n, 0);
    CU_ASSERT_EQUAL(f.llm.streams, 0);
    cfx_close(&f);
}

void register_chat_stream(void)
{
    static const struct unit_case cases[] = {
        {"answer and speech with fakes", t_answer_and_speech},
        {"LLM fails after the first token", t_llm_fails_after_first_token},
        {"LLM times out before any token", t_llm_times_out_before_any_token},
        {"store lost when the question is written", t_question_not_stored},
        {"TTS fails on the second sentence (spoken at once)", t_tts_fails_on_second_sentence},
        {"TTS fails on the second sentence (in the background)", t_tts_fails_on_second_sentence_background},
        {"a session belongs to its chatbot", t_session_belongs_to_its_chatbot},
        {"the session lookup fails before the stream", t_session_lookup_fails},
        {NULL, NULL},
    };
    unit_suite("chat-stream", cases);
}
