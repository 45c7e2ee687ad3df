/* suggest.h: 2-4 short follow-up prompts after an answer (the
 * `suggestions` event).
 *
 * From the context: topics (headings of the chatbot's files, file titles)
 * that the session has not asked about yet, as "Tell me about <topic>" (a
 * heading that is already a question is kept as it is). From the LLM when
 * it has a model: one short JSON-mode call ({"suggestions": [...]}),
 * falling back to the context ones when it fails or gives fewer than two.
 * Pure functions over the request arena, except sug_make's call. */
#ifndef TROIKA_SUGGEST_H
#define TROIKA_SUGGEST_H

#include <stddef.h>

#include "common/base/arena.h"
#include "common/assist/llm.h"

enum { SUG_MIN = 2, SUG_MAX = 4, SUG_MAX_LEN = 80 };

struct sug_in {
    const char *query;              /* this turn's question */
    const char *answer;             /* this turn's answer (may be NULL) */
    const char *const *asked;       /* earlier user messages of the session */
    size_t nasked;
    const char *const *topics;      /* candidate topics, preferred first */
    size_t ntopics;
};

/* Headings of a text: markdown "#" lines, and short title-like lines (at
 * most 8 words, no final period or comma, a capital first letter) that a
 * longer line follows. Appends up to max new ones (no repeats) to out[*n].
 * Borrowed (arena). */
void sug_headings(arena_t *ar, const char *text, size_t len, const char **out, size_t *n, size_t max);

/* Up to max (<= SUG_MAX) prompts from topics not asked about yet; at least
 * SUG_MIN, completed with general prompts when the context has too few.
 * Returns the count. */
size_t sug_from_context(arena_t *ar, const struct sug_in *in, const char **out, size_t max);

/* Asks the LLM (one JSON-mode call) and keeps 2-4 short, distinct
 * strings; a provider without a model (res->rc LLM_ENOMODEL, nothing
 * built or sent), a failure, or fewer than SUG_MIN usable strings gives
 * sug_from_context's. *from_llm says which was used. A non-zero tick
 * aborts: its code lands in res->rc and nothing is returned. */
size_t sug_make(struct llm *l, arena_t *ar, const struct sug_in *in, const char **out, size_t max, llm_tick_fn tick,
                void *arg, int *from_llm, struct llm_result *res);

/* Parses {"suggestions": [...]} or a bare array; keeps up to max distinct
 * non-empty strings of at most SUG_MAX_LEN bytes. Returns the count. */
size_t sug_parse(arena_t *ar, const char *json, size_t len, const char **out, size_t max);

#endif
