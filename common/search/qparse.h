/* qparse.h: query understanding for product search. The filters it fills
 * are defined in filters.h (one table), the word lists in qparse_lex.h
 * (shared with the catalog importer); both are included here.
 *
 * qp_parse turns "laal lehenga size M under ₹5k" into filters (colour family
 * red, category lehenga, size M, maxPrice 5000) and the residual text left
 * for full-text search. Words that became filters, stopwords and words
 * under three characters are left out of the residual, because InnoDB
 * FULLTEXT drops them and a required (+) term it dropped makes a boolean
 * query match nothing. Pure functions over const tables; no allocation. */
#ifndef TROIKA_QPARSE_H
#define TROIKA_QPARSE_H

#include <stddef.h>

#include "common/search/filters.h"
#include "common/search/qparse_lex.h"

enum { QP_RESIDUAL_MAX = 512, QP_MAX_INPUT = 1024 };

struct qp_result {
    struct qp_filters f;
    char residual[QP_RESIDUAL_MAX];   /* kept words, lower-case, space-separated */
    int nterms;                       /* words in residual */
};

/* Finds in q the catalog designer name (designers[0..n)) written whole:
 * its words consecutive, ASCII case-insensitive, each a whole word of q
 * ("Studio Kesar sherwani" -> "Studio Kesar"). The longest name wins, then
 * the first in q. A one-word name counts only when it is not a word the
 * parser understands (a colour, size, category, occasion, fabric or
 * handwork), and a one-word name that is a stopword, a filler or under
 * three letters ("AND", "ONLY", "W") only typed exactly as spelt. On a match: the name as the catalog spells it in designer,
 * q with the name's words replaced by a space in rest, and 1; else 0.
 * Names or a q longer than the buffers are skipped. */
int qp_take_designer(const char *q, const char *const *designers, size_t n, char *designer, size_t dlen,
                     char *rest, size_t rlen);

/* Parses q (UTF-8, any length; the first QP_MAX_INPUT bytes are read). */
void qp_parse(const char *q, struct qp_result *out);

/* What the parser may know of the catalog: its own category names
 * (lower-case, as import-products stored them), so that a garment the
 * lexicon lacks ("dress", "top", "palazzos") is a category word too. */
struct qp_catalog {
    const char *const *categories;
    size_t ncategories;
};

/* qp_parse with the catalog's names (cat may be NULL). */
void qp_parse_in(const char *q, const struct qp_catalog *cat, struct qp_result *out);

/* 1 when w (lower-case) is a word the parser reads without the catalog:
 * a filter's word, a stopword or filler, a word of a price, size or stock
 * phrase. Such a word is never corrected nor reported as unmatched. */
int qp_word_known(const char *w);

/* 1 when c can be part of a word: an ASCII letter or digit, or any byte
 * of a multi-byte UTF-8 character. One definition for the parser, the
 * full-text plan and the designer match. */
int qp_wordbyte(unsigned char c);

/* Writes into out (cap bytes) a query that qp_parse, after
 * qp_take_designer, reads back as f with residual as its residual words:
 * "maroon choli velvet lehenga size M for wedding in stock under 5000 by
 * Studio Kesar". The colour goes first (the parser keeps the first colour),
 * the words next (after the category they could join it: "lehenga
 * choli"), unless some are filter words themselves (a second colour, "silk
 * chiffon"): then they go last, after the filter that won. Not read back
 * the same: a
 * residual word that is itself a filter word (the "gold" of "red and gold
 * lehenga") once its filter is unset, and a designer the catalog does not
 * name. The length, or -1 when out is too small. Product search offers
 * these as the queries that widen a search with no results. */
int qp_render(const struct qp_filters *f, const char *residual, char *out, size_t cap);

/* The largest amount q may give as a price (the price parameters' limit);
 * a longer number is a word, not a price. */
#define QP_PRICE_MAX 1e10

/* Price band used for "around X": [X * (1 - QP_AROUND), X * (1 + QP_AROUND)]. */
#define QP_AROUND 0.15

#endif
