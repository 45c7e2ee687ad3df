/* capture.c: a byte sink for the response and a strict client-side reader
 * of what was written; see capture.h. */
#include "test/unit/capture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base/u8.h"

static int cap_write(void *ctx, const char *p, size_t n)
{
    struct cap *c = ctx;
    c->writes++;
    if (c->fail_after && c->len + n > c->fail_after) return -1;
    if (c->len + n + 1 > c->size) {
        size_t size = c->size ? c->size : 4096;
        while (size < c->len + n + 1) size *= 2;
        char *np = realloc(c->p, size);
        if (!np) return -1;
        c->p = np;
        c->size = size;
    }
    memcpy(c->p + c->len, p, n);
    c->len += n;
    c->p[c->len] = '\0';
    return 0;
}

static int cap_flush(void *ctx)
{
    struct cap *c = ctx;
    c->flushes++;
    return 0;
}

void cap_io(struct cap *c, struct sse_io *io)
{
    io->write = cap_write;
    io->flush = cap_flush;
    io->ctx = c;
}

void cap_free(struct cap *c)
{
    free(c->p);
    memset(c, 0, sizeof(*c));
}

json_object *cap_json(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) return NULL;
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    if (o && (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != n)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

const char *cap_str(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int cap_fail(struct cap_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cap_fail(struct cap_parse *p, const char *fmt, ...)
{
    if (!p->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->error, sizeof(p->error), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads one "\n"-terminated line at *pos; NULL at the end or when the
 * last line has no terminator (then *bad is set). */
static const char *cap_line(const char *s, size_t len, size_t *pos, size_t *llen, int *bad)
{
    if (*pos >= len) return NULL;
    const char *nl = memchr(s + *pos, '\n', len - *pos);
    if (!nl) {
        *bad = 1;
        return NULL;
    }
    const char *line = s + *pos;
    *llen = (size_t)(nl - line);
    *pos += *llen + 1;
    return line;
}

static int cap_parse_sse(const char *s, size_t len, struct cap_parse *p)
{
    if (memchr(s, '\r', len)) return cap_fail(p, "a CR byte in the event stream");
    size_t pos = 0;
    int bad = 0;
    while (pos < len) {
        size_t ll;
        const char *l = cap_line(s, len, &pos, &ll, &bad);
        if (!l) break;
        if (p->n >= CAP_MAX_EVENTS) return cap_fail(p, "more than %d events", CAP_MAX_EVENTS);
        struct cap_event *e = &p->ev[p->n];
        if (ll && l[0] == ':') {
            if (ll != 6 || memcmp(l, ": ping", 6) != 0) return cap_fail(p, "unexpected comment '%.*s'", (int)ll, l);
            size_t bl;
            const char *b = cap_line(s, len, &pos, &bl, &bad);
            if (!b || bl) return cap_fail(p, "a ping not followed by a blank line");
            snprintf(e->name, sizeof(e->name), "ping");
            p->n++;
            p->pings++;
            continue;
        }
        char *end;
        if (ll < 5 || memcmp(l, "id: ", 4) != 0) return cap_fail(p, "event %zu: expected 'id: ', got '%.*s'", p->n, (int)ll, l);
        e->id = strtoul(l + 4, &end, 10);
        if (end != l + ll || e->id == 0) return cap_fail(p, "event %zu: bad id line '%.*s'", p->n, (int)ll, l);
        l = cap_line(s, len, &pos, &ll, &bad);
        if (!l || ll < 8 || memcmp(l, "event: ", 7) != 0 || ll - 7 >= sizeof(e->name))
            return cap_fail(p, "event %zu: expected 'event: '", p->n);
        memcpy(e->name, l + 7, ll - 7);
        e->name[ll - 7] = '\0';
        /* data lines up to the blank line */
        size_t rawlen = 0;
        for (;;) {
            l = cap_line(s, len, &pos, &ll, &bad);
            if (!l) return cap_fail(p, "event %zu (%s): no blank line after it", p->n, e->name);
            if (ll == 0) break;
            if (ll < 6 || memcmp(l, "data: ", 6) != 0)
                return cap_fail(p, "event %zu (%s): unexpected line '%.*s'", p->n, e->name, (int)ll, l);
            const char *d = l + 6;
            size_t dl = ll - 6;
            size_t off;
            if (!u8_valid(d, dl, &off))
                return cap_fail(p, "event %zu (%s): data line %zu is not UTF-8 at byte %zu", p->n, e->name,
                                e->lines + 1, off);
            char *nr = realloc(e->raw, rawlen + dl + 2);
            if (!nr) return cap_fail(p, "out of memory");
            e->raw = nr;
            if (e->lines) e->raw[rawlen++] = '\n';
            memcpy(e->raw + rawlen, d, dl);
            rawlen += dl;
            e->raw[rawlen] = '\0';
            e->lines++;
            if (dl > e->longest) e->longest = dl;
        }
        p->n++;
        if (!e->lines) return cap_fail(p, "event %zu (%s): no data line", p->n - 1, e->name);
        e->data = cap_json(e->raw, rawlen);
        if (!e->data || !json_object_is_type(e->data, json_type_object))
            return cap_fail(p, "event %zu (%s): data is not one JSON object: %s", p->n - 1, e->name, e->raw);
    }
    if (bad) return cap_fail(p, "the stream ends inside a line");
    return 0;
}

int cap_parse(const struct cap *c, struct cap_parse *p)
{
    memset(p, 0, sizeof(*p));
    const char *s = c->p ? c->p : "";
    const char *sep = strstr(s, "\r\n\r\n");
    if (!sep) return cap_fail(p, "no end of headers");
    size_t hl = (size_t)(sep - s) + 2;
    if (hl >= sizeof(p->headers)) return cap_fail(p, "headers too long");
    memcpy(p->headers, s, hl);
    p->headers[hl] = '\0';
    if (strncmp(p->headers, "Status: ", 8) != 0) return cap_fail(p, "first header is not Status");
    p->status = atoi(p->headers + 8);
    char ct[128];
    if (!cap_header(p, "Content-Type", ct, sizeof(ct))) return cap_fail(p, "no Content-Type");
    const char *body = sep + 4;
    size_t blen = c->len - (size_t)(body - s);
    if (strncmp(ct, "text/event-stream", 17) == 0) {
        p->sse = 1;
        return cap_parse_sse(body, blen, p);
    }
    if (p->status == 204) return blen ? cap_fail(p, "a 204 has a body") : 0;   /* No Content: nothing at all */
    if (blen == 0 || body[blen - 1] != '\n') return cap_fail(p, "body does not end in a newline");
    if (memchr(body, '\n', blen - 1)) return cap_fail(p, "body is more than one line");
    size_t off;
    if (!u8_valid(body, blen, &off)) return cap_fail(p, "body is not UTF-8 at byte %zu", off);
    p->body = cap_json(body, blen - 1);
    if (!p->body || !json_object_is_type(p->body, json_type_object))
        return cap_fail(p, "body is not one JSON object: %s", body);
    return 0;
}

void cap_parse_free(struct cap_parse *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->ev[i].data) json_object_put(p->ev[i].data);
        free(p->ev[i].raw);
    }
    if (p->body) json_object_put(p->body);
    memset(p, 0, sizeof(*p));
}

const char *cap_header(const struct cap_parse *p, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    for (const char *l = p->headers; *l;) {
        const char *e = strstr(l, "\r\n");
        if (!e) break;
        if ((size_t)(e - l) > nl + 1 && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ') v++;
            snprintf(out, size, "%.*s", (int)(e - v), v);
            return out;
        }
        l = e + 2;
    }
    return NULL;
}

const struct cap_event *cap_find(const struct cap_parse *p, const char *name, size_t from)
{
    for (size_t i = from; i < p->n; i++)
        if (strcmp(p->ev[i].name, name) == 0) return &p->ev[i];
    return NULL;
}

size_t cap_count(const struct cap_parse *p, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) n += strcmp(p->ev[i].name, name) == 0;
    return n;
}

size_t cap_index(const struct cap_parse *p, const char *name)
{
    const struct cap_event *e = cap_find(p, name, 0);
    return e ? (size_t)(e - p->ev) : p->n;
}

/* ---- request body ---------------------------------------------------- */

static void cap_in_fill(FCGX_Stream *st)
{
    struct cap_in *in = st->data;
    in->fills++;
    size_t have = (size_t)(st->stop - in->buf);
    if (have >= in->len) {
        st->isClosed = 1;   /* end of input */
        return;
    }
    size_t add = in->len - have < in->piece ? in->len - have : in->piece;
    st->stopUnget = st->rdNext;
    st->stop += add;
}

void cap_in_init(struct cap_in *in, const char *data, size_t len, size_t piece)
{
    memset(in, 0, sizeof(*in));
    in->buf = malloc(len + 1);
    if (len) memcpy(in->buf, data, len);
    in->len = len;
    in->piece = piece ? piece : len + 1;
    in->st.rdNext = in->st.stop = in->st.stopUnget = in->buf;
    in->st.isReader = 1;
    in->st.fillBuffProc = cap_in_fill;
    in->st.data = in;
    in->fx.in = &in->st;
    in->fx.ipcFd = -1;   /* no connection: the body comes from the fill procedure */
}

size_t cap_in_consumed(const struct cap_in *in)
{
    return (size_t)(in->st.rdNext - in->buf);
}

void cap_in_free(struct cap_in *in)
{
    free(in->buf);
    memset(in, 0, sizeof(*in));
}
