/* mp.c: streaming multipart/form-data parser (see mp.h).
 *
 * The delimiter is "\r\n--" + boundary. Boundary characters never include
 * CR, so a partial match is always a prefix of the delimiter: on a mismatch
 * the held bytes are re-emitted from the delimiter itself and the parser
 * needs no look-behind buffer. The first delimiter may open the body
 * without its CRLF (the parser starts as if CRLF had just been read). */
#include "common/io/mp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    ST_PREAMBLE,
    ST_AFTER_DELIM,   /* just read a delimiter */
    ST_PAD,           /* transport padding before CRLF */
    ST_CR,            /* read CR after a delimiter, want LF */
    ST_DASH2,         /* read one '-' after a delimiter, want the second */
    ST_HEADERS,
    ST_BODY,
    ST_EPILOGUE,
    ST_ERROR,
};

enum { MP_PAD_MAX = 256 };

static int mp_fail(struct mp_parser *p, int code, const char *fmt, const char *arg)
{
    p->state = ST_ERROR;
    p->err = code;
    snprintf(p->msg, sizeof(p->msg), fmt, arg ? arg : "");
    return code;
}

static int is_bchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\'' ||
           c == '(' || c == ')' || c == '+' || c == '_' || c == ',' || c == '-' || c == '.' || c == '/' ||
           c == ':' || c == '=' || c == '?' || c == ' ';
}

static int is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    return s;
}

/* Reads one parameter value (token or quoted-string) from [*ps, e) into
 * out (cap bytes, NUL-terminated). Quoted: \" and \\ are escapes; other
 * backslashes stay (old browsers send Windows paths). 0 or -1. */
static int param_value(const char **ps, const char *e, char *out, size_t cap, int lenient_token)
{
    const char *s = *ps;
    size_t o = 0;
    if (s < e && *s == '"') {
        s++;
        for (;;) {
            if (s >= e) return -1;   /* unterminated */
            char c = *s;
            if (c == '"') {
                s++;
                break;
            }
            if (c == '\\' && s + 1 < e && (s[1] == '"' || s[1] == '\\')) c = *++s;
            if (o + 1 >= cap) return -1;
            out[o++] = c;
            s++;
        }
    } else {
        while (s < e && *s != ';' && *s != ' ' && *s != '\t') {
            if (!lenient_token && !is_tchar((unsigned char)*s)) return -1;
            if (o + 1 >= cap) return -1;
            out[o++] = *s++;
        }
        if (o == 0) return -1;
    }
    out[o] = '\0';
    *ps = s;
    return 0;
}

int mp_boundary(const char *ct, char *out)
{
    static const char mt[] = "multipart/form-data";
    const char *e = ct + strlen(ct);
    const char *s = skip_ows(ct, e);
    if (strncasecmp(s, mt, sizeof(mt) - 1) != 0) return -1;
    s += sizeof(mt) - 1;
    if (s < e && *s != ';' && *s != ' ' && *s != '\t') return -1;
    int found = 0;
    while (s < e) {
        s = skip_ows(s, e);
        if (s >= e) break;
        if (*s != ';') return -2;
        s = skip_ows(s + 1, e);
        if (s >= e) break;
        const char *n = s;
        while (s < e && is_tchar((unsigned char)*s)) s++;
        size_t nl = (size_t)(s - n);
        if (!nl || s >= e || *s != '=') return -2;
        s++;
        char val[256];
        if (param_value(&s, e, val, sizeof(val), 1) < 0) return -2;
        if (nl == 8 && strncasecmp(n, "boundary", 8) == 0) {
            if (found) return -2;   /* two boundaries: ambiguous */
            size_t bl = strlen(val);
            if (bl < 1 || bl > MP_BOUNDARY_MAX || val[bl - 1] == ' ') return -2;
            for (size_t i = 0; i < bl; i++)
                if (!is_bchar((unsigned char)val[i])) return -2;
            memcpy(out, val, bl + 1);
            found = 1;
        }
    }
    return found ? 0 : -2;
}

int mp_init(struct mp_parser *p, arena_t *ar, const char *boundary, const struct mp_limits *lim,
            const struct mp_callbacks *cb, void *ud)
{
    memset(p, 0, sizeof(*p));
    size_t bl = strlen(boundary);
    if (bl < 1 || bl > MP_BOUNDARY_MAX) return mp_fail(p, MP_EBAD, "bad boundary%s", NULL);
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, bl);
    p->dlen = 4 + bl;
    p->lim = *lim;
    if (p->lim.max_header_bytes < 64) p->lim.max_header_bytes = 64;
    p->hbuf = ar_alloc(ar, p->lim.max_header_bytes);
    if (!p->hbuf) return mp_fail(p, MP_ENOMEM, "out of memory%s", NULL);
    p->cb = cb;
    p->ud = ud;
    p->ar = ar;
    p->state = ST_PREAMBLE;
    p->k = 2;   /* the body may open with the delimiter minus its CRLF */
    return MP_OK;
}

/* ---- part headers -------------------------------------------------------- */

static int header_is(const char *n, size_t nl, const char *want)
{
    return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* RFC 5987 ext-value: UTF-8''percent-encoded. Decoded in place; -1 when
 * another charset or a bad escape. */
static int ext_value(char *v)
{
    char *q = strchr(v, '\'');
    if (!q || (size_t)(q - v) != 5 || strncasecmp(v, "utf-8", 5) != 0) return -1;
    char *r = strchr(q + 1, '\'');
    if (!r) return -1;
    char *s = r + 1, *o = v;
    while (*s) {
        if (*s == '%') {
            int hi = hexv((unsigned char)s[1]), lo = hi < 0 ? -1 : hexv((unsigned char)s[2]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
            *o++ = (char)(hi * 16 + lo);
            s += 3;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return 0;
}

/* The base name of a path a browser may have sent. */
static const char *base_name(const char *f)
{
    const char *b = f;
    for (const char *s = f; *s; s++)
        if (*s == '/' || *s == '\\') b = s + 1;
    return b;
}

static int parse_disposition(struct mp_parser *p, const char *s, const char *e, struct mp_part *part)
{
    const char *t = s;
    while (s < e && is_tchar((unsigned char)*s)) s++;
    if (!header_is(t, (size_t)(s - t), "form-data"))
        return mp_fail(p, MP_EBAD, "a part's Content-Disposition is not form-data%s", NULL);
    char val[1024];
    int have_fn = 0, have_fnx = 0;
    while (s < e) {
        s = skip_ows(s, e);
        if (s >= e) break;
        if (*s != ';') return mp_fail(p, MP_EBAD, "malformed Content-Disposition%s", NULL);
        s = skip_ows(s + 1, e);
        if (s >= e) break;
        const char *n = s;
        while (s < e && is_tchar((unsigned char)*s)) s++;
        size_t nl = (size_t)(s - n);
        if (!nl || s >= e || *s != '=') return mp_fail(p, MP_EBAD, "malformed Content-Disposition%s", NULL);
        s++;
        if (param_value(&s, e, val, sizeof(val), 1) < 0)
            return mp_fail(p, MP_EBAD, "malformed or over-long Content-Disposition parameter%s", NULL);
        if (header_is(n, nl, "name")) {
            if (part->name) return mp_fail(p, MP_EBAD, "a part names itself twice%s", NULL);
            part->name = ar_strdup(p->ar, val);
            if (!part->name) return mp_fail(p, MP_ENOMEM, "out of memory%s", NULL);
        } else if (header_is(n, nl, "filename")) {
            if (have_fn++) return mp_fail(p, MP_EBAD, "a part has two filenames%s", NULL);
            if (!have_fnx && !(part->filename = ar_strdup(p->ar, base_name(val))))
                return mp_fail(p, MP_ENOMEM, "out of memory%s", NULL);
        } else if (header_is(n, nl, "filename*")) {
            if (have_fnx) return mp_fail(p, MP_EBAD, "a part has two filenames%s", NULL);
            if (ext_value(val) == 0) {
                have_fnx = 1;
                if (!(part->filename = ar_strdup(p->ar, base_name(val))))
                    return mp_fail(p, MP_ENOMEM, "out of memory%s", NULL);
            }
        }
    }
    if (!part->name) return mp_fail(p, MP_EBAD, "a part has no name%s", NULL);
    return MP_OK;
}

/* Parses the header block hbuf[0..hlen) (ending in CRLF CRLF, or just CRLF
 * when empty) and starts the part. */
static int mp_headers_done(struct mp_parser *p)
{
    struct mp_part part = {.index = p->parts - 1};
    int have_cd = 0, have_ct = 0;
    const char *s = p->hbuf, *end = p->hbuf + p->hlen - 2;   /* drop the final CRLF */
    while (s < end) {
        /* hbuf ends in CRLF CRLF, so a CRLF is found at end - 2 at the latest */
        const char *le = s;
        while (le < end && !(le[0] == '\r' && le[1] == '\n')) le++;
        if (le >= end) return mp_fail(p, MP_EBAD, "malformed part header%s", NULL);
        if (le == s || *s == ' ' || *s == '\t')
            return mp_fail(p, MP_EBAD, "malformed part header (folded or empty line)%s", NULL);
        for (const char *c = s; c < le; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t') return mp_fail(p, MP_EBAD, "control character in a part header%s", NULL);
        const char *colon = s;
        while (colon < le && is_tchar((unsigned char)*colon)) colon++;
        if (colon == s || colon >= le || *colon != ':')
            return mp_fail(p, MP_EBAD, "malformed part header name%s", NULL);
        size_t nl = (size_t)(colon - s);
        const char *v = skip_ows(colon + 1, le), *ve = le;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if (header_is(s, nl, "content-disposition")) {
            if (have_cd++) return mp_fail(p, MP_EBAD, "a part has two Content-Disposition headers%s", NULL);
            int rc = parse_disposition(p, v, ve, &part);
            if (rc) return rc;
        } else if (header_is(s, nl, "content-type")) {
            if (have_ct++) return mp_fail(p, MP_EBAD, "a part has two Content-Type headers%s", NULL);
            part.content_type = ar_strndup(p->ar, v, (size_t)(ve - v));
            if (!part.content_type) return mp_fail(p, MP_ENOMEM, "out of memory%s", NULL);
        } else if (header_is(s, nl, "content-transfer-encoding")) {
            size_t vl = (size_t)(ve - v);
            if (!(header_is(v, vl, "binary") || header_is(v, vl, "8bit") || header_is(v, vl, "7bit")))
                return mp_fail(p, MP_EBAD, "Content-Transfer-Encoding other than binary is not supported%s", NULL);
        }
        s = le + 2;
    }
    if (!have_cd) return mp_fail(p, MP_EBAD, "a part has no Content-Disposition%s", NULL);
    if (p->cb->part_begin && p->cb->part_begin(p->ud, &part) != 0)
        return mp_fail(p, MP_ECALLBACK, "refused by the reader%s", NULL);
    p->state = ST_BODY;
    p->k = 0;
    return MP_OK;
}

/* ---- the state machine ---------------------------------------------------- */

static int emit(struct mp_parser *p, const char *d, size_t n)
{
    if (n && p->cb->part_data && p->cb->part_data(p->ud, d, n) != 0)
        return mp_fail(p, MP_ECALLBACK, "refused by the reader%s", NULL);
    return MP_OK;
}

static int part_end(struct mp_parser *p)
{
    if (p->cb->part_end && p->cb->part_end(p->ud) != 0) return mp_fail(p, MP_ECALLBACK, "refused by the reader%s", NULL);
    return MP_OK;
}

/* Scans for the delimiter from state k; body bytes go to emit() when
 * `body`, else are dropped (preamble). Returns bytes consumed; sets *hit
 * when the delimiter completed (consumed through its last byte). */
static size_t scan(struct mp_parser *p, const char *d, size_t n, int body, int *hit)
{
    size_t i = 0;
    *hit = 0;
    while (i < n) {
        if (p->k == 0) {
            const char *r = memchr(d + i, '\r', n - i);
            size_t upto = r ? (size_t)(r - d) : n;
            if (body && emit(p, d + i, upto - i) != MP_OK) return i;
            if (!r) return n;
            i = upto + 1;
            p->k = 1;
            continue;
        }
        if (d[i] == p->delim[p->k]) {
            p->k++;
            i++;
            if (p->k == p->dlen) {
                p->k = 0;
                *hit = 1;
                return i;
            }
        } else {
            /* the held bytes were data after all: they are delim[0..k) */
            if (body && emit(p, p->delim, p->k) != MP_OK) return i;
            p->k = 0;   /* re-examine d[i]: it may be a CR */
        }
    }
    return i;
}

static int new_part(struct mp_parser *p)
{
    if (p->parts >= p->lim.max_parts) {
        char n[32];
        snprintf(n, sizeof(n), "%u", p->lim.max_parts);
        return mp_fail(p, MP_ETOOMANY, "more than %s parts", n);
    }
    p->parts++;
    p->hlen = 0;
    p->state = ST_HEADERS;
    return MP_OK;
}

int mp_feed(struct mp_parser *p, const char *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int hit;
        switch (p->state) {
        case ST_ERROR:
            return p->err;
        case ST_EPILOGUE:
            return MP_OK;
        case ST_PREAMBLE:
            i += scan(p, d + i, n - i, 0, &hit);
            if (hit) p->state = ST_AFTER_DELIM;
            break;
        case ST_BODY:
            i += scan(p, d + i, n - i, 1, &hit);
            if (p->state == ST_ERROR) return p->err;
            if (hit) {
                if (part_end(p) != MP_OK) return p->err;
                p->state = ST_AFTER_DELIM;
            }
            break;
        case ST_AFTER_DELIM:
        case ST_PAD: {
            char c = d[i++];
            if (c == '-' && p->state == ST_AFTER_DELIM) {
                p->state = ST_DASH2;
            } else if (c == ' ' || c == '\t') {
                p->state = ST_PAD;
                if (++p->pad > MP_PAD_MAX) return mp_fail(p, MP_EBAD, "too much padding after a delimiter%s", NULL);
            } else if (c == '\r') {
                p->state = ST_CR;
            } else {
                return mp_fail(p, MP_EBAD, "unexpected bytes after a boundary delimiter%s", NULL);
            }
            break;
        }
        case ST_CR:
            if (d[i++] != '\n') return mp_fail(p, MP_EBAD, "a delimiter line does not end in CRLF%s", NULL);
            p->pad = 0;
            if (new_part(p) != MP_OK) return p->err;
            break;
        case ST_DASH2:
            if (d[i++] != '-') return mp_fail(p, MP_EBAD, "unexpected bytes after a boundary delimiter%s", NULL);
            p->state = ST_EPILOGUE;
            return MP_OK;   /* the rest is epilogue */
        case ST_HEADERS: {
            /* copy up to the end of the header block, one line end at a time */
            while (i < n) {
                if (p->hlen >= p->lim.max_header_bytes) {
                    char lim[32];
                    snprintf(lim, sizeof(lim), "%zu", p->lim.max_header_bytes);
                    return mp_fail(p, MP_EHEADERS, "a part's headers exceed %s bytes", lim);
                }
                char c = d[i++];
                p->hbuf[p->hlen++] = c;
                if (c != '\n' || p->hlen < 2 || p->hbuf[p->hlen - 2] != '\r') continue;
                if (p->hlen == 2 || (p->hlen >= 4 && p->hbuf[p->hlen - 3] == '\n' && p->hbuf[p->hlen - 4] == '\r')) {
                    if (mp_headers_done(p) != MP_OK) return p->err;
                    break;
                }
            }
            break;
        }
        default:
            return mp_fail(p, MP_EBAD, "parser state%s", NULL);
        }
    }
    return p->state == ST_ERROR ? p->err : MP_OK;
}

int mp_finish(struct mp_parser *p)
{
    if (p->state == ST_ERROR) return p->err;
    if (p->state == ST_EPILOGUE) return MP_OK;
    if (p->state == ST_PREAMBLE && p->parts == 0)
        return mp_fail(p, MP_ETRUNCATED, "the body has no multipart delimiter line%s", NULL);
    return mp_fail(p, MP_ETRUNCATED, "the body ended before the final boundary%s", NULL);
}

int mp_done(const struct mp_parser *p)
{
    return p->state == ST_EPILOGUE;
}

const char *mp_errmsg(const struct mp_parser *p)
{
    return p->msg[0] ? p->msg : "no error";
}
