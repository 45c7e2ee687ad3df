/* sentence.c: the streaming sentence splitter and the speakable form of a
 * sentence; see sentence.h. */
#include "common/text/sentence.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/base/u8.h"

/* Words that a period does not end a sentence after (lowercase, without
 * their final period). Dotted forms like "e.g" are caught by the dot rule. */
static const char *const sent_abbrev[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "rs", "no", "nos", "vs", "approx", "incl",
    "excl", "min", "max", "ft", "cm", "mm", "kg", "gm", "qty", "pcs", "inc", "ltd", "co", "corp", "dept",
    "govt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig",
    "vol", "pg", "pp", "est", "ref", "tel", "ph", "ave", "blvd", "rd", "sq", "avg", "dia", "wt",
};

void sent_init(struct sent *sp, arena_t *ar, size_t max_len)
{
    buf_init(&sp->buf, ar, (size_t)-1 / 2);
    sp->max_len = max_len ? max_len : 400;
}

static int sent_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

/* Length of a sentence terminator at s[i], or 0. */
static size_t sent_term(const unsigned char *s, size_t i, size_t n)
{
    if (s[i] == '.' || s[i] == '!' || s[i] == '?') return 1;
    if (i + 3 <= n) {
        if (s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0xA6) return 3;   /* … */
        if (s[i] == 0xE0 && s[i + 1] == 0xA5 && (s[i + 2] == 0xA4 || s[i + 2] == 0xA5)) return 3;   /* । ॥ */
        if (s[i] == 0xE3 && s[i + 1] == 0x80 && s[i + 2] == 0x82) return 3;   /* 。 */
    }
    return 0;
}

/* Length of a closing mark at s[i] (quote, bracket, markdown emphasis), or 0. */
static size_t sent_closer(const unsigned char *s, size_t i, size_t n)
{
    if (s[i] == '"' || s[i] == '\'' || s[i] == ')' || s[i] == ']' || s[i] == '*' || s[i] == '_') return 1;
    if (i + 3 <= n && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0x9D || s[i + 2] == 0x99)) return 3;   /* ” ’ */
    return 0;
}

/* The word that ends at `end` (exclusive): letters, digits and dots. */
static int sent_is_abbrev(const unsigned char *s, size_t end)
{
    size_t b = end;
    while (b > 0 && (isalnum(s[b - 1]) || s[b - 1] == '.')) b--;
    size_t wl = end - b;
    if (wl == 0) return 0;
    if (wl == 1 && isalpha(s[b])) return 1;                     /* an initial: "J." */
    int digits = 1;
    for (size_t i = b; i < end; i++) {
        if (s[i] == '.' && isalpha(s[b])) return 1;             /* "e.g", "U.S" */
        if (!isdigit(s[i])) digits = 0;
    }
    if (digits) return 0;
    for (size_t k = 0; k < sizeof(sent_abbrev) / sizeof(sent_abbrev[0]); k++)
        if (strlen(sent_abbrev[k]) == wl && strncasecmp((const char *)s + b, sent_abbrev[k], wl) == 0) return 1;
    return 0;
}

size_t sent_boundary(const char *str, size_t n, int final)
{
    const unsigned char *s = (const unsigned char *)str;
    int seen_text = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            if (seen_text) return i + 1;
            continue;
        }
        if (!sent_space(s[i])) seen_text = 1;
        size_t tl = sent_term(s, i, n);
        if (!tl) continue;
        int period = s[i] == '.';
        size_t j = i + tl, t2;
        while (j < n && (t2 = sent_term(s, j, n)) != 0) {   /* "?!", "..." */
            if (s[j] != '.') period = 0;
            j += t2;
        }
        if (j - i > 1 && s[i] == '.') period = 1;            /* "..." behaves like a period */
        size_t tend = j;
        while (j < n && (t2 = sent_closer(s, j, n)) != 0) j += t2;
        if (j == n) return final ? n : 0;
        if (!sent_space(s[j])) {                             /* "1.5", "Rs.500", "e.g.," */
            i = j - 1;
            continue;
        }
        size_t k = j;
        while (k < n && sent_space(s[k]) && s[k] != '\n') k++;
        if (k == n) return final ? j : 0;
        if (period) {
            if (tend - i == 1 && sent_is_abbrev(s, i)) {
                i = j - 1;
                continue;
            }
            if (islower(s[k])) {                             /* "approx. two", "etc. and" */
                i = j - 1;
                continue;
            }
        }
        return j;
    }
    return final ? n : 0;
}

/* Trims and checks that s has something to say (a letter or digit). */
static int sent_emit(const char *s, size_t n, sent_fn fn, void *arg)
{
    while (n && sent_space((unsigned char)*s)) s++, n--;
    while (n && sent_space((unsigned char)s[n - 1])) n--;
    int words = 0;
    for (size_t i = 0; i < n && !words; i++)
        if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80) words = 1;
    return words ? fn(arg, s, n) : 0;
}

/* A cut for text with no sentence end within max: after the last comma,
 * semicolon or colon past half of max, else the last space, else max. */
static size_t sent_force_cut(const char *s, size_t n, size_t max)
{
    size_t lim = max < n ? max : n, space = 0, punct = 0;
    for (size_t i = 0; i < lim; i++) {
        if (sent_space((unsigned char)s[i])) {
            space = i;
            if (i > 0 && (s[i - 1] == ',' || s[i - 1] == ';' || s[i - 1] == ':') && i > max / 2) punct = i;
        }
    }
    if (punct) return punct;
    if (space) return space;
    return u8_floor(s, n, lim);
}

static int sent_drain(struct sent *sp, int final, sent_fn fn, void *arg)
{
    size_t off = 0;
    int rc = 0;
    while (off < sp->buf.len) {
        const char *s = sp->buf.p + off;
        size_t n = sp->buf.len - off;
        size_t b = sent_boundary(s, n, final);
        if (!b && n > sp->max_len) b = sent_force_cut(s, n, sp->max_len);
        if (!b) break;
        if ((rc = sent_emit(s, b, fn, arg)) != 0) break;
        off += b;
    }
    if (off) {
        memmove(sp->buf.p, sp->buf.p + off, sp->buf.len - off);
        sp->buf.len -= off;
        sp->buf.p[sp->buf.len] = '\0';
    }
    return rc;
}

int sent_feed(struct sent *sp, const char *text, size_t n, sent_fn fn, void *arg)
{
    if (n && buf_add(&sp->buf, text, n) < 0) return -1;
    return sent_drain(sp, 0, fn, arg);
}

int sent_flush(struct sent *sp, sent_fn fn, void *arg)
{
    int rc = sent_drain(sp, 1, fn, arg);
    buf_clear(&sp->buf);
    return rc;
}

char *sent_speakable(arena_t *ar, const char *s, size_t n, size_t *outlen)
{
    char *out = ar_alloc(ar, n + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    while (i < n && sent_space((unsigned char)s[i])) i++;
    /* a list bullet or quote mark at the start */
    if (i + 1 < n && (s[i] == '-' || s[i] == '>' || s[i] == '+') && s[i + 1] == ' ') i += 2;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '[') {   /* "[12]" citations */
            size_t j = i + 1;
            while (j < n && isdigit((unsigned char)s[j])) j++;
            if (j > i + 1 && j < n && s[j] == ']') {
                i = j + 1;
                continue;
            }
        }
        if (c == '*' || c == '`' || c == '#' || (c == '_' && (i + 1 < n && s[i + 1] == '_'))) {
            i++;
            continue;
        }
        if (sent_space(c)) {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
            i++;
            continue;
        }
        /* no space before punctuation left behind by a removed citation */
        if ((c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?') && o && out[o - 1] == ' ') o--;
        out[o++] = (char)c;
        i++;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
    if (outlen) *outlen = o;
    return out;
}
