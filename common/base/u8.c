/* u8.c: UTF-8 validation and repair (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
#include "common/base/u8.h"

#include <string.h>

#include "common/base/arena.h"

size_t u8_seqlen(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0xE0) len = 2;
    else if (c < 0xF0) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
    } else if (c < 0xF5) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

int u8_valid(const char *s, size_t n, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = u8_seqlen(p + i, n - i);
        if (!l) {
            if (bad) *bad = i;
            return 0;
        }
        i += l;
    }
    return 1;
}

/* 1 when s[0..n) is a valid but unfinished start of a sequence. */
static int u8_is_partial(const unsigned char *s, size_t n)
{
    unsigned char tmp[4] = {s[0], 0x80, 0x80, 0x80};
    for (size_t i = 1; i < n; i++) tmp[i] = s[i];
    /* Pad with the lowest continuation allowed after the lead byte. */
    if (n == 1) {
        if (s[0] == 0xE0) tmp[1] = 0xA0;
        else if (s[0] == 0xF0) tmp[1] = 0x90;
    }
    size_t full = u8_seqlen(tmp, 4);
    return full > n;
}

size_t u8_complete_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    /* A sequence is at most 4 bytes: look back up to 3 bytes for a lead. */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = p[n - back];
        if ((c & 0xC0) == 0x80) continue;   /* continuation: keep looking */
        if (c >= 0xC2 && c < 0xF5 && u8_is_partial(p + n - back, back))
            return n - back;
        return n;
    }
    return n;
}

char *u8_repair(arena_t *ar, const char *s, size_t n, size_t *outlen)
{
    static const char repl[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)s;
    if (u8_valid(s, n, NULL)) {
        if (outlen) *outlen = n;
        return ar_strndup(ar, s, n);
    }
    char *out = ar_alloc(ar, n * 3 + 1);   /* worst case: every byte replaced */
    if (!out) return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t l = p[i] < 0x80 ? 1 : u8_seqlen(p + i, n - i);
        if (l) {
            memcpy(out + o, p + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, repl, 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (outlen) *outlen = o;
    return out;
}

size_t u8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

size_t u8_floor(const char *s, size_t n, size_t max)
{
    if (max >= n) return n;
    size_t i = max;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return i;
}
