/* qparse_lex.h: the word lists of query understanding and the lookups
 * over them: colours and their families, sizes, categories, occasions and
 * the tags they accept, fabrics, handwork, stopwords. The parser
 * (qparse.c), the filter table (filters.c), the catalog SQL and the
 * importer read them. Words are lower-case, two-word phrases joined by
 * one space. This module includes nothing else of common/search: the
 * parser and the filter table build on it. */
#ifndef TROIKA_QPARSE_LEX_H
#define TROIKA_QPARSE_LEX_H

#include <stddef.h>

struct qp_color {
    const char *word;     /* as typed, lower-case; may be two words */
    const char *name;     /* canonical colour name */
    const char *family;
};

/* ---- words of a query (lower-case, exact) ---------------------------------- */

/* 1 when s is one of the NULL-ended list's words, else 0. */
int qp_in(const char *s, const char *const *list);

/* The colour the word (or phrase) names, or NULL. Static storage. */
const struct qp_color *qp_color_find(const char *w);

/* The canonical category / occasion the word names, or NULL. Static storage. */
const char *qp_category_find(const char *w);
const char *qp_occasion_find(const char *w);

/* The canonical fabric / handwork (a catalog tag) the word names, or NULL.
 * Static storage. */
const char *qp_fabric_find(const char *w);
const char *qp_work_find(const char *w);

/* 1 for a filler word of shopping queries (English and Hinglish) that
 * would otherwise become a required term. */
int qp_filler(const char *w);

/* 1 when w (lower-case) is one of InnoDB's default FULLTEXT stopwords. */
int qp_ft_stopword(const char *w);

/* ---- values (any case, spaces, '-' or '_' between words) ------------------- */

/* Canonical size for s ("xl" -> "XL", "2xl" -> "XXL", "free" -> "Free
 * Size", "38" -> "38"); NULL when s is not a size. */
const char *qp_size_canon(const char *s);

/* Canonical colour name and its family for s ("Maroon" -> "maroon"/"red",
 * "laal" -> "red"/"red", "navy blue" -> "navy"/"blue"). 0, or -1 when the
 * colour is not in the lexicon. */
int qp_color_lookup(const char *s, const char **name, const char **family);

/* Family of a colour name, or NULL when unknown. */
const char *qp_color_family(const char *s);

/* The family of a colour phrase the lexicon does not know, by its words:
 * the last word that is a colour ("teal blue" -> blue, "rust orange" ->
 * orange, "grey melange" -> grey); NULL when none is. Static storage. */
const char *qp_color_guess(const char *s);

/* Two words of a query read as one colour ("mustard yellow", "dark
 * green", "teal blue"): second is a colour and first a shade word or a
 * colour that is not a family's own name ("red gold" stays two). The
 * family of second, else NULL; *name is second's canonical name after a
 * shade word ("pastel pink" is pink), else NULL (the phrase names it).
 * Static storage. */
const char *qp_color_pair(const char *first, const char *second, const char **name);

/* 1 when s names a colour family ("red", "blue", ...). */
int qp_is_family(const char *s);

/* Canonical category for s (plurals and spellings: "lehengas", "lengha" ->
 * "lehenga"; "sari" -> "saree"), or NULL when unknown. */
const char *qp_category_canon(const char *s);

/* The categories that count as `category` (canonical first),
 * NULL-terminated: a kurta set also accepts a kurta. NULL: itself only. */
const char *const *qp_category_accepts(const char *category);

/* The category a catalog files canonical category canon under: a kurta
 * set under kurta (as shops and the generator do), so that "kurta" finds
 * it; the query "kurta set" accepts kurta and ranks the sets first
 * (qp_boosts). Others: themselves. Static storage. */
const char *qp_category_stored(const char *canon);

/* The FULLTEXT boolean expression (any term enough) that finds a
 * garment of canonical category canon by its words in a product's text
 * ("anarkali anarkalis"; a suit also as a kurta with a bottom), or NULL.
 * Static storage. */
const char *qp_category_text(const char *canon);

/* The words and phrases the lexicon reads as canonical category canon,
 * into out[0..max); the count. Static storage. */
int qp_category_spellings(const char *canon, const char **out, int max);

/* The FULLTEXT boolean expression (any term enough) that finds what is
 * worn to canonical occasion occasion by the products' words (navratri:
 * "lehenga chaniya choli ... mirror bandhani gota"), or NULL. Static. */
const char *qp_occasion_text(const char *occasion);

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

/* ---- what ranks first among equals ------------------------------------------ */

/* A group of words; a product whose title, colours or category has one of
 * them meets the group. one: room for a single word (the shade). */
enum { QP_BOOST_WORDS = 24 };

struct qp_boost {
    const char *const *words;   /* NULL-terminated; NULL with family */
    const char *one[2];
    const char *garment[QP_BOOST_WORDS];   /* room for a category's spellings */
    const char *family;         /* or: met when the product's first (main) colour is of this family */
    int negate;                 /* met when none of the words is there (a kurta, not a set) */
    int weight;                 /* what meeting it counts: what q's words said outweighs what an
                                 * occasion implies */
};

/* 1 when w asks who a garment is for ("men", "ladkiyon", "kids"). */
int qp_audience_word(const char *w);

/* The groups that rank a product first among those a search found alike
 * (docs/search.md "Ranking what it found"): who it is for, when q's words
 * say (words[0..nwords), lower-case: "men", "ladkiyon"; shops title it
 * "Men", "Girls"); for a kurta set, the kurta sold with its bottom, for a
 * kurta one sold alone (unless q asks for the bottom); the garment asked
 * (its spellings: ranks it first even where the category was given up);
 * for a colour, a product whose main (first) colour is of its family; the shade asked when finer than its family ("teal");
 * for an occasion, the garments worn to it and the work and fabrics that
 * make a piece festive (or, for casual and office, everyday ones), and
 * yellow for a haldi, green for a mehendi. Into out[0..max); the count.
 * Borrows shade and static lists. */
int qp_boosts(const char *const *words, size_t nwords, const char *category, const char *occasion,
              const char *shade, const char *family, struct qp_boost *out, int max);

#endif
