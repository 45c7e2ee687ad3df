/* addr.c: IPv4/IPv6 addresses and networks, and the client address behind
 * trusted proxies; see addr.h. */
#include "common/base/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_parse(const char *s, uint8_t out[16])
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf)) return -1;
    if (s[0] == '[' && s[n - 1] == ']') {   /* [v6] */
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, s, n + 1);
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return 0;
    }
    char *pct = strchr(buf, '%');   /* fe80::1%eth0: the zone is not part of the address */
    if (pct) *pct = '\0';
    return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static int addr_is_mapped(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, pre, 12) == 0;
}

void addr_format(const uint8_t a[16], char out[ADDR_TEXT])
{
    if (!addr_is_mapped(a)) {
        inet_ntop(AF_INET6, a, out, ADDR_TEXT);
        return;
    }
    /* Dotted quad by hand: glibc's inet_ntop formats IPv4 with sprintf,
     * and this runs on every request. */
    char *p = out;
    for (int i = 12; i < 16; i++) {
        unsigned v = a[i];
        if (v >= 100) *p++ = (char)('0' + v / 100);
        if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 15 ? '.' : '\0';
    }
}

static void addr_mask(uint8_t a[16], unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned have = bits > i * 8 ? bits - i * 8 : 0;
        if (have >= 8) continue;
        a[i] &= (uint8_t)(0xff00 >> have);
    }
}

int addr_net_parse(const char *s, struct addr_net *out)
{
    char buf[80];
    if (strlen(s) >= sizeof(buf)) return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || bits < 0) return -1;
    }
    if (addr_parse(buf, out->addr) < 0) return -1;
    int v4 = strchr(buf, ':') == NULL;
    if (bits < 0) bits = 128;
    else if (v4) {
        if (bits > 32) return -1;
        bits += 96;
    } else if (bits > 128) {
        return -1;
    }
    out->bits = (uint8_t)bits;
    addr_mask(out->addr, (unsigned)bits);
    return 0;
}

int addr_nets_parse(const char *list, struct addr_nets *out, char *err, size_t errlen)
{
    out->n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',' && !isspace((unsigned char)*e)) e++;
        char item[80];
        size_t n = (size_t)(e - p);
        if (n >= sizeof(item) || out->n >= ADDR_NETS_MAX) {
            snprintf(err, errlen, "'%.*s': too long, or more than %d entries", (int)(n > 60 ? 60 : n), p,
                     ADDR_NETS_MAX);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (addr_net_parse(item, &out->v[out->n]) < 0) {
            snprintf(err, errlen, "'%s' is not an IPv4/IPv6 address or CIDR", item);
            return -1;
        }
        out->n++;
        p = e;
    }
    return 0;
}

int addr_nets_match(const struct addr_nets *n, const uint8_t addr[16])
{
    for (size_t i = 0; i < n->n; i++) {
        uint8_t a[16];
        memcpy(a, addr, 16);
        addr_mask(a, n->v[i].bits);
        if (memcmp(a, n->v[i].addr, 16) == 0) return 1;
    }
    return 0;
}

/* One X-Forwarded-For item: trims spaces, drops a port ("1.2.3.4:80",
 * "[::1]:80"). 0 or -1. */
static int addr_fwd_item(const char *p, size_t n, uint8_t out[16])
{
    while (n && isspace((unsigned char)*p)) p++, n--;
    while (n && isspace((unsigned char)p[n - 1])) n--;
    char buf[64];
    if (n == 0 || n >= sizeof(buf)) return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close) return -1;
        close[1] = '\0';
    } else {
        char *colon = strchr(buf, ':');
        if (colon && !strchr(colon + 1, ':')) *colon = '\0';   /* v4:port */
    }
    return addr_parse(buf, out);
}

int addr_client(const struct addr_nets *trusted, const char *remote_addr, const char *fwd, uint8_t out[16])
{
    uint8_t remote[16];
    if (!remote_addr || addr_parse(remote_addr, remote) < 0) return -1;
    memcpy(out, remote, 16);
    if (!fwd || !*fwd || !addr_nets_match(trusted, remote)) return 0;
    const char *end = fwd + strlen(fwd);
    uint8_t cand[16];
    int have = 0;
    while (end > fwd) {
        const char *start = end;
        while (start > fwd && start[-1] != ',') start--;
        if (addr_fwd_item(start, (size_t)(end - start), cand) < 0) return 0;   /* garbage: REMOTE_ADDR */
        have = 1;
        if (!addr_nets_match(trusted, cand)) break;
        end = start > fwd ? start - 1 : fwd;
    }
    if (have) memcpy(out, cand, 16);
    return 0;
}
