/* sse.c: event framing and the data-line splitter. */
#include "fcgi/sse.h"

#include <stdio.h>
#include <string.h>

#include "common/base/log.h"

size_t sse_split(const char *json, size_t len, size_t max, size_t *cuts, size_t maxcuts)
{
    size_t n = 0, start = 0, safe = 0;
    int in_str = 0, esc = 0;
    if (max == 0) max = 1;
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        if (in_str) {
            if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        }
        /* A break after i is safe when i ends a structural token outside a
         * string: the next byte then starts a new token. */
        int breakable = !in_str && (c == ',' || c == ':' || c == '{' || c == '[');
        if (i + 1 - start > max && safe > start && n + 1 < maxcuts) {
            cuts[n++] = safe;
            start = safe;
            safe = start;
        }
        if (breakable) safe = i + 1;
    }
    cuts[n++] = len;
    return n;
}

int sse_write_ping(const struct sse_io *io)
{
    if (io->write(io->ctx, ": ping\n\n", 8) < 0) return -1;
    return io->flush ? io->flush(io->ctx) : 0;
}

int sse_write_event(const struct sse_io *io, unsigned long id, const char *event,
                    const char *json, size_t len, size_t max)
{
    char head[128];
    int hn = snprintf(head, sizeof(head), "id: %lu\nevent: %s\n", id, event);
    if (hn < 0 || (size_t)hn >= sizeof(head)) return -1;
    if (io->write(io->ctx, head, (size_t)hn) < 0) return -1;
    /* When the table fills up, its last line holds the unsplit rest:
     * write the lines before it and split again from there (cuts are
     * outside strings, so the splitter can restart at one). */
    enum { NCUTS = 512 };
    size_t cuts[NCUTS];
    size_t off = 0;
    do {
        size_t lines = sse_split(json + off, len - off, max, cuts, NCUTS);
        size_t keep = lines == NCUTS ? lines - 1 : lines;
        size_t at = 0;
        for (size_t i = 0; i < keep; i++) {
            if (io->write(io->ctx, "data: ", 6) < 0) return -1;
            if (io->write(io->ctx, json + off + at, cuts[i] - at) < 0) return -1;
            if (io->write(io->ctx, "\n", 1) < 0) return -1;
            at = cuts[i];
        }
        off += at;
    } while (off < len);
    if (io->write(io->ctx, "\n", 1) < 0) return -1;
    return io->flush ? io->flush(io->ctx) : 0;
}

void sse_timestamp(char out[32], long long wall_ms)
{
    log_timestamp(out, wall_ms);
}

size_t sse_json_str(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap < 3) return 0;
    out[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; ) {
        char tmp[8];
        size_t tl, step = 1;
        if (*p == '"' || *p == '\\') tmp[0] = '\\', tmp[1] = (char)*p, tl = 2;
        else if (*p < 0x20) tl = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
        else {
            /* a lead byte and its continuation bytes go together */
            tmp[0] = (char)*p, tl = 1;
            if (*p >= 0xC0)
                while (tl < 4 && (p[tl] & 0xC0) == 0x80) tmp[tl] = (char)p[tl], tl++;
            step = tl;
        }
        if (o + tl + 2 > cap) break;
        memcpy(out + o, tmp, tl);
        o += tl;
        p += step;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}
