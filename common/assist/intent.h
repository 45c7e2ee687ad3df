/* intent.h: what a shopper's message asks for, builtin and deterministic.
 *
 * it_analyze() reads one message (English or Latin-script Hinglish) and
 * returns an intent, the entities it names (category, colour with its
 * family, size, budget band, occasion, designer, fabric) and a confidence
 * from how much of the message was recognised. Sizes, colours, prices,
 * categories, occasions and fabrics come from the product-search query
 * parser (common/search/qparse); this module adds intent cues, designers, budget
 * bands ("around 40k") and follow-up cues ("instead", "cheaper").
 * it_resolve() (intent_resolve.c, with the JSON shapes) then fills what
 * the message left out from the conversation and the customer's context,
 * recording where each entity came from.
 * Pure functions over caller-owned structs; no allocation, no globals. */
#ifndef TROIKA_INTENT_H
#define TROIKA_INTENT_H

#include <stddef.h>

struct json_object;

enum it_kind {
    IT_PRODUCT_SEARCH,
    IT_RECOMMENDATION,
    IT_COMPARISON,
    IT_PRICE_INQUIRY,
    IT_AVAILABILITY,
    IT_OCCASION_ADVICE,
    IT_GREETING,
    IT_SUPPORT,
    IT_OTHER,
    IT_KIND_COUNT
};

/* Where an entity's value came from. */
enum it_src { IT_SRC_NONE, IT_SRC_MESSAGE, IT_SRC_HISTORY, IT_SRC_CONTEXT };

enum it_field {
    IT_F_CATEGORY,
    IT_F_COLOR,
    IT_F_SIZE,
    IT_F_BUDGET,
    IT_F_OCCASION,
    IT_F_DESIGNER,
    IT_F_FABRIC,
    IT_F_COUNT
};

/* Follow-up cues of a message (bit set). */
enum {
    IT_CUE_INSTEAD = 1,     /* "instead", "what about", "in blue" after a search */
    IT_CUE_CHEAPER = 2,     /* "anything cheaper?", "sasta" */
    IT_CUE_PRICIER = 4,     /* "something more premium" */
    IT_CUE_MORE = 8,        /* "show me more", "others" */
    IT_CUE_ANY_COLOR = 16,  /* "any colour" */
    IT_CUE_ANY_SIZE = 32,   /* "any size" */
    IT_CUE_NO_BUDGET = 64,  /* "no budget", "budget no bar" */
};

enum { IT_NAME_MAX = 96, IT_WORD_MAX = 32 };

struct it_entities {
    char category[64];               /* canonical, singular: "lehenga" */
    char color[64];                  /* as named, canonical: "maroon" */
    char color_family[IT_WORD_MAX];  /* "red" */
    char size[32];                   /* canonical: "M", "XL", "Free Size", "38" */
    double budget_min, budget_max;   /* 0: open end */
    int budget_around;               /* the band came from "around X" (QP_AROUND) */
    double budget_target;            /* X of "around X" (0 otherwise) */
    char occasion[32];               /* canonical, as qparse names it */
    char designer[128];              /* as the catalog spells it */
    char fabric[32];                 /* canonical, as qparse names it (a catalog tag) */
    enum it_src src[IT_F_COUNT];
};

struct it_result {
    enum it_kind intent;
    double confidence;               /* [0, 1] */
    unsigned cues;                   /* IT_CUE_* */
    struct it_entities e;
};

/* Per-worker knowledge the analyser may use (borrowed). */
struct it_lexicon {
    const char *const *designers;    /* the catalog's designer names */
    size_t ndesigners;
};

/* What the customer told the shop before (SPEC 1.1 customerContext). */
struct it_context {
    double budget_min, budget_max;   /* 0: open */
    const char *sizes[4];            /* preferred, in order; NULL-terminated */
    const char *colors[4];
    const char *location;
};

/* Reads msg (UTF-8, any length; the first 160 words are looked at).
 * lx may be NULL. Always fills *out; returns 0. */
int it_analyze(const char *msg, const struct it_lexicon *lx, struct it_result *out);

/* Fills entities the message left out: first from `prev` (the resolved
 * entities of the previous turn, may be NULL), then from `cx` (may be
 * NULL), and applies the follow-up cues ("cheaper" lowers the budget from
 * the previous band or from prev_ref, a reference price such as the last
 * segment's median, 0 when unknown). A message that names a new category
 * without any follow-up cue starts afresh: nothing is taken from `prev`. */
void it_resolve(struct it_result *r, const struct it_entities *prev, double prev_ref,
                const struct it_context *cx);

/* 1 when the message is about products (search, advice, prices...). */
int it_wants_products(const struct it_result *r);

const char *it_kind_name(enum it_kind k);
const char *it_field_name(enum it_field f);
const char *it_src_name(enum it_src s);

/* JSON for the `intent` event: {intent, confidence, entities, sources}.
 * New object (caller owns). */
struct json_object *it_to_json(const struct it_result *r);
/* Entities alone (as stored in messages.entities); new object. */
struct json_object *it_entities_json(const struct it_entities *e);
/* Reads entities back from it_entities_json's shape; absent fields stay
 * empty, sources become IT_SRC_HISTORY. 0, or -1 when o is not an object. */
int it_entities_parse(struct json_object *o, struct it_entities *e);

#endif
