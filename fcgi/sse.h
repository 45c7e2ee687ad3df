/* sse.h: Server-Sent Events framing (WHATWG), pure and testable.
 *
 * An event is `id:`, `event:` and one or more `data:` lines. A JSON payload
 * longer than the chunk size is broken into several `data:` lines, only at
 * places where JSON allows whitespace (outside strings, after , : [ {), so
 * the client's newline-joined data still parses. A single string value
 * longer than the chunk size cannot be broken; handlers split such content
 * into several events (audio) instead. */
#ifndef TROIKA_SSE_H
#define TROIKA_SSE_H

#include <stddef.h>

struct sse_io {
    int (*write)(void *ctx, const char *p, size_t n);   /* 0 or -1 */
    int (*flush)(void *ctx);                            /* 0 or -1 */
    void *ctx;
};

/* Offsets where the data lines of `json` end, each line <= max where
 * possible. Returns the number of lines (>= 1), at most maxcuts; cuts[i]
 * is the end offset of line i. */
size_t sse_split(const char *json, size_t len, size_t max, size_t *cuts, size_t maxcuts);

/* Writes one framed event. 0 or -1 (write failed). */
int sse_write_event(const struct sse_io *io, unsigned long id, const char *event,
                    const char *json, size_t len, size_t max);

/* Writes `: ping\n\n`. 0 or -1. */
int sse_write_ping(const struct sse_io *io);

/* ISO 8601 UTC with milliseconds, e.g. 2026-11-24T13:04:05.123Z. */
void sse_timestamp(char out[32], long long wall_ms);

/* Appends s as a JSON string literal (quotes included) to out[0..cap);
 * returns the length written, truncated safely (never mid-escape, never
 * mid-character). */
size_t sse_json_str(char *out, size_t cap, const char *s);

#endif
