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
#include "common/base/id.h"
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
static void chat_store_answer(struct ctx *c, const char *sid, struct ans *a, int partial)
{
    size_t len;
    const char *text = ans_text(a, &len);
    if (!len) return;
    char err[512];
    int rc = sess_add(c->app->store, sid, "assistant", text, len, partial, NULL, err, sizeof(err));
    if (rc != ST_OK) LOG_ERROR(c->route->name, c->req->id, NULL, "The answer could not be stored: %s", err);
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

/* Generation: one task for the LLM provider (a model's messages, or the
 * builtin composer's answer) and the callbacks around handlers/answer. The
 * question is stored (one commit) once the request is on its way, so with
 * a network model the commit overlaps its first-token time instead of
 * adding to it. */
enum { CHAT_EDB = -50 };

struct chat_gen {
    struct ctx *c;
    struct ans *a;
    const char *sid, *chatbot, *query;
    const struct chat_sources *src;
    const struct sess_msg *hist;
    size_t nhist;
    unsigned char *cited;          /* room for src->nsources */
    const struct llm_msg *msgs;    /* what a model was sent (NULL: the composer answered) */
    size_t nmsgs;
    int stored;            /* the session and question are stored */
    int db_rc;
    char db_err[256];
    struct sess sess;
    double store_ms;
};

static int chat_store_turn(struct chat_gen *g)
{
    int64_t t0 = clk_mono_us();
    g->stored = 1;
    g->db_rc = sess_turn(g->c->app->store, g->sid, g->chatbot, g->query, NULL, &g->sess, g->db_err, sizeof(g->db_err));
    g->store_ms = chat_ms_since(t0);
    return g->db_rc == ST_OK ? 0 : CHAT_EDB;
}

static int chat_gen_messages(void *arg, arena_t *ar, const struct llm_msg **msgs, size_t *n)
{
    struct chat_gen *g = arg;
    g->msgs = chat_prompt(ar, g->query, g->src->chunks, g->src->n, g->hist, g->nhist, &g->nmsgs);
    *msgs = g->msgs;
    *n = g->nmsgs;
    return g->msgs ? 0 : -1;
}

static int chat_gen_compose(void *arg, arena_t *ar, const char **text, size_t *len)
{
    struct chat_gen *g = arg;
    *text = chat_compose(ar, g->query, g->src->chunks, g->src->n, g->src->nsources, g->cited);
    *len = strlen(*text);
    return 0;
}

static int chat_gen_sent(void *arg)
{
    struct chat_gen *g = arg;
    return g->stored ? 0 : chat_store_turn(g);
}

static int chat_gen_tick(void *arg)
{
    struct chat_gen *g = arg;
    return ans_tick(g->a);
}

static int chat_gen_delta(void *arg, const char *text, size_t n)
{
    struct chat_gen *g = arg;
    if (!g->stored && chat_store_turn(g)) return CHAT_EDB;
    return ans_delta(g->a, text, n);
}

/* Tokens of what the generator read: the messages a model was sent, or
 * the question and passages the composer read. -1 when not counted. */
static long chat_prompt_tokens(struct ctx *c, const struct chat_gen *g)
{
    long n = -1;
    if (g->msgs) {
        for (size_t i = 0; i < g->nmsgs; i++) {
            long t = chat_count(c, g->msgs[i].content, strlen(g->msgs[i].content));
            if (t >= 0) n = (n < 0 ? 0 : n) + t;
        }
        return n;
    }
    n = chat_count(c, g->query, strlen(g->query));
    for (size_t i = 0; i < g->src->n && n >= 0; i++) {
        long t = chat_count(c, g->src->chunks[i].text, g->src->chunks[i].len);
        n = t < 0 ? -1 : n + t;
    }
    return n;
}

/* ---- the handler --------------------------------------------------------------------------- */

int h_chat(struct ctx *c)
{
    const struct cfg *cfg = &c->app->cfg;
    const char *rname = c->route->name;
    struct chat_req q;
    char err[512];
    if (chat_parse(c, &q) < 0) return 0;

    struct tts *tts = NULL;
    if (q.tts || q.voice) {
        if (!(tts = hx_tts(c, err, sizeof(err)))) {
            sink_reject(c->sink, 503, "PROCESSING_ERROR", "Text to speech is unavailable on this server", NULL);
            return 0;
        }
        if (q.voice && !tts_voice_valid(tts, q.voice)) {
            char m[400];
            snprintf(m, sizeof(m), "voice '%.40s' is not a voice of the %s speech provider; try one of: %s", q.voice,
                     tts_name(tts), tts_voice_hint(tts));
            return hx_bad_field(c, "voice", m);
        }
    }
    const char *voice = tts ? (q.voice ? q.voice : tts_default_voice(tts)) : NULL;
    struct llm *llm = hx_llm(c, err, sizeof(err));
    if (!llm) {
        sink_reject(c->sink, 503, "PROCESSING_ERROR", "The answer generator is unavailable on this server", NULL);
        return 0;
    }
    char fresh[ID_SIZE];
    const char *sid = q.session;
    if (!sid) {
        id_new(fresh);
        sid = ar_strdup(c->ar, fresh);
    }

    json_object *lx = json_object_new_object();
    json_object_object_add(lx, "chatbotId", json_object_new_string(q.chatbot));
    json_object_object_add(lx, "sessionId", json_object_new_string(sid));
    json_object_object_add(lx, "enableTTS", json_object_new_boolean(q.tts));
    json_object_object_add(lx, "query", json_object_new_string(q.query));
    LOG_INFO(rname, c->req->id, lx, "Chat stream started");
    json_object_put(lx);

    json_object *co = json_object_new_object();
    json_object_object_add(co, "query", json_object_new_string(q.query));
    json_object_object_add(co, "chatbotId", json_object_new_string(q.chatbot));
    json_object_object_add(co, "sessionId", json_object_new_string(sid));
    json_object_object_add(co, "enableTTS", json_object_new_boolean(q.tts));
    json_object_object_add(co, "voice", q.tts && voice ? json_object_new_string(voice) : NULL);
    json_object_object_add(co, "llm", json_object_new_string(llm_name(llm)));
    int rc = hx_connected(c, co);
    if (rc) return rc;

    /* ---- session ---- */
    if ((rc = sink_progress(c->sink, "session", "Loading the conversation", -1, -1))) return rc;
    if (st_connect(c->app->store, err, sizeof(err)) != ST_OK) return chat_db_fail(c, ST_ECONN, "session", err);
    struct sess_msg *hist = NULL;
    size_t nhist = 0;
    int exists = 0;
    int64_t t_req = clk_mono_us();
    struct chat_gen g = {.c = c, .sid = sid, .chatbot = q.chatbot, .query = q.query};
    int drc = sess_load(c->app->store, c->ar, sid, cfg->chat_history_turns, &exists, &hist, &nhist, err, sizeof(err));
    double t_sess = chat_ms_since(t_req);
    if (drc != ST_OK) return chat_db_fail(c, drc, "session", err);
    g.sess.created = !exists;
    int turns = 0;
    for (size_t i = 0; i < nhist; i++) turns += strcmp(hist[i].role, "user") == 0;
    char m[400];
    if (!exists) snprintf(m, sizeof(m), "New session");
    else snprintf(m, sizeof(m), "Session continued: %d earlier turn%s", turns, turns == 1 ? "" : "s");
    json_object *sp = json_object_new_object();
    json_object_object_add(sp, "step", json_object_new_string("session"));
    json_object_object_add(sp, "message", json_object_new_string(m));
    json_object_object_add(sp, "count", json_object_new_int(turns));
    json_object_object_add(sp, "sessionId", json_object_new_string(sid));
    json_object_object_add(sp, "newSession", json_object_new_boolean(!exists));
    if ((rc = sink_emit(c->sink, "progress", sp))) return rc;

    /* ---- retrieval ---- */
    if ((rc = sink_progress(c->sink, "retrieval", "Searching this chatbot's documents", -1, -1))) return rc;
    struct chat_sources src;
    int abort_rc = 0;
    int64_t t_r0 = clk_mono_us();
    const char *code = chat_retrieve(c, q.chatbot, q.query, &src, &abort_rc, err, sizeof(err));
    double t_ret = chat_ms_since(t_r0);
    if (abort_rc) return abort_rc;
    if (code) {
        LOG_ERROR(rname, c->req->id, NULL, "Retrieval failed: %s", err);
        sink_error(c->sink, code, !strncmp(code, "DB_", 3) ? "The documents could not be searched" : err);
        return -1;
    }
    snprintf(m, sizeof(m), "Found %zu passages in %d sources%s%s", src.n, src.nsources, src.note ? "; " : "",
             src.note ? src.note : "");
    json_object *rp = json_object_new_object();
    json_object_object_add(rp, "step", json_object_new_string("retrieval"));
    json_object_object_add(rp, "message", json_object_new_string(m));
    json_object_object_add(rp, "count", json_object_new_int64((int64_t)src.n));
    json_object_object_add(rp, "vectorHits", json_object_new_int64((int64_t)src.vector_hits));
    json_object_object_add(rp, "textHits", json_object_new_int64((int64_t)src.text_hits));
    if ((rc = sink_emit(c->sink, "progress", rp))) return rc;

    /* ---- generation (and tts, sentence by sentence) ---- */
    snprintf(m, sizeof(m), "Writing the answer (%s)", llm_name(llm));
    if ((rc = sink_progress(c->sink, "generation", m, -1, -1))) return rc;
    struct ans *a = ans_new(c, q.tts ? tts : NULL, voice);
    unsigned char *cited = ar_calloc(c->ar, (size_t)src.nsources + 1, 1);
    if (!a || !cited) return SINK_EIO;
    g.a = a;
    g.src = &src;
    g.hist = hist;
    g.nhist = nhist;
    g.cited = cited;
    struct llm_task task = {.messages = chat_gen_messages, .compose = chat_gen_compose, .arg = &g, .temperature = -1};
    struct llm_cb cb = {.delta = chat_gen_delta, .tick = chat_gen_tick, .sent = chat_gen_sent, .arg = &g};
    struct llm_result res;
    rc = llm_stream(llm, c->ar, &task, &cb, &res);
    if (!g.stored && rc != CHAT_EDB && chat_store_turn(&g)) rc = CHAT_EDB;   /* failed before it was sent */
    if (rc == CHAT_EDB) {
        ans_abort(a);
        return chat_db_fail(c, g.db_rc, "storing the question", g.db_err);
    }
    if (rc != LLM_OK) {
        ans_abort(a);
        chat_store_answer(c, sid, a, 1);
        if (llm_aborted(rc)) return rc;   /* SINK_E*: the client left or the deadline passed */
        sink_error(c->sink, res.code[0] ? res.code : "PROCESSING_ERROR", res.err);
        return -1;
    }
    long prompt_tokens = chat_prompt_tokens(c, &g);
    size_t alen;
    const char *answer = ans_text(a, &alen);
    chat_mark_cited(answer, alen, src.nsources, cited);
    long answer_tokens = chat_count(c, answer, alen);
    chat_store_answer(c, sid, a, 0);
    snprintf(m, sizeof(m), "Answer complete: %ld tokens", answer_tokens);
    if ((rc = sink_progress(c->sink, "generation", m, answer_tokens, 100))) return rc;
    if ((rc = ans_finish(a))) return rc;

    /* ---- suggestions ---- */
    const char *topics[CHAT_MAX_TOPICS];
    const char **asked = ar_calloc(c->ar, nhist + 1, sizeof(*asked));
    if (!asked) return SINK_EIO;
    size_t nasked = 0;
    for (size_t i = 0; i < nhist; i++)
        if (!strcmp(hist[i].role, "user")) asked[nasked++] = hist[i].content;
    struct sug_in si = {.query = q.query, .answer = answer, .asked = asked, .nasked = nasked, .topics = topics,
                        .ntopics = chat_topics(c, q.chatbot, topics, CHAT_MAX_TOPICS)};
    const char *sug[SUG_MAX];
    size_t nsug;
    int from_llm = 0;
    struct llm_result sres;
    nsug = sug_make(llm, c->ar, &si, sug, SUG_MAX, chat_tick, c, &from_llm, &sres);
    if (llm_aborted(sres.rc)) return sres.rc;
    if (!from_llm && sres.rc != LLM_ENOMODEL)
        LOG_ERROR(rname, c->req->id, NULL, "LLM suggestions failed, using the context: %s", sres.err);
    json_object *so = json_object_new_object(), *sa = json_object_new_array();
    for (size_t i = 0; i < nsug; i++) json_object_array_add(sa, json_object_new_string(sug[i]));
    json_object_object_add(so, "suggestions", sa);
    json_object_object_add(so, "source", json_object_new_string(from_llm ? "llm" : "context"));
    if ((rc = sink_emit(c->sink, "suggestions", so))) return rc;

    /* ---- complete ---- */
    json_object *done = json_object_new_object();
    json_object_object_add(done, "duration", json_object_new_int64(hx_elapsed(c)));
    json_object_object_add(done, "sessionId", json_object_new_string(sid));
    json_object_object_add(done, "newSession", json_object_new_boolean(g.sess.created));
    json_object_object_add(done, "chatbotId", json_object_new_string(q.chatbot));
    json_object_object_add(done, "chunks", json_object_new_int64((int64_t)src.n));
    json_object_object_add(done, "sources", chat_sources_json(&src, cited));
    json_object_object_add(done, "tokens", answer_tokens >= 0 ? json_object_new_int64(answer_tokens) : NULL);
    struct tok *tk = hx_tokenizer(c);
    json_object_object_add(done, "tokenizer", json_object_new_string(tk ? tok_name(tk) : "none"));
    json_object *us = json_object_new_object();
    if (res.usage.reported) {
        json_object_object_add(us, "promptTokens", json_object_new_int64(res.usage.prompt_tokens));
        json_object_object_add(us, "completionTokens", json_object_new_int64(res.usage.completion_tokens));
        json_object_object_add(us, "totalTokens", json_object_new_int64(res.usage.total_tokens));
        json_object_object_add(us, "source", json_object_new_string("upstream"));
    } else {
        json_object_object_add(us, "promptTokens", prompt_tokens >= 0 ? json_object_new_int64(prompt_tokens) : NULL);
        json_object_object_add(us, "completionTokens",
                               answer_tokens >= 0 ? json_object_new_int64(answer_tokens) : NULL);
        json_object_object_add(us, "totalTokens", prompt_tokens >= 0 && answer_tokens >= 0
                                                      ? json_object_new_int64(prompt_tokens + answer_tokens)
                                                      : NULL);
        json_object_object_add(us, "source", json_object_new_string(tk ? tok_name(tk) : "none"));
    }
    json_object_object_add(done, "usage", us);
    json_object_object_add(done, "stopReason", json_object_new_string(res.stop_reason[0] ? res.stop_reason : "stop"));
    json_object_object_add(done, "audioChunks", json_object_new_int(ans_audio_events(a)));
    json_object_object_add(done, "sentencesSpoken", json_object_new_int(ans_sentences_spoken(a)));
    json_object_object_add(done, "llm", json_object_new_string(llm_name(llm)));
    json_object_object_add(done, "tts", q.tts && tts ? json_object_new_string(tts_name(tts)) : NULL);
    const char *tcode = NULL, *terr = ans_tts_error(a, &tcode);
    if (terr) {
        json_object *te = json_object_new_object();
        json_object_object_add(te, "code", json_object_new_string(tcode ? tcode : "PROCESSING_ERROR"));
        json_object_object_add(te, "message", json_object_new_string(terr));
        json_object_object_add(done, "ttsError", te);
    }
    /* the timings go to the event and the log line: formatted once */
    json_object *ms_sess = chat_ms_json(t_sess), *ms_ret = chat_ms_json(t_ret), *ms_store = chat_ms_json(g.store_ms);
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "sessionMs", json_object_get(ms_sess));
    json_object_object_add(tm, "retrievalMs", json_object_get(ms_ret));
    json_object_object_add(tm, "storeMs", json_object_get(ms_store));
    json_object_object_add(tm, "firstTokenMs", ans_first_text_ms(a)
                                                    ? json_object_new_int64(ans_first_text_ms(a) - c->req->t0_ms)
                                                    : NULL);
    json_object_object_add(tm, "upstreamFirstByteMs", res.upstream_first_byte_ms
                                                          ? json_object_new_int64(res.upstream_first_byte_ms -
                                                                                  c->req->t0_ms)
                                                          : NULL);
    json_object_object_add(done, "timings", tm);
    json_object *lc = json_object_new_object();
    json_object_object_add(lc, "chunks", json_object_new_int64((int64_t)src.n));
    json_object_object_add(lc, "tokens", json_object_new_int64(answer_tokens));
    json_object_object_add(lc, "audioChunks", json_object_new_int(ans_audio_events(a)));
    json_object_object_add(lc, "stopReason", json_object_new_string(res.stop_reason[0] ? res.stop_reason : "stop"));
    json_object_object_add(lc, "durationMs", json_object_new_int64(hx_elapsed(c)));
    json_object_object_add(lc, "sessionMs", ms_sess);
    json_object_object_add(lc, "retrievalMs", ms_ret);
    json_object_object_add(lc, "storeMs", ms_store);
    if (ans_first_text_ms(a))
        json_object_object_add(lc, "firstTokenMs", json_object_new_int64(ans_first_text_ms(a) - c->req->t0_ms));
    LOG_INFO(rname, c->req->id, lc, "Chat stream complete");
    json_object_put(lc);
    return sink_emit(c->sink, "complete", done);
}
