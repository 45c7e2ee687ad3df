/* troika_llm.c: the sales agent's use of the LLM (common/assist/llm), the
 * same for every provider.
 *
 * Intent: the builtin analysis runs first; one JSON-mode call may then
 * fill entities it missed (each value checked against the same lexicons)
 * and replace a weak intent. Any failure, or a provider with no model,
 * keeps the builtin result.
 * Answer: one task from the facts: a model is sent them as its prompt and
 * may name only the matched products; without a model the answer is the
 * builtin composer's (troika_answer.c). A model's text is held back until a
 * sentence is complete; a sentence naming anything outside the list is
 * dropped before it reaches the client (llm_task.keep). The price is
 * latency: the first `text` event waits for the first whole sentence (at
 * 30 tokens/s, ~0.5 s after the first token) instead of the first token.
 * A failure before any sentence went out falls back to the builtin
 * answer; after, it is an error event with partial: true. Memory: the
 * request arena. */
#include "handlers/agent/troika.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/assist/llm.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "common/text/sentence.h"
#include "common/store/session.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/answer.h"
#include "handlers/handlers.h"

static struct llm *tk_llm(struct tk_run *t)
{
    char err[256];
    return hx_llm(t->c, err, sizeof(err));
}

static int tk_tick(void *arg)
{
    struct tk_run *t = arg;
    return sink_check(t->c->sink);
}

/* ---- intent refinement ------------------------------------------------------ */

static const char tk_refine_prompt[] =
    "You read one message from a shopper of an Indian designer-fashion store and say what they want. "
    "Answer with one JSON object with exactly these keys: intent (one of product_search, recommendation, "
    "comparison, price_inquiry, availability, occasion_advice, greeting, support, other; support means "
    "orders, returns, refunds or shipping), category, color, size, budget_min, budget_max, occasion, "
    "designer, fabric. Use null for anything the message does not say. Budgets are numbers in rupees "
    "(40k is 40000, 1.5 lakh is 150000; around X means X-15% to X+15%). The message may mix Hindi and "
    "English.";

static const char *tk_jstr(json_object *o, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0 && json_object_get_string_len(v) < 96)
        return json_object_get_string(v);
    return NULL;
}

static double tk_jnum(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) return 0;
    double d = json_object_get_double(v);
    return isfinite(d) && d > 0 && d < 1e10 ? d : 0;
}

/* Merges the LLM's reading into the builtin one: entities only where the
 * builtin found none, each checked against the lexicons; the intent only
 * when the builtin one is weak. Returns the number of changes. */
static int tk_merge(struct tk_run *t, json_object *o)
{
    struct it_result *r = &t->it;
    struct it_entities *e = &r->e;
    int changes = 0;
    const char *s;
    if ((s = tk_jstr(o, "intent"))) {
        for (int k = 0; k < IT_KIND_COUNT; k++) {
            if (strcmp(s, it_kind_name((enum it_kind)k)) != 0) continue;
            if ((enum it_kind)k != r->intent && (r->intent == IT_OTHER || r->confidence < 0.75)) {
                r->intent = (enum it_kind)k;
                changes++;
            }
            break;
        }
    }
    if (!e->category[0] && (s = tk_jstr(o, "category")) && (s = qp_category_canon(s))) {
        snprintf(e->category, sizeof(e->category), "%s", s);
        e->src[IT_F_CATEGORY] = IT_SRC_MESSAGE;
        changes++;
    }
    const char *name, *fam;
    if (!e->color[0] && (s = tk_jstr(o, "color")) && qp_color_lookup(s, &name, &fam) == 0) {
        snprintf(e->color, sizeof(e->color), "%s", name);
        snprintf(e->color_family, sizeof(e->color_family), "%s", fam);
        e->src[IT_F_COLOR] = IT_SRC_MESSAGE;
        changes++;
    }
    if (!e->size[0] && (s = tk_jstr(o, "size")) && (s = qp_size_canon(s))) {
        snprintf(e->size, sizeof(e->size), "%s", s);
        e->src[IT_F_SIZE] = IT_SRC_MESSAGE;
        changes++;
    }
    if (!e->occasion[0] && (s = tk_jstr(o, "occasion")) && (s = qp_occasion_canon(s))) {
        snprintf(e->occasion, sizeof(e->occasion), "%s", s);
        e->src[IT_F_OCCASION] = IT_SRC_MESSAGE;
        changes++;
    }
    if (!e->designer[0] && (s = tk_jstr(o, "designer"))) {
        for (size_t i = 0; i < t->lx.ndesigners; i++) {
            if (t->lx.designers[i] && strcasecmp(t->lx.designers[i], s) == 0) {
                snprintf(e->designer, sizeof(e->designer), "%s", t->lx.designers[i]);
                e->src[IT_F_DESIGNER] = IT_SRC_MESSAGE;
                changes++;
                break;
            }
        }
    }
    if (!e->fabric[0] && (s = tk_jstr(o, "fabric")) && strlen(s) < sizeof(e->fabric)) {
        int ok = 1;
        for (const char *p = s; *p; p++) ok &= isalpha((unsigned char)*p) || *p == ' ';
        if (ok) {
            for (size_t i = 0; s[i]; i++) e->fabric[i] = (char)tolower((unsigned char)s[i]);
            e->fabric[strlen(s)] = '\0';
            e->src[IT_F_FABRIC] = IT_SRC_MESSAGE;
            changes++;
        }
    }
    if (e->src[IT_F_BUDGET] == IT_SRC_NONE) {
        double lo = tk_jnum(o, "budget_min"), hi = tk_jnum(o, "budget_max");
        if ((lo > 0 || hi > 0) && (hi == 0 || lo <= hi)) {
            e->budget_min = lo;
            e->budget_max = hi;
            e->src[IT_F_BUDGET] = IT_SRC_MESSAGE;
            changes++;
        }
    }
    if (changes) {
        double conf = r->confidence + 0.05 * changes;
        if (conf < 0.7) conf = 0.7;
        r->confidence = round((conf > 0.97 ? 0.97 : conf) * 100.0) / 100.0;
    }
    return changes;
}

int tk_refine(struct tk_run *t, const char *msg)
{
    struct ctx *c = t->c;
    struct llm *l = tk_llm(t);
    if (!c->app->cfg.troika_llm_refine || !l) return 0;
    struct llm_msg m[2] = {{"system", tk_refine_prompt}, {"user", msg}};
    struct llm_task task = {.msgs = m, .nmsgs = 2, .max_tokens = 200, .temperature = 0};
    struct llm_result res;
    char *out = NULL;
    size_t outlen = 0;
    int rc = llm_json(l, c->ar, &task, tk_tick, t, &out, &outlen, &res);
    if (llm_aborted(rc)) return rc;
    if (rc == LLM_ENOMODEL) return 0;   /* nothing to refine with */
    if (rc != LLM_OK) {
        LOG_ERROR(t->rname, c->req->id, NULL, "Intent refinement failed (%s): %s; the builtin analysis stands",
                  res.code[0] ? res.code : "UPSTREAM_ERROR", res.err);
        return 0;
    }
    json_object *j = out ? json_tokener_parse(out) : NULL;
    if (!j || !json_object_is_type(j, json_type_object)) {
        LOG_ERROR(t->rname, c->req->id, NULL, "Intent refinement was not a JSON object; the builtin analysis stands");
        if (j) json_object_put(j);
        return 0;
    }
    int changes = tk_merge(t, j);
    json_object_put(j);
    t->analyzer = ar_printf(c->ar, "builtin+%s", llm_name(l));
    LOG_DEBUG(t->rname, c->req->id, NULL, "Intent refined by %s: %d changes", llm_name(l), changes);
    return 0;
}

/* ---- the answer --------------------------------------------------------------- */

static const char tk_answer_prompt[] =
    "You are Troika, the sales assistant of an Indian designer-fashion store: warm, concrete and brief "
    "(2 to 5 sentences). Use the figures and products below. Rules: name only products from the "
    "matched list, by their exact title, and optionally their SKU in brackets; never invent a product, "
    "a SKU or a price; write prices in rupees with Indian digit grouping (\xE2\x82\xB9" "1,50,000); if the "
    "search was relaxed, say what was relaxed; for orders, returns or shipping, point to customer care.\n\n";

struct tk_gen {
    struct tk_run *t;
    const struct tk_facts *f;
};

/* The model's messages: the rules and facts, the conversation, the message. */
static int tk_gen_messages(void *arg, arena_t *ar, const struct llm_msg **msgs, size_t *n)
{
    struct tk_gen *g = arg;
    struct tk_run *t = g->t;
    char *facts = NULL;
    if (tk_facts_prompt(ar, g->f, &facts) < 0) return -1;
    size_t k = 0;
    struct llm_msg *m = ar_calloc(ar, t->nhist + 2, sizeof(*m));
    const char *sys = ar_printf(ar, "%s%s", tk_answer_prompt, facts);
    if (!m || !sys) return -1;
    m[k++] = (struct llm_msg){"system", sys};
    for (size_t i = 0; i < t->nhist; i++)
        if (t->hist[i].content && *t->hist[i].content) m[k++] = (struct llm_msg){t->hist[i].role, t->hist[i].content};
    m[k++] = (struct llm_msg){"user", t->in.message};
    *msgs = m;
    *n = k;
    return 0;
}

/* The answer without a model: the builtin composer's. */
static int tk_gen_compose(void *arg, arena_t *ar, const char **text, size_t *len)
{
    struct tk_gen *g = arg;
    char *s = NULL;
    if (tk_answer_builtin(ar, g->f, &s) < 0) return -1;
    *text = s;
    *len = strlen(s);
    return 0;
}

/* A model's sentence reaches the shopper only when it names listed products. */
static int tk_gen_keep(void *arg, const char *s, size_t n)
{
    struct tk_gen *g = arg;
    if (tk_sentence_grounded(s, n, g->f->products, g->f->nproducts)) return 1;
    g->t->dropped++;
    LOG_INFO(g->t->rname, g->t->c->req->id, NULL, "Dropped an LLM sentence naming a product outside the matches");
    return 0;
}

static int tk_gen_delta(void *arg, const char *text, size_t n)
{
    struct tk_gen *g = arg;
    if (!g->t->ms_text) g->t->ms_text = hx_elapsed(g->t->c);
    return ans_delta(g->t->ans, text, n);
}

static int tk_gen_tick(void *arg)
{
    struct tk_gen *g = arg;
    return ans_tick(g->t->ans);
}

/* The builtin answer instead, after the model failed or said nothing usable. */
static int tk_fallback(struct tk_run *t, const struct tk_facts *f, const char *why)
{
    char *text = NULL;
    char m[400];
    snprintf(m, sizeof(m), "%s; answering with the builtin composer", why);
    int rc = sink_progress(t->c->sink, "generation", m, -1, -1);
    if (rc) return rc;
    if (tk_answer_builtin(t->c->ar, f, &text) < 0) {
        sink_error(t->c->sink, "PROCESSING_ERROR", "The answer could not be composed");
        return -1;
    }
    if (!t->ms_text) t->ms_text = hx_elapsed(t->c);
    t->stop_reason = "fallback";
    return llm_words(text, strlen(text), ans_delta, t->ans);
}

/* The figures of a finished answer for `complete`. */
static void tk_gen_result(struct tk_run *t, const struct llm_result *res)
{
    t->stop_reason = res->stop_reason[0] ? ar_strdup(t->c->ar, res->stop_reason) : NULL;
    if (res->usage.reported) {
        t->usage[0] = res->usage.prompt_tokens;
        t->usage[1] = res->usage.completion_tokens;
        t->usage[2] = res->usage.total_tokens;
    }
}

int tk_generate(struct tk_run *t, const struct tk_facts *f)
{
    struct ctx *c = t->c;
    char err[256];
    struct llm *l = hx_llm(c, err, sizeof(err));
    if (!l) return tk_fallback(t, f, "The answer generator is unavailable");
    struct tk_gen g = {.t = t, .f = f};
    struct llm_task task = {.messages = tk_gen_messages, .compose = tk_gen_compose, .keep = tk_gen_keep, .arg = &g,
                            .temperature = -1};
    struct llm_cb cb = {.delta = tk_gen_delta, .tick = tk_gen_tick, .arg = &g};
    struct llm_result res;
    int rc = llm_stream(l, c->ar, &task, &cb, &res);
    if (llm_aborted(rc)) return rc;
    size_t sent;
    ans_text(t->ans, &sent);
    if (rc == LLM_OK) {
        tk_gen_result(t, &res);
        if (!sent)
            return tk_fallback(t, f, t->dropped ? "Every sentence of the model named products outside the matches"
                                                : "The model answered nothing");
        return 0;
    }
    const char *code = res.code[0] ? res.code : "UPSTREAM_ERROR";
    LOG_ERROR(t->rname, c->req->id, NULL, "LLM failed (%s): %s", code, res.err);
    if (!sent) {
        char why[400];
        snprintf(why, sizeof(why), "The language model failed (%s: %s)", code, res.err);
        return tk_fallback(t, f, why);
    }
    sink_error(c->sink, code, res.err[0] ? res.err : sink_describe(code));
    return -1;
}

void tk_complete_llm(struct tk_run *t, json_object *o)
{
    struct llm *l = tk_llm(t);
    json_object_object_add(o, "llm", json_object_new_string(l ? llm_name(l) : "builtin"));
    json_object_object_add(o, "analyzer", json_object_new_string(t->analyzer ? t->analyzer : "builtin"));
    json_object_object_add(o, "stopReason", t->stop_reason ? json_object_new_string(t->stop_reason) : NULL);
    json_object_object_add(o, "droppedSentences", json_object_new_int64(t->dropped));
    if (t->usage[2] > 0) {
        json_object *u = json_object_new_object();
        json_object_object_add(u, "promptTokens", json_object_new_int64(t->usage[0]));
        json_object_object_add(u, "completionTokens", json_object_new_int64(t->usage[1]));
        json_object_object_add(u, "totalTokens", json_object_new_int64(t->usage[2]));
        json_object_object_add(o, "usage", u);
    }
}
