/* catterms.h: document frequencies of the catalog's full-text words, and
 * the full-text plan built from them.
 *
 * InnoDB's FULLTEXT cost grows with the documents each word of a query
 * matches: about 1 us a document at 100k products, so a word in half the
 * catalog ("hand", from "hand wash") costs ~40 ms on its own. troika-admin
 * counts, after an import, how many products contain each word (ct_sync,
 * table search_terms, and every word in the vocabulary search_vocab); text search reads the counts of a query's words
 * (ct_plan) to put the rarest first and to check a very frequent word on
 * the rows the rarer words matched instead (docs/search.md). */
#ifndef TROIKA_CATTERMS_H
#define TROIKA_CATTERMS_H

#include <stddef.h>

#include "common/base/arena.h"

struct db;

/* Words of a query the plan considers (more are ignored). */
enum { CT_PLAN_WORDS = 16 };

/* Rebuilds search_terms when force is set or it was built by another
 * version of this code (catalog_meta "terms_version"); *rebuilt says
 * whether it did. Reads the products in pages, then writes in its own
 * transaction. DB_OK or DB_E*. */
int ct_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);

/* The vocabulary (search_vocab, written by ct_sync): every word with a
 * letter and how many products contain it, into arrays of ar (strings
 * too). DB_OK or DB_E*. */
int ct_vocab_load(struct db *db, arena_t *ar, const char ***words, unsigned **docs, size_t *n, char *err,
                  size_t errlen);

/* The words of s as full-text search sees them: runs of ASCII letters and
 * digits and UTF-8 bytes, each of at least three characters. w[i] points
 * into s, wl[i] is its length in bytes; at most max. Returns the count. */
size_t ct_words(const char *s, const char **w, size_t *wl, size_t max);

struct ct_word {
    const char *w;        /* lower-cased */
    long long docs;       /* products containing it; 0: fewer than stored; -1: no counts */
    int category;         /* a word of the category filter, not of the query */
};

/* The cheapest way to match the words v[0..n) among `products`: a bit set
 * over v of the words FULLTEXT matches; the query words outside it are
 * checked on the rows, the category words outside it left to the category
 * filter. With more than CT_CHOOSE_MAX words: every query word. */
enum { CT_CHOOSE_MAX = 10 };
size_t ct_choose(const struct ct_word *v, size_t n, long long products);

/* qsort order of struct ct_word: fewest products first. */
int ct_by_docs(const void *a, const void *b);

struct ct_plan {
    const char *expr;             /* boolean-mode expression: "+embroidered"; "" = no word */
    const char *row_words[CT_PLAN_WORDS];   /* words to check on the matched rows */
    size_t nrow_words;
    const char *row_list;         /* the same, space-separated, for messages */
    int counted;                  /* 1: planned from the counts; 0: no counts, expr "" */
};

/* The plan for the query words in residual, with the words of the
 * category filter (NULL: none) as possible drivers. One indexed query for
 * the counts. Strings live in ar. DB_OK or DB_E*. */
int ct_plan(struct db *db, arena_t *ar, const char *residual, const char *category, struct ct_plan *out,
            char *err, size_t errlen);

#endif
