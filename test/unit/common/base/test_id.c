/* test_id.c: random ids and the rule for a client's id (common/base/id). */
#include <string.h>

#include "common/base/id.h"
#include "test/unit/unit.h"

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i]) return 0;
    return 1;
}

/* 32 lowercase hex digits, NUL-terminated, a new one each time. */
static void t_new(void)
{
    char a[ID_SIZE], b[ID_SIZE];
    id_new(a);
    id_new(b);
    CU_ASSERT_EQUAL(strlen(a), 32);
    CU_ASSERT(all_hex(a, 32) && all_hex(b, 32));
    CU_ASSERT(strcmp(a, b) != 0);
    CU_ASSERT(id_valid(a));
}

/* id_hex writes exactly 2n digits and nothing after them, also past its
 * internal 32-byte block. */
static void t_hex(void)
{
    const size_t sizes[] = {1, 8, 31, 32, 33, 70};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char buf[160];
        memset(buf, '#', sizeof(buf));
        id_hex(buf, sizes[i]);
        CU_ASSERT(all_hex(buf, 2 * sizes[i]));
        CU_ASSERT_EQUAL(buf[2 * sizes[i]], '#');
    }
}

/* Secret ids: the kernel's CSPRNG only; exact lengths, no two alike. */
static void t_secret(void)
{
    char a[ID_SIZE], b[ID_SIZE];
    CU_ASSERT_EQUAL(id_secret(a), 0);
    CU_ASSERT_EQUAL(id_secret(b), 0);
    CU_ASSERT_EQUAL(strlen(a), 32);
    CU_ASSERT(all_hex(a, 32) && all_hex(b, 32) && strcmp(a, b) != 0);
    char buf[160];
    memset(buf, '#', sizeof(buf));
    CU_ASSERT_EQUAL(id_secret_hex(buf, 32), 0);
    CU_ASSERT(all_hex(buf, 64));
    CU_ASSERT_EQUAL(buf[64], '#');
    CU_ASSERT_EQUAL(id_secret_hex(buf, 65), -1);   /* more than one call's block is refused */
}

static void t_valid(void)
{
    CU_ASSERT(id_valid("a"));
    CU_ASSERT(id_valid("req-1.A_b"));
    CU_ASSERT(id_valid("0123456789012345678901234567890123456789012345678901234567890123"));
    CU_ASSERT_FALSE(id_valid("0123456789012345678901234567890123456789012345678901234567890123x"));
    CU_ASSERT_FALSE(id_valid(""));
    CU_ASSERT_FALSE(id_valid("a/b"));
    CU_ASSERT_FALSE(id_valid("a b"));
    CU_ASSERT_FALSE(id_valid("caf\xc3\xa9"));
    CU_ASSERT_FALSE(id_valid("x\r\nSet-Cookie: y"));
}

void register_id(void)
{
    static const struct unit_case cases[] = {
        {"fresh ids", t_new},
        {"hex of n random bytes", t_hex},
        {"secret ids from the CSPRNG", t_secret},
        {"a client's id", t_valid},
        {NULL, NULL},
    };
    unit_suite("id", cases);
}
