/* origin.h: web origins (RFC 6454 serialisations: scheme "://" host
 * [":" port]) as CORS compares them, and the lists of them in config
 * (cors_allowed_origins) and the database (a chatbot's origins). No
 * state, no allocation. */
#ifndef TROIKA_ORIGIN_H
#define TROIKA_ORIGIN_H

#include <stddef.h>

enum { ORG_MAX = 256 };   /* longest origin kept or compared, NUL included */

/* 0 when s is an origin: http or https, a host of [A-Za-z0-9.-] or an
 * IPv6 literal in brackets, an optional port 1-65535, nothing after (no
 * path, not even "/"). -1 with err naming the problem otherwise. */
int org_check(const char *s, char *err, size_t errlen);

/* s lower-cased into out (cap bytes): how origins are stored and looked
 * up (browsers send scheme and host in lower case). 0, or -1 when it does
 * not fit. */
int org_lower(const char *s, char *out, size_t cap);

/* Checks a config list: entries separated by commas and/or white space,
 * each "*" or an origin. 0, or -1 with err naming the entry. */
int org_list_check(const char *list, char *err, size_t errlen);

/* Whether origin is in list: ORG_NO, ORG_EXACT (listed itself; compared
 * without regard to ASCII case) or ORG_STAR (only through "*"). */
enum { ORG_NO = 0, ORG_EXACT = 1, ORG_STAR = 2 };
int org_listed(const char *list, const char *origin);

#endif
