/* chat.c: POST /api/chat/query/stream and /api/chat/query: an answer from
 * the chatbot's uploaded context (SPEC 1.1, 2.1). Steps: session,
 * retrieval, generation (one task for the LLM provider, whichever it is),
 * tts (sentence by sentence, interleaved with generation), then
 * suggestions and complete. The user's question is stored when the
 * generator's request is on its way (a network model: while it prepares
 * its first token) and the answer after it, partial = 1 when it was cut
 * short. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/store/context.h"
#include "common/assist/llm.h"
#include "common/base/log.h"
#include "common/store/session.h"
#include "common/assist/suggest.h"
#include "common/text/tok.h"
#include "common/assist/tts.h"
#include "common/base/u8.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/answer.h"
#include "handlers/body.h"
#include "handlers/chat/chat.h"
#include "handlers/handlers.h"

enum { CHAT_MAX_QUERY = 4000, CHAT_TOPIC_CHUNKS = 40, CHAT_MAX_TOPICS = 24 };

struct chat_req {
    const char *query;
    const char *chatbot;
    const char *session;     /* NULL: a new one */
    int tts;
    const char *voice;       /* NULL: the provider's default */
};

/* One chat request, step by step; arena memory. */
struct chat_run {
    struct ctx *c;
    const char *rname;
    struct chat_req q;
    struct hx_session hs;        /* the session: continued, or fresh (and why) */
    const char *sid;             /* hs.id */
    struct llm *llm;
    struct tts *tts;             /* NULL: no speech asked */
    const char *voice;
    /* session */
    struct sess_msg *hist;       /* the last turns, oldest first */
    size_t nhist;
    int exists;
    double ms_sess;
    /* retrieval */
    struct chat_sources src;
    double ms_ret;
    /* generation: the question is stored (one commit) once the generator's
     * request is on its way, so with a network model the commit overlaps
     * its first-token time instead of adding to it */
    struct ans *a;
    unsigned char *cited;        /* room for src.nsources */
    const struct llm_msg *msgs;  /* what a model was sent (NULL: the composer answered) */
    size_t nmsgs;
    struct llm_result res;
    int stored;                  /* the session and question are stored */
    int db_rc;
    char db_err[256];
    struct sess sess;
    double ms_store;
    const char *answer;
    size_t alen;
    long prompt_tokens, answer_tokens;
};

/* ---- the body (SPEC 1.1) ------------------------------------------------------------ */

static int chat_chatbot_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

static size_t chat_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

/* Parses and checks the body; on a problem answers 400 and returns -1. */
static int chat_parse(struct ctx *c, struct chat_req *q)
{
    memset(q, 0, sizeof(*q));
    json_object *o, *v;
    if (hx_json_body(c, &o) < 0) return -1;
    if (hx_field_str(c, o, "query", 1, CHAT_MAX_QUERY * 4, 1, &q->query) < 0) return -1;
    if (chat_chars(q->query, strlen(q->query)) > CHAT_MAX_QUERY) {
        char m[96];
        snprintf(m, sizeof(m), "query must be at most %d characters", CHAT_MAX_QUERY);
        return hx_bad_field(c, "query", m);
    }
    if (json_object_object_get_ex(o, "chatbotId", &v) && json_object_is_type(v, json_type_int)) {
        if (json_object_get_int64(v) < 0) return hx_bad_field(c, "chatbotId", "chatbotId must not be negative");
        q->chatbot = ar_printf(c->ar, "%lld", (long long)json_object_get_int64(v));
    } else if (hx_field_str(c, o, "chatbotId", 1, 64, 1, &q->chatbot) < 0) {
        return -1;
    }
    if (!q->chatbot || !chat_chatbot_ok(q->chatbot))
        return hx_bad_field(c, "chatbotId", "chatbotId must be 1-64 characters of A-Z a-z 0-9 _ -");
    const char *s = NULL;
    if (hx_field_str(c, o, "sessionId", 0, 64, 1, &s) < 0) return -1;
    if (s && *s) {
        if (!sess_id_valid(s))
            return hx_bad_field(c, "sessionId", "sessionId must be 1-64 characters of A-Z a-z 0-9 . _ -");
        q->session = s;
    }
    if (hx_field_bool(c, o, "enableTTS", 0, &q->tts) < 0) return -1;
    if (hx_field_str(c, o, "voice", 0, 64, 1, &s) < 0) return -1;
    if (s && *s) q->voice = s;
    return 0;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int chat_tick(void *arg)
{
    struct ctx *c = arg;
    return sink_check(c->sink);
}

static int chat_db_fail(struct ctx *c, int rc, const char *what, const char *err)
{
    int e = hx_db_fail(c, "Chat", rc, what, err);
    return e ? e : -1;
}

/* Stores the answer sent so far; a failure is logged, not sent (the answer
 * already reached the client). */
static void chat_store_answer(struct chat_run *r, int partial)
{
    size_t len;
    const char *text = ans_text(r->a, &len);
    if (!len) return;
    char err[512];
    int rc = sess_add(r->c->app->store, r->sid, "assistant", text, len, partial, NULL, err, sizeof(err));
    if (rc != ST_OK) LOG_ERROR(r->rname, r->c->req->id, NULL, "The answer could not be stored: %s", err);
}

static long chat_count(struct ctx *c, const char *s, size_t n)
{
    struct tok *t = hx_tokenizer(c);
    return t ? tok_count(t, s, n) : -1;
}

/* Topics for context suggestions: headings of the chatbot's chunks, then
 * its file titles. Errors leave the list short. */
static size_t chat_topics(struct ctx *c, const char *chatbot, const char **out, size_t max)
{
    size_t n = 0, nt;
    char err[256];
    const char **texts;
    size_t *lens;
    if (cx_first_texts(c->app->store, c->ar, chatbot, CHAT_TOPIC_CHUNKS, &texts, &lens, &nt, err, sizeof(err)) ==
        ST_OK)
        for (size_t r = 0; r < nt && n < max; r++) sug_headings(c->ar, texts[r], lens[r], out, &n, max);
    if (cx_file_titles(c->app->store, c->ar, chatbot, CHAT_MAX_TOPICS, &texts, &nt, err, sizeof(err)) == ST_OK)
        for (size_t r = 0; r < nt && n < max; r++) {
            const char *t = texts[r];
            int dup = 0;
            for (size_t i = 0; i < n && !dup; i++) dup = strcasecmp(out[i], t) == 0;
            if (*t && !dup) out[n++] = t;
        }
    return n;
}

static json_object *chat_sources_json(const struct chat_sources *src, const unsigned char *cited)
{
    json_object *arr = json_object_new_array();
    for (int s = 1; s <= src->nsources; s++) {
        const struct chat_chunk *first = NULL;
        json_object *chunk_ids = json_object_new_array();
        for (size_t i = 0; i < src->n; i++) {
            if (src->chunks[i].source != s) continue;
            if (!first) first = &src->chunks[i];
            json_object_array_add(chunk_ids, json_object_new_int64(src->chunks[i].id));
        }
        if (!first) {
            json_object_put(chunk_ids);
            continue;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ref", json_object_new_int(s));
        json_object_object_add(o, "title", json_object_new_string(first->title));
        json_object_object_add(o, "page", first->page > 0 ? json_object_new_int(first->page) : NULL);
        json_object_object_add(o, "fileId", json_object_new_int64(first->file_id));
        json_object_object_add(o, "chunkIds", chunk_ids);
        char sc[32];
        snprintf(sc, sizeof(sc), "%.4f", first->score);
        json_object_object_add(o, "score", json_object_new_double_s(first->score, sc));
        double best = -2;
        for (size_t i = 0; i < src->n; i++)
            if (src->chunks[i].source == s && src->chunks[i].cosine > best) best = src->chunks[i].cosine;
        snprintf(sc, sizeof(sc), "%.4f", best);
        json_object_object_add(o, "vectorScore", best > -2 ? json_object_new_double_s(best, sc) : NULL);
        json_object_object_add(o, "cited", json_object_new_boolean(cited && cited[s - 1]));
        json_object_array_add(arr, o);
    }
    return arr;
}

static double chat_ms_since(int64_t t0_us)
{
    return (double)(clk_mono_us() - t0_us) / 1e3;
}

static json_object *chat_ms_json(double ms)
{
    char b[32];
    snprintf(b, sizeof(b), "%.2f", ms);
    return json_object_new_double_s(ms, b);
}

/* ---- before the stream: providers, session id, connected ----------------------------------- */

/* The speech provider and voice (when asked for) and the LLM; a problem
 * answers 503 or 400 (voice) and returns -1. */
static int chat_providers(struct chat_run *r)
{
    struct ctx *c = r->c;
    char err[512];
    if (r->q.tts || r->q.voice) {
        if (!(r->tts = hx_tts(c, err, sizeof(err)))) {
            sink_reject(c->sink, 503, "PROCESSING_ERROR", "Text to speech is unavailable on this server", NULL);
            return -1;
        }
        if (r->q.voice && !tts_voice_valid(r->tts, r->q.voice)) {
            char m[400];
            snprintf(m, sizeof(m), "voice '%.40s' is not a voice of the %s speech provider; try one of: %s",
                     r->q.voice, tts_name(r->tts), tts_voice_hint(r->tts));
            return hx_bad_field(c, "voice", m);
        }
        r->voice = r->q.voice ? r->q.voice : tts_default_voice(r->tts);
    }
    if (!(r->llm = hx_llm(c, err, sizeof(err)))) {
        sink_reject(c->sink, 503, "PROCESSING_ERROR", "The answer generator is unavailable on this server", NULL);
        return -1;
    }
    return 0;
}

/* The session (the client's when this chatbot's chat may continue it,
 * else a fresh id): before `connected`, whose sessionId is final. 0, or
 * -1 after a pre-stream answer (the lookup failed). */
static int chat_session_pick(struct chat_run *r)
{
    if (hx_session_pick(r->c, SESS_CHAT, r->q.chatbot, r->q.session, &r->hs) < 0) return -1;
    r->sid = r->hs.id;
    return 0;
}

/* The start log line and `connected`. 0 or SINK_E*. */
static int chat_connected(struct chat_run *r)
{
    struct ctx *c = r->c;
    const struct chat_req *q = &r->q;
    json_object *lx = json_object_new_object();
    json_object_object_add(lx, "chatbotId", json_object_new_string(q->chatbot));
    json_object_object_add(lx, "sessionId", json_object_new_string(r->sid));
    json_object_object_add(lx, "enableTTS", json_object_new_boolean(q->tts));
    json_object_object_add(lx, "query", json_object_new_string(q->query));
    LOG_INFO(r->rname, c->req->id, lx, "Chat stream started");
    json_object_put(lx);

    json_object *co = json_object_new_object();
    json_object_object_add(co, "query", json_object_new_string(q->query));
    json_object_object_add(co, "chatbotId", json_object_new_string(q->chatbot));
    json_object_object_add(co, "sessionId", json_object_new_string(r->sid));
    json_object_object_add(co, "enableTTS", json_object_new_boolean(q->tts));
    json_object_object_add(co, "voice", q->tts && r->voice ? json_object_new_string(r->voice) : NULL);
    json_object_object_add(co, "llm", json_object_new_string(llm_name(r->llm)));
    return hx_connected(c, co);
}

/* ---- session --------------------------------------------------------------------------------- */

/* The continued session's last turns (no commit here), and what became
 * of the id the client sent. 0, -1 after an error event, or SINK_E*. */
static int chat_step_session(struct chat_run *r)
{
    struct ctx *c = r->c;
    char err[512];
    int rc = sink_progress(c->sink, "session", "Loading the conversation", -1, -1);
    if (rc) return rc;
    if (st_connect(c->app->store, err, sizeof(err)) != ST_OK) return chat_db_fail(c, ST_ECONN, "session", err);
    int64_t t0 = clk_mono_us();
    r->exists = r->hs.continued;
    if (r->exists) {
        rc = sess_history(c->app->store, c->ar, r->sid, c->app->cfg.chat_history_turns, &r->hist, &r->nhist, err,
                          sizeof(err));
        if (rc != ST_OK) return chat_db_fail(c, rc, "session", err);
    }
    r->ms_sess = chat_ms_since(t0);
    r->sess.created = !r->exists;
    int turns = 0;
    for (size_t i = 0; i < r->nhist; i++) turns += strcmp(r->hist[i].role, "user") == 0;
    const char *note = hx_session_note(c, &r->hs, "chatbot");
    char m[96];
    if (!r->exists) snprintf(m, sizeof(m), "New session");
    else snprintf(m, sizeof(m), "Session continued: %d earlier turn%s", turns, turns == 1 ? "" : "s");
    json_object *sp = json_object_new_object();
    json_object_object_add(sp, "step", json_object_new_string("session"));
    json_object_object_add(sp, "message", json_object_new_string(note ? note : m));
    json_object_object_add(sp, "count", json_object_new_int(turns));
    json_object_object_add(sp, "sessionId", json_object_new_string(r->sid));
    json_object_object_add(sp, "newSession", json_object_new_boolean(!r->exists));
    if (note) {
        json_object_object_add(sp, "requestedSessionId", json_object_new_string(r->hs.asked));
        json_object_object_add(sp, "reason", json_object_new_string(sess_decision_name(r->hs.decision)));
    }
    return sink_emit(c->sink, "progress", sp);
}

/* ---- retrieval ------------------------------------------------------------------------------- */

static int chat_step_retrieval(struct chat_run *r)
{
    struct ctx *c = r->c;
    const struct chat_sources *src = &r->src;
    char err[512];
    int rc = sink_progress(c->sink, "retrieval", "Searching this chatbot's documents", -1, -1);
    if (rc) return rc;
    int abort_rc = 0;
    int64_t t0 = clk_mono_us();
    const char *code = chat_retrieve(c, r->q.chatbot, r->q.query, &r->src, &abort_rc, err, sizeof(err));
    r->ms_ret = chat_ms_since(t0);
    if (abort_rc) return abort_rc;
    if (code) {
        LOG_ERROR(r->rname, c->req->id, NULL, "Retrieval failed: %s", err);
        sink_error(c->sink, code, !strncmp(code, "DB_", 3) ? "The documents could not be searched" : err);
        return -1;
    }
    char m[400];
    snprintf(m, sizeof(m), "Found %zu passages in %d sources%s%s", src->n, src->nsources, src->note ? "; " : "",
             src->note ? src->note : "");
    json_object *rp = json_object_new_object();
    json_object_object_add(rp, "step", json_object_new_string("retrieval"));
    json_object_object_add(rp, "message", json_object_new_string(m));
    json_object_object_add(rp, "count", json_object_new_int64((int64_t)src->n));
    json_object_object_add(rp, "vectorHits", json_object_new_int64((int64_t)src->vector_hits));
    json_object_object_add(rp, "textHits", json_object_new_int64((int64_t)src->text_hits));
    return sink_emit(c->sink, "progress", rp);
}

/* ---- generation (and tts, sentence by sentence) ------------------------------------------------ */

enum { CHAT_EDB = -50 };   /* a callback's code: the question could not be stored */

static int chat_store_turn(struct chat_run *r)
{
    int64_t t0 = clk_mono_us();
    r->stored = 1;
    r->db_rc = sess_turn(r->c->app->store, r->sid, SESS_CHAT, r->q.chatbot, r->q.query, NULL, &r->sess, r->db_err,
                         sizeof(r->db_err));
    r->ms_store = chat_ms_since(t0);
    return r->db_rc == ST_OK ? 0 : CHAT_EDB;
}

/* The task's two forms: a model's messages, the composer's answer. */
static int chat_gen_messages(void *arg, arena_t *ar, const struct llm_msg **msgs, size_t *n)
{
    struct chat_run *r = arg;
    r->msgs = chat_prompt(ar, r->q.query, r->src.chunks, r->src.n, r->hist, r->nhist, &r->nmsgs);
    *msgs = r->msgs;
    *n = r->nmsgs;
    return r->msgs ? 0 : -1;
}

static int chat_gen_compose(void *arg, arena_t *ar, const char **text, size_t *len)
{
    struct chat_run *r = arg;
    *text = chat_compose(ar, r->q.query, r->src.chunks, r->src.n, r->src.nsources, r->cited);
    *len = strlen(*text);
    return 0;
}

static int chat_gen_sent(void *arg)
{
    struct chat_run *r = arg;
    return r->stored ? 0 : chat_store_turn(r);
}

static int chat_gen_tick(void *arg)
{
    struct chat_run *r = arg;
    return ans_tick(r->a);
}

static int chat_gen_delta(void *arg, const char *text, size_t n)
{
    struct chat_run *r = arg;
    if (!r->stored && chat_store_turn(r)) return CHAT_EDB;
    return ans_delta(r->a, text, n);
}

/* Tokens of what the generator read: the messages a model was sent, or
 * the question and passages the composer read. -1 when not counted. */
static long chat_prompt_tokens(struct chat_run *r)
{
    long n = -1;
    if (r->msgs) {
        for (size_t i = 0; i < r->nmsgs; i++) {
            long t = chat_count(r->c, r->msgs[i].content, strlen(r->msgs[i].content));
            if (t >= 0) n = (n < 0 ? 0 : n) + t;
        }
        return n;
    }
    n = chat_count(r->c, r->q.query, strlen(r->q.query));
    for (size_t i = 0; i < r->src.n && n >= 0; i++) {
        long t = chat_count(r->c, r->src.chunks[i].text, r->src.chunks[i].len);
        n = t < 0 ? -1 : n + t;
    }
    return n;
}

/* The generator stopped short (rc: llm_stream's, or CHAT_EDB): the
 * partial answer is stored with partial = 1, then the error event (or the
 * stream's own ending for SINK_E*). */
static int chat_gen_failed(struct chat_run *r, int rc)
{
    struct ctx *c = r->c;
    ans_abort(r->a);
    if (rc == CHAT_EDB) return chat_db_fail(c, r->db_rc, "storing the question", r->db_err);
    chat_store_answer(r, 1);
    if (llm_aborted(rc)) return rc;   /* SINK_E*: the client left or the deadline passed */
    sink_error(c->sink, r->res.code[0] ? r->res.code : "PROCESSING_ERROR", r->res.err);
    return -1;
}

static int chat_step_generate(struct chat_run *r)
{
    struct ctx *c = r->c;
    char m[200];
    snprintf(m, sizeof(m), "Writing the answer (%s)", llm_name(r->llm));
    int rc = sink_progress(c->sink, "generation", m, -1, -1);
    if (rc) return rc;
    r->a = ans_new(c, r->q.tts ? r->tts : NULL, r->voice);
    r->cited = ar_calloc(c->ar, (size_t)r->src.nsources + 1, 1);
    if (!r->a || !r->cited) return SINK_EIO;
    struct llm_task task = {.messages = chat_gen_messages, .compose = chat_gen_compose, .arg = r, .temperature = -1};
    struct llm_cb cb = {.delta = chat_gen_delta, .tick = chat_gen_tick, .sent = chat_gen_sent, .arg = r};
    rc = llm_stream(r->llm, c->ar, &task, &cb, &r->res);
    /* failed before the request went out: the question is stored all the same */
    if (!r->stored && rc != CHAT_EDB && chat_store_turn(r)) rc = CHAT_EDB;
    if (rc != LLM_OK) return chat_gen_failed(r, rc);
    r->prompt_tokens = chat_prompt_tokens(r);
    r->answer = ans_text(r->a, &r->alen);
    chat_mark_cited(r->answer, r->alen, r->src.nsources, r->cited);
    r->answer_tokens = chat_count(c, r->answer, r->alen);
    chat_store_answer(r, 0);
    snprintf(m, sizeof(m), "Answer complete: %ld tokens", r->answer_tokens);
    if ((rc = sink_progress(c->sink, "generation", m, r->answer_tokens, 100))) return rc;
    return ans_finish(r->a);
}

/* ---- suggestions ------------------------------------------------------------------------------- */

static int chat_step_suggest(struct chat_run *r)
{
    struct ctx *c = r->c;
    const char *topics[CHAT_MAX_TOPICS];
    const char **asked = ar_calloc(c->ar, r->nhist + 1, sizeof(*asked));
    if (!asked) return SINK_EIO;
    size_t nasked = 0;
    for (size_t i = 0; i < r->nhist; i++)
        if (!strcmp(r->hist[i].role, "user")) asked[nasked++] = r->hist[i].content;
    struct sug_in si = {.query = r->q.query, .answer = r->answer, .asked = asked, .nasked = nasked,
                        .topics = topics, .ntopics = chat_topics(c, r->q.chatbot, topics, CHAT_MAX_TOPICS)};
    const char *sug[SUG_MAX];
    int from_llm = 0;
    struct llm_result sres;
    size_t nsug = sug_make(r->llm, c->ar, &si, sug, SUG_MAX, chat_tick, c, &from_llm, &sres);
    if (llm_aborted(sres.rc)) return sres.rc;
    if (!from_llm && sres.rc != LLM_ENOMODEL)
        LOG_ERROR(r->rname, c->req->id, NULL, "LLM suggestions failed, using the context: %s", sres.err);
    json_object *so = json_object_new_object(), *sa = json_object_new_array();
    for (size_t i = 0; i < nsug; i++) json_object_array_add(sa, json_object_new_string(sug[i]));
    json_object_object_add(so, "suggestions", sa);
    json_object_object_add(so, "source", json_object_new_string(from_llm ? "llm" : "context"));
    return sink_emit(c->sink, "suggestions", so);
}

/* ---- complete ---------------------------------------------------------------------------------- */

/* The upstream's own usage when it reported one, else our counts. */
static json_object *chat_usage_json(const struct chat_run *r, const struct tok *tk)
{
    json_object *us = json_object_new_object();
    const struct llm_usage *u = &r->res.usage;
    if (u->reported) {
        json_object_object_add(us, "promptTokens", json_object_new_int64(u->prompt_tokens));
        json_object_object_add(us, "completionTokens", json_object_new_int64(u->completion_tokens));
        json_object_object_add(us, "totalTokens", json_object_new_int64(u->total_tokens));
        json_object_object_add(us, "source", json_object_new_string("upstream"));
        return us;
    }
    long p = r->prompt_tokens, a = r->answer_tokens;
    json_object_object_add(us, "promptTokens", p >= 0 ? json_object_new_int64(p) : NULL);
    json_object_object_add(us, "completionTokens", a >= 0 ? json_object_new_int64(a) : NULL);
    json_object_object_add(us, "totalTokens", p >= 0 && a >= 0 ? json_object_new_int64(p + a) : NULL);
    json_object_object_add(us, "source", json_object_new_string(tk ? tok_name(tk) : "none"));
    return us;
}

/* `timings` into done, and the same figures (formatted once) into the log
 * line's object lc. */
static void chat_timings(const struct chat_run *r, json_object *done, json_object *lc)
{
    int64_t t0 = r->c->req->t0_ms, first = ans_first_text_ms(r->a), up = r->res.upstream_first_byte_ms;
    json_object *ms_sess = chat_ms_json(r->ms_sess), *ms_ret = chat_ms_json(r->ms_ret);
    json_object *ms_store = chat_ms_json(r->ms_store);
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "sessionMs", json_object_get(ms_sess));
    json_object_object_add(tm, "retrievalMs", json_object_get(ms_ret));
    json_object_object_add(tm, "storeMs", json_object_get(ms_store));
    json_object_object_add(tm, "firstTokenMs", first ? json_object_new_int64(first - t0) : NULL);
    json_object_object_add(tm, "upstreamFirstByteMs", up ? json_object_new_int64(up - t0) : NULL);
    json_object_object_add(done, "timings", tm);
    json_object_object_add(lc, "sessionMs", ms_sess);
    json_object_object_add(lc, "retrievalMs", ms_ret);
    json_object_object_add(lc, "storeMs", ms_store);
    if (first) json_object_object_add(lc, "firstTokenMs", json_object_new_int64(first - t0));
}

static int chat_complete(struct chat_run *r)
{
    struct ctx *c = r->c;
    const char *stop = r->res.stop_reason[0] ? r->res.stop_reason : "stop";
    struct tok *tk = hx_tokenizer(c);
    json_object *done = json_object_new_object();
    json_object_object_add(done, "duration", json_object_new_int64(hx_elapsed(c)));
    json_object_object_add(done, "sessionId", json_object_new_string(r->sid));
    json_object_object_add(done, "newSession", json_object_new_boolean(r->sess.created));
    json_object_object_add(done, "chatbotId", json_object_new_string(r->q.chatbot));
    json_object_object_add(done, "chunks", json_object_new_int64((int64_t)r->src.n));
    json_object_object_add(done, "sources", chat_sources_json(&r->src, r->cited));
    json_object_object_add(done, "tokens", r->answer_tokens >= 0 ? json_object_new_int64(r->answer_tokens) : NULL);
    json_object_object_add(done, "tokenizer", json_object_new_string(tk ? tok_name(tk) : "none"));
    json_object_object_add(done, "usage", chat_usage_json(r, tk));
    json_object_object_add(done, "stopReason", json_object_new_string(stop));
    json_object_object_add(done, "audioChunks", json_object_new_int(ans_audio_events(r->a)));
    json_object_object_add(done, "sentencesSpoken", json_object_new_int(ans_sentences_spoken(r->a)));
    json_object_object_add(done, "llm", json_object_new_string(llm_name(r->llm)));
    json_object_object_add(done, "tts", r->q.tts && r->tts ? json_object_new_string(tts_name(r->tts)) : NULL);
    const char *tcode = NULL, *terr = ans_tts_error(r->a, &tcode);
    if (terr) {
        json_object *te = json_object_new_object();
        json_object_object_add(te, "code", json_object_new_string(tcode ? tcode : "PROCESSING_ERROR"));
        json_object_object_add(te, "message", json_object_new_string(terr));
        json_object_object_add(done, "ttsError", te);
    }
    json_object *lc = json_object_new_object();
    json_object_object_add(lc, "chunks", json_object_new_int64((int64_t)r->src.n));
    json_object_object_add(lc, "tokens", json_object_new_int64(r->answer_tokens));
    json_object_object_add(lc, "audioChunks", json_object_new_int(ans_audio_events(r->a)));
    json_object_object_add(lc, "stopReason", json_object_new_string(stop));
    json_object_object_add(lc, "durationMs", json_object_new_int64(hx_elapsed(c)));
    chat_timings(r, done, lc);
    LOG_INFO(r->rname, c->req->id, lc, "Chat stream complete");
    json_object_put(lc);
    return sink_emit(c->sink, "complete", done);
}

/* ---- the handler ------------------------------------------------------------------------------- */

int h_chat(struct ctx *c)
{
    struct chat_run *r = ar_calloc(c->ar, 1, sizeof(*r));
    if (!r) return SINK_EIO;
    r->c = c;
    r->rname = c->route->name;
    r->prompt_tokens = r->answer_tokens = -1;
    if (chat_parse(c, &r->q) < 0) return 0;   /* answered 400 */
    hx_cors_chatbot(c, r->q.chatbot);
    if (chat_providers(r) < 0 || chat_session_pick(r) < 0) return 0;   /* answered 400 / 503 */
    int rc = chat_connected(r);
    if (!rc) rc = chat_step_session(r);
    if (!rc) rc = chat_step_retrieval(r);
    if (!rc) rc = chat_step_generate(r);
    if (!rc) rc = chat_step_suggest(r);
    if (!rc) rc = chat_complete(r);
    return rc;
}
