/* filters.h: the search filters, defined once.
 *
 * One row per filter (qp_filter_defs, indexed by enum qp_filter_id) says
 * everything the rest of the code needs to know about it: its name (the
 * query parameter of product search, the key in Aza's `filters` object
 * and in the `filters` / `parsed` JSON of the events), its field and width
 * in struct qp_filters, how a value given explicitly is canonicalised and
 * how a word of the query is read, where the catalog keeps it (the SQL
 * clause common/store/catalog.c writes, the bitmap keys of
 * common/store/catbits.c), the relaxation group it belongs to, and whether
 * a value read from the words of q is a hard filter or a preference. A
 * second table (qp_group_defs) gives the relaxation groups: their order,
 * the phrase a relaxation's message uses, the facet it offers. The parser
 * (qparse.c), the catalog SQL, the events, Aza search, the sales agent and
 * the relaxation ladder all read these tables. Pure data and functions
 * over it; no allocation. */
#ifndef TROIKA_FILTERS_H
#define TROIKA_FILTERS_H

#include <stddef.h>

struct json_object;

/* The filters of one search. Empty strings and negative prices mean "not
 * set"; in_stock is -1 (any), 0 (out of stock only) or 1 (in stock only).
 * The widths here are the only ones: the table, the parameters' limits
 * and Aza's checks read them through qp_filter_defs[].cap. */
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
    unsigned soft;          /* bit 1 << id: filter id is a preference (read from q's words), not a filter */
    unsigned broad;         /* bit 1 << id: filter id also accepts a product whose text names its value
                             * (a category by its words: qp_filter_def.broad) */
};

/* Filters a request gives explicitly (query parameters, a JSON `filters`
 * object). Strings NULL or "" and prices < 0 and in_stock -1 are "not
 * given". Borrowed. */
struct qp_given {
    const char *size, *color, *category, *designer, *occasion, *fabric, *work;
    double min_price, max_price;
    int in_stock;
};

/* The filters, in the order of the SQL clause, the JSON and the
 * parameters' checks. */
enum qp_filter_id {
    QPF_SIZE,
    QPF_COLOR,
    QPF_CATEGORY,
    QPF_DESIGNER,
    QPF_OCCASION,
    QPF_FABRIC,
    QPF_WORK,
    QPF_MIN_PRICE,
    QPF_MAX_PRICE,
    QPF_IN_STOCK,
    QPF_N
};

enum qp_filter_kind {
    QPF_TEXT,     /* a string field */
    QPF_COLOUR,   /* the colour and its family: the family filters when known */
    QPF_MIN,      /* a lower price bound (>= 0) */
    QPF_MAX,      /* an upper price bound */
    QPF_BOOL      /* in_stock: -1, 0 or 1 */
};

/* Relaxation groups, in the order a shopper gives them up most easily:
 * a search with no results tries again without each (product search). */
enum qp_group {
    QPG_PRICE,
    QPG_SIZE,
    QPG_STOCK,
    QPG_WORK,
    QPG_FABRIC,
    QPG_COLOR,
    QPG_OCCASION,
    QPG_DESIGNER,
    QPG_CATEGORY,
    QPG_N
};

/* What a value read from the words of q is: a filter every result must
 * pass, or a preference that ranks first what meets it. Explicit
 * parameters are always filters. */
enum qp_strength { QPF_HARD, QPF_SOFT };

enum { QPF_MAX_VALUES = 6 };   /* values one filter may accept (qp_filter_values) */

struct qp_filter_def {
    enum qp_filter_id id;
    const char *name;            /* query parameter and JSON key ("minPrice") */
    const char *alt_name;        /* JSON key of the second field ("colorFamily"), or NULL */
    enum qp_filter_kind kind;
    size_t off, cap;             /* its field in struct qp_filters; cap counts the NUL */
    size_t alt_off, alt_cap;     /* the colour family's field */
    size_t given;                /* its field in struct qp_given */

    /* Reading. word: a word or two-word phrase of q (lower-case, one
     * space) -> the canonical value (and the colour family), NULL when not
     * this filter's; NULL when q's words are read by a phrase reader of
     * qparse.c (sizes, prices, stock) or never (designer: matched against
     * the catalog's names). nouns: words after it that belong to the
     * phrase ("zardozi work"). absorb: a second word whose value the set
     * filter already accepts is used up ("cocktail party"). */
    const char *(*word)(const char *w, const char **family);
    const char *const *nouns;
    int absorb;
    /* canon: a value given explicitly ("Sarees", "2xl", "Navy-Blue") ->
     * canonical, NULL when unknown; an unknown value is kept, lower-cased
     * when lower is set. NULL canon: kept as given. */
    const char *(*canon)(const char *s, const char **family);
    int lower;

    /* Where the catalog keeps it (common/store/catalog.c). table/alias:
     * the child table joined on product_id, NULL for a column of products
     * p; column (alt_column for a colour outside the known families); op
     * the comparison. accepts: the values a product may carry for the
     * filter's value, NULL-terminated (an occasion's close ones, a
     * fabric's family), matched with IN (...), at most max_values; NULL:
     * the value alone, with op. */
    const char *table, *alias, *column, *alt_column, *op;
    const char *const *(*accepts)(const char *value);
    int max_values;
    /* broad: the FULLTEXT boolean expression (any term) by which a
     * product's text names the value ("anarkali anarkalis"), for a filter
     * matched broadly (struct qp_filters.broad); NULL: never broad. */
    const char *(*broad)(const char *value);
    /* Attribute bitmap key prefix (common/store/catbits.c): "size:". */
    const char *bits, *alt_bits;

    enum qp_group group;
    enum qp_strength from_words;
};

struct qp_group_def {
    enum qp_group id;
    const char *name;        /* `drop` of a relaxation: "price", "inStock" */
    const char *what;        /* the message after the count: "in other sizes" */
    const char *facet;       /* the facet of the dropped dimension offered as `values`, or NULL */
};

extern const struct qp_filter_def qp_filter_defs[QPF_N];
extern const struct qp_group_def qp_group_defs[QPG_N];

/* How a search with too few results widens its preferences, one step at a
 * time: first a category is also found by its words in the product's
 * text (QPW_BROADEN: an "Anarkali Kurta" filed under kurta is an
 * anarkali), and an occasion by what is worn to it (its garments and
 * work, qp_occasion_text); then the preferences are given up, the least telling first
 * (QPW_DROP): occasion, handwork, fabric; then the words to match become
 * words that rank (QPW_WORDS: any of them, natural-language mode); then
 * colour, category, and last the designer (a brand named is what a
 * shopper holds to longest: its other pieces before other brands').
 * Ends with QPW_END. */
enum qp_widen_how { QPW_BROADEN, QPW_DROP, QPW_WORDS, QPW_END };
struct qp_widen_step {
    enum qp_filter_id id;   /* QPF_N for QPW_WORDS and QPW_END */
    enum qp_widen_how how;
};
extern const struct qp_widen_step qp_widen_steps[];

/* 1 << id: the bit of filter id in struct qp_filters.soft. */
#define QPF_BIT(id) (1u << (id))

/* Sets every filter to "not set". */
void qp_filters_init(struct qp_filters *f);

/* Sets every field of g to "not given". */
void qp_given_init(struct qp_given *g);

/* The given text of a text or colour filter (NULL: not given), and
 * setters for the table-driven readers of parameters and JSON. */
const char *qp_given_text(const struct qp_given *g, enum qp_filter_id id);
void qp_given_set_text(struct qp_given *g, enum qp_filter_id id, const char *v);
void qp_given_set_num(struct qp_given *g, enum qp_filter_id id, double v);

/* Sets every filter g gives over f (what the query said), field by field,
 * each a filter, not a preference (explicit parameters are hard),
 * canonicalised as query words are: sizes ("2xl" -> "XXL"), colours (name
 * and family; an unknown colour lower-cased, no family), categories,
 * occasions, fabrics and handwork (unknown ones lower-cased); designer as
 * given. Values longer than a field are cut. */
void qp_filters_override(struct qp_filters *f, const struct qp_given *g);

/* Marks every set filter whose from_words is QPF_SOFT as a preference
 * (the parser calls it for what it read from q's words). */
void qp_filters_soften(struct qp_filters *f);

/* The preferences of f that are set: a mask of QPF_BIT(id). */
unsigned qp_filters_prefs(const struct qp_filters *f);

/* 1 when filter id is set in f. */
int qp_filter_is_set(const struct qp_filters *f, enum qp_filter_id id);

/* 1 when any filter is set. */
int qp_filters_any(const struct qp_filters *f);

/* The broad expression of filter id when f matches it broadly (its bit in
 * f->broad, the filter set, an expression known for its value), else NULL. */
const char *qp_filter_broad(const struct qp_filters *f, enum qp_filter_id id);

/* Unsets filter id (a colour with its family), and its preference bit. */
void qp_filter_clear(struct qp_filters *f, enum qp_filter_id id);

/* The string field of a text or colour filter (the colour's name), else
 * NULL. Borrowed from f. */
const char *qp_filter_text(const struct qp_filters *f, enum qp_filter_id id);

/* Sets filter id of dst to src's (with its family and preference bit). */
void qp_filter_copy(struct qp_filters *dst, const struct qp_filters *src, enum qp_filter_id id);

/* Sets a text or colour filter to value (with family for a colour; NULL:
 * none), cut to the field's width. No canonicalisation. */
void qp_filter_put(struct qp_filters *f, enum qp_filter_id id, const char *value, const char *family);

/* The values a product may carry to pass a set text or colour filter,
 * into v[0..QPF_MAX_VALUES) (borrowed from f or the lexicon): the
 * accepted list (at most max_values), or the value alone. *alt is 1 when
 * they are to be matched in the alternative column (a colour without a
 * known family: its name, not a family). The count, 0 when not set. */
int qp_filter_values(const struct qp_filters *f, enum qp_filter_id id, const char **v, int *alt);

/* 1 when the relaxation group g of f is set. */
int qp_group_is_set(const struct qp_filters *f, enum qp_group g);

/* Unsets every filter of group g; 1 when something was set. */
int qp_group_clear(struct qp_filters *f, enum qp_group g);

/* The phrase of a relaxation's message for dropping g from f (for stock
 * it depends on what f asked: "counting pieces out of stock"). */
const char *qp_group_what(const struct qp_filters *f, enum qp_group g);

/* 1 when w (a word or a value) is one some filter understands: a colour,
 * size, category, occasion, fabric or handwork. */
int qp_filter_word_known(const char *w);

/* The filters that are set, as JSON (`filters` and `parsed` of the
 * events, the relaxations, the logs): keys from the table. New object. */
struct json_object *qp_filters_json(const struct qp_filters *f);

#endif
