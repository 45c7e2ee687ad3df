/* sha256.c: SHA-256 over GLib; see sha256.h. */
#include "common/base/sha256.h"

#include <glib.h>

void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
    GChecksum *h = g_checksum_new(G_CHECKSUM_SHA256);
    gsize len = SHA256_LEN;
    g_checksum_update(h, (const guchar *)p, (gssize)n);
    g_checksum_get_digest(h, out, &len);
    g_checksum_free(h);
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[SHA256_LEN];
    sha256(p, n, d);
    for (size_t i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * SHA256_LEN] = '\0';
}

int ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (unsigned)(x[i] ^ y[i]);
    return diff == 0;
}
