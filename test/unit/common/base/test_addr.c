/* test_addr.c: IPv4/IPv6 addresses, CIDR lists and the client address
 * behind trusted proxies (common/base/addr). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/base/addr.h"
#include "test/unit/unit.h"

static void addr(const char *s, uint8_t out[16])
{
    CU_ASSERT_FATAL(addr_parse(s, out) == 0);
}

static void t_addresses(void)
{
    uint8_t a[16], b[16];
    char txt[ADDR_TEXT];
    addr("192.0.2.1", a);
    addr("::ffff:192.0.2.1", b);
    CU_ASSERT(memcmp(a, b, 16) == 0);   /* v4-mapped v6 is the same client */
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "192.0.2.1");
    /* every octet value in every position, as inet_ntop writes it */
    int bad = 0;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t q[4] = {(uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)(v / 3)};
        char want[ADDR_TEXT];
        memcpy(a + 12, q, 4);
        inet_ntop(AF_INET, q, want, sizeof(want));
        addr_format(a, txt);
        bad += strcmp(txt, want) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    addr("2001:DB8::1", a);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "2001:db8::1");
    addr("[::1]", a);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "::1");
    CU_ASSERT(addr_parse("192.0.2.256", a) < 0);
    CU_ASSERT(addr_parse("", a) < 0);
    CU_ASSERT(addr_parse("example.com", a) < 0);
    CU_ASSERT(addr_parse("1.2.3", a) < 0);
}

static void t_cidr(void)
{
    struct addr_nets n;
    char err[200];
    CU_ASSERT(addr_nets_parse("127.0.0.1, 10.0.0.0/8 2001:db8::/32,::1 ,192.168.1.77/24", &n, err, sizeof(err)) == 0);
    CU_ASSERT(n.n == 5);
    uint8_t a[16];
    const char *in[] = {"127.0.0.1", "10.255.3.4", "::ffff:10.0.0.1", "2001:db8:ffff::1", "::1", "192.168.1.1"};
    const char *out[] = {"127.0.0.2", "11.0.0.1", "2001:db9::1", "::2", "192.168.2.1", "fe80::1"};
    for (size_t i = 0; i < 6; i++) {
        addr(in[i], a);
        CU_ASSERT(addr_nets_match(&n, a) == 1);
        addr(out[i], a);
        CU_ASSERT(addr_nets_match(&n, a) == 0);
    }
    struct addr_net one;
    CU_ASSERT(addr_net_parse("0.0.0.0/0", &one) == 0 && one.bits == 96);
    CU_ASSERT(addr_net_parse("::/0", &one) == 0 && one.bits == 0);
    CU_ASSERT(addr_net_parse("10.0.0.0/33", &one) < 0);
    CU_ASSERT(addr_net_parse("2001:db8::/129", &one) < 0);
    CU_ASSERT(addr_net_parse("10.0.0.0/", &one) < 0);
    CU_ASSERT(addr_net_parse("10.0.0.0/x", &one) < 0);
    CU_ASSERT(addr_nets_parse("10.0.0.0/8,nonsense", &n, err, sizeof(err)) < 0);
    CU_ASSERT(strstr(err, "nonsense") != NULL);
    CU_ASSERT(addr_nets_parse("", &n, err, sizeof(err)) == 0 && n.n == 0);
    /* 0.0.0.0/0 matches IPv4 only; ::/0 everything. */
    CU_ASSERT(addr_nets_parse("0.0.0.0/0", &n, err, sizeof(err)) == 0);
    addr("8.8.8.8", a);
    CU_ASSERT(addr_nets_match(&n, a));
    addr("2001:db8::1", a);
    CU_ASSERT(!addr_nets_match(&n, a));
}

static void t_client_addr(void)
{
    struct addr_nets tr;
    char err[200], txt[ADDR_TEXT];
    uint8_t a[16];
    CU_ASSERT(addr_nets_parse("10.0.0.0/8,fd00::/8", &tr, err, sizeof(err)) == 0);
    /* Untrusted peer: its header is ignored. */
    CU_ASSERT(addr_client(&tr, "198.51.100.5", "1.2.3.4", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "198.51.100.5");
    /* Trusted peer: the rightmost untrusted entry. */
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "6.6.6.6, 203.0.113.9, 10.2.2.2", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "203.0.113.9");
    CU_ASSERT(addr_client(&tr, "fd00::1", "2001:db8::7", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "2001:db8::7");
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "[2001:db8::8]:443", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "2001:db8::8");
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "192.0.2.3:5555", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "192.0.2.3");
    /* All trusted: the leftmost. Garbage: REMOTE_ADDR. Empty: REMOTE_ADDR. */
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "10.9.9.9, 10.8.8.8", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "10.9.9.9");
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "1.2.3.4, bogus", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "10.1.1.1");
    CU_ASSERT(addr_client(&tr, "10.1.1.1", "", a) == 0);
    addr_format(a, txt);
    CU_ASSERT_STRING_EQUAL(txt, "10.1.1.1");
    CU_ASSERT(addr_client(&tr, "not-an-ip", NULL, a) < 0);
}

void register_addr(void)
{
    static const struct unit_case cases[] = {
        {"IPv4, IPv6 and v4-mapped addresses", t_addresses},
        {"CIDR parsing and matching", t_cidr},
        {"client address behind trusted proxies", t_client_addr},
        {NULL, NULL},
    };
    unit_suite("addr", cases);
}
