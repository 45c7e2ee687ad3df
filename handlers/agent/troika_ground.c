/* troika_ground.c: keeps an LLM's answer to the matched products. The
 * answer is cut into sentences as it streams (common/text/sentence); a sentence that names a
 * product not in the matched list (an unknown SKU, a quoted or bold name
 * that is no listed title, a capitalised "<Name> Lehenga" that is no
 * listed title) is dropped before it reaches the client. Pure functions
 * over byte ranges; small fixed buffers on the stack. */
#include "handlers/agent/troika.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/search/qparse.h"

enum { TK_SPAN_MAX = 256 };

/* ---- names -------------------------------------------------------------------- */

/* Lower-case words of s[0..n) separated by single spaces, into out. */
static size_t tk_norm(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch >= 0x80) {
            if (space && o) out[o++] = ' ';
            space = 0;
            out[o++] = (char)tolower(ch);
        } else {
            space = 1;
        }
    }
    out[o] = '\0';
    return o;
}

/* 1 when the name s[0..n) is part of a listed title, or is a listed SKU or
 * designer. */
static int tk_name_listed(const char *s, size_t n, const struct tk_product *p, size_t np)
{
    char name[TK_SPAN_MAX], title[TK_SPAN_MAX + 64];
    size_t nl = tk_norm(s, n, name, sizeof(name));
    if (!nl) return 1;
    for (size_t i = 0; i < np; i++) {
        tk_norm(p[i].title, strlen(p[i].title), title, sizeof(title));
        if (strstr(title, name)) return 1;
        if (p[i].sku && strlen(p[i].sku) == n && strncasecmp(p[i].sku, s, n) == 0) return 1;
        if (p[i].designer && *p[i].designer) {
            tk_norm(p[i].designer, strlen(p[i].designer), title, sizeof(title));
            if (strcmp(title, name) == 0) return 1;
        }
    }
    return 0;
}

static int tk_sku_listed(const char *s, size_t n, const struct tk_product *p, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (p[i].sku && strlen(p[i].sku) == n && strncasecmp(p[i].sku, s, n) == 0) return 1;
    return 0;
}

/* A word that names a garment: 1 ("Lehenga"), 2 when plural ("Sarees":
 * a kind of product, not one product), 0 otherwise. */
static int tk_is_category(const char *s, size_t n)
{
    char w[64];
    if (n == 0 || n >= sizeof(w)) return 0;
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)s[i]);
    w[n] = '\0';
    const char *c = qp_category_canon(w);
    if (!c) return 0;
    return (w[n - 1] == 's' && strcmp(c, w) != 0) ? 2 : 1;
}

/* A run "<Designer> <Title words>" is fine when some listed title holds
 * the run, or the run minus a listed designer's name in front. */
static int tk_run_listed(const char *s, size_t n, const struct tk_product *p, size_t np)
{
    if (tk_name_listed(s, n, p, np)) return 1;
    char pre[TK_SPAN_MAX], des[TK_SPAN_MAX];
    for (size_t i = 1; i < n; i++) {
        if (s[i - 1] != ' ' || s[i] == ' ') continue;
        tk_norm(s, i, pre, sizeof(pre));
        for (size_t k = 0; k < np; k++) {
            if (!p[k].designer || !*p[k].designer) continue;
            tk_norm(p[k].designer, strlen(p[k].designer), des, sizeof(des));
            if (strcmp(pre, des) == 0 && tk_name_listed(s + i, n - i, p, np)) return 1;
        }
    }
    return 0;
}

static size_t tk_words(const char *s, size_t n)
{
    size_t w = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        int a = isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80;
        if (a && !in) w++;
        in = a;
    }
    return w;
}

static int tk_span_has_category(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !isalpha((unsigned char)s[i])) i++;
        size_t j = i;
        while (j < n && isalpha((unsigned char)s[j])) j++;
        if (j > i && tk_is_category(s + i, j - i)) return 1;
        i = j;
    }
    return 0;
}

/* Checks one quoted or emphasised span. 1: fine. */
static int tk_span_ok(const char *s, size_t n, const struct tk_product *p, size_t np)
{
    if (n == 0 || n > 200) return 1;   /* not a name */
    if (tk_words(s, n) < 2 && !tk_span_has_category(s, n)) return 1;
    return tk_name_listed(s, n, p, np);
}

/* SKU-like: 4+ chars of [A-Z0-9_-], a digit and an upper-case letter,
 * no lower-case letter ("TRK-LEH-0001"). */
static int tk_sku_like(const char *s, size_t n)
{
    int digit = 0, upper = 0;
    if (n < 4) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c))
            digit = 1;
        else if (isupper(c))
            upper = 1;
        else if (c != '-' && c != '_')
            return 0;
    }
    return digit && upper;
}

static int tk_cap_word(const char *s, size_t n)
{
    return n > 0 && isupper((unsigned char)s[0]);
}

static const char *const tk_leading[] = {"the", "a", "an", "my", "our", "this", "that", "your", "its"};

int tk_sentence_grounded(const char *s, size_t n, const struct tk_product *p, size_t np)
{
    /* 1. SKU-like tokens, and any token right after the word "SKU" */
    int after_sku = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && !(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_')) i++;
        size_t j = i;
        while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '-' || s[j] == '_')) j++;
        if (j > i) {
            size_t len = j - i;
            if ((tk_sku_like(s + i, len) || after_sku) && !tk_sku_listed(s + i, len, p, np)) return 0;
            after_sku = len == 3 && strncasecmp(s + i, "sku", 3) == 0;
        }
        i = j;
    }

    /* 2. quoted and emphasised spans: "..." “...” **...** __...__ *...* */
    static const struct { const char *open, *close; } marks[] = {
        {"**", "**"}, {"__", "__"}, {"\"", "\""}, {"\xE2\x80\x9C", "\xE2\x80\x9D"}, {"*", "*"},
        {"\xE2\x80\x98", "\xE2\x80\x99"},
    };
    for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
        size_t ol = strlen(marks[m].open), cl = strlen(marks[m].close);
        for (size_t i = 0; i + ol <= n;) {
            if (memcmp(s + i, marks[m].open, ol) != 0) {
                i++;
                continue;
            }
            size_t a = i + ol, b = a;
            while (b + cl <= n && memcmp(s + b, marks[m].close, cl) != 0) b++;
            if (b + cl > n) break;   /* unclosed */
            if (!tk_span_ok(s + a, b - a, p, np)) return 0;
            i = b + cl;
        }
    }

    /* 3. capitalised runs that end in a garment word: "Crimson Dream Lehenga" */
    size_t run_start = 0, run_words = 0, last_end = 0;
    for (size_t i = 0; i <= n;) {
        while (i < n && !isalpha((unsigned char)s[i]) && s[i] != '\'' && !((unsigned char)s[i] >= 0x80)) {
            /* a run survives single spaces and hyphens only */
            if (s[i] != ' ' && s[i] != '-' && s[i] != '&') run_words = 0;
            i++;
        }
        if (i >= n) break;
        size_t j = i;
        while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '\'' || (unsigned char)s[j] >= 0x80)) j++;
        if (tk_cap_word(s + i, j - i)) {
            if (run_words == 0) {
                run_start = i;
                /* a leading article is not part of the name */
                for (size_t k = 0; k < sizeof(tk_leading) / sizeof(tk_leading[0]); k++)
                    if (strlen(tk_leading[k]) == j - i && strncasecmp(s + i, tk_leading[k], j - i) == 0) {
                        run_start = j;
                        break;
                    }
                if (run_start == j) {
                    i = j;
                    continue;
                }
            }
            run_words++;
            last_end = j;
            if (run_words >= 2 && tk_is_category(s + i, j - i) == 1 &&
                !tk_run_listed(s + run_start, last_end - run_start, p, np))
                return 0;
        } else {
            run_words = 0;
        }
        i = j;
    }
    return 1;
}
