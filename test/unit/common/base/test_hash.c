/* test_hash.c: the one string hash (common/base/hash). Its values are
 * stored (the importer's row fingerprints) and shape every builtin-v1
 * vector, so they are pinned here. */
#include <string.h>

#include "common/base/hash.h"
#include "test/unit/unit.h"

/* The published FNV-1a 64-bit test vectors. */
static void t_vectors(void)
{
    CU_ASSERT_EQUAL(hash_fnv1a(HASH_FNV_BASIS, "", 0), 0xcbf29ce484222325ULL);
    CU_ASSERT_EQUAL(hash_fnv1a(HASH_FNV_BASIS, "a", 1), 0xaf63dc4c8601ec8cULL);
    CU_ASSERT_EQUAL(hash_fnv1a(HASH_FNV_BASIS, "foobar", 6), 0x85944171f73967e8ULL);
}

/* Hashing in pieces is hashing the whole; bytes above 0x7f count as
 * unsigned; another seed gives another hash. */
static void t_pieces(void)
{
    const char *s = "lehenga \xe0\xa4\xb2\xe0\xa4\xb9\xe0\xa4\x82\xe0\xa4\x97\xe0\xa4\xbe";
    size_t n = strlen(s);
    uint64_t whole = hash_fnv1a(HASH_FNV_BASIS, s, n);
    for (size_t cut = 0; cut <= n; cut++)
        CU_ASSERT_EQUAL(hash_fnv1a(hash_fnv1a(HASH_FNV_BASIS, s, cut), s + cut, n - cut), whole);
    uint64_t h = HASH_FNV_BASIS;
    h = (h ^ 0xe0u) * HASH_FNV_PRIME;
    CU_ASSERT_EQUAL(hash_fnv1a(HASH_FNV_BASIS, "\xe0", 1), h);
    CU_ASSERT(hash_fnv1a(1469598103934665603ULL, s, n) != whole);
}

void register_hash(void)
{
    static const struct unit_case cases[] = {
        {"FNV-1a test vectors", t_vectors},
        {"pieces, high bytes, seeds", t_pieces},
        {NULL, NULL},
    };
    unit_suite("hash", cases);
}
