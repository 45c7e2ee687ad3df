/* mp.h: a streaming, push-style multipart/form-data parser (RFC 7578 over
 * RFC 2046). The caller feeds the body in pieces of any size as they are
 * read; the parser calls back with each part's headers, its data (in
 * pieces, never buffered by the parser) and its end. A delimiter split
 * across two feeds is found all the same.
 *
 * Bounded by construction: the parser keeps one header buffer of
 * max_header_bytes (from the caller's arena) and a few counters; it never
 * reads outside the bytes it is given. Limits fail as they are crossed:
 * more than max_parts parts (MP_ETOOMANY), a header block over
 * max_header_bytes (MP_EHEADERS). Line ends must be CRLF. */
#ifndef TROIKA_MP_H
#define TROIKA_MP_H

#include <stddef.h>

#include "common/base/arena.h"

enum {
    MP_OK = 0,
    MP_EBAD = -1,        /* malformed: no delimiter line, bad header, bad padding */
    MP_ETOOMANY = -2,    /* more parts than max_parts */
    MP_EHEADERS = -3,    /* a part's header block over max_header_bytes */
    MP_ETRUNCATED = -4,  /* the body ended before the close delimiter */
    MP_ENOMEM = -5,
    MP_ECALLBACK = -6,   /* a callback refused; see its own error */
};

enum { MP_BOUNDARY_MAX = 70 };

/* One part's headers, as the part_begin callback sees them. Strings are
 * NUL-terminated, borrowed until the part ends; NULL when absent. */
struct mp_part {
    const char *name;          /* Content-Disposition name */
    const char *filename;      /* Content-Disposition filename (the base name, path stripped) */
    const char *content_type;  /* Content-Type, as sent (parameters included) */
    unsigned index;            /* 0-based */
};

struct mp_callbacks {
    /* 0 to go on; non-zero stops the parse with MP_ECALLBACK. */
    int (*part_begin)(void *ud, const struct mp_part *p);
    int (*part_data)(void *ud, const char *data, size_t n);
    int (*part_end)(void *ud);
};

struct mp_limits {
    unsigned max_parts;
    size_t max_header_bytes;
};

struct mp_parser {
    int state;
    int err;
    char delim[4 + MP_BOUNDARY_MAX + 1];   /* "\r\n--" boundary */
    size_t dlen;
    size_t k;                  /* bytes of delim matched so far */
    size_t pad;                /* transport padding after a delimiter */
    char *hbuf;                /* header block being read */
    size_t hlen;
    struct mp_limits lim;
    unsigned parts;
    const struct mp_callbacks *cb;
    void *ud;
    arena_t *ar;
    char msg[160];             /* what went wrong, for the error message */
};

/* Reads the boundary parameter of a multipart/form-data Content-Type
 * (token or quoted-string, 1-70 characters of RFC 2046's bchars, not ending
 * in a space) into out[MP_BOUNDARY_MAX + 1]. 0; -1 when the type is not
 * multipart/form-data; -2 when the boundary is missing or invalid. */
int mp_boundary(const char *content_type, char *out);

/* Sets up a parser for `boundary` (as mp_boundary returned it). The header
 * buffer comes from `ar`. 0 or MP_ENOMEM. */
int mp_init(struct mp_parser *p, arena_t *ar, const char *boundary, const struct mp_limits *lim,
            const struct mp_callbacks *cb, void *ud);

/* Feeds the next n bytes of the body. MP_OK or an MP_E* code; after an
 * error every later call returns the same code. */
int mp_feed(struct mp_parser *p, const char *data, size_t n);

/* The body ended: MP_OK when the close delimiter was seen, else
 * MP_ETRUNCATED (or the earlier error). */
int mp_finish(struct mp_parser *p);

/* 1 once the close delimiter was seen (the rest is epilogue). */
int mp_done(const struct mp_parser *p);

/* A sentence on the last error ("part 3 has no name", ...). */
const char *mp_errmsg(const struct mp_parser *p);

#endif
