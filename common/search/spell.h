/* spell.h: the catalog's vocabulary and typo correction from it.
 *
 * The vocabulary is every word of the catalog's searchable text (as
 * FULLTEXT splits it, lower-case) with the number of products that contain
 * it; troika-admin builds it with the other derived tables after an import
 * (table search_vocab, common/store/catterms.c), each worker loads it.
 * A query word the vocabulary lacks is corrected to the vocabulary word
 * within one edit when it has 5 to 8 letters, two edits from 9 letters
 * (an insertion, a deletion, a substitution, or two neighbouring letters
 * swapped: optimal string alignment) that starts with the same letter;
 * the closest wins, then the word in more products, then the first in
 * order. Pure functions over the loaded
 * vocabulary; no allocation but in sp_vocab_build. */
#ifndef TROIKA_SPELL_H
#define TROIKA_SPELL_H

#include <stddef.h>

enum { SP_WORD_MAX = 84 };   /* longest word kept (InnoDB's token limit) */

struct sp_vocab {
    const char **words;      /* sorted (strcmp), lower-case */
    unsigned *docs;          /* products containing words[i] */
    size_t n;
    size_t bylen[SP_WORD_MAX + 2];   /* index of the first word of each length in `order` */
    size_t *order;           /* word indexes by length, then docs (most first) */
    char *pool;              /* the words' bytes */
};

/* Builds v from n words (any order, lower-case, unique) and their counts,
 * copying them. 0, or -1 out of memory (v then empty). sp_vocab_free
 * releases it. */
int sp_vocab_build(struct sp_vocab *v, const char *const *words, const unsigned *docs, size_t n);
void sp_vocab_free(struct sp_vocab *v);

/* Products containing w (lower-case), 0 when the vocabulary lacks it. */
unsigned sp_docs(const struct sp_vocab *v, const char *w);

/* 1 when some vocabulary word starts with w (the shopper may still be
 * typing it: "embroide"). */
int sp_prefix(const struct sp_vocab *v, const char *w);

/* Edit distance of a and b (lengths la, lb) by optimal string alignment
 * (a swap of neighbours is one edit), or max + 1 when it exceeds max. */
int sp_distance(const char *a, size_t la, const char *b, size_t lb, int max);

/* Edits allowed for a word of len bytes: 0 under 5, 1 under 9, else 2. */
int sp_allowed(size_t len);

/* The vocabulary word w (lower-case ASCII letters) most likely meant, or
 * NULL: none within sp_allowed(strlen(w)) edits, or w itself is in the
 * vocabulary. Borrowed from v. */
const char *sp_correct(const struct sp_vocab *v, const char *w);

#endif
