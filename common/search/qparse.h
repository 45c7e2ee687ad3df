/* qparse.h: query understanding for product search, and the lexicons it
 * shares with the catalog importer (canonical sizes, colour families,
 * categories, occasions, fabrics, handwork).
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

enum { QP_RESIDUAL_MAX = 512, QP_MAX_INPUT = 1024 };

/* The filters of one search. Empty strings and negative prices mean "not
 * set"; in_stock is -1 (any), 0 (out of stock only) or 1 (in stock only). */
struct qp_filters {
    char size[32];          /* canonical: "M", "XXL", "Free Size", "38" */
    char color[64];         /* the colour asked for, canonical ("maroon", "red") */
    char color_family[32];  /* its family ("red"); "" when the colour is unknown */
    char category[64];      /* canonical ("lehenga") */
    char designer[128];
    char occasion[32];      /* canonical ("wedding") */
    char fabric[32];        /* canonical, a catalog tag ("banarasi silk", "velvet") */
    char work[32];          /* handwork, canonical, a catalog tag ("zardozi", "mirror work") */
    double min_price;
    double max_price;
    int in_stock;
};

struct qp_result {
    struct qp_filters f;
    char residual[QP_RESIDUAL_MAX];   /* kept words, lower-case, space-separated */
    int nterms;                       /* words in residual */
};

/* Sets every filter to "not set". */
void qp_filters_init(struct qp_filters *f);

/* Filters a request gives explicitly (query parameters, a JSON `filters`
 * object). Strings NULL or "" and prices < 0 and in_stock -1 are "not
 * given". Borrowed. */
struct qp_given {
    const char *size, *color, *category, *designer, *occasion, *fabric, *work;
    double min_price, max_price;
    int in_stock;
};

/* Sets every filter g gives over f (what the query said), field by field,
 * canonicalised as query words are: sizes ("2xl" -> "XXL"), colours (name
 * and family; an unknown colour lower-cased, no family), categories,
 * occasions, fabrics and handwork (unknown ones lower-cased); designer as
 * given. Values longer than a field are cut. */
void qp_filters_override(struct qp_filters *f, const struct qp_given *g);

/* Finds in q the catalog designer name (designers[0..n)) written whole:
 * its words consecutive, ASCII case-insensitive, each a whole word of q
 * ("Studio Kesar sherwani" -> "Studio Kesar"). The longest name wins, then
 * the first in q. A one-word name counts only when it is not a word the
 * parser understands (a colour, size, category, occasion, fabric or
 * handwork). On a match: the name as the catalog spells it in designer,
 * q with the name's words replaced by a space in rest, and 1; else 0.
 * Names or a q longer than the buffers are skipped. */
int qp_take_designer(const char *q, const char *const *designers, size_t n, char *designer, size_t dlen,
                     char *rest, size_t rlen);

/* Parses q (UTF-8, any length; the first QP_MAX_INPUT bytes are read). */
void qp_parse(const char *q, struct qp_result *out);

/* Canonical size for s ("xl" -> "XL", "2xl" -> "XXL", "free" -> "Free
 * Size", "38" -> "38"); NULL when s is not a size. */
const char *qp_size_canon(const char *s);

/* Canonical colour name and its family for s ("Maroon" -> "maroon"/"red",
 * "laal" -> "red"/"red", "navy blue" -> "navy"/"blue"). 0, or -1 when the
 * colour is not in the lexicon. */
int qp_color_lookup(const char *s, const char **name, const char **family);

/* Family of a colour name, or NULL when unknown. */
const char *qp_color_family(const char *s);

/* 1 when c can be part of a word: an ASCII letter or digit, or any byte
 * of a multi-byte UTF-8 character. One definition for the parser, the
 * full-text plan and the designer match. */
int qp_wordbyte(unsigned char c);

/* 1 when w (lower-case) is one of InnoDB's default FULLTEXT stopwords. */
int qp_ft_stopword(const char *w);

/* 1 when s names a colour family ("red", "blue", ...). */
int qp_is_family(const char *s);

/* Canonical category for s (plurals and spellings: "lehengas", "lengha" ->
 * "lehenga"; "sari" -> "saree"), or NULL when unknown. */
const char *qp_category_canon(const char *s);

/* Canonical occasion for s ("shaadi", "bridal" -> "wedding"), or NULL. */
const char *qp_occasion_canon(const char *s);

/* The tags that count as `occasion` (canonical first), NULL-terminated:
 * the SQL filter accepts a product carrying any of them. */
const char *const *qp_occasion_tags(const char *occasion);

/* Canonical fabric for s ("banarsi" -> "banarasi silk", "kanjivaram" ->
 * "kanjeevaram silk", "velvets" -> "velvet"), or NULL. Canonical names are
 * the catalog's tags (tools/admin_gen.c writes them). */
const char *qp_fabric_canon(const char *s);

/* The tags that count as `fabric`, NULL-terminated: "silk" accepts every
 * silk ("raw silk", "banarasi silk", ...), "cotton" also "mul cotton";
 * other fabrics only themselves. NULL for a fabric not in the lexicon. */
const char *const *qp_fabric_tags(const char *fabric);

/* Canonical handwork for s ("gota" -> "gota patti", "chikan" ->
 * "chikankari", "sequins" -> "sequin"), or NULL. */
const char *qp_work_canon(const char *s);

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

/* Price band used for "around X": [X * (1 - QP_AROUND), X * (1 + QP_AROUND)]. */
#define QP_AROUND 0.15

#endif
