/* hash.h: the one string hash of the tree, 64-bit FNV-1a.
 *
 * For hash tables (tokenizer ranks, catalog terms, the importer's maps),
 * content fingerprints (the importer's row hashes, stored in the
 * database: changing this function changes them) and the signature of
 * the route table in the shared file. Not for anything an attacker can
 * aim collisions at where that matters (the rate limiter keys its table
 * with a per-file random seed instead). Inline: the tokenizer hashes
 * every candidate pair. */
#ifndef TROIKA_HASH_H
#define TROIKA_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_BASIS 0xcbf29ce484222325ULL   /* FNV's 64-bit offset basis */
#define HASH_FNV_PRIME 0x100000001b3ULL

/* FNV-1a over p[0..n), continuing from h (start with HASH_FNV_BASIS, or
 * another seed to keep a family of hashes apart). */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * HASH_FNV_PRIME;
    return h;
}

#endif
