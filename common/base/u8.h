/* u8.h: UTF-8 checks and repair for text that crosses the wire.
 * Pure functions over byte ranges; no allocation except u8_repair. */
#ifndef TROIKA_U8_H
#define TROIKA_U8_H

#include <stddef.h>

struct arena;

/* Length of the valid UTF-8 sequence starting at s (1-4), or 0 when the
 * bytes at s are not a valid (shortest-form, non-surrogate) sequence or are
 * cut off by n. */
size_t u8_seqlen(const unsigned char *s, size_t n);

/* 1 when s[0..n) is valid UTF-8; otherwise 0 and *bad = first bad offset. */
int u8_valid(const char *s, size_t n, size_t *bad);

/* Length of the longest prefix of s[0..n) that does not end inside a
 * character: a trailing incomplete (but so far valid) sequence is left out,
 * so a streamer can hold it back until the next piece arrives. */
size_t u8_complete_prefix(const char *s, size_t n);

/* Copy of s[0..n) with every invalid byte replaced by U+FFFD.
 * Borrowed: valid until the arena is reset. */
char *u8_repair(struct arena *ar, const char *s, size_t n, size_t *outlen);

/* Length of s[0..n) in characters (code points: the bytes that do not
 * continue a sequence). */
size_t u8_chars(const char *s, size_t n);

/* Largest cut point <= max that does not split a character. */
size_t u8_floor(const char *s, size_t n, size_t max);

#endif
