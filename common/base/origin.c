/* origin.c: origins and origin lists; see origin.h. */
#include "common/base/origin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int org_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int org_check(const char *s, char *err, size_t errlen)
{
    size_t n = strlen(s);
    const char *h;
    if (n >= ORG_MAX) return snprintf(err, errlen, "longer than %d characters", ORG_MAX - 1), -1;
    if (!strncasecmp(s, "http://", 7)) h = s + 7;
    else if (!strncasecmp(s, "https://", 8)) h = s + 8;
    else return snprintf(err, errlen, "'%.80s' must start with http:// or https://", s), -1;
    const char *p = h;
    if (*p == '[') {   /* an IPv6 literal */
        p++;
        while (*p && *p != ']' && (strchr("0123456789abcdefABCDEF:.", *p))) p++;
        if (*p != ']' || p == h + 1) return snprintf(err, errlen, "'%.80s' has a malformed IPv6 host", s), -1;
        p++;
    } else {
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
               *p == '-')
            p++;
        if (p == h) return snprintf(err, errlen, "'%.80s' has no host", s), -1;
    }
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 || (p[1] < '0' || p[1] > '9'))
            return snprintf(err, errlen, "'%.80s' has a bad port", s), -1;
        p = end;
    }
    if (*p == '/')
        return snprintf(err, errlen, "'%.80s' has a path: an origin is scheme://host[:port] only", s), -1;
    if (*p) return snprintf(err, errlen, "'%.80s' is not an origin (scheme://host[:port])", s), -1;
    return 0;
}

int org_lower(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (n >= cap) return -1;
    for (size_t i = 0; i <= n; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    return 0;
}

int org_list_check(const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        while (org_sep(*p)) p++;
        const char *b = p;
        while (*p && !org_sep(*p)) p++;
        size_t n = (size_t)(p - b);
        if (!n) continue;
        if (n == 1 && *b == '*') continue;
        char one[ORG_MAX], e[200];
        if (n >= sizeof(one)) return snprintf(err, errlen, "an entry is longer than %d characters", ORG_MAX - 1), -1;
        memcpy(one, b, n);
        one[n] = '\0';
        if (org_check(one, e, sizeof(e)) < 0) return snprintf(err, errlen, "%s", e), -1;
    }
    return 0;
}

int org_listed(const char *list, const char *origin)
{
    size_t on = strlen(origin);
    int star = 0;
    const char *p = list;
    while (*p) {
        while (org_sep(*p)) p++;
        const char *b = p;
        while (*p && !org_sep(*p)) p++;
        size_t n = (size_t)(p - b);
        if (n == 1 && *b == '*') star = 1;
        else if (n && n == on && !strncasecmp(b, origin, n)) return ORG_EXACT;
    }
    return star ? ORG_STAR : ORG_NO;
}
