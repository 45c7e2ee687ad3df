/* test_sha256.c: SHA-256 against the published vectors (FIPS 180-2
 * examples) and the constant-time comparison (common/base/sha256). */
#include <string.h>

#include "common/base/sha256.h"
#include "test/unit/unit.h"

static void t_vectors(void)
{
    char hex[SHA256_HEX];
    sha256_hex("", 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two, strlen(two), hex);
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    uint8_t d[SHA256_LEN];
    sha256("abc", 3, d);
    CU_ASSERT_EQUAL(d[0], 0xba);
    CU_ASSERT_EQUAL(d[31], 0xad);
}

static void t_ct_equal(void)
{
    uint8_t a[SHA256_LEN], b[SHA256_LEN];
    sha256("key-one", 7, a);
    memcpy(b, a, sizeof(b));
    CU_ASSERT_TRUE(ct_equal(a, b, sizeof(a)));
    for (size_t i = 0; i < sizeof(a); i++) {   /* a difference anywhere, first or last byte included */
        b[i] ^= 0x01;
        CU_ASSERT_FALSE(ct_equal(a, b, sizeof(a)));
        b[i] ^= 0x01;
    }
    CU_ASSERT_TRUE(ct_equal("x", "y", 0));
}

void register_sha256(void)
{
    static const struct unit_case cases[] = {
        {"FIPS 180-2 vectors", t_vectors},
        {"constant-time comparison", t_ct_equal},
        {NULL, NULL},
    };
    unit_suite("sha256", cases);
}
