/* b64.h: base64 (RFC 4648, with padding) for audio in JSON events.
 * Pure functions over caller buffers; no allocation. */
#ifndef TROIKA_B64_H
#define TROIKA_B64_H

#include <stddef.h>

/* Characters b64_encode writes for n input bytes (no NUL). */
static inline size_t b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Encodes in[0..n) into out (room for b64_encoded_len(n) + 1); NUL-terminates.
 * Returns the length written. */
size_t b64_encode(const unsigned char *in, size_t n, char *out);

/* Decodes s[0..n) (padding optional, no whitespace) into out (room for
 * n / 4 * 3 + 3). Returns the byte count, or -1 on a bad character. */
long b64_decode(const char *s, size_t n, unsigned char *out);

/* How many input bytes go into one piece so that its base64 text is at most
 * max_chars long: a multiple of 3, so every piece but the last is a whole
 * number of 4-character groups with no padding, each piece decodes on its
 * own, and the pieces' decoded bytes concatenate to the input. >= 3. */
static inline size_t b64_piece_bytes(size_t max_chars) { return max_chars < 8 ? 3 : max_chars / 4 * 3; }

#endif
