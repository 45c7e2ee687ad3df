/* chat.h: the chat pipeline's parts, shared by handlers/chat/chat*.c and their
 * unit tests (not by other handlers). Steps: session (common/store/session),
 * retrieval (chat_retrieve.c), generation (one LLM task whose two forms,
 * the builtin composer's answer and a model's prompt, are built in
 * chat_compose.c; the provider picks), tts (handlers/answer), then
 * suggestions (common/assist/suggest).
 *
 * Memory: everything lives in the request arena. */
#ifndef TROIKA_CHAT_H
#define TROIKA_CHAT_H

#include <stddef.h>

#include "common/base/arena.h"

struct ctx;
struct llm_msg;
struct sess_msg;

/* ---- retrieval (chat_retrieve.c) ---------------------------------------------- */

/* One retrieved chunk of the chatbot's context. */
struct chat_chunk {
    long long id, file_id;
    const char *title;        /* the file's title */
    int page;                 /* 0 when the file has no pages */
    const char *text;
    size_t len;
    double cosine;            /* vector similarity; -2 when not a vector hit */
    int vrank, trank;         /* 1-based ranks in the vector / full-text lists; 0 = absent */
    double score;             /* reciprocal rank fusion */
    int source;               /* 1-based source number (same file and page, same number) */
};

struct chat_sources {
    struct chat_chunk *chunks;   /* best first */
    size_t n;
    int nsources;                /* distinct (file, page) numbers */
    int vector_used;             /* the chatbot's vector index was searched */
    const char *note;            /* why the vector side was skipped, or NULL */
    size_t vector_hits, text_hits;
};

/* Searches the chatbot's chunks: vector similarity over its index
 * (chatbot-<id>) with the cosine floor chat_min_score, plus FULLTEXT,
 * fused by reciprocal rank (1 / (60 + rank)), best chat_top_k kept. A
 * missing or mismatched index is not an error: the full-text side still
 * answers and `note` says why. 0, or an SPEC error code with err filled
 * (returned string: "DB_CONNECTION_ERROR", "DB_QUERY_ERROR",
 * "UPSTREAM_TIMEOUT", "UPSTREAM_ERROR"; a SINK_E* abort sets *abort_rc). */
const char *chat_retrieve(struct ctx *c, const char *chatbot, const char *query, struct chat_sources *out,
                          int *abort_rc, char *err, size_t errlen);

/* Fuses a vector list and a text list of chunk ids (best first) by
 * reciprocal rank with constant k_rrf; writes up to `max` fused entries
 * (ids, scores, ranks) and returns their count. Exposed for unit tests. */
size_t chat_rrf(const long long *vec, size_t nv, const long long *txt, size_t nt, int k_rrf, size_t max,
                long long *ids, double *scores, int *vranks, int *tranks);

/* Numbers the chunks' sources: chunks of the same file and page share a
 * number, in order of first appearance. Returns the count of numbers. */
int chat_number_sources(struct chat_chunk *ch, size_t n);

/* ---- generation (chat_compose.c) ------------------------------------------------ */

/* The honest answer when nothing in the documents fits. */
#define CHAT_NO_ANSWER "I don't have that in this shop's documents."

/* The builtin answer: the context sentences that share the most words with
 * the query (at most 4, about 90 words), in document order, each followed
 * by its source number ("... 7 days [1]."); duplicates from overlapping
 * chunks are dropped. CHAT_NO_ANSWER when no sentence shares a word with
 * the query. cited (may be NULL; room for nsources) gets cited[i] = 1 for
 * each source number i+1 the answer cites. Borrowed (arena). */
const char *chat_compose(arena_t *ar, const char *query, const struct chat_chunk *ch, size_t n, int nsources,
                         unsigned char *cited);

/* The LLM's messages: a grounded system prompt with the numbered passages,
 * the session's history, then the query. *n receives the count. */
struct llm_msg *chat_prompt(arena_t *ar, const char *query, const struct chat_chunk *ch, size_t nch,
                            const struct sess_msg *hist, size_t nhist, size_t *n);

/* Marks in cited[0..nsources) the source numbers "[k]" that text cites. */
void chat_mark_cited(const char *text, size_t len, int nsources, unsigned char *cited);

/* Query words worth matching: lower-case, stop words removed, light
 * stemming. Fills words (each NUL-terminated, in the arena) up to max;
 * returns the count. */
size_t chat_terms(arena_t *ar, const char *s, size_t n, const char **words, size_t max);

#endif
