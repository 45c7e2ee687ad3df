/* upload.c: POST /api/context/upload-file/stream and /api/context/upload-file.
 *
 * Before the stream opens (plain HTTP errors): the API key (401), the
 * multipart body read from FastCGI through the streaming parser with its
 * limits (400, 413 — before reading when Content-Length is over), the
 * fields, the declared type and content sniffing (415). Then the steps,
 * each reported with `progress`: upload_validation (UTF-8, duplicate by
 * sha256), extraction, chunking, token_counting, embedding, storing; and
 * `complete`. A failure after the stream opened is an `error` event and
 * leaves no rows and the previous index (upload_store.c).
 *
 * Memory: the file is held once, in the request arena (pre-sized from
 * Content-Length); plain text is chunked in place; vectors live in the
 * arena. Nothing of the upload, nor the API key, is logged. */
#include "handlers/upload/upload.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <glib.h>
#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/io/mp.h"
#include "common/text/tok.h"
#include "common/base/u8.h"
#include "common/store/access.h"
#include "common/store/context.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "index/embed.h"

/* What the multipart envelope (part headers, boundaries, chatbotId and
 * title) may add to the body on top of max_upload. */
#define UP_ENVELOPE (256 * 1024)
#define UP_READ_CHUNK (64 * 1024)
#define UP_FIELD_MAX 1024
#define UP_TITLE_CHARS 255

/* ---- auth ----------------------------------------------------------------- */

int up_key_ok(const char *keys, const char *presented, size_t n)
{
    return hx_key_listed(keys, presented, n);
}

/* ---- the multipart body ------------------------------------------------------ */

struct form {
    buf_t file;
    buf_t chatbot;
    buf_t title;
    buf_t *cur;            /* where the current part's data goes; NULL: dropped */
    int have_file, in_file, have_chatbot, have_title;
    char filename[256];
    char ctype[128];
    GChecksum *sha;
    /* the first problem found, answered once parsing stops */
    int status;
    const char *code;
    const char *field;
    char msg[256];
};

static int form_fail(struct form *f, int status, const char *code, const char *field, const char *msg)
{
    if (!f->status) {
        f->status = status;
        f->code = code;
        f->field = field;
        snprintf(f->msg, sizeof(f->msg), "%s", msg);
    }
    return -1;
}

static int on_begin(void *ud, const struct mp_part *p)
{
    struct form *f = ud;
    f->in_file = 0;
    f->cur = NULL;
    if (!strcmp(p->name, "file")) {
        if (f->have_file)
            return form_fail(f, 400, "INVALID_PARAMETERS", "file", "Send exactly one part named \"file\"");
        f->have_file = f->in_file = 1;
        f->cur = &f->file;
        snprintf(f->filename, sizeof(f->filename), "%s", p->filename ? p->filename : "");
        snprintf(f->ctype, sizeof(f->ctype), "%s", p->content_type ? p->content_type : "");
    } else if (!strcmp(p->name, "chatbotId")) {
        if (f->have_chatbot++)
            return form_fail(f, 400, "INVALID_PARAMETERS", "chatbotId", "chatbotId is given twice");
        f->cur = &f->chatbot;
    } else if (!strcmp(p->name, "title")) {
        if (f->have_title++) return form_fail(f, 400, "INVALID_PARAMETERS", "title", "title is given twice");
        f->cur = &f->title;
    }
    return 0;
}

static int on_data(void *ud, const char *d, size_t n)
{
    struct form *f = ud;
    if (!f->cur) return 0;
    if (buf_add(f->cur, d, n) < 0) {
        if (f->in_file) {
            char m[128];
            snprintf(m, sizeof(m), "The file is larger than the %zu-byte upload limit", f->file.max);
            return form_fail(f, 413, "PAYLOAD_TOO_LARGE", "file", m);
        }
        return form_fail(f, 400, "INVALID_PARAMETERS", f->cur == &f->chatbot ? "chatbotId" : "title",
                         f->cur == &f->chatbot ? "chatbotId is too long" : "title is too long");
    }
    if (f->in_file) g_checksum_update(f->sha, (const guchar *)d, (gssize)n);
    return 0;
}

static int on_end(void *ud)
{
    struct form *f = ud;
    f->in_file = 0;
    f->cur = NULL;
    return 0;
}

static const struct mp_callbacks up_mp_cb = {on_begin, on_data, on_end};

static void free_checksum(void *p)
{
    g_checksum_free(p);
}

static int reject(struct ctx *c, int status, const char *code, const char *field, const char *msg)
{
    json_object *extra = NULL;
    if (field) {
        extra = json_object_new_object();
        json_object_object_add(extra, "field", json_object_new_string(field));
    }
    if (status == 401) sink_header(c->sink, "WWW-Authenticate", "Bearer realm=\"troika-upload\"");
    LOG_INFO(c->route->name, c->req->id, NULL, "Upload refused: %d %s: %s", status, code, msg);
    sink_reject(c->sink, status, code, msg, extra);
    return 0;
}

/* The body's type and declared length, before a byte is read: 0, or -1
 * after answering. bd gets the boundary. */
static int form_check(struct ctx *c, size_t body_cap, char *bd)
{
    const struct cfg *cfg = &c->app->cfg;
    struct req *r = c->req;
    int b = mp_boundary(r->content_type, bd);
    if (b == -1)
        return reject(c, 415, "UNSUPPORTED_MEDIA_TYPE", NULL, "The body must be multipart/form-data"), -1;
    if (b < 0)
        return reject(c, 400, "INVALID_PARAMETERS", NULL,
                      "The multipart/form-data Content-Type has no valid boundary parameter"), -1;
    if (r->content_length == -2)
        return reject(c, 400, "INVALID_PARAMETERS", NULL, "Content-Length is not a number"), -1;
    if (r->content_length > (long long)body_cap) {
        char m[160];
        snprintf(m, sizeof(m), "The upload is larger than the %ld-byte limit (Content-Length %lld)",
                 cfg->max_upload, r->content_length);
        return reject(c, 413, "PAYLOAD_TOO_LARGE", NULL, m), -1;
    }
    return 0;
}

/* The form's buffers: the file's pre-sized from Content-Length (never
 * copied to grow), the fields', the running SHA-256. 0, or -1 after
 * answering. */
static int form_init(struct ctx *c, struct form *f, size_t max_file)
{
    struct req *r = c->req;
    memset(f, 0, sizeof(*f));
    buf_init(&f->file, c->ar, max_file);
    if (r->content_length > 0) {
        size_t cap = (size_t)r->content_length < max_file ? (size_t)r->content_length : max_file;
        f->file.p = ar_alloc(c->ar, cap + 1);
        if (!f->file.p) return reject(c, 413, "PAYLOAD_TOO_LARGE", NULL, "Out of memory for the upload"), -1;
        f->file.cap = cap + 1;
        f->file.p[0] = '\0';
    }
    buf_init(&f->chatbot, c->ar, UP_FIELD_MAX);
    buf_init(&f->title, c->ar, UP_FIELD_MAX);
    f->sha = g_checksum_new(G_CHECKSUM_SHA256);
    if (!f->sha || ar_defer(c->ar, free_checksum, f->sha) < 0)
        return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory"), -1;
    return 0;
}

/* Reads and parses the body. 0 when the form is complete, else -1 after
 * answering (or when the client went away). */
static int read_form(struct ctx *c, struct form *f)
{
    const struct cfg *cfg = &c->app->cfg;
    struct req *r = c->req;
    size_t max_file = (size_t)cfg->max_upload;
    size_t body_cap = max_file + UP_ENVELOPE;
    char bd[MP_BOUNDARY_MAX + 1];
    if (form_check(c, body_cap, bd) < 0 || form_init(c, f, max_file) < 0) return -1;

    struct mp_parser mp;
    struct mp_limits lim = {(unsigned)cfg->max_multipart_parts, (size_t)cfg->max_part_headers};
    if (mp_init(&mp, c->ar, bd, &lim, &up_mp_cb, f) != MP_OK)
        return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory"), -1;

    char *chunk = ar_alloc(c->ar, UP_READ_CHUNK);
    if (!chunk) return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory"), -1;
    size_t got = 0;
    int rc = MP_OK;
    size_t want = r->content_length >= 0 ? (size_t)r->content_length : body_cap + 1;
    /* The body arrives as the client sends it (the web server passes it on
     * unbuffered, for progress): upload_timeout_ms bounds the whole read. */
    int64_t deadline = clk_mono_ms() + cfg->upload_timeout_ms;
    int n = 0;
    while (got < want && r->fx) {
        size_t room = want - got < UP_READ_CHUNK ? want - got : UP_READ_CHUNK;
        n = req_read(r, chunk, room, deadline);
        if (n <= 0) break;
        got += (size_t)n;
        if (got > body_cap) {
            req_read_done(r);
            char m[128];
            snprintf(m, sizeof(m), "The upload is larger than the %ld-byte limit", cfg->max_upload);
            return reject(c, 413, "PAYLOAD_TOO_LARGE", NULL, m), -1;
        }
        if (rc == MP_OK) rc = mp_feed(&mp, chunk, (size_t)n);
        if (rc != MP_OK) break;
    }
    req_read_done(r);
    if (n == REQ_ETIMEOUT) {
        char m[160];
        snprintf(m, sizeof(m), "The upload did not arrive within %d ms (%zu bytes received)", cfg->upload_timeout_ms,
                 got);
        return reject(c, 408, "REQUEST_TIMEOUT", NULL, m), -1;
    }
    if (rc == MP_OK && r->content_length >= 0 && got < (size_t)r->content_length) {
        LOG_INFO(c->route->name, r->id, NULL, "Upload body ended early (%zu of %lld bytes): client gone", got,
                 r->content_length);
        return reject(c, 400, "INVALID_PARAMETERS", NULL, "The request body ended before Content-Length"), -1;
    }
    if (rc == MP_OK) rc = mp_finish(&mp);
    if (f->status) return reject(c, f->status, f->code, f->field, f->msg), -1;
    if (rc == MP_ETOOMANY || rc == MP_EHEADERS) {
        char m[200];
        snprintf(m, sizeof(m), "The multipart body is over a limit: %s", mp_errmsg(&mp));
        return reject(c, 413, "PAYLOAD_TOO_LARGE", NULL, m), -1;
    }
    if (rc != MP_OK) {
        char m[200];
        snprintf(m, sizeof(m), "The multipart body is malformed: %s", mp_errmsg(&mp));
        return reject(c, 400, "INVALID_PARAMETERS", NULL, m), -1;
    }
    return 0;
}

/* ---- the request before the stream ------------------------------------------ */

/* One upload: what the request holds, then what each step made. */
struct up {
    struct ctx *c;
    const struct cfg *cfg;
    struct sink *s;
    const char *rn;
    struct form f;
    const char *chatbot, *title, *mime;
    enum up_type type;
    int from_ext;          /* the type came from the file name */
    char sha[65];
    int last_pct;
    const char *step;
    size_t text_len;       /* for the chunking step's percent */
    struct up_text text;
    struct tok *tk;
    struct up_chunking ch;
    struct embedder *e;
    float *vecs;
    long long file_id;
    struct hx_key key;     /* the key that asked */
    char err[512], msg[256];
};

/* Returned by a step that ended the stream itself (an error or the
 * duplicate's `complete` event sent): the handler returns 0. */
enum { UP_DONE = 1 };

/* Before the body is read: a key that may upload to some chatbot (401,
 * 403); which chatbot it names is checked once chatbotId is read. */
static int up_authorize(struct up *u)
{
    return hx_authenticate(u->c, ACC_UPLOAD, &u->key);
}

static size_t u8_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

/* chatbotId, title (the file name when absent) and the file's name. */
static int up_fields(struct up *u)
{
    struct form *f = &u->f;
    struct ctx *c = u->c;
    if (!f->have_file) return reject(c, 400, "INVALID_PARAMETERS", "file", "A part named \"file\" is required"), -1;
    /* A field is bytes: one with a NUL in it would be read only up to the
     * NUL (and stored under that name), so it is refused whole. */
    if (f->chatbot.len && memchr(f->chatbot.p, '\0', f->chatbot.len))
        return reject(c, 400, "INVALID_PARAMETERS", "chatbotId", "chatbotId must not contain a NUL byte"), -1;
    if (f->title.len && memchr(f->title.p, '\0', f->title.len))
        return reject(c, 400, "INVALID_PARAMETERS", "title", "title must not contain a NUL byte"), -1;
    u->chatbot = f->chatbot.p ? f->chatbot.p : "";
    if (!*u->chatbot) return reject(c, 400, "INVALID_PARAMETERS", "chatbotId", "chatbotId is required"), -1;
    if (!cx_chatbot_id_ok(u->chatbot))
        return reject(c, 400, "INVALID_PARAMETERS", "chatbotId",
                      "chatbotId must be 1-64 characters of A-Z, a-z, 0-9, _ and -"), -1;
    hx_cors_chatbot(c, u->chatbot);
    if (hx_permit(c, &u->key, ACC_UPLOAD, u->chatbot) < 0) return -1;
    const char *title = f->title.p ? f->title.p : "";
    while (*title == ' ' || *title == '\t') title++;
    if (!u8_valid(title, strlen(title), NULL) || memchr(title, '\n', strlen(title)))
        return reject(c, 400, "INVALID_PARAMETERS", "title", "title must be one line of UTF-8 text"), -1;
    if (u8_count(title, strlen(title)) > UP_TITLE_CHARS)
        return reject(c, 400, "INVALID_PARAMETERS", "title", "title is longer than 255 characters"), -1;
    if (!*title) title = f->filename[0] ? f->filename : "Untitled";
    if (!u8_valid(f->filename, strlen(f->filename), NULL)) snprintf(f->filename, sizeof(f->filename), "upload");
    if (!*title || !u8_valid(title, strlen(title), NULL)) title = "Untitled";
    u->title = title;
    if (f->file.len == 0) return reject(c, 400, "INVALID_PARAMETERS", "file", "The file is empty"), -1;
    return 0;
}

/* The declared type, checked against the content. */
static int up_type_check(struct up *u)
{
    struct form *f = &u->f;
    u->type = up_declared(f->ctype, f->filename, &u->from_ext);
    if (u->type == UP_NONE) {
        char m[256];
        snprintf(m, sizeof(m),
                 "Accepted types are text/plain, text/markdown, text/csv, application/json, text/html and "
                 "application/pdf; the file is declared '%.80s'", f->ctype[0] ? f->ctype : "(no type)");
        return reject(u->c, 415, "UNSUPPORTED_MEDIA_TYPE", "file", m), -1;
    }
    char why[512];
    if (up_sniff(u->type, f->file.p, f->file.len, why, sizeof(why)) < 0) {
        why[0] = (char)toupper((unsigned char)why[0]);
        return reject(u->c, 415, "UNSUPPORTED_MEDIA_TYPE", "file", why), -1;
    }
    u->mime = up_type_mime(u->type);
    snprintf(u->sha, sizeof(u->sha), "%s", g_checksum_get_string(f->sha));
    return 0;
}

/* ---- the stream --------------------------------------------------------------- */

/* An error event; UP_DONE (close follows). */
static int fail(struct up *u, const char *code, const char *msg)
{
    sink_error(u->s, code, msg);
    return UP_DONE;
}

static int progress(struct up *u, const char *step, const char *msg, long count, int pct)
{
    u->step = step;
    u->last_pct = pct;
    return sink_progress(u->s, step, msg, count, pct);
}

/* Called about every MiB of text while chunking. */
static int chunk_progress(void *arg, size_t done)
{
    struct up *u = arg;
    int pct = u->text_len ? (int)(done * 100 / u->text_len) : 0;
    if (done == 0 || pct / 10 == u->last_pct / 10) return sink_check(u->s);
    char msg[96];
    snprintf(msg, sizeof(msg), "Chunked %zu of %zu bytes", done, u->text_len);
    return progress(u, "chunking", msg, -1, pct);
}

static int store_progress(void *arg, const char *msg, int pct)
{
    struct up *u = arg;
    return progress(u, "storing", msg, -1, pct);
}

/* The upload_fault test hook (a key of --enable-test-hooks builds only;
 * "" otherwise): PROCESSING_ERROR at the start of `step`. */
static int fault(struct up *u, const char *step)
{
    if (strcmp(u->cfg->upload_fault, step) != 0) return 0;
    char m[128];
    snprintf(m, sizeof(m), "Injected fault in step %s (upload_fault)", step);
    return fail(u, "PROCESSING_ERROR", m);
}

static json_object *complete_doc(struct up *u, long long file_id, long chunks, long tokens, const char *tokenizer,
                                 int pages, int duplicate)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "fileId", json_object_new_int64(file_id));
    json_object_object_add(o, "chatbotId", json_object_new_string(u->chatbot));
    json_object_object_add(o, "title", json_object_new_string(u->title));
    json_object_object_add(o, "mime", json_object_new_string(u->mime));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)u->f.file.len));
    json_object_object_add(o, "sha256", json_object_new_string(u->sha));
    json_object_object_add(o, "chunks", json_object_new_int64(chunks));
    json_object_object_add(o, "tokens", json_object_new_int64(tokens));
    json_object_object_add(o, "tokenizer", json_object_new_string(tokenizer));
    json_object_object_add(o, "pages", pages > 0 ? json_object_new_int(pages) : NULL);
    json_object_object_add(o, "duplicate", json_object_new_boolean(duplicate));
    json_object_object_add(o, "duration", json_object_new_int64(hx_elapsed(u->c)));
    return o;
}

/* `complete` for content the chatbot already holds. */
static int up_duplicate(struct up *u, const struct cx_file *ex, const char *how)
{
    LOG_INFO(u->rn, u->c->req->id, NULL, "Upload complete: duplicate of file %lld%s", ex->id, how);
    int rc = sink_emit(u->s, "complete", complete_doc(u, ex->id, ex->chunks, ex->tokens, ex->tokenizer, ex->pages, 1));
    return rc ? rc : UP_DONE;
}

/* `connected`; STREAMING_TIMEOUT bounds the processing from here on, not
 * the time the client took to send the file. */
static int up_open_stream(struct up *u)
{
    u->s->deadline_ms = clk_mono_ms() + u->cfg->streaming_timeout;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "chatbotId", json_object_new_string(u->chatbot));
    json_object_object_add(j, "title", json_object_new_string(u->title));
    json_object_object_add(j, "filename", json_object_new_string(u->f.filename));
    json_object_object_add(j, "mime", json_object_new_string(u->mime));
    json_object_object_add(j, "bytes", json_object_new_int64((int64_t)u->f.file.len));
    json_object *lg = json_object_new_object();
    json_object_object_add(lg, "chatbotId", json_object_new_string(u->chatbot));
    json_object_object_add(lg, "mime", json_object_new_string(u->mime));
    json_object_object_add(lg, "bytes", json_object_new_int64((int64_t)u->f.file.len));
    LOG_INFO(u->rn, u->c->req->id, lg, "Upload started");
    json_object_put(lg);
    return hx_connected(u->c, j);
}

/* upload_validation: what was checked before the stream, then UTF-8 and
 * the duplicate check. */
static int step_validation(struct up *u)
{
    int rc;
    size_t len = u->f.file.len;
    snprintf(u->msg, sizeof(u->msg), "Validating %s (%zu bytes, type from the %s)", u->mime, len,
             u->from_ext ? "file name" : "part's Content-Type");
    if ((rc = progress(u, "upload_validation", u->msg, -1, 0))) return rc;
    size_t bad;
    if (u->type != UP_PDF && !u8_valid(u->f.file.p, len, &bad)) {
        snprintf(u->msg, sizeof(u->msg), "The file is not valid UTF-8: invalid byte at offset %zu", bad);
        return fail(u, "INVALID_UTF8", u->msg);
    }
    struct cx_file ex;
    int found = cx_find_file(u->c->app->store, u->c->ar, u->chatbot, u->sha, &ex, u->err, sizeof(u->err));
    if (found < 0) return hx_db_fail(u->c, "Upload", found, "duplicate check", u->err), UP_DONE;
    if (found) {
        snprintf(u->msg, sizeof(u->msg), "The same content is already stored for this chatbot as file %lld", ex.id);
        if ((rc = progress(u, "upload_validation", u->msg, -1, 100))) return rc;
        return up_duplicate(u, &ex, "");
    }
    snprintf(u->msg, sizeof(u->msg), "Validated %s, %zu bytes", u->mime, len);
    return progress(u, "upload_validation", u->msg, (long)len, 100);
}

static int step_extraction(struct up *u)
{
    int rc;
    if ((rc = fault(u, "extraction"))) return rc;
    snprintf(u->msg, sizeof(u->msg), "Extracting text from %s", u->mime);
    if ((rc = progress(u, "extraction", u->msg, -1, 0))) return rc;
    char why[512];
    size_t bad = 0, max_text = (size_t)u->cfg->max_upload * 4;
    /* PDF and HTML in a child the limits can stop (upload_child.c) */
    struct up_bounds bounds = {u->cfg->extract_timeout_ms, u->cfg->extract_memory};
    int ex_rc = up_extract_bounded(u->c->ar, u->type, u->f.file.p, u->f.file.len, max_text, &bounds, &u->text,
                                   &bad, why, sizeof(why), sink_cancelled, u->s);
    if ((rc = sink_check(u->s))) return rc;
    if (ex_rc != UP_EX_OK) {
        why[0] = (char)toupper((unsigned char)why[0]);
        return fail(u, ex_rc == UP_EX_UTF8     ? "INVALID_UTF8"
                       : ex_rc == UP_EX_NOTEXT ? "NO_EXTRACTABLE_TEXT"
                                               : "PROCESSING_ERROR",
                    why);
    }
    size_t chars = u8_count(u->text.s, u->text.n);
    if (u->text.npages)
        snprintf(u->msg, sizeof(u->msg), "Extracted %zu characters from %d page%s", chars, u->text.npages,
                 u->text.npages == 1 ? "" : "s");
    else
        snprintf(u->msg, sizeof(u->msg), "Extracted %zu characters", chars);
    return progress(u, "extraction", u->msg, (long)chars, 100);
}

static int step_chunking(struct up *u)
{
    int rc;
    if ((rc = fault(u, "chunking"))) return rc;
    u->tk = hx_tokenizer(u->c);
    if (!u->tk) return fail(u, "PROCESSING_ERROR", "The tokenizer could not be set up");
    snprintf(u->msg, sizeof(u->msg), "Cutting into chunks of up to %d tokens (overlap %d, %s)", u->cfg->chunk_tokens,
             u->cfg->chunk_overlap, tok_name(u->tk));
    if ((rc = progress(u, "chunking", u->msg, -1, 0))) return rc;
    u->text_len = u->text.n;
    int crc = up_chunk(u->tk, u->c->ar, &u->text, u->cfg->chunk_tokens, u->cfg->chunk_overlap, &u->ch,
                       chunk_progress, u);
    if (crc == -1) return fail(u, "PROCESSING_ERROR", "Chunking failed (out of memory)");
    if (crc) return crc;   /* the stream ended (client gone, deadline) */
    if (u->ch.n == 0) return fail(u, "NO_EXTRACTABLE_TEXT", "The file holds no text to store");
    snprintf(u->msg, sizeof(u->msg), "Created %zu chunk%s", u->ch.n, u->ch.n == 1 ? "" : "s");
    return progress(u, "chunking", u->msg, (long)u->ch.n, 100);
}

static int step_token_counting(struct up *u)
{
    int rc;
    if ((rc = fault(u, "token_counting"))) return rc;
    if (up_chunk_recount(u->tk, &u->text, &u->ch) < 0) return fail(u, "PROCESSING_ERROR", "Token counting failed");
    snprintf(u->msg, sizeof(u->msg), "Counted %zu tokens with %s", u->ch.total_tokens, tok_name(u->tk));
    return progress(u, "token_counting", u->msg, (long)u->ch.total_tokens, 100);
}

/* Embeds chunks [at, at + k) into u->vecs, through scratch (room for
 * them, NUL-terminated). 0, or the embedder's failure as an error event. */
static int embed_batch(struct up *u, size_t at, size_t k, const char **texts, char *scratch)
{
    struct embedder *e = u->e;
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        const struct up_chunk *cc = &u->ch.chunks[at + i];
        memcpy(scratch + o, u->text.s + cc->off, cc->len);
        scratch[o + cc->len] = '\0';
        texts[i] = scratch + o;
        o += cc->len + 1;
    }
    int timeout = 0, rc;
    if (e->embed(e, texts, k, u->vecs + at * (size_t)e->dim, &timeout, u->err, sizeof(u->err)) == 0) return 0;
    if ((rc = sink_check(u->s))) return rc;
    return fail(u, timeout                                           ? "UPSTREAM_TIMEOUT"
                   : strcmp(u->cfg->embedding_provider, "builtin") ? "UPSTREAM_ERROR"
                                                                    : "PROCESSING_ERROR",
                u->err);
}

static int step_embedding(struct up *u)
{
    int rc;
    if ((rc = fault(u, "embedding"))) return rc;
    u->e = hx_embedder(u->c, u->err, sizeof(u->err));
    if (!u->e) return fail(u, "PROCESSING_ERROR", u->err);
    struct embedder *e = u->e;
    size_t n = u->ch.n, dim = (size_t)e->dim;
    size_t batch = (size_t)(u->cfg->embedding_batch > 0 ? u->cfg->embedding_batch : 64), scratch_cap = 1;
    for (size_t at = 0; at < n; at += batch) {
        size_t sum = 0;
        for (size_t i = at; i < n && i < at + batch; i++) sum += u->ch.chunks[i].len + 1;
        if (sum > scratch_cap) scratch_cap = sum;
    }
    u->vecs = ar_alloc(u->c->ar, n * dim * sizeof(float));
    const char **texts = ar_alloc(u->c->ar, batch * sizeof(char *));
    char *scratch = ar_alloc(u->c->ar, scratch_cap);
    if (!u->vecs || !texts || !scratch) return fail(u, "PROCESSING_ERROR", "Out of memory for the embeddings");
    snprintf(u->msg, sizeof(u->msg), "Embedding %zu chunks with %s", n, e->name);
    if ((rc = progress(u, "embedding", u->msg, (long)n, 0))) return rc;
    e->cancel = sink_cancelled;
    e->cancel_arg = u->s;
    for (size_t at = 0; at < n && !rc; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        if ((rc = embed_batch(u, at, k, texts, scratch))) break;
        int pct = (int)((at + k) * 100 / n);
        if (pct / 10 != u->last_pct / 10 || at + k == n) {
            snprintf(u->msg, sizeof(u->msg), "Embedded %zu of %zu chunks", at + k, n);
            rc = progress(u, "embedding", u->msg, (long)(at + k), pct);
        }
    }
    e->cancel = NULL;
    e->cancel_arg = NULL;
    return rc;
}

/* storing: the rows and the chatbot's index, all or nothing (cx_upload). */
static int step_storing(struct up *u)
{
    int rc;
    size_t n = u->ch.n;
    snprintf(u->msg, sizeof(u->msg), "Storing %zu chunks", n);
    if ((rc = progress(u, "storing", u->msg, (long)n, 0))) return rc;
    struct cx_chunk_row *rows = ar_alloc(u->c->ar, n * sizeof(*rows));
    if (!rows) return fail(u, "PROCESSING_ERROR", "Out of memory for the chunk rows");
    for (size_t i = 0; i < n; i++) {
        const struct up_chunk *c = &u->ch.chunks[i];
        rows[i] = (struct cx_chunk_row){u->text.s + c->off, c->len, c->char_off, c->page, c->tokens};
    }
    struct cx_upload r = {
        .file = {.chatbot = u->chatbot, .title = u->title, .filename = u->f.filename, .mime = u->mime,
                 .sha256 = u->sha, .tokenizer = tok_name(u->tk), .embedder = u->e->name, .bytes = u->f.file.len,
                 .tokens = u->ch.total_tokens, .chunks = n, .pages = u->text.npages},
        .chunks = rows, .vecs = u->vecs, .dim = u->e->dim, .index_dir = u->cfg->index_dir,
        .progress = store_progress, .arg = u, .fault = u->cfg->upload_fault,
    };
    struct cx_file ex;
    int stop_rc;
    switch (cx_upload(u->c->app->store, u->c->ar, &r, &u->file_id, &ex, &stop_rc, u->err, sizeof(u->err))) {
    case CX_UP_OK: break;
    case CX_UP_DUP: return up_duplicate(u, &ex, " (stored meanwhile)");
    case CX_UP_STOP: return stop_rc ? stop_rc : SINK_EIO;
    /* The store's and FAISS's own words (socket paths, index paths, FAISS
     * source lines) go to the log, not to the client. */
    case CX_UP_DBCONN: return hx_db_fail(u->c, "Upload", ST_ECONN, "storing", u->err), UP_DONE;
    case CX_UP_DBQUERY: return hx_db_fail(u->c, "Upload", ST_EQUERY, "storing", u->err), UP_DONE;
    case CX_UP_INDEX:
        LOG_ERROR(u->rn, u->c->req->id, NULL, "Upload failed in storing: INDEX_UNAVAILABLE: %s", u->err);
        return fail(u, "INDEX_UNAVAILABLE", "The chatbot's vector index could not be written; nothing was stored");
    default: return fail(u, "PROCESSING_ERROR", u->err);
    }
    snprintf(u->msg, sizeof(u->msg), "Stored file %lld with %zu chunks", u->file_id, n);
    return progress(u, "storing", u->msg, (long)n, 100);
}

static int up_complete(struct up *u)
{
    json_object *done = complete_doc(u, u->file_id, (long)u->ch.n, (long)u->ch.total_tokens, tok_name(u->tk),
                                     u->text.npages, 0);
    json_object_object_add(done, "embedder", json_object_new_string(u->e->name));
    json_object *lg = json_object_new_object();
    json_object_object_add(lg, "fileId", json_object_new_int64(u->file_id));
    json_object_object_add(lg, "chunks", json_object_new_int64((int64_t)u->ch.n));
    json_object_object_add(lg, "tokens", json_object_new_int64((int64_t)u->ch.total_tokens));
    json_object_object_add(lg, "durationMs", json_object_new_int64(hx_elapsed(u->c)));
    LOG_INFO(u->rn, u->c->req->id, lg, "Upload complete");
    json_object_put(lg);
    return sink_emit(u->s, "complete", done);
}

/* The steps after `connected`, in order. Each returns 0 to go on,
 * UP_DONE after ending the stream itself, or a SINK_E* code. */
static int (*const up_steps[])(struct up *) = {
    step_validation, step_extraction, step_chunking, step_token_counting, step_embedding, step_storing,
    up_complete,
};

int h_upload(struct ctx *c)
{
    struct up *u = ar_calloc(c->ar, 1, sizeof(*u));
    if (!u) return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory");
    *u = (struct up){.c = c, .cfg = &c->app->cfg, .s = c->sink, .rn = c->route->name, .last_pct = -1};
    if (up_authorize(u) < 0 || read_form(c, &u->f) < 0 || up_fields(u) < 0 || up_type_check(u) < 0) return 0;
    int rc = up_open_stream(u);
    for (size_t i = 0; !rc && i < sizeof(up_steps) / sizeof(up_steps[0]); i++) rc = up_steps[i](u);
    return rc == UP_DONE ? 0 : rc;
}
