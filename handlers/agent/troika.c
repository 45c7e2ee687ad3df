/* troika.c: POST /api/troika/intelligent-chat[/stream], the sales agent.
 *
 * Steps: intent_analysis (builtin intent + entities, the conversation and
 * customerContext fill the gaps), market_intelligence (figures over the
 * segment), product_matching (the product-search pipeline with the
 * intent's filters, relaxed in a stated order when nothing matches),
 * generation (the LLM provider: a model kept to the matched list, or the
 * builtin composer), tts. Everything lives in the request arena; per-worker state (designer
 * list) hangs off struct app. */
#include "handlers/agent/troika.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/base/config.h"
#include "common/text/inr.h"
#include "common/assist/intent.h"
#include "common/assist/llm.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "common/store/session.h"
#include "common/store/store.h"
#include "common/assist/tts.h"
#include "common/base/u8.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/answer.h"
#include "handlers/body.h"
#include "handlers/handlers.h"

enum { TK_MESSAGE_MAX = 4000 };

/* ---- the request body ------------------------------------------------------- */


static int tk_bad(struct ctx *c, const char *field, const char *fmt, const char *arg)
{
    char m[256];
    snprintf(m, sizeof(m), fmt, arg);
    return hx_bad_field(c, field, m);
}

/* A number, or an object {min, max}, or a phrase ("around 40k"). */
static int tk_parse_budget(struct ctx *c, json_object *b, struct it_context *cx)
{
    const char *f = "customerContext.budget";
    if (json_object_is_type(b, json_type_int) || json_object_is_type(b, json_type_double)) {
        double v = json_object_get_double(b);
        if (!isfinite(v) || v <= 0) return tk_bad(c, f, "%s must be a positive amount", f);
        cx->budget_max = v;
        return 0;
    }
    if (json_object_is_type(b, json_type_object)) {
        static const char *const keys[2] = {"min", "max"};
        double *dst[2] = {&cx->budget_min, &cx->budget_max};
        for (int i = 0; i < 2; i++) {
            json_object *v;
            if (!json_object_object_get_ex(b, keys[i], &v) || json_object_is_type(v, json_type_null)) continue;
            if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
                return tk_bad(c, i ? "customerContext.budget.max" : "customerContext.budget.min",
                              "%s must be a number", i ? "customerContext.budget.max" : "customerContext.budget.min");
            double d = json_object_get_double(v);
            if (!isfinite(d) || d < 0)
                return tk_bad(c, i ? "customerContext.budget.max" : "customerContext.budget.min",
                              "%s must not be negative", i ? "customerContext.budget.max" : "customerContext.budget.min");
            *dst[i] = d;
        }
        if (cx->budget_min > 0 && cx->budget_max > 0 && cx->budget_min > cx->budget_max)
            return tk_bad(c, f, "%s.min is above its max", f);
        return 0;
    }
    if (json_object_is_type(b, json_type_string)) {
        struct qp_result q;
        qp_parse(json_object_get_string(b), &q);
        if (q.f.min_price < 0 && q.f.max_price < 0) {
            /* a bare amount: "40000" or "40k" */
            char buf[80];
            snprintf(buf, sizeof(buf), "under %s", json_object_get_string(b));
            qp_parse(buf, &q);
        }
        if (q.f.min_price < 0 && q.f.max_price < 0)
            return tk_bad(c, f, "%s is not an amount or a price phrase (\"40000\", \"around 40k\")", f);
        cx->budget_min = q.f.min_price > 0 ? q.f.min_price : 0;
        cx->budget_max = q.f.max_price > 0 ? q.f.max_price : 0;
        return 0;
    }
    if (json_object_is_type(b, json_type_null)) return 0;
    return tk_bad(c, f, "%s must be a number, an object {min, max} or a price phrase", f);
}

/* An array of up to 4 strings into out (NULL-terminated). */
static int tk_parse_strs(struct ctx *c, json_object *a, const char *field, const char **out)
{
    if (json_object_is_type(a, json_type_null)) return 0;
    if (json_object_is_type(a, json_type_string)) {
        out[0] = json_object_get_string(a);
        return 0;
    }
    if (!json_object_is_type(a, json_type_array)) return tk_bad(c, field, "%s must be an array of strings", field);
    size_t n = json_object_array_length(a), k = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(a, i);
        if (!json_object_is_type(v, json_type_string))
            return tk_bad(c, field, "%s must be an array of strings", field);
        if (k < 3 && json_object_get_string_len(v) > 0 && json_object_get_string_len(v) <= 64)
            out[k++] = json_object_get_string(v);
    }
    out[k] = NULL;
    return 0;
}

static int tk_parse_context(struct ctx *c, json_object *o, struct tk_in *in)
{
    if (json_object_is_type(o, json_type_null)) return 0;
    if (!json_object_is_type(o, json_type_object))
        return hx_bad_field(c, "customerContext", "customerContext must be an object");
    json_object *v;
    in->have_cx = 1;
    in->cx_json = o;
    if (json_object_object_get_ex(o, "budget", &v) && tk_parse_budget(c, v, &in->cx) < 0) return -1;
    if (json_object_object_get_ex(o, "preferredSizes", &v) &&
        tk_parse_strs(c, v, "customerContext.preferredSizes", in->cx.sizes) < 0)
        return -1;
    if (json_object_object_get_ex(o, "preferredColors", &v) &&
        tk_parse_strs(c, v, "customerContext.preferredColors", in->cx.colors) < 0)
        return -1;
    if (json_object_object_get_ex(o, "location", &v) && !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_string))
            return hx_bad_field(c, "customerContext.location", "customerContext.location must be a string");
        in->cx.location = json_object_get_string(v);
    }
    return 0;
}

/* Parses and checks the body (handlers/body); on a problem answers 400
 * naming the field and returns -1. */
static int tk_parse(struct ctx *c, struct tk_in *in)
{
    memset(in, 0, sizeof(*in));
    json_object *body, *v;
    if (hx_json_body(c, &body) < 0) return -1;
    /* message, or its alias query; both count characters, not bytes */
    const char *field = json_object_object_get_ex(body, "message", &v) && !json_object_is_type(v, json_type_null)
                            ? "message" : "query";
    if (!strcmp(field, "query") && (!json_object_object_get_ex(body, "query", &v) || json_object_is_type(v, json_type_null)))
        return hx_bad_field(c, "message", "message is required (query is accepted as an alias)");
    if (hx_field_str(c, body, field, 1, (size_t)TK_MESSAGE_MAX * 4, 1, &in->message) < 0) return -1;
    if (u8_chars(in->message, strlen(in->message)) > TK_MESSAGE_MAX) {
        char m[96];
        snprintf(m, sizeof(m), "%s is longer than %d characters", field, TK_MESSAGE_MAX);
        return hx_bad_field(c, field, m);
    }
    if (hx_field_str(c, body, "sessionId", 0, 64, 1, &in->session_id) < 0) return -1;
    if (in->session_id && !*in->session_id) in->session_id = NULL;
    if (in->session_id && !sess_id_valid(in->session_id))
        return hx_bad_field(c, "sessionId", "sessionId must be 1-64 characters of A-Z a-z 0-9 . _ -");
    if (hx_field_str(c, body, "chatbotId", 0, 64, 1, &in->chatbot_id) < 0) return -1;
    if (in->chatbot_id && !*in->chatbot_id) in->chatbot_id = NULL;
    if (hx_field_bool(c, body, "enableTTS", 0, &in->tts) < 0) return -1;
    if (hx_field_str(c, body, "voice", 0, 64, 1, &in->voice) < 0) return -1;
    if (in->voice && !*in->voice) in->voice = NULL;
    if (json_object_object_get_ex(body, "customerContext", &v) && tk_parse_context(c, v, in) < 0) return -1;
    return 0;
}

/* Speech: with enableTTS, the provider and the voice are checked before
 * the stream opens (an unknown voice is a 400 naming `voice`). A provider
 * that cannot start leaves the answer as text, said in the tts step. */
static int tk_speech(struct tk_run *t)
{
    struct ctx *c = t->c;
    if (!t->in.tts) return 0;
    char err[256];
    t->tts = hx_tts(c, err, sizeof(err));
    if (!t->tts) return 0;
    if (t->in.voice && !tts_voice_valid(t->tts, t->in.voice)) {
        char m[400];
        snprintf(m, sizeof(m), "voice '%s' is not a voice of the %s speech provider (e.g. %s)", t->in.voice,
                 tts_name(t->tts), tts_voice_hint(t->tts));
        return hx_bad_field(c, "voice", m);
    }
    return 0;
}

/* Suggestions carry their counts in brackets ("Show me blue lehengas (7)");
 * a message sent back from one is read without them. */
static const char *tk_strip_counts(arena_t *ar, const char *s)
{
    buf_t b;
    buf_init(&b, ar, strlen(s) + 1);
    for (const char *p = s; *p;) {
        if (*p == '(') {
            const char *q = p + 1;
            while (isdigit((unsigned char)*q) || *q == ',') q++;
            if (q > p + 1 && (*q == ')' || !strncmp(q, " pieces)", 8) || !strncmp(q, " items)", 7))) {
                p = strchr(q, ')') + 1;
                continue;
            }
        }
        buf_addc(&b, *p++);
    }
    return b.p ? b.p : s;
}

/* The designers the intent analysis can recognise: the worker's cached
 * catalog list (hx_designers). */
static void tk_lexicon(struct ctx *c, struct it_lexicon *lx)
{
    memset(lx, 0, sizeof(*lx));
    lx->designers = hx_designers(c, &lx->ndesigners);
}

/* ---- one run ------------------------------------------------------------------------ */


static int tk_db_fail(struct tk_run *t, int rc, const char *what, const char *err)
{
    int e = hx_db_fail(t->c, "Sales agent", rc, what, err);
    return e ? e : -1;
}

static int tk_db(struct tk_run *t, char *err, size_t errlen)
{
    return st_connect(t->c->app->store, err, errlen);
}

/* ---- intent_analysis ------------------------------------------------------------------- */

/* The session's last resolved entities (the newest user message that has
 * them) and the last answer's reference price. */
static int tk_history(struct tk_run *t, char *err, size_t errlen)
{
    struct ctx *c = t->c;
    struct sess s;
    int rc = sess_open(c->app->store, t->sid, SESS_AGENT, t->in.chatbot_id, &s, err, errlen);
    if (rc != ST_OK) return rc;
    if (!t->sid_continued) return ST_OK;   /* a new session: nothing to read back */
    struct sess_msg *m;
    size_t n;
    rc = sess_history(c->app->store, c->ar, t->sid, c->app->cfg.troika_history_turns, &m, &n, err, errlen);
    if (rc != ST_OK) return rc;
    t->hist = m;
    t->nhist = n;
    /* the newest user message with entities, and the answer that followed it */
    for (size_t i = n; i-- > 0 && !t->have_prev;) {
        if (!m[i].entities || strcmp(m[i].role, "user") != 0) continue;
        json_object *o = json_tokener_parse(m[i].entities);
        t->have_prev = o && it_entities_parse(o, &t->prev) == 0;
        if (o) json_object_put(o);
        for (size_t j = i + 1; t->have_prev && j < n && strcmp(m[j].role, "user") != 0; j++) {
            json_object *a = m[j].entities ? json_tokener_parse(m[j].entities) : NULL, *v;
            if (a && json_object_object_get_ex(a, "priceRef", &v)) t->prev_ref = json_object_get_double(v);
            if (a) json_object_put(a);
        }
    }
    return ST_OK;
}

static int tk_step_intent(struct tk_run *t)
{
    struct ctx *c = t->c;
    char err[512];
    int rc = sink_progress(c->sink, "intent_analysis", "Understanding what you are looking for", -1, 0);
    if (rc) return rc;
    if (t->sid_note) {   /* the client's session id was not the agent's to continue */
        json_object *sx = json_object_new_object();
        json_object_object_add(sx, "sessionId", json_object_new_string(t->sid));
        json_object_object_add(sx, "newSession", json_object_new_boolean(1));
        json_object_object_add(sx, "requestedSessionId", json_object_new_string(t->in.session_id));
        json_object_object_add(sx, "reason", json_object_new_string(t->sid_reason));
        rc = sink_progressf(c->sink, sx, NULL, "intent_analysis", -1, -1, "%s", t->sid_note);
        if (rc) return rc;
    }
    if ((rc = tk_db(t, err, sizeof(err))) != ST_OK || (rc = tk_history(t, err, sizeof(err))) != ST_OK)
        return tk_db_fail(t, rc, "session", err);
    tk_lexicon(c, &t->lx);
    const char *msg = tk_strip_counts(c->ar, t->in.message);
    it_analyze(msg, &t->lx, &t->it);
    t->analyzer = "builtin";
    if ((rc = tk_refine(t, msg)) != 0) return rc;
    it_resolve(&t->it, t->have_prev ? &t->prev : NULL, t->prev_ref, t->in.have_cx ? &t->in.cx : NULL);

    json_object *ev = it_to_json(&t->it);
    json_object_object_add(ev, "analyzer", json_object_new_string(t->analyzer));
    if (t->in.have_cx && t->in.cx.location)
        json_object_object_add(ev, "location", json_object_new_string(t->in.cx.location));
    t->ms_intent = hx_elapsed(c);
    if ((rc = sink_emit(c->sink, "intent", ev))) return rc;

    /* the user's words and what they meant, kept even if the answer is cut short */
    json_object *ents = it_wants_products(&t->it) ? it_entities_json(&t->it.e) : NULL;
    rc = sess_add(c->app->store, t->sid, "user", t->in.message, strlen(t->in.message), 0,
                  ents ? json_object_to_json_string_ext(ents, JSON_C_TO_STRING_PLAIN) : NULL, err, sizeof(err));
    if (ents) json_object_put(ents);
    if (rc != ST_OK) return tk_db_fail(t, rc, "session", err);
    t->stored_user = 1;

    char m[160];
    snprintf(m, sizeof(m), "Intent: %s (confidence %.2f)", it_kind_name(t->it.intent), t->it.confidence);
    return sink_progress(c->sink, "intent_analysis", m, -1, 100);
}

/* ---- market_intelligence ------------------------------------------------------------------ */

static int tk_step_market(struct tk_run *t)
{
    struct ctx *c = t->c;
    char err[512];
    int rc;
    const struct it_entities *e = &t->it.e;
    if (!it_wants_products(&t->it))
        return sink_progress(c->sink, "market_intelligence", "Skipped: no products asked about", 0, 100);
    if (!e->category[0] && !e->color[0] && e->budget_min <= 0 && e->budget_max <= 0 && !e->occasion[0])
        return sink_progress(c->sink, "market_intelligence",
                             "Skipped: nothing narrows the catalog to a segment yet (a garment, colour, budget "
                             "or occasion)", 0, 100);
    if ((rc = sink_progress(c->sink, "market_intelligence", "Reading the market for this segment", -1, 0)))
        return rc;
    if ((rc = tk_db(t, err, sizeof(err))) != ST_OK ||
        (rc = tk_market_compute(c->app->store, c->ar, &t->it.e, &t->market, err, sizeof(err))) != ST_OK)
        return tk_db_fail(t, rc, "market", err);
    t->have_market = 1;
    struct it_entities se;
    tk_segment_entities(&t->market.seg, &se);
    if (tk_describe(c->ar, &se, c->app->cfg.currency, 1, &t->segment_desc) < 0) t->segment_desc = "";
    json_object *ev = tk_market_json(&t->market, t->segment_desc, c->app->cfg.currency);
    t->ms_market = hx_elapsed(c);
    if ((rc = sink_emit(c->sink, "market", ev))) return rc;
    char m[384];
    if (t->market.relaxed) {
        char *asked = NULL;
        struct it_entities ae;
        tk_segment_entities(&t->market.asked, &ae);
        tk_describe(c->ar, &ae, c->app->cfg.currency, 1, &asked);
        snprintf(m, sizeof(m), "No %s in the catalog; the figures describe the whole %s category",
                 asked ? asked : "match", t->segment_desc);
    } else {
        snprintf(m, sizeof(m), "%ld products in the segment %s", t->market.count, t->segment_desc);
    }
    return sink_progress(c->sink, "market_intelligence", m, t->market.count, 100);
}

/* ---- product_matching ----------------------------------------------------------------------- */

/* Words for ranking: what the shopper wants, not how they said it. */
static const char *tk_match_text(struct tk_run *t)
{
    const struct it_entities *e = &t->it.e;
    return ar_printf(t->c->ar, "%s%s%s%s%s%s%s", e->color, e->color[0] ? " " : "", e->fabric,
                     e->fabric[0] ? " " : "", e->category[0] ? e->category : "outfit", e->occasion[0] ? " " : "",
                     e->occasion);
}

static int tk_step_match(struct tk_run *t)
{
    struct ctx *c = t->c;
    int rc;
    if (!it_wants_products(&t->it))
        return sink_progress(c->sink, "product_matching", "Skipped: no products asked about", 0, 100);
    if ((rc = sink_progress(c->sink, "product_matching", "Finding pieces that match", -1, 0))) return rc;
    rc = tk_match_run(c, &t->it.e, tk_match_text(t), c->app->cfg.troika_results, &t->match);
    if (rc) return rc;
    if (t->match.first_results_ms) t->ms_results = t->match.first_results_ms - c->req->t0_ms;
    char m[160];
    snprintf(m, sizeof(m), "%zu products picked from %ld matches", t->match.n, t->match.total);
    return sink_progress(c->sink, "product_matching", m, (long)t->match.n, 100);
}

/* ---- generation, suggestions, complete ------------------------------------------------------- */

static void tk_facts_of(struct tk_run *t, struct tk_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->intent = &t->it;
    f->market = t->have_market ? &t->market : NULL;
    f->products = t->match.products;
    f->nproducts = t->match.n;
    f->relaxed = t->match.relaxed;
    f->prefs_relaxed = t->match.prefs_relaxed;
    f->matched = t->match.relaxed ? &t->match.used : &t->it.e;
    f->currency = t->c->app->cfg.currency;
}

static int tk_step_generate(struct tk_run *t)
{
    struct ctx *c = t->c;
    struct tk_facts f;
    int rc;
    tk_facts_of(t, &f);
    if ((rc = sink_progress(c->sink, "generation", "Writing the answer", -1, 0))) return rc;
    if (!t->tts && (rc = sink_progress(c->sink, "tts", t->in.tts ? "Speech is unavailable; text only"
                                                                 : "Skipped: enableTTS is false", 0, 100)))
        return rc;
    t->ans = ans_new(c, t->tts, t->in.voice);
    if (!t->ans) return SINK_EIO;
    rc = tk_generate(t, &f);
    if (!rc) rc = ans_finish(t->ans);
    if (rc) {
        ans_abort(t->ans);
        return rc;
    }
    size_t len;
    ans_text(t->ans, &len);
    char m[96];
    snprintf(m, sizeof(m), "Answer written (%zu characters)", len);
    return sink_progress(c->sink, "generation", m, -1, 100);
}

static int tk_step_suggest(struct tk_run *t)
{
    struct tk_facts f;
    tk_facts_of(t, &f);
    json_object *prompts = NULL, *details = NULL;
    tk_suggestions(t->c->ar, &f, &prompts, &details);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "suggestions", prompts);
    json_object_object_add(o, "details", details);
    return sink_emit(t->c->sink, "suggestions", o);
}

/* What the answer was about, kept on the assistant message: the reference
 * price a later "cheaper" works from, and the products shown. */
static char *tk_answer_entities(struct tk_run *t)
{
    json_object *o = json_object_new_object();
    if (t->have_market && t->market.count > 0)
        json_object_object_add(o, "priceRef", json_object_new_double(t->market.median));
    json_object *skus = json_object_new_array();
    for (size_t i = 0; i < t->match.n; i++) json_object_array_add(skus, json_object_new_string(t->match.products[i].sku));
    json_object_object_add(o, "products", skus);
    char *s = ar_strdup(t->c->ar, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* Stores the answer (partial when the stream did not finish). */
static void tk_store_answer(struct tk_run *t, int partial)
{
    struct ctx *c = t->c;
    char err[256];
    size_t len = 0;
    const char *text = t->ans ? ans_text(t->ans, &len) : "";
    if (!text) text = "";
    if (sess_add(c->app->store, t->sid, "assistant", text, len, partial, tk_answer_entities(t), err, sizeof(err)) !=
        ST_OK)
        LOG_ERROR(t->rname, c->req->id, NULL, "The answer was not stored: %s", err);
}

static json_object *tk_relaxed_json(unsigned r, unsigned prefs)
{
    json_object *a = json_object_new_array();
    if (r & TK_RELAX_BUDGET) json_object_array_add(a, json_object_new_string("budget"));
    if (r & TK_RELAX_COLOR) json_object_array_add(a, json_object_new_string("color"));
    if (r & TK_RELAX_SIZE) json_object_array_add(a, json_object_new_string("size"));
    for (int id = 0; id < QPF_N; id++)
        if ((r & TK_RELAX_PREFS) && (prefs & QPF_BIT(id)))
            json_object_array_add(a, json_object_new_string(qp_filter_defs[id].name));
    return a;
}

static int tk_complete(struct tk_run *t)
{
    struct ctx *c = t->c;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "duration", json_object_new_int64(hx_elapsed(c)));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)t->match.n));
    json_object_object_add(o, "matches", json_object_new_int64(t->match.total));
    json_object_object_add(o, "sessionId", json_object_new_string(t->sid));
    json_object_object_add(o, "relaxed", tk_relaxed_json(t->match.relaxed, t->match.prefs_relaxed));
    size_t len = 0;
    if (t->ans) ans_text(t->ans, &len);
    json_object_object_add(o, "characters", json_object_new_int64((int64_t)len));
    json_object_object_add(o, "audioChunks", json_object_new_int(t->ans ? ans_audio_events(t->ans) : 0));
    const char *tcode = NULL, *terr = t->ans ? ans_tts_error(t->ans, &tcode) : NULL;
    if (terr) {
        json_object *te = json_object_new_object();
        json_object_object_add(te, "code", json_object_new_string(tcode ? tcode : "PROCESSING_ERROR"));
        json_object_object_add(te, "message", json_object_new_string(terr));
        json_object_object_add(o, "ttsError", te);
    }
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "intentMs", json_object_new_int64(t->ms_intent));
    json_object_object_add(tm, "marketMs", t->ms_market ? json_object_new_int64(t->ms_market) : NULL);
    json_object_object_add(tm, "firstResultsMs", t->ms_results ? json_object_new_int64(t->ms_results) : NULL);
    json_object_object_add(tm, "firstTextMs", t->ms_text ? json_object_new_int64(t->ms_text) : NULL);
    json_object_object_add(o, "timings", tm);
    tk_complete_llm(t, o);
    LOG_INFO(t->rname, c->req->id, o, "Troika stream complete");
    return sink_emit(c->sink, "complete", o);
}

int h_troika(struct ctx *c)
{
    struct tk_run *t = ar_calloc(c->ar, 1, sizeof(*t));
    if (!t) return -1;
    t->c = c;
    t->rname = c->route->name;
    if (tk_parse(c, &t->in) < 0) return 0;
    if (tk_speech(t) < 0) return 0;
    if (t->in.chatbot_id) hx_cors_chatbot(c, t->in.chatbot_id);
    struct hx_session hs;
    if (hx_session_pick(c, SESS_AGENT, t->in.chatbot_id, t->in.session_id, &hs) < 0) return 0;   /* answered */
    t->sid = hs.id;
    t->sid_continued = hs.continued;
    t->sid_note = hx_session_note(c, &hs, "chatbot or assistant");
    t->sid_reason = sess_decision_name(hs.decision);

    json_object *cx = json_object_new_object();
    json_object_object_add(cx, "query", json_object_new_string(t->in.message));
    json_object_object_add(cx, "sessionId", json_object_new_string(t->sid));
    json_object_object_add(cx, "newSession", json_object_new_boolean(!t->sid_continued));
    if (t->in.chatbot_id) json_object_object_add(cx, "chatbotId", json_object_new_string(t->in.chatbot_id));
    json_object_object_add(cx, "enableTTS", json_object_new_boolean(t->in.tts));
    if (t->in.voice) json_object_object_add(cx, "voice", json_object_new_string(t->in.voice));
    if (t->in.cx_json) json_object_object_add(cx, "customerContext", json_object_get(t->in.cx_json));
    json_object_object_add(cx, "pipeline", json_tokener_parse("[\"intent_analysis\",\"market_intelligence\","
                                                           "\"product_matching\",\"generation\",\"tts\"]"));
    json_object *logx = json_object_new_object();
    json_object_object_add(logx, "sessionId", json_object_new_string(t->sid));
    json_object_object_add(logx, "query", json_object_new_string(t->in.message));
    LOG_INFO(t->rname, c->req->id, logx, "Troika stream start");
    json_object_put(logx);

    int rc = hx_connected(c, cx);
    if (!rc) rc = tk_step_intent(t);
    if (!rc) rc = tk_step_market(t);
    if (!rc) rc = tk_step_match(t);
    if (!rc) rc = tk_step_generate(t);
    if (!rc) rc = tk_step_suggest(t);
    if (t->stored_user) tk_store_answer(t, rc != 0);
    if (!rc) rc = tk_complete(t);
    return rc;
}
