/* qparse_lex.h: the word lists of query understanding and the lookups
 * over them: colours and their families, sizes, categories, occasions and
 * the tags they accept, fabrics, handwork, stopwords. The parser
 * (qparse.c), the filter table (filters.c), the catalog SQL and the
 * importer read them. Words are lower-case, two-word phrases joined by
 * one space. This module includes nothing else of common/search: the
 * parser and the filter table build on it. */
#ifndef TROIKA_QPARSE_LEX_H
#define TROIKA_QPARSE_LEX_H

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

#endif
