/* qparse.c: query understanding for product search; see qparse.h.
 *
 * The query is cut into tokens (words, numbers, and the marks ₹ - < > ~ +),
 * then scanned left to right: price phrases, stock words, sizes, colours,
 * categories, occasions, fabrics and handwork mark the tokens they use,
 * and whatever is left (minus stopwords and words under three characters)
 * is the residual text.
 * The first value found for a filter wins; a second colour or category word
 * stays in the residual text. All state lives in a struct on the stack.
 * The filters and how their words are read are in filters.c (the table),
 * the word lists in qparse_lex.c. */
#include "common/search/qparse.h"
#include "common/search/qparse_lex.h"
#include "common/base/u8.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tokens ---------------------------------------------------------------- */

enum qp_kind { TK_WORD, TK_NUM, TK_RUPEE, TK_DASH, TK_LT, TK_GT, TK_TILDE, TK_PLUS };

enum { QP_MAX_TOKENS = 160 };

struct qp_tok {
    enum qp_kind kind;
    const char *s;     /* lower-case, NUL-terminated (in st->text) */
    int upper;         /* typed in capitals (single-letter sizes) */
    int used;          /* became (part of) a filter */
    int text;          /* stays a word to match ("saree gown": both words) */
};

struct qp_state {
    struct qp_tok t[QP_MAX_TOKENS];
    int n;
    char text[QP_MAX_INPUT * 2 + QP_MAX_TOKENS];
    size_t tlen;
    struct qp_result *r;
    const struct qp_catalog *cat;   /* the catalog's own category names, or NULL */
};

static void qp_push(struct qp_state *st, enum qp_kind kind, const char *src, size_t n, int upper)
{
    if (st->n >= QP_MAX_TOKENS || st->tlen + n + 1 > sizeof(st->text)) return;
    char *d = st->text + st->tlen;
    for (size_t i = 0; i < n; i++) d[i] = (char)tolower((unsigned char)src[i]);
    d[n] = '\0';
    st->tlen += n + 1;
    st->t[st->n++] = (struct qp_tok){.kind = kind, .s = d, .upper = upper};
}

int qp_wordbyte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

static void qp_tokenize(struct qp_state *st, const char *q)
{
    const unsigned char *p = (const unsigned char *)q;
    size_t n = strnlen(q, QP_MAX_INPUT);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x82 && p[i + 2] == 0xB9) {   /* ₹ */
            qp_push(st, TK_RUPEE, "", 0, 0);
            i += 3;
        } else if (c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0x93 || p[i + 2] == 0x94)) {
            qp_push(st, TK_DASH, "", 0, 0);   /* en dash, em dash */
            i += 3;
        } else if (qp_wordbyte(c)) {
            size_t b = i;
            int upper = 1;
            while (i < n) {
                unsigned char d = p[i];
                if (d == 0xE2 && i + 2 < n && ((p[i + 1] == 0x82 && p[i + 2] == 0xB9) ||
                                               (p[i + 1] == 0x80 && (p[i + 2] == 0x93 || p[i + 2] == 0x94))))
                    break;
                if (qp_wordbyte(d)) {
                    if (islower(d)) upper = 0;
                    i++;
                } else if ((d == ',' || d == '.') && i > b && isdigit(p[i - 1]) && i + 1 < n &&
                           isdigit(p[i + 1])) {
                    i++;   /* 3,000 and 1.5 stay one number */
                } else {
                    break;
                }
            }
            qp_push(st, isdigit(p[b]) ? TK_NUM : TK_WORD, q + b, i - b, upper);
        } else {
            switch (c) {
            case '-': qp_push(st, TK_DASH, "", 0, 0); break;
            case '<': qp_push(st, TK_LT, "", 0, 0); break;
            case '>': qp_push(st, TK_GT, "", 0, 0); break;
            case '~': qp_push(st, TK_TILDE, "", 0, 0); break;
            case '+': qp_push(st, TK_PLUS, "", 0, 0); break;
            default: break;
            }
            i++;
        }
    }
}

/* Word at i (not yet used), or NULL. */
static const char *qp_w(const struct qp_state *st, int i)
{
    if (i < 0 || i >= st->n || st->t[i].used || st->t[i].kind != TK_WORD) return NULL;
    return st->t[i].s;
}

static int qp_is(const struct qp_state *st, int i, const char *w)
{
    const char *s = qp_w(st, i);
    return s && strcmp(s, w) == 0;
}

static int qp_kind_at(const struct qp_state *st, int i, enum qp_kind k)
{
    return i >= 0 && i < st->n && !st->t[i].used && st->t[i].kind == k;
}

static void qp_use(struct qp_state *st, int from, int to)
{
    for (int i = from; i < to && i < st->n; i++) st->t[i].used = 1;
}

/* ---- amounts --------------------------------------------------------------- */

static double qp_mult(const char *s)
{
    static const struct {
        const char *w;
        double m;
    } tab[] = {
        {"k", 1e3}, {"thousand", 1e3}, {"l", 1e5}, {"lac", 1e5}, {"lacs", 1e5}, {"lakh", 1e5},
        {"lakhs", 1e5}, {"cr", 1e7}, {"crore", 1e7}, {"crores", 1e7},
        {"hazaar", 1e3}, {"hazar", 1e3}, {"hajar", 1e3}, {"hazzar", 1e3},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(s, tab[i].w) == 0) return tab[i].m;
    return 0;
}

static int qp_currency_word(const char *s)
{
    return !strcmp(s, "rs") || !strcmp(s, "inr") || !strcmp(s, "rupees") || !strcmp(s, "rupee") ||
           !strcmp(s, "rs.");
}

/* A number token with an optional attached suffix ("5k", "1.5lakh",
 * "3000rs"). 0 with value, or -1 when the token is not an amount. */
static int qp_num(const char *s, double *v, int *mult_seen, int *cur_seen)
{
    char digits[64];
    size_t o = 0;
    const char *p = s;
    int dots = 0;
    for (; *p && (isdigit((unsigned char)*p) || *p == ',' || *p == '.'); p++) {
        if (*p == ',') continue;
        if (*p == '.') dots++;
        if (o + 1 >= sizeof(digits)) return -1;
        digits[o++] = *p;
    }
    digits[o] = '\0';
    if (!o || dots > 1) return -1;
    double x = strtod(digits, NULL);
    *mult_seen = 0;
    *cur_seen = 0;
    if (*p) {
        double m = qp_mult(p);
        if (m > 0) {
            x *= m;
            *mult_seen = 1;
        } else if (qp_currency_word(p)) {
            *cur_seen = 1;
        } else {
            return -1;
        }
    }
    *v = x;
    return 0;
}

/* An amount starting at token i: [₹|rs|inr] NUMBER [k|lakh|crore...] [rs|rupees].
 * On success *next is the token after it and *marked says whether a currency
 * or multiplier made it certainly a price. */
static int qp_amount(const struct qp_state *st, int i, double *v, int *next, int *marked)
{
    int j = i, mk = 0;
    if (qp_kind_at(st, j, TK_RUPEE)) {
        mk = 1;
        j++;
    } else if (qp_w(st, j) && qp_currency_word(st->t[j].s)) {
        mk = 1;
        j++;
    }
    if (!qp_kind_at(st, j, TK_NUM)) return -1;
    int ms, cs;
    double x;
    if (qp_num(st->t[j].s, &x, &ms, &cs) < 0) return -1;
    j++;
    if (ms || cs) mk = 1;
    if (!ms && qp_w(st, j) && qp_mult(st->t[j].s) > 0 && strcmp(st->t[j].s, "l") != 0) {
        x *= qp_mult(st->t[j].s);
        mk = 1;
        j++;
    }
    if (qp_w(st, j) && qp_currency_word(st->t[j].s)) {
        mk = 1;
        j++;
    }
    if (!(x <= QP_PRICE_MAX)) return -1;
    *v = x;
    *next = j;
    *marked = mk;
    return 0;
}

static int qp_two(const struct qp_state *st, int i, const char *a, const char *b)
{
    return qp_is(st, i, a) && qp_is(st, i + 1, b);
}

/* Operator words before an amount. Returns the number of tokens, 0 if none. */
static int qp_max_op(const struct qp_state *st, int i)
{
    static const char *const one[] = {"under", "below", "upto", "within", "max", "maximum", "till",
                                      "budget", "beneath", NULL};
    if (qp_kind_at(st, i, TK_LT)) return 1;
    if (qp_two(st, i, "less", "than") || qp_two(st, i, "lesser", "than") ||
        qp_two(st, i, "cheaper", "than") || qp_two(st, i, "up", "to") || qp_two(st, i, "budget", "of") ||
        qp_two(st, i, "budget", "is") || qp_two(st, i, "not", "over"))
        return 2;
    if (qp_is(st, i, "not") && qp_two(st, i + 1, "more", "than")) return 3;
    const char *w = qp_w(st, i);
    return w && qp_in(w, one) ? 1 : 0;
}

static int qp_min_op(const struct qp_state *st, int i)
{
    static const char *const one[] = {"above", "over", "min", "minimum", "starting", "beyond", NULL};
    if (qp_kind_at(st, i, TK_GT)) return 1;
    if (qp_two(st, i, "more", "than") || qp_two(st, i, "greater", "than") ||
        qp_two(st, i, "at", "least") || qp_two(st, i, "starting", "from") ||
        qp_two(st, i, "starting", "at"))
        return 2;
    const char *w = qp_w(st, i);
    return w && qp_in(w, one) ? 1 : 0;
}

static int qp_around_op(const struct qp_state *st, int i)
{
    static const char *const one[] = {"around", "about", "approx", "approximately", "roughly",
                                      "near", "nearly", "aprox", "lagbhag", NULL};
    if (qp_kind_at(st, i, TK_TILDE)) return 1;
    const char *w = qp_w(st, i);
    return w && qp_in(w, one) ? 1 : 0;
}

static void qp_set_min(struct qp_state *st, double v)
{
    if (st->r->f.min_price < 0) st->r->f.min_price = v;
}

static void qp_set_max(struct qp_state *st, double v)
{
    if (st->r->f.max_price < 0) st->r->f.max_price = v;
}

static void qp_set_band(struct qp_state *st, double v)
{
    if (st->r->f.min_price >= 0 || st->r->f.max_price >= 0) return;
    st->r->f.min_price = round(v * (1.0 - QP_AROUND));
    st->r->f.max_price = round(v * (1.0 + QP_AROUND));
}

static void qp_set_range(struct qp_state *st, double a, double b)
{
    if (st->r->f.min_price >= 0 || st->r->f.max_price >= 0) return;
    st->r->f.min_price = a < b ? a : b;
    st->r->f.max_price = a < b ? b : a;
}

/* A range tail after amount A ending at j: ("-"|"to"|"and"|"till") B.
 * Returns the token after B, or -1. */
static int qp_range_tail(const struct qp_state *st, int j, int allow_and, double *b, int *bm)
{
    int k = -1;
    if (qp_kind_at(st, j, TK_DASH) || qp_is(st, j, "to") || qp_is(st, j, "till") ||
        qp_is(st, j, "until") || (allow_and && qp_is(st, j, "and")))
        k = j + 1;
    if (k < 0) return -1;
    int next;
    if (qp_amount(st, k, b, &next, bm) < 0) return -1;
    return next;
}

/* Price phrases at token i. Returns the number of tokens used, 0 if none. */
static int qp_price(struct qp_state *st, int i)
{
    double a, b;
    int next, am, bm, n;

    /* between A and B / from A to B / from A */
    if (qp_is(st, i, "between") || qp_is(st, i, "btw") || qp_is(st, i, "from")) {
        if (qp_amount(st, i + 1, &a, &next, &am) == 0) {
            int end = qp_range_tail(st, next, 1, &b, &bm);
            if (end > 0) {
                qp_set_range(st, a, b);
                return end - i;
            }
            if (qp_is(st, i, "from") && (am || a >= 100)) {
                qp_set_min(st, a);
                return next - i;
            }
        }
        return 0;
    }
    if ((n = qp_max_op(st, i)) > 0) {
        if (qp_amount(st, i + n, &a, &next, &am) == 0) {
            qp_set_max(st, a);
            return next - i;
        }
        return 0;
    }
    if ((n = qp_min_op(st, i)) > 0) {
        if (qp_amount(st, i + n, &a, &next, &am) == 0) {
            qp_set_min(st, a);
            return next - i;
        }
        return 0;
    }
    if ((n = qp_around_op(st, i)) > 0) {
        if (qp_amount(st, i + n, &a, &next, &am) == 0) {
            qp_set_band(st, a);
            return next - i;
        }
        return 0;
    }
    if (qp_amount(st, i, &a, &next, &am) < 0) return 0;
    /* A - B, A to B */
    int end = qp_range_tail(st, next, 0, &b, &bm);
    if (end > 0 && (am || bm || (a >= 100 && b >= 100))) {
        qp_set_range(st, a, b);
        return end - i;
    }
    /* A+, A and above, A or more, A plus / A and below, A or less */
    if (qp_kind_at(st, next, TK_PLUS) || qp_is(st, next, "plus") || qp_is(st, next, "onwards") ||
        qp_two(st, next, "and", "above") || qp_two(st, next, "or", "more") ||
        qp_two(st, next, "and", "up") || qp_two(st, next, "or", "above")) {
        if (am || a >= 100) {
            qp_set_min(st, a);
            int k = qp_kind_at(st, next, TK_PLUS) || qp_is(st, next, "plus") || qp_is(st, next, "onwards") ? 1 : 2;
            return next + k - i;
        }
    }
    if (qp_two(st, next, "and", "below") || qp_two(st, next, "or", "less") ||
        qp_two(st, next, "and", "under") || qp_two(st, next, "or", "below")) {
        if (am || a >= 100) {
            qp_set_max(st, a);
            return next + 2 - i;
        }
    }
    /* Hinglish after the amount: "50k tak", "3000 ke andar", "2000 se kam"
     * (at most); "5000 se zyada", "10k ke upar" (at least) */
    if (qp_is(st, next, "tak") || qp_two(st, next, "ke", "andar") || qp_two(st, next, "se", "kam") ||
        qp_two(st, next, "se", "neeche") || qp_two(st, next, "se", "niche") || qp_two(st, next, "ke", "neeche")) {
        if (am || a >= 100) {
            qp_set_max(st, a);
            return next + (qp_is(st, next, "tak") ? 1 : 2) - i;
        }
    }
    if (qp_two(st, next, "se", "zyada") || qp_two(st, next, "se", "jyada") || qp_two(st, next, "se", "upar") ||
        qp_two(st, next, "ke", "upar") || qp_two(st, next, "se", "adhik")) {
        if (am || a >= 100) {
            qp_set_min(st, a);
            return next + 2 - i;
        }
    }
    if (am || a >= 100) {
        qp_set_band(st, a);
        return next - i;
    }
    return 0;
}

/* ---- sizes, stock, lexicon words ------------------------------------------ */

static int qp_size(struct qp_state *st, int i)
{
    const char *w = qp_w(st, i);
    const char *c = NULL;
    int take = 0;
    if (w && (!strcmp(w, "size") || !strcmp(w, "sz"))) {
        /* size M, size 38, size free, size extra large */
        int j = i + 1;
        if (j < st->n && !st->t[j].used) {
            char two[80];
            if (j + 1 < st->n && !st->t[j + 1].used) {
                snprintf(two, sizeof(two), "%s %s", st->t[j].s, st->t[j + 1].s);
                if ((c = qp_size_canon(two)) != NULL) {
                    take = 3;
                    goto found;
                }
            }
            if ((st->t[j].kind == TK_WORD || st->t[j].kind == TK_NUM) && (c = qp_size_canon(st->t[j].s))) {
                take = 2;
                goto found;
            }
        }
        return 0;
    }
    if (!w && !qp_kind_at(st, i, TK_NUM)) return 0;
    if (w && i + 1 < st->n && qp_w(st, i + 1)) {
        char two[80];
        snprintf(two, sizeof(two), "%s %s", w, st->t[i + 1].s);
        if (!strcmp(two, "free size") || !strcmp(two, "one size") || !strcmp(two, "extra large") ||
            !strcmp(two, "extra small")) {
            c = qp_size_canon(two);
            take = 2;
            goto found;
        }
    }
    if (w) {
        /* XS/XL/XXL/XXXL anywhere; S/M/L only when typed as capitals;
         * small/medium/large as words. */
        if (!strcmp(w, "s") || !strcmp(w, "m") || !strcmp(w, "l")) {
            if (!st->t[i].upper) return 0;
        } else if (strcmp(w, "xs") && strcmp(w, "xl") && strcmp(w, "xxl") && strcmp(w, "xxxl") &&
                   strcmp(w, "small") && strcmp(w, "medium") && strcmp(w, "large") &&
                   strcmp(w, "freesize")) {
            return 0;
        }
        c = qp_size_canon(w);
        take = 1;
        goto found;
    }
    /* A bare number token: 2xl/3xl, or a whole number 26..56 (numeric size). */
    {
        const char *s = st->t[i].s;
        if (!strcmp(s, "2xl") || !strcmp(s, "3xl")) {
            c = qp_size_canon(s);
            take = 1;
            goto found;
        }
        char *end;
        long n = strtol(s, &end, 10);
        if (*end || n < 26 || n > 56) return 0;
        c = qp_size_canon(s);
        take = 1;
    }
found:
    if (!c) return 0;
    if (!st->r->f.size[0]) snprintf(st->r->f.size, sizeof(st->r->f.size), "%s", c);
    return take;
}

static int qp_stock(struct qp_state *st, int i)
{
    if (qp_two(st, i, "in", "stock") || qp_two(st, i, "ready", "stock")) {
        if (st->r->f.in_stock < 0) st->r->f.in_stock = 1;
        return 2;
    }
    if (qp_is(st, i, "out") && qp_two(st, i + 1, "of", "stock")) {
        if (st->r->f.in_stock < 0) st->r->f.in_stock = 0;
        return 3;
    }
    if (qp_is(st, i, "ready") && qp_two(st, i + 1, "to", "ship")) {
        if (st->r->f.in_stock < 0) st->r->f.in_stock = 1;
        return 3;
    }
    if (qp_is(st, i, "instock") || qp_is(st, i, "available") || qp_is(st, i, "availability")) {
        if (st->r->f.in_stock < 0) st->r->f.in_stock = 1;
        return 1;
    }
    return 0;
}

/* 1 when the set filter d of f already accepts value ("cocktail" accepts
 * "party"): a second such word adds nothing, and left in the text it
 * would be a frequent required word. */
static int qp_covers(const struct qp_filters *f, enum qp_filter_id id, const char *value)
{
    const char *v[QPF_MAX_VALUES];
    int alt, n = qp_filter_values(f, id, v, &alt);
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], value) == 0) return 1;
    return 0;
}

/* Words the filter table reads (colours, categories, occasions, fabrics,
 * handwork, in the table's order): two-word phrases first. The first
 * value found for a filter wins. */
/* The catalog's own category that key names (its name, or a plural or
 * singular of it: "dresses", "palazzo"), compared with '-' as a space; NULL
 * when none. Borrowed from cat. */
static const char *qp_catalog_category(const struct qp_catalog *cat, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; cat && i < cat->ncategories; i++) {
        char c[80];
        snprintf(c, sizeof(c), "%s", cat->categories[i]);
        for (char *p = c; *p; p++)
            if (*p == '-') *p = ' ';
        size_t cl = strlen(c);
        if (!strcmp(c, key)) return cat->categories[i];
        if (kl == cl + 1 && key[cl] == 's' && !strncmp(c, key, cl)) return cat->categories[i];
        if (kl == cl + 2 && !strcmp(key + cl, "es") && !strncmp(c, key, cl)) return cat->categories[i];
        if (cl == kl + 1 && c[kl] == 's' && !strncmp(c, key, kl)) return cat->categories[i];
    }
    return NULL;
}

static int qp_lexicon(struct qp_state *st, int i)
{
    const char *w = qp_w(st, i);
    if (!w || st->t[i].text) return 0;
    struct qp_filters *f = &st->r->f;
    char two[160] = "";
    int twolen = 2;   /* tokens the two-word phrase spans ("off-white" spans 3) */
    if (qp_w(st, i + 1)) {
        snprintf(two, sizeof(two), "%s %s", w, st->t[i + 1].s);
    } else if (qp_kind_at(st, i + 1, TK_DASH) && qp_w(st, i + 2)) {
        snprintf(two, sizeof(two), "%s %s", w, st->t[i + 2].s);
        twolen = 3;
    }
    for (int len = 2; len >= 1; len--) {
        const char *key = len == 2 ? two : w;
        int span = len == 2 ? twolen : 1;
        if (!*key) continue;
        for (int id = 0; id < QPF_N; id++) {
            const struct qp_filter_def *d = &qp_filter_defs[id];
            const char *family = NULL, *c = d->word ? d->word(key, &family) : NULL;
            if (!c) continue;
            if (!qp_filter_is_set(f, d->id)) {
                /* two garments in a row name one thing ("saree gown",
                 * "anarkali kurta", "bandhgala suit"): both stay words to
                 * match, which find the products whose text says both */
                const char *next = qp_w(st, i + span), *other;
                if (d->id == QPF_CATEGORY && len == 1 && next && (other = qp_category_find(next)) &&
                    strcmp(other, c) != 0) {
                    st->t[i].text = st->t[i + span].text = 1;
                    return 0;
                }
                qp_filter_put(f, d->id, c, family);
                if (next && d->nouns && qp_in(next, d->nouns)) span++;
                return span;
            }
            if (d->absorb && qp_covers(f, d->id, c)) return span;   /* "cocktail party": said already */
        }
        /* a garment the lexicon does not know, as this catalog names it
         * ("dress", "top", "palazzos") */
        const char *cc = f->category[0] ? NULL : qp_catalog_category(st->cat, key);
        if (cc) {
            qp_filter_put(f, QPF_CATEGORY, cc, NULL);
            return span;
        }
    }
    return 0;
}

void qp_parse(const char *q, struct qp_result *out)
{
    qp_parse_in(q, NULL, out);
}

void qp_parse_in(const char *q, const struct qp_catalog *cat, struct qp_result *out)
{
    struct qp_state st;
    memset(out, 0, sizeof(*out));
    qp_filters_init(&out->f);
    st.n = 0;
    st.tlen = 0;
    st.r = out;
    st.cat = cat;
    qp_tokenize(&st, q ? q : "");

    for (int i = 0; i < st.n; i++) {
        if (st.t[i].used) continue;
        int n = qp_price(&st, i);
        if (!n) n = qp_stock(&st, i);
        if (!n) n = qp_size(&st, i);
        if (!n) n = qp_lexicon(&st, i);
        if (n > 0) {
            qp_use(&st, i, i + n);
            i += n - 1;
        }
    }

    size_t o = 0;
    for (int i = 0; i < st.n; i++) {
        const struct qp_tok *t = &st.t[i];
        if (t->used || (t->kind != TK_WORD && t->kind != TK_NUM)) continue;
        if (u8_chars(t->s, strlen(t->s)) < 3 || qp_ft_stopword(t->s) || qp_filler(t->s)) continue;
        size_t len = strlen(t->s);
        if (o + len + 2 > sizeof(out->residual)) break;
        if (o) out->residual[o++] = ' ';
        memcpy(out->residual + o, t->s, len);
        o += len;
        out->nterms++;
    }
    out->residual[o] = '\0';
    /* what the words said is preferred, not required (filters.h) */
    qp_filters_soften(&out->f);
}

/* ---- words the parser knows ----------------------------------------------- */

/* Words of the price, size and stock phrases (the rest are fillers). */
static const char *const qp_phrase_words[] = {
    "starting", "onwards", "beyond", "maximum", "minimum", "approx", "approximately", "roughly", "greater",
    "lesser", "least", "until", "availability", "instock", "ready", "ship", "adhik", "andar", "zyada", "jyada",
    "neeche", "niche", "upar", "small", "medium", "large", "extra", "freesize", "onesize", "embroidery",
    "embroidered", "work", NULL,
};

int qp_word_known(const char *w)
{
    const char *family;
    return qp_filter_word_known(w) || qp_color_find(w) || qp_category_find(w) || qp_occasion_find(w) ||
           qp_fabric_find(w) || qp_work_find(w) || qp_ft_stopword(w) || qp_filler(w) || qp_mult(w) > 0 ||
           qp_currency_word(w) || qp_in(w, qp_phrase_words) || qp_audience_word(w) ||
           (qp_color_lookup(w, NULL, &family) == 0);
}

/* ---- designers ------------------------------------------------------------------- */

static int qp_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Does name match q at byte p, word by word? *end gets the byte after its
 * last word; *words the name's word count. */
static int qp_name_at(const char *q, size_t p, const char *name, size_t *end, size_t *words)
{
    size_t i = p, w = 0;
    const char *s = name;
    for (;;) {
        while (*s && !qp_wordbyte((unsigned char)*s)) s++;
        if (!*s) break;
        if (w) {   /* between two of the name's words: q has a separator too */
            if (!q[i] || qp_wordbyte((unsigned char)q[i])) return 0;
            while (q[i] && !qp_wordbyte((unsigned char)q[i])) i++;
        }
        while (*s && qp_wordbyte((unsigned char)*s)) {
            if (qp_lower((unsigned char)q[i]) != qp_lower((unsigned char)*s)) return 0;
            i++, s++;
        }
        if (q[i] && qp_wordbyte((unsigned char)q[i])) return 0;   /* q's word goes on */
        w++;
    }
    *end = i;
    *words = w;
    return w > 0;
}

/* A one-word name the parser already reads as something else (1), or a
 * function word of queries or a name under three letters (2: "AND", a real
 * brand, is the "and" of "between 25000 and 80000"; "W" the w of a
 * query). */
static int qp_name_is_word(const char *name)
{
    char w[64];
    size_t k = 0;
    for (const char *s = name; *s && k + 1 < sizeof(w); s++)
        if (qp_wordbyte((unsigned char)*s)) w[k++] = (char)qp_lower((unsigned char)*s);
    w[k] = '\0';
    if (qp_filter_word_known(w)) return 1;
    return qp_filler(w) || qp_ft_stopword(w) || k < 3 ? 2 : 0;
}

int qp_take_designer(const char *q, const char *const *designers, size_t n, char *designer, size_t dlen,
                     char *rest, size_t rlen)
{
    size_t qlen = strlen(q), best = n, best_at = 0, best_end = 0, best_words = 0;
    if (qlen >= rlen) return 0;
    for (size_t d = 0; d < n; d++) {
        const char *name = designers[d];
        if (!name || !*name || strlen(name) >= dlen) continue;
        for (size_t p = 0; p < qlen; p++) {
            if (!qp_wordbyte((unsigned char)q[p]) || (p && qp_wordbyte((unsigned char)q[p - 1]))) continue;
            size_t end, words;
            if (!qp_name_at(q, p, name, &end, &words)) continue;
            int is_word = words == 1 ? qp_name_is_word(name) : 0;
            if (is_word == 1) break;
            /* a function word is the name only as the catalog spells it ("AND kurta") */
            if (is_word == 2 && strncmp(q + p, name, end - p) != 0) continue;
            if (best == n || words > best_words || (words == best_words && p < best_at)) {
                best = d;
                best_at = p;
                best_end = end;
                best_words = words;
            }
            break;   /* its first place in q */
        }
    }
    if (best == n) return 0;
    snprintf(designer, dlen, "%s", designers[best]);
    snprintf(rest, rlen, "%.*s %s", (int)best_at, q, q + best_end);
    return 1;
}

/* ---- writing a query back ------------------------------------------------------------ */

/* A price as the parser reads it back: whole rupees, or two decimals. */
static int qp_put_price(char *out, size_t cap, double v)
{
    if (v >= 0 && v < 1e15 && v == (double)(long long)v) return snprintf(out, cap, "%lld", (long long)v);
    return snprintf(out, cap, "%.2f", v);
}

int qp_render(const struct qp_filters *f, const char *residual, char *out, size_t cap)
{
    size_t o = 0;
    char num[2][48];
    const char *part[16];
    size_t np = 0;
    /* The colour first: the parser keeps the first colour it meets, and a
     * residual word may be a second one ("red and gold" keeps "gold"). */
    if (f->color[0]) part[np++] = f->color;
    else if (f->color_family[0]) part[np++] = f->color_family;
    /* The words next, where they cannot join the category into a phrase
     * the parser knows ("lehenga choli"); words that are filter words
     * themselves (a second colour, "silk chiffon") last, after the filter
     * that won. */
    int words_last = 0;
    if (residual && residual[0]) {
        struct qp_result alone;
        qp_parse(residual, &alone);
        words_last = strcmp(alone.residual, residual) != 0;
        if (!words_last) part[np++] = residual;
    }
    if (f->fabric[0]) part[np++] = f->fabric;
    if (f->work[0]) part[np++] = f->work;
    if (f->category[0]) part[np++] = f->category;
    if (f->size[0]) {
        part[np++] = "size";
        part[np++] = f->size;
    }
    if (f->occasion[0]) {
        part[np++] = "for";
        part[np++] = f->occasion;
    }
    if (f->in_stock == 1) part[np++] = "in stock";
    else if (f->in_stock == 0) part[np++] = "out of stock";
    if (f->min_price >= 0 && f->max_price >= 0) {
        qp_put_price(num[0], sizeof(num[0]), f->min_price);
        qp_put_price(num[1], sizeof(num[1]), f->max_price);
        part[np++] = "between";
        part[np++] = num[0];
        part[np++] = "and";
        part[np++] = num[1];
    } else if (f->max_price >= 0) {
        qp_put_price(num[1], sizeof(num[1]), f->max_price);
        part[np++] = "under";
        part[np++] = num[1];
    } else if (f->min_price >= 0) {
        qp_put_price(num[0], sizeof(num[0]), f->min_price);
        part[np++] = "above";
        part[np++] = num[0];
    }
    if (words_last) part[np++] = residual;
    if (f->designer[0]) {
        part[np++] = "by";
        part[np++] = f->designer;
    }
    for (size_t i = 0; i < np; i++) {
        size_t len = strlen(part[i]);
        if (o + (o > 0) + len + 1 > cap) return -1;
        if (o) out[o++] = ' ';
        memcpy(out + o, part[i], len);
        o += len;
    }
    if (cap) out[o] = '\0';
    return (int)o;
}
