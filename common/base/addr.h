/* addr.h: IPv4 and IPv6 addresses and networks (CIDR), as the config names
 * them (streaming_rate_whitelist, trusted_proxies) and as the rate limiter
 * keys its table; and the client address behind trusted proxies. IPv4 is
 * kept as IPv4-mapped IPv6, so one 16-byte form serves both. Pure
 * functions over caller memory. */
#ifndef TROIKA_ADDR_H
#define TROIKA_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum { ADDR_NETS_MAX = 64, ADDR_TEXT = 46 };

/* An address or network; IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * with the prefix length counted in IPv6 bits. */
struct addr_net {
    uint8_t addr[16];
    uint8_t bits;
};

struct addr_nets {
    struct addr_net v[ADDR_NETS_MAX];
    size_t n;
};

/* Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as mapped). 0 or -1. */
int addr_parse(const char *s, uint8_t out[16]);
/* Formats 16 bytes back (mapped addresses as dotted IPv4). */
void addr_format(const uint8_t a[16], char out[ADDR_TEXT]);
/* "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a host). 0 or -1. */
int addr_net_parse(const char *s, struct addr_net *out);
/* A list separated by commas and/or spaces. On error returns -1 with err
 * naming the bad item. An empty list is valid. */
int addr_nets_parse(const char *list, struct addr_nets *out, char *err, size_t errlen);
/* 1 when addr lies in one of the networks. */
int addr_nets_match(const struct addr_nets *n, const uint8_t addr[16]);

/* The client address: REMOTE_ADDR, or, when REMOTE_ADDR is a trusted
 * proxy and `fwd` (the proxy header's value, may be NULL) holds a list,
 * the rightmost entry that is not itself a trusted proxy (the leftmost if
 * all are). An unparsable entry ends the walk and REMOTE_ADDR is used.
 * 0, or -1 when REMOTE_ADDR itself is not an address. */
int addr_client(const struct addr_nets *trusted, const char *remote_addr, const char *fwd, uint8_t out[16]);

#endif
