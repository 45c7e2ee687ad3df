/* upload_extract.c: the upload's accepted types, content sniffing, and text
 * extraction with real parsers: CSV rows as "column: value" lines, JSON
 * flattened to "path: value" lines (json-c), HTML's visible text (libxml2's
 * HTML parser), PDF text page by page (poppler-glib). Plain text and
 * markdown pass through as they are.
 *
 * Memory: results live in the request arena (plain text points into the
 * upload itself); library objects are freed before returning. */
#include "handlers/upload/upload.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <poppler.h>

#include "common/base/u8.h"

/* ---- types ------------------------------------------------------------------ */

static const struct {
    const char *mime;
    enum up_type t;
} up_mimes[] = {
    {"text/plain", UP_TEXT},
    {"text/markdown", UP_MARKDOWN},
    {"text/x-markdown", UP_MARKDOWN},
    {"text/csv", UP_CSV},
    {"application/csv", UP_CSV},
    {"text/comma-separated-values", UP_CSV},
    {"application/json", UP_JSON},
    {"text/json", UP_JSON},
    {"text/html", UP_HTML},
    {"application/xhtml+xml", UP_HTML},
    {"application/pdf", UP_PDF},
    {"application/x-pdf", UP_PDF},
};

static const struct {
    const char *ext;
    enum up_type t;
} up_exts[] = {
    {"txt", UP_TEXT}, {"text", UP_TEXT}, {"md", UP_MARKDOWN}, {"markdown", UP_MARKDOWN},
    {"csv", UP_CSV},  {"json", UP_JSON}, {"html", UP_HTML},   {"htm", UP_HTML},
    {"pdf", UP_PDF},
};

const char *up_type_mime(enum up_type t)
{
    switch (t) {
    case UP_TEXT: return "text/plain";
    case UP_MARKDOWN: return "text/markdown";
    case UP_CSV: return "text/csv";
    case UP_JSON: return "application/json";
    case UP_HTML: return "text/html";
    case UP_PDF: return "application/pdf";
    default: return "";
    }
}

enum up_type up_declared(const char *ct, const char *filename, int *from_ext)
{
    *from_ext = 0;
    if (ct && *ct) {
        while (*ct == ' ' || *ct == '\t') ct++;
        size_t n = strcspn(ct, "; \t");
        for (size_t i = 0; i < sizeof(up_mimes) / sizeof(up_mimes[0]); i++)
            if (strlen(up_mimes[i].mime) == n && strncasecmp(ct, up_mimes[i].mime, n) == 0) return up_mimes[i].t;
    }
    /* No usable declared type (absent, application/octet-stream, or a type
     * some client maps .csv or .md to): the extension decides. */
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    if (!dot || !dot[1]) return UP_NONE;
    for (size_t i = 0; i < sizeof(up_exts) / sizeof(up_exts[0]); i++) {
        if (strcasecmp(dot + 1, up_exts[i].ext) == 0) {
            *from_ext = 1;
            return up_exts[i].t;
        }
    }
    return UP_NONE;
}

/* ---- sniffing ---------------------------------------------------------------- */

static const struct {
    const char *sig;
    size_t len;
    size_t at;
    const char *name;
} up_magic[] = {
    {"%PDF-", 5, 0, "a PDF document"},
    {"\x89PNG\r\n\x1a\n", 8, 0, "a PNG image"},
    {"\xff\xd8\xff", 3, 0, "a JPEG image"},
    {"GIF87a", 6, 0, "a GIF image"},
    {"GIF89a", 6, 0, "a GIF image"},
    {"RIFF", 4, 0, "a RIFF file (WebP, WAV or AVI)"},
    {"II*\0", 4, 0, "a TIFF image"},
    {"MM\0*", 4, 0, "a TIFF image"},
    {"PK\x03\x04", 4, 0, "a ZIP archive (or an Office document)"},
    {"\x1f\x8b", 2, 0, "a gzip archive"},
    {"7z\xbc\xaf\x27\x1c", 6, 0, "a 7-Zip archive"},
    {"Rar!", 4, 0, "a RAR archive"},
    {"\x7f" "ELF", 4, 0, "an executable"},
    {"%!PS", 4, 0, "a PostScript document"},
    {"ID3", 3, 0, "an MP3 file"},
    {"OggS", 4, 0, "an Ogg file"},
    {"ftyp", 4, 4, "an MP4/HEIC file"},
    {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, 0, "an old Office document"},
};

/* Names the binary format data starts with, or NULL. */
static const char *up_binary_kind(const char *d, size_t n)
{
    for (size_t i = 0; i < sizeof(up_magic) / sizeof(up_magic[0]); i++)
        if (n >= up_magic[i].at + up_magic[i].len && memcmp(d + up_magic[i].at, up_magic[i].sig, up_magic[i].len) == 0)
            return up_magic[i].name;
    return NULL;
}

/* Parses JSON text; NULL with why filled. The whole input must be one value. */
static json_object *up_json_parse(const char *d, size_t n, char *why, size_t whylen)
{
    /* docs/upload.md: 64 levels; json-c counts the value inside the
     * innermost container as one more. */
    json_tokener *tk = json_tokener_new_ex(64 + 1);
    if (!tk) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tk, JSON_TOKENER_STRICT);
    json_object *o = NULL;
    size_t off = 0;
    /* json-c takes an int length: feed in pieces */
    while (off < n) {
        size_t piece = n - off > (1u << 30) ? (1u << 30) : n - off;
        o = json_tokener_parse_ex(tk, d + off, (int)piece);
        enum json_tokener_error e = json_tokener_get_error(tk);
        if (e == json_tokener_continue) {
            off += piece;
            continue;
        }
        if (e != json_tokener_success) {
            snprintf(why, whylen, "it is not valid JSON: %s near byte %zu", json_tokener_error_desc(e),
                     off + json_tokener_get_parse_end(tk));
            o = NULL;
            break;
        }
        size_t end = off + json_tokener_get_parse_end(tk);
        for (; end < n; end++) {
            if (!isspace((unsigned char)d[end])) {
                snprintf(why, whylen, "it is not valid JSON: text after the value at byte %zu", end);
                json_object_put(o);
                o = NULL;
                break;
            }
        }
        break;
    }
    if (!o && off >= n && !why[0]) snprintf(why, whylen, "it is not valid JSON: it ends in the middle of a value");
    json_tokener_free(tk);
    return o;
}

int up_sniff(enum up_type t, const char *d, size_t n, char *why, size_t whylen)
{
    why[0] = '\0';
    if (t == UP_PDF) {
        if (n < 5 || memcmp(d, "%PDF-", 5) != 0) {
            const char *k = up_binary_kind(d, n);
            snprintf(why, whylen, "the file is declared application/pdf but its content is %s",
                     k ? k : "not a PDF (it does not start with %PDF-)");
            return -1;
        }
        return 0;
    }
    const char *k = up_binary_kind(d, n);
    if (k) {
        snprintf(why, whylen, "the file is declared %s but its content is %s", up_type_mime(t), k);
        return -1;
    }
    const char *nul = memchr(d, '\0', n);
    if (nul) {
        snprintf(why, whylen, "the file is declared %s but holds a NUL byte at offset %zu (binary data, or UTF-16 text)",
                 up_type_mime(t), (size_t)(nul - d));
        return -1;
    }
    if (t == UP_JSON) {
        size_t skip = n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        json_object *o = up_json_parse(d + skip, n - skip, why, whylen);
        if (!o) return -1;
        json_object_put(o);
    }
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

/* Appends s[0..n) with line ends turned into spaces (one value per line). */
static int add_oneline(buf_t *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r') j++;
        if (buf_add(b, s + i, j - i) < 0) return -1;
        if (j < n) {
            if (buf_addc(b, ' ') < 0) return -1;
            while (j < n && (s[j] == '\n' || s[j] == '\r')) j++;
        }
        i = j;
    }
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

static int too_big(const buf_t *b, char *why, size_t whylen)
{
    if (b->toobig)
        snprintf(why, whylen, "the extracted text is larger than %zu bytes", b->max);
    else
        snprintf(why, whylen, "out of memory while extracting text");
    return UP_EX_FAIL;
}

/* ---- CSV ----------------------------------------------------------------- */

struct csv {
    const char *d;
    size_t n, i;
    char sep;
    buf_t field;        /* unquoted value of the current field */
};

/* Reads one field into c->field; *eol set when it ended its record.
 * Returns 0, or 1 at the end of input (no field read). */
static int csv_field(struct csv *c, int *eol)
{
    buf_clear(&c->field);
    *eol = 0;
    if (c->i >= c->n) return 1;
    if (c->d[c->i] == '"') {
        c->i++;
        for (;;) {
            const char *q = memchr(c->d + c->i, '"', c->n - c->i);
            if (!q) {   /* unterminated: the rest is the field */
                if (buf_add(&c->field, c->d + c->i, c->n - c->i) < 0) return -1;
                c->i = c->n;
                *eol = 1;
                return 0;
            }
            if (buf_add(&c->field, c->d + c->i, (size_t)(q - (c->d + c->i))) < 0) return -1;
            c->i = (size_t)(q - c->d) + 1;
            if (c->i < c->n && c->d[c->i] == '"') {
                if (buf_addc(&c->field, '"') < 0) return -1;
                c->i++;
                continue;
            }
            break;
        }
        /* after the closing quote: anything up to the separator is kept */
    }
    while (c->i < c->n) {
        char ch = c->d[c->i];
        if (ch == c->sep) {
            c->i++;
            return 0;
        }
        if (ch == '\n' || ch == '\r') {
            c->i++;
            if (ch == '\r' && c->i < c->n && c->d[c->i] == '\n') c->i++;
            *eol = 1;
            return 0;
        }
        if (buf_addc(&c->field, ch) < 0) return -1;
        c->i++;
    }
    *eol = 1;
    return 0;
}

/* The separator: the most frequent of , ; TAB in the first line (outside quotes). */
static char csv_sep(const char *d, size_t n)
{
    size_t cnt[3] = {0, 0, 0};
    int inq = 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (c == '"') inq = !inq;
        else if (!inq && (c == '\n' || c == '\r')) break;
        else if (!inq && c == ',') cnt[0]++;
        else if (!inq && c == ';') cnt[1]++;
        else if (!inq && c == '\t') cnt[2]++;
    }
    if (cnt[1] > cnt[0] && cnt[1] >= cnt[2]) return ';';
    if (cnt[2] > cnt[0] && cnt[2] > cnt[1]) return '\t';
    return ',';
}

static int extract_csv(arena_t *ar, const char *d, size_t n, buf_t *out, char *why, size_t whylen)
{
    struct csv c = {.d = d, .n = n, .sep = csv_sep(d, n)};
    buf_init(&c.field, ar, n + 1);
    /* header row */
    size_t cap = 16, nh = 0;
    char **heads = ar_calloc(ar, cap, sizeof(char *));
    if (!heads) return too_big(out, why, whylen);
    int eol = 0, rc;
    while (!eol && (rc = csv_field(&c, &eol)) == 0) {
        if (nh == cap) {
            char **h2 = ar_calloc(ar, cap * 2, sizeof(char *));
            if (!h2) return too_big(out, why, whylen);
            memcpy(h2, heads, cap * sizeof(char *));
            heads = h2;
            cap *= 2;
        }
        const char *v = c.field.p ? c.field.p : "";
        size_t vl = c.field.len;
        trim(&v, &vl);
        heads[nh] = vl ? ar_strndup(ar, v, vl) : ar_printf(ar, "column %zu", nh + 1);
        if (!heads[nh]) return too_big(out, why, whylen);
        nh++;
    }
    if (rc < 0) return too_big(out, why, whylen);
    size_t rows = 0;
    while (c.i < c.n) {
        size_t col = 0;
        int wrote = 0;
        eol = 0;
        while (!eol && (rc = csv_field(&c, &eol)) == 0) {
            const char *v = c.field.p ? c.field.p : "";
            size_t vl = c.field.len;
            trim(&v, &vl);
            if (vl) {
                int r = col < nh ? buf_adds(out, heads[col]) : buf_printf(out, "column %zu", col + 1);
                if (r < 0 || buf_add(out, ": ", 2) < 0 || add_oneline(out, v, vl) < 0 || buf_addc(out, '\n') < 0)
                    return too_big(out, why, whylen);
                wrote = 1;
            }
            col++;
        }
        if (rc < 0) return too_big(out, why, whylen);
        if (wrote) {
            rows++;
            if (buf_addc(out, '\n') < 0) return too_big(out, why, whylen);   /* a blank line per row */
        }
    }
    if (!rows) {
        snprintf(why, whylen, "the CSV file has no rows with values below its header");
        return UP_EX_NOTEXT;
    }
    return UP_EX_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

static int json_flat(json_object *o, buf_t *path, buf_t *out, int depth)
{
    size_t mark = path->len;
    switch (json_object_get_type(o)) {
    case json_type_object: {
        json_object_object_foreach(o, k, v) {
            if (mark && buf_addc(path, '.') < 0) return -1;
            if (buf_adds(path, k) < 0) return -1;
            if (json_flat(v, path, out, depth + 1) < 0) return -1;
            path->len = mark;
            path->p[mark] = '\0';
        }
        break;
    }
    case json_type_array: {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            if (buf_printf(path, "[%zu]", i) < 0) return -1;
            if (json_flat(json_object_array_get_idx(o, i), path, out, depth + 1) < 0) return -1;
            path->len = mark;
            path->p[mark] = '\0';
            /* a blank line after each element of the top-level array */
            if (depth == 0 && buf_addc(out, '\n') < 0) return -1;
        }
        break;
    }
    case json_type_null:
        break;
    case json_type_string: {
        const char *s = json_object_get_string(o);
        size_t n = (size_t)json_object_get_string_len(o);
        const char *t = s;
        size_t tn = n;
        trim(&t, &tn);
        if (!tn) break;
        if ((path->len && (buf_add(out, path->p, path->len) < 0 || buf_add(out, ": ", 2) < 0)) ||
            add_oneline(out, t, tn) < 0 || buf_addc(out, '\n') < 0)
            return -1;
        break;
    }
    default: {   /* numbers and booleans as written */
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if ((path->len && (buf_add(out, path->p, path->len) < 0 || buf_add(out, ": ", 2) < 0)) ||
            buf_adds(out, s) < 0 || buf_addc(out, '\n') < 0)
            return -1;
        break;
    }
    }
    return 0;
}

static int extract_json(arena_t *ar, const char *d, size_t n, buf_t *out, char *why, size_t whylen)
{
    json_object *o = up_json_parse(d, n, why, whylen);
    if (!o) return UP_EX_FAIL;
    buf_t path;
    buf_init(&path, ar, 1 << 20);
    int rc = json_flat(o, &path, out, 0) < 0 ? -1 : 0;
    json_object_put(o);
    if (rc < 0) {
        if (path.toobig) {
            snprintf(why, whylen, "a JSON path is longer than 1 MiB");
            return UP_EX_FAIL;
        }
        return too_big(out, why, whylen);
    }
    return UP_EX_OK;
}

/* ---- HTML -------------------------------------------------------------------- */

enum { HB_NONE, HB_LINE, HB_PARA };

struct html_out {
    buf_t *b;
    int space;      /* a space is pending before the next word */
    int breaks;     /* newlines pending: 0, 1 or 2 */
    int pre;        /* inside <pre>/<textarea>: whitespace kept */
    int failed;
};

static int html_is(const xmlNode *n, const char *const *names)
{
    for (; *names; names++)
        if (xmlStrcasecmp(n->name, (const xmlChar *)*names) == 0) return 1;
    return 0;
}

static const char *const html_skip[] = {"script", "style", "noscript", "template", "svg", "math", "iframe",
                                        "object", "embed", "canvas", "audio", "video", "select", "button",
                                        "head", NULL};
static const char *const html_para[] = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table",
                                        "section", "article", "blockquote", "pre", "hr", "header", "footer",
                                        "nav", "aside", "main", "figure", "form", "fieldset", "body", NULL};
static const char *const html_line[] = {"div", "li", "tr", "dt", "dd", "br", "caption", "figcaption",
                                        "address", "details", "summary", "legend", "thead", "tbody",
                                        "tfoot", "title", "option", "label", NULL};
static const char *const html_cell[] = {"td", "th", NULL};

static void ho_break(struct html_out *o, int kind)
{
    if (o->b->len == 0) return;   /* nothing before: no leading breaks */
    if (kind > o->breaks) o->breaks = kind;
    o->space = 0;
}

static void ho_flush(struct html_out *o)
{
    if (o->breaks && o->b->len) {
        if (buf_add(o->b, "\n\n", (size_t)o->breaks) < 0) o->failed = 1;
    } else if (o->space && o->b->len) {
        if (buf_addc(o->b, ' ') < 0) o->failed = 1;
    }
    o->breaks = 0;
    o->space = 0;
}

static void ho_text(struct html_out *o, const char *s, size_t n)
{
    if (o->pre) {
        if (!n) return;
        ho_flush(o);
        if (buf_add(o->b, s, n) < 0) o->failed = 1;
        return;
    }
    size_t i = 0;
    while (i < n) {
        if (isspace((unsigned char)s[i])) {
            o->space = 1;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !isspace((unsigned char)s[j])) j++;
        ho_flush(o);
        if (buf_add(o->b, s + i, j - i) < 0) o->failed = 1;
        i = j;
    }
}

static int html_hidden(const xmlNode *n)
{
    if (xmlHasProp((xmlNode *)n, (const xmlChar *)"hidden")) return 1;
    xmlChar *st = xmlGetProp((xmlNode *)n, (const xmlChar *)"style");
    int hidden = 0;
    if (st) {
        char compact[256];
        size_t k = 0;
        for (const xmlChar *p = st; *p && k + 1 < sizeof(compact); p++)
            if (!isspace(*p)) compact[k++] = (char)tolower(*p);
        compact[k] = '\0';
        hidden = strstr(compact, "display:none") != NULL || strstr(compact, "visibility:hidden") != NULL;
        xmlFree(st);
    }
    return hidden;
}

static int html_is_pre(const xmlNode *n)
{
    return xmlStrcasecmp(n->name, (const xmlChar *)"pre") == 0 ||
           xmlStrcasecmp(n->name, (const xmlChar *)"textarea") == 0;
}

/* Visits n; returns 1 when its children are to be visited (and html_leave
 * called for it afterwards). */
static int html_enter(xmlNode *n, struct html_out *o)
{
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
        ho_text(o, (const char *)n->content, strlen((const char *)n->content));
        return 0;
    }
    if (n->type != XML_ELEMENT_NODE) return 0;
    if (xmlStrcasecmp(n->name, (const xmlChar *)"head") == 0) {
        /* of the head, only the title is shown (in the browser's tab) */
        for (xmlNode *h = n->children; h; h = h->next) {
            if (h->type != XML_ELEMENT_NODE || xmlStrcasecmp(h->name, (const xmlChar *)"title") != 0) continue;
            xmlChar *t = xmlNodeGetContent(h);
            if (t) {
                ho_text(o, (const char *)t, strlen((const char *)t));
                xmlFree(t);
                ho_break(o, HB_PARA);
            }
        }
        return 0;
    }
    if (html_is(n, html_skip) || html_hidden(n)) return 0;
    if (html_is(n, html_para)) ho_break(o, HB_PARA);
    else if (html_is(n, html_line)) ho_break(o, HB_LINE);
    else if (html_is(n, html_cell) && n->prev) {
        ho_flush(o);
        if (o->b->len && buf_add(o->b, " | ", 3) < 0) o->failed = 1;
    }
    if (html_is_pre(n)) o->pre++;
    return 1;
}

static void html_leave(xmlNode *n, struct html_out *o)
{
    if (n->type != XML_ELEMENT_NODE) return;
    if (html_is(n, html_para)) ho_break(o, HB_PARA);
    else if (html_is(n, html_line)) ho_break(o, HB_LINE);
    if (html_is_pre(n)) o->pre--;
}

/* Walks root's subtree in document order without recursion (hostile
 * nesting depth costs no stack). */
static void html_walk(xmlNode *root, struct html_out *o)
{
    xmlNode *n = root;
    while (!o->failed) {
        int descend = html_enter(n, o);
        if (descend && n->children) {
            n = n->children;
            continue;
        }
        if (descend) html_leave(n, o);
        while (n != root && !n->next) {
            n = n->parent;
            html_leave(n, o);
        }
        if (n == root) break;
        n = n->next;
    }
}

static int extract_html(const char *d, size_t n, buf_t *out, char *why, size_t whylen)
{
    if (n > (size_t)1 << 30) {
        snprintf(why, whylen, "the HTML file is too large to parse");
        return UP_EX_FAIL;
    }
    /* XML_PARSE_HUGE: without it libxml2 stops at 256 levels of nesting and
     * drops everything below and after, which a recovering parse reports as
     * success. Recoverable errors (unknown or misnested tags) are the HTML
     * of the web and are repaired; a fatal one means text was lost, so the
     * upload is refused rather than stored in part. Memory and time are
     * bounded by the process extraction runs in (up_extract_bounded). */
    htmlParserCtxtPtr ctx = htmlNewParserCtxt();
    if (!ctx) {
        snprintf(why, whylen, "out of memory");
        return UP_EX_FAIL;
    }
    htmlDocPtr doc = htmlCtxtReadMemory(ctx, d, (int)n, NULL, "UTF-8",
                                        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                            HTML_PARSE_NONET | HTML_PARSE_COMPACT | XML_PARSE_HUGE);
    int fatal = ctx->lastError.level == XML_ERR_FATAL || ctx->errNo == XML_ERR_NO_MEMORY;
    if (ctx->errNo == XML_ERR_NO_MEMORY)
        snprintf(why, whylen, "parsing the HTML needed more memory than it may use");
    else if (fatal)
        snprintf(why, whylen, "the HTML could not be parsed to its end (libxml2 error %d at line %d)",
                 ctx->lastError.code, ctx->lastError.line);
    htmlFreeParserCtxt(ctx);
    if (!doc || fatal) {
        if (doc) xmlFreeDoc(doc);
        if (!fatal) snprintf(why, whylen, "the HTML could not be parsed");
        return UP_EX_FAIL;
    }
    struct html_out o = {.b = out};
    for (xmlNode *t = doc->children; t && !o.failed; t = t->next)
        if (t->type == XML_ELEMENT_NODE) html_walk(t, &o);
    xmlFreeDoc(doc);
    if (o.failed) return too_big(out, why, whylen);
    return UP_EX_OK;
}

/* ---- PDF --------------------------------------------------------------------- */

static int extract_pdf(arena_t *ar, const char *d, size_t n, size_t max_text, struct up_text *t, buf_t *out,
                       char *why, size_t whylen, int (*cancel)(void *), void *arg)
{
    int rc = UP_EX_FAIL;
    GError *gerr = NULL;
    GBytes *bytes = g_bytes_new_static(d, n);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (!doc) {
        if (gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED)
            snprintf(why, whylen, "the PDF is password-protected; upload an unprotected copy");
        else
            snprintf(why, whylen, "the PDF could not be read: %s", gerr ? gerr->message : "unknown error");
        goto out;
    }
    int np = poppler_document_get_n_pages(doc);
    if (np <= 0) {
        snprintf(why, whylen, "the PDF has no pages");
        rc = UP_EX_NOTEXT;
        goto out;
    }
    t->pages = ar_calloc(ar, (size_t)np, sizeof(size_t));
    if (!t->pages) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    t->npages = np;
    for (int i = 0; i < np; i++) {
        if (cancel && cancel(arg)) {
            snprintf(why, whylen, "stopped");
            goto out;
        }
        if (i && buf_add(out, "\n\n", 2) < 0) {
            rc = too_big(out, why, whylen);
            goto out;
        }
        t->pages[i] = out->len;
        PopplerPage *pg = poppler_document_get_page(doc, i);
        if (!pg) continue;
        char *txt = poppler_page_get_text(pg);
        g_object_unref(pg);
        if (!txt) continue;
        size_t tl = strlen(txt);
        if (out->len + tl > max_text) {
            g_free(txt);
            snprintf(why, whylen, "the extracted text is larger than %zu bytes", max_text);
            goto out;
        }
        /* Poppler's text is UTF-8; anything else in it is repaired, not
         * blamed on the upload. */
        const char *s = txt;
        size_t sl = tl;
        if (!u8_valid(txt, tl, NULL)) s = u8_repair(ar, txt, tl, &sl);
        int ok = s && buf_add(out, s, sl) == 0;
        g_free(txt);
        if (!ok) {
            rc = too_big(out, why, whylen);
            goto out;
        }
    }
    if (all_space(out->p ? out->p : "", out->len)) {
        snprintf(why, whylen,
                 "the PDF has %d page%s but no text layer (a scanned document?); run OCR on it "
                 "(for example with ocrmypdf) and upload the result",
                 np, np == 1 ? "" : "s");
        rc = UP_EX_NOTEXT;
        goto out;
    }
    rc = UP_EX_OK;
out:
    if (doc) g_object_unref(doc);
    if (gerr) g_error_free(gerr);
    g_bytes_unref(bytes);
    return rc;
}

/* ---- entry ------------------------------------------------------------------- */

int up_extract(arena_t *ar, enum up_type t, const char *d, size_t n, size_t max_text, struct up_text *out,
               size_t *bad, char *why, size_t whylen, int (*cancel)(void *), void *arg)
{
    memset(out, 0, sizeof(*out));
    why[0] = '\0';
    if (t != UP_PDF) {
        if (!u8_valid(d, n, bad)) {
            snprintf(why, whylen, "the file is not valid UTF-8: invalid byte at offset %zu", *bad);
            return UP_EX_UTF8;
        }
        if (n >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) d += 3, n -= 3;   /* byte order mark */
    }
    if (t == UP_TEXT || t == UP_MARKDOWN) {
        if (n > max_text) {
            snprintf(why, whylen, "the text is larger than %zu bytes", max_text);
            return UP_EX_FAIL;
        }
        if (all_space(d, n)) {
            snprintf(why, whylen, "the file holds no text (only white space)");
            return UP_EX_NOTEXT;
        }
        out->s = d;   /* as it is: NUL-terminated by the upload buffer */
        out->n = n;
        return UP_EX_OK;
    }
    buf_t b;
    buf_init(&b, ar, max_text);
    int rc;
    switch (t) {
    case UP_CSV: rc = extract_csv(ar, d, n, &b, why, whylen); break;
    case UP_JSON: rc = extract_json(ar, d, n, &b, why, whylen); break;
    case UP_HTML: rc = extract_html(d, n, &b, why, whylen); break;
    case UP_PDF: rc = extract_pdf(ar, d, n, max_text, out, &b, why, whylen, cancel, arg); break;
    default:
        snprintf(why, whylen, "unsupported type");
        return UP_EX_FAIL;
    }
    if (rc != UP_EX_OK) return rc;
    if (!b.p || all_space(b.p, b.len)) {
        snprintf(why, whylen, "the file holds no text once its %s markup is removed", up_type_mime(t));
        return UP_EX_NOTEXT;
    }
    /* json-c turns \u escapes into UTF-8 and lone surrogates into bytes
     * that are not: repair rather than refuse. */
    if (!u8_valid(b.p, b.len, NULL)) {
        size_t rl;
        char *r = u8_repair(ar, b.p, b.len, &rl);
        if (!r) return too_big(&b, why, whylen);
        out->s = r;
        out->n = rl;
    } else {
        out->s = b.p;
        out->n = b.len;
    }
    return UP_EX_OK;
}
