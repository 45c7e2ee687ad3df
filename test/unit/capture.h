/* capture.h: test helpers that stand in for the FastCGI output stream.
 *
 * A capture buffer collects what a sink writes (through struct sse_io) and
 * can simulate a client that goes away after N bytes. cap_parse() reads the
 * bytes back the way a client would: status and headers, then either SSE
 * events (checked strictly against the framing rules), one JSON body, or
 * for a 204 nothing at all.
 * Memory: plain malloc, freed by cap_free()/cap_parse_free(); the buffer is
 * written under the sink's lock, so it must not live in a request arena. */
#ifndef TROIKA_TEST_CAPTURE_H
#define TROIKA_TEST_CAPTURE_H

#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "fcgi/sse.h"

struct cap {
    char *p;            /* NUL-terminated */
    size_t len, size;
    size_t fail_after;  /* writes that would pass this many bytes fail (0: never) */
    int writes;
    int flushes;
};

/* An sse_io writing into c. */
void cap_io(struct cap *c, struct sse_io *io);
void cap_free(struct cap *c);

enum { CAP_MAX_EVENTS = 256 };

struct cap_event {
    unsigned long id;      /* 0 for a `: ping` comment */
    char name[32];         /* event name, or "ping" */
    json_object *data;     /* the newline-joined data lines, parsed; owned */
    char *raw;             /* the joined data text; owned */
    size_t lines;          /* number of data lines */
    size_t longest;        /* longest data line, bytes after "data: " */
};

struct cap_parse {
    int status;                 /* from the Status: header */
    char headers[2048];         /* the header block, "\r\n"-separated */
    int sse;                    /* Content-Type was text/event-stream */
    struct cap_event ev[CAP_MAX_EVENTS];
    size_t n;                   /* events, pings included */
    size_t pings;
    json_object *body;          /* non-SSE: the parsed body; owned */
    char error[256];            /* first framing problem; "" when well-formed */
};

/* Parses everything captured so far. 0 when well-formed, else -1 with
 * p->error saying what is wrong (the parts parsed before stay usable). */
int cap_parse(const struct cap *c, struct cap_parse *p);
void cap_parse_free(struct cap_parse *p);

/* Value of header `name` (case-insensitive) copied to out, or NULL. */
const char *cap_header(const struct cap_parse *p, const char *name, char *out, size_t size);

/* The first event named `name` at or after index `from`, or NULL. */
const struct cap_event *cap_find(const struct cap_parse *p, const char *name, size_t from);
/* How many events are named `name`. */
size_t cap_count(const struct cap_parse *p, const char *name);
/* The index of the first event named `name` (p->n when none). */
size_t cap_index(const struct cap_parse *p, const char *name);

/* String member `key` of o, or NULL when missing or not a string. */
const char *cap_str(json_object *o, const char *key);

/* Parses s[0..n) as exactly one JSON value (no trailing bytes) or NULL. */
json_object *cap_json(const char *s, size_t n);

/* A request body as libfcgi would deliver it: fx.in hands out `data` in
 * pieces of `piece` bytes, then end of input. `fills` counts how often the
 * reader asked for more; cap_in_consumed() says how much was read. */
struct cap_in {
    FCGX_Request fx;
    FCGX_Stream st;
    unsigned char *buf;
    size_t len, piece;
    int fills;
};

void cap_in_init(struct cap_in *in, const char *data, size_t len, size_t piece);
size_t cap_in_consumed(const struct cap_in *in);
void cap_in_free(struct cap_in *in);

#endif
