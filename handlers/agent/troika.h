/* troika.h: the parts of the Troika sales agent (POST
 * /api/troika/intelligent-chat[/stream]) that the handler strings together:
 * market figures over a catalog segment, the builtin answer, the grounding
 * check of an LLM answer, and suggestions. Internal to handlers/agent/troika*.c
 * and their unit tests. Memory: everything lives in the request arena;
 * json-c objects are owned by whoever the comment names. */
#ifndef TROIKA_HANDLERS_TROIKA_H
#define TROIKA_HANDLERS_TROIKA_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/assist/intent.h"
#include "common/store/market.h"

struct json_object;

/* ---- products as the answer sees them --------------------------------- */

/* Borrowed strings (from the catalog rows or the arena). */
struct tk_product {
    const char *sku;
    const char *title;
    const char *designer;     /* "" when none */
    const char *category;
    const char *currency;
    double price;
    int in_stock;
    const char *sizes[12];
    size_t nsizes;
    const char *colors[8];
    size_t ncolors;
};

/* ---- market figures ----------------------------------------------------- */

enum { TK_TOP = 5 };

struct tk_count {
    char name[128];
    long count;
};

struct tk_trend {
    char sku[64];
    char title[256];
    char designer[128];
    double price;
    double popularity;
    int in_stock;
};

struct tk_band {
    double min, max;          /* 0: open */
    long count;
};

struct tk_market {
    struct mk_segment seg;    /* what the figures describe */
    struct mk_segment asked;  /* what the intent asked for */
    int relaxed;              /* 1: the asked segment was empty, seg is the category */
    long count, in_stock;
    long ndesigners;          /* distinct designers in the segment */
    double min, max, q1, median, q3;
    struct tk_count designers[TK_TOP], colors[TK_TOP];
    size_t ntop_designers, ntop_colors;
    struct tk_trend trending[TK_TOP];
    size_t ntrending;
    /* for suggestions: other colour families in category + budget, and the
     * bands below/above the budget in category + colour */
    struct tk_count other_colors[4];
    size_t nother_colors;
    struct tk_band below, above;
};

/* The segment the intent asks for (category + colour family + budget). */
void tk_segment_from(const struct it_entities *e, struct mk_segment *s);

/* Computes the figures for the asked segment, relaxed to the category when
 * it holds nothing, from the market store's rows. ST_OK or ST_E* with err
 * filled. */
int tk_market_compute(struct store *st, arena_t *ar, const struct it_entities *e, struct tk_market *m,
                      char *err, size_t errlen);

/* The `market` event (new object); desc describes m->seg in words. */
struct json_object *tk_market_json(const struct tk_market *m, const char *desc, const char *currency);

/* Entities holding only what the segment describes (for tk_describe). */
void tk_segment_entities(const struct mk_segment *s, struct it_entities *e);

/* Quartile of sorted values by linear interpolation between closest ranks
 * (q in [0, 1]; the "inclusive" method: numpy's default, Excel QUARTILE.INC). */
double tk_quantile(const double *sorted, size_t n, double q);

/* ---- relaxation ----------------------------------------------------------- */

enum {
    TK_RELAX_BUDGET = 1,      /* budget widened by 20% */
    TK_RELAX_COLOR = 2,       /* exact colour widened to its family (or dropped) */
    TK_RELAX_SIZE = 4,        /* size dropped */
    TK_RELAX_PREFS = 8,       /* the pipeline gave preferences up (tk_match.prefs_relaxed) */
};

/* ---- product matching -------------------------------------------------------- */

struct ctx;

struct tk_match {
    struct it_entities used;      /* the filters of the attempt that answered (or the last tried) */
    unsigned relaxed;             /* TK_RELAX_* applied, cumulatively, in that order */
    unsigned prefs_relaxed;       /* the preferences (QPF_BIT) the pipeline gave up to find products */
    struct tk_product *products;  /* the final results, best first (arena; strings borrowed from cards) */
    size_t n;
    long total;                   /* matches of the answering attempt */
    int64_t first_results_ms;     /* monotonic time of the first `results` event (0: none) */
};

/* Runs the product-search pipeline with the entities' filters, emitting
 * its `results` events (and a `progress` event per relaxation), relaxing
 * in order when nothing matches: the budget ceiling +troika_budget_relax_pct,
 * then an exact shade to its colour family, then the size. 0, or a SINK_E*
 * / -1 after an error event was sent. */
int tk_match_run(struct ctx *c, const struct it_entities *e, const char *text, int limit, struct tk_match *m);

/* ---- one request ------------------------------------------------------------- */

struct ans;
struct tts;
struct sess_msg;
struct tk_facts;

/* The request body (SPEC 1.1), checked. */
struct tk_in {
    const char *message;          /* trimmed, 1-4000 characters */
    const char *session_id;       /* NULL: a new session */
    const char *chatbot_id;
    int tts;
    const char *voice;
    struct it_context cx;
    int have_cx;
    struct json_object *cx_json;  /* echoed in `connected` (borrowed from the body) */
};

/* Everything one run of the agent knows; arena memory. */
struct tk_run {
    struct ctx *c;
    const char *rname;
    struct tk_in in;
    const char *sid;              /* the session: the client's when the agent may continue it, else fresh */
    int sid_continued;            /* 1: sid is the client's, continued */
    const char *sid_note;         /* why the client's id was not continued (progress), or NULL */
    const char *sid_reason;       /* the same as a word (sess_decision_name) */
    struct tts *tts;              /* NULL: no speech */
    struct it_lexicon lx;
    struct it_result it;
    struct it_entities prev;      /* resolved entities of the last turn */
    int have_prev;
    double prev_ref;              /* the last segment's median (for "cheaper") */
    struct sess_msg *hist;        /* the conversation so far, oldest first */
    size_t nhist;
    const char *analyzer;         /* "builtin", or the LLM that refined the intent */
    struct tk_market market;
    int have_market;
    char *segment_desc;
    struct tk_match match;
    struct ans *ans;              /* text and speech of the answer */
    int stored_user;              /* the user's message is in the session */
    long dropped;                 /* LLM sentences dropped by the grounding check */
    const char *stop_reason;
    long usage[3];                /* prompt, completion, total tokens (-1: not reported) */
    int64_t ms_intent, ms_market, ms_results, ms_text;
};

/* ---- the LLM (handlers/agent/troika_llm.c) -------------------------------------------- */

/* Refines t->it (the builtin result) with one JSON-mode call when the
 * provider has a model; any failure keeps the builtin result. Sets
 * t->analyzer. 0, or a SINK_E* when the stream must end. */
int tk_refine(struct tk_run *t, const char *msg);
/* Streams the answer from the facts through t->ans: a model's sentences
 * that name products outside f->products are dropped; the builtin composer
 * answers when there is no model, or when the model failed or said nothing
 * usable before any text went out. 0, SINK_E*, or -1 after an error
 * event. */
int tk_generate(struct tk_run *t, const struct tk_facts *f);
/* Adds the generator's figures (llm, analyzer, stopReason, dropped
 * sentences, usage when the model reported it) to `complete`. */
void tk_complete_llm(struct tk_run *t, struct json_object *complete);

/* ---- the answer ------------------------------------------------------------ */

struct tk_facts {
    const struct it_result *intent;
    const struct tk_market *market;      /* NULL: no figures */
    const struct tk_product *products;   /* the final results, best first */
    size_t nproducts;
    unsigned relaxed;                    /* TK_RELAX_* that product matching applied */
    unsigned prefs_relaxed;              /* with TK_RELAX_PREFS: the preferences given up (QPF_BIT) */
    const struct it_entities *matched;   /* the filters that finally matched */
    const char *currency;                /* default currency */
};

/* Composes the builtin answer into out (arena string). Names products only
 * from facts->products. 0 or -1 (out of memory). */
int tk_answer_builtin(arena_t *ar, const struct tk_facts *f, char **out);

/* A segment phrase: "red lehenga for a sangeet around ₹40,000". */
int tk_describe(arena_t *ar, const struct it_entities *e, const char *currency, int with_budget,
                char **out);

/* The facts as text for an LLM prompt (the matched list with SKUs). */
int tk_facts_prompt(arena_t *ar, const struct tk_facts *f, char **out);

/* ---- grounding (LLM answers) -------------------------------------------------- */

/* 1 when the sentence names only products of the list: every SKU-like
 * token is a listed SKU, and every quoted/bold name or capitalised product
 * name ("Crimson Dream Lehenga") is (part of) a listed title. 0: drop it. */
int tk_sentence_grounded(const char *s, size_t n, const struct tk_product *p, size_t np);

/* ---- suggestions ---------------------------------------------------------------- */

/* 2-4 follow-up prompts (new array of strings) and their details (new
 * array of {text, kind, count}) from the intent and market figures. */
int tk_suggestions(arena_t *ar, const struct tk_facts *f, struct json_object **prompts,
                   struct json_object **details);

#endif
