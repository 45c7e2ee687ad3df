/* qparse_lex.h: the word lists' lookups the query parser (qparse.c) uses;
 * internal to common/search/qparse*.c. The lists themselves are in qparse_lex.c,
 * the lookups other modules use in qparse.h. Words are lower-case, two-word
 * phrases joined by one space. */
#ifndef TROIKA_QPARSE_LEX_H
#define TROIKA_QPARSE_LEX_H

struct qp_color {
    const char *word;     /* as typed, lower-case; may be two words */
    const char *name;     /* canonical colour name */
    const char *family;
};

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

#endif
