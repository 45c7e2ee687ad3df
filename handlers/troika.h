/* troika.h: the parts of the Troika sales agent (POST
 * /api/troika/intelligent-chat[/stream]) that the handler strings together:
 * market figures over a catalog segment, the builtin answer, the grounding
 * check of an LLM answer, and suggestions. Internal to handlers/troika*.c
 * and their unit tests. Memory: everything lives in the request arena;
 * json-c objects are owned by whoever the comment names. */
#ifndef TROIKA_HANDLERS_TROIKA_H
#define TROIKA_HANDLERS_TROIKA_H

#include <stddef.h>

#include "common/arena.h"
#include "common/intent.h"

struct json_object;
struct db;

/* ---- products as the answer sees them --------------------------------- */

/* Borrowed strings (from the product cards or the arena). */
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

/* Fills p from a product card (SPEC 2.1 shape); strings borrowed from the
 * card, which must outlive p. 0, or -1 when sku/title/price are missing. */
int tk_product_from_card(struct json_object *card, struct tk_product *p);

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

/* The segment a figure describes. */
struct tk_segment {
    char category[64];
    char color_family[32];
    double min, max;          /* 0: open */
    double around;            /* X when the band is "around X", else 0 */
    char occasion[32];        /* only when no category is named */
};

struct tk_market {
    struct tk_segment seg;    /* what the figures describe */
    struct tk_segment asked;  /* what the intent asked for */
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
void tk_segment_from(const struct it_entities *e, struct tk_segment *s);

/* Computes the figures for the asked segment, relaxed to the category when
 * it holds nothing. DB_OK or DB_E* with err filled. */
int tk_market_compute(struct db *d, arena_t *ar, const struct it_entities *e, struct tk_market *m,
                      char *err, size_t errlen);

/* The `market` event (new object); desc describes m->seg in words. */
struct json_object *tk_market_json(const struct tk_market *m, const char *desc, const char *currency);

/* Entities holding only what the segment describes (for tk_describe). */
void tk_segment_entities(const struct tk_segment *s, struct it_entities *e);

/* Quartile of sorted values by linear interpolation between closest ranks
 * (q in [0, 1]; the "inclusive" method: numpy's default, Excel QUARTILE.INC). */
double tk_quantile(const double *sorted, size_t n, double q);

/* ---- relaxation ----------------------------------------------------------- */

enum {
    TK_RELAX_BUDGET = 1,      /* budget widened by 20% */
    TK_RELAX_COLOR = 2,       /* exact colour widened to its family (or dropped) */
    TK_RELAX_SIZE = 4,        /* size dropped */
};

/* ---- the answer ------------------------------------------------------------ */

struct tk_facts {
    const struct it_result *intent;
    const struct tk_market *market;      /* NULL: no figures */
    const struct tk_product *products;   /* the final results, best first */
    size_t nproducts;
    unsigned relaxed;                    /* TK_RELAX_* that product matching applied */
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

/* Cuts text into sentences: returns the length of the first complete
 * sentence of s[0..n) (through its end mark and following spaces), or 0
 * when no sentence is complete yet. final: the text is complete, so the
 * rest is a sentence. */
size_t tk_sentence_end(const char *s, size_t n, int final);

/* ---- suggestions ---------------------------------------------------------------- */

/* 2-4 follow-up prompts (new array of strings) and their details (new
 * array of {text, kind, count}) from the intent and market figures. */
int tk_suggestions(arena_t *ar, const struct tk_facts *f, struct json_object **prompts,
                   struct json_object **details);

#endif
