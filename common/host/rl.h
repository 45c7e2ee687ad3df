/* rl.h: the streaming rate limiter: an exact sliding window per client
 * address, shared by every process of the host through the mapping.
 *
 * Rule (SPEC section 3): in no window of window_ms are more than `limit`
 * requests of one address admitted. Each tracked address keeps the times
 * of its last `limit` admissions in a ring; a request at time t is admitted
 * iff fewer than `limit` admissions lie in (t - window, t], i.e. iff the
 * limit-th most recent admission is at or before t - window. That is exact,
 * not an approximation.
 *
 * Bounded table: `capacity` addresses. A new address takes a free entry,
 * else the least recently admitted entry if it is idle (its newest
 * admission is at or before t - window: it holds nothing that could change
 * a future decision). When even that entry is not idle, every tracked
 * address is active, and the new address is refused (429, counted as
 * `table_full`) rather than let any tracked address exceed its limit.
 *
 * Locking: one robust process-shared mutex per table; a holder that died
 * leaves the indexes rebuilt from the entries by the next locker. The
 * clock is read under the lock, so admission times are ordered. */
#ifndef TROIKA_RL_H
#define TROIKA_RL_H

#include <stddef.h>
#include <stdint.h>

enum { RL_NETS_MAX = 64, RL_ADDR_TEXT = 46 };

/* An address or network; IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * with the prefix length counted in IPv6 bits. */
struct rl_net {
    uint8_t addr[16];
    uint8_t bits;
};

struct rl_nets {
    struct rl_net v[RL_NETS_MAX];
    size_t n;
};

/* Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as mapped). 0 or -1. */
int rl_addr_parse(const char *s, uint8_t out[16]);
/* Formats 16 bytes back (mapped addresses as dotted IPv4). */
void rl_addr_format(const uint8_t a[16], char out[RL_ADDR_TEXT]);
/* "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a host). 0 or -1. */
int rl_net_parse(const char *s, struct rl_net *out);
/* A list separated by commas and/or spaces. On error returns -1 with err
 * naming the bad item. An empty list is valid. */
int rl_nets_parse(const char *list, struct rl_nets *out, char *err, size_t errlen);
/* 1 when addr lies in one of the networks. */
int rl_nets_match(const struct rl_nets *n, const uint8_t addr[16]);

/* The client address: REMOTE_ADDR, or, when REMOTE_ADDR is a trusted
 * proxy and `fwd` (the proxy header's value, may be NULL) holds a list,
 * the rightmost entry that is not itself a trusted proxy (the leftmost if
 * all are). An unparsable entry ends the walk and REMOTE_ADDR is used.
 * 0, or -1 when REMOTE_ADDR itself is not an address. */
int rl_client_addr(const struct rl_nets *trusted, const char *remote_addr, const char *fwd, uint8_t out[16]);

/* ---- the shared table ---------------------------------------------------- */

/* Bytes of a table for this many addresses and this limit. */
size_t rl_table_size(uint32_t capacity, uint32_t limit);
/* Initialises a table in (shared) memory of rl_table_size() bytes. 0 or -1. */
int rl_table_init(void *mem, uint32_t capacity, uint32_t limit, int64_t window_us);

struct rl_decision {
    int admitted;
    int limit;
    int remaining;          /* after this request */
    int table_full;         /* refused because every entry was active */
    int64_t now_us;         /* the decision's time (monotonic) */
    int64_t free_at_us;     /* when the next admission frees (monotonic) */
    uint64_t seq;           /* the table's decision count, this one included:
                             * the order decisions were taken in, even when
                             * two share a microsecond */
};

/* Decides for addr at now_us (tests inject the clock; times must not go
 * backwards). 0 or -1 (lock unrecoverable: the caller admits and logs). */
int rl_decide_at(void *table, const uint8_t addr[16], int64_t now_us, struct rl_decision *d);
/* The same, reading the monotonic clock under the lock. */
int rl_decide(void *table, const uint8_t addr[16], struct rl_decision *d);

struct rl_stats {
    uint32_t capacity, used, limit;
    int64_t window_us;
    uint64_t decisions, refused, evictions, table_full, recoveries;
};
void rl_stats(void *table, struct rl_stats *out);

/* Checks the index structures against the entries (tests). 0 when sound. */
int rl_table_check(void *table);

#endif
