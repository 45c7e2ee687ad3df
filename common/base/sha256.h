/* sha256.h: SHA-256 digests (GLib's GChecksum, which the tree already
 * links through poppler-glib) and the one constant-time comparison of the
 * tree, for API keys: a key is never kept or compared in the clear, only
 * its digest, and two digests are compared without an early exit. */
#ifndef TROIKA_SHA256_H
#define TROIKA_SHA256_H

#include <stddef.h>
#include <stdint.h>

enum { SHA256_LEN = 32, SHA256_HEX = 65 };   /* digest bytes; hex digits + NUL */

/* The digest of p[0..n) into out. */
void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);

/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX]);

/* 1 when a[0..n) and b[0..n) are equal; the time depends on n only. */
int ct_equal(const void *a, const void *b, size_t n);

#endif
