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

#include "common/io/db.h"
#include "common/base/log.h"
#include "common/io/mp.h"
#include "common/text/tok.h"
#include "common/base/u8.h"
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

static void sha256_of(const char *s, size_t n, guint8 out[32])
{
    GChecksum *h = g_checksum_new(G_CHECKSUM_SHA256);
    gsize len = 32;
    g_checksum_update(h, (const guchar *)s, (gssize)n);
    g_checksum_get_digest(h, out, &len);
    g_checksum_free(h);
}

int up_key_ok(const char *keys, const char *presented, size_t n)
{
    if (!keys || !presented || !n) return 0;
    guint8 want[32], have[32];
    sha256_of(presented, n, have);
    int ok = 0;
    const char *p = keys;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *k = p;
        size_t kl = len;
        while (kl && (*k == ' ' || *k == '\t')) k++, kl--;
        while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t')) kl--;
        if (kl) {
            sha256_of(k, kl, want);
            unsigned diff = 0;
            for (int i = 0; i < 32; i++) diff |= (unsigned)(want[i] ^ have[i]);
            ok |= diff == 0;   /* every key is compared: no early exit */
        }
        if (!e) break;
        p = e + 1;
    }
    return ok;
}

int up_chatbot_id_ok(const char *id)
{
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= 64;
}

/* The key the client presented: `Authorization: Bearer <key>`, else
 * `X-API-Key`. NULL when neither. */
static const char *presented_key(const struct req *r)
{
    const char *a = req_env(r, "HTTP_AUTHORIZATION");
    if (a) {
        while (*a == ' ') a++;
        if (strncasecmp(a, "Bearer", 6) == 0 && (a[6] == ' ' || a[6] == '\t')) {
            a += 6;
            while (*a == ' ' || *a == '\t') a++;
            if (*a) return a;
        }
    }
    const char *x = req_env(r, "HTTP_X_API_KEY");
    return x && *x ? x : NULL;
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

/* Reads and parses the body. 0 when the form is complete, else -1 after
 * answering (or when the client went away). */
static int read_form(struct ctx *c, struct form *f)
{
    const struct cfg *cfg = &c->app->cfg;
    struct req *r = c->req;
    size_t max_file = (size_t)cfg->max_upload;
    size_t body_cap = max_file + UP_ENVELOPE;
    char bd[MP_BOUNDARY_MAX + 1];

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

    memset(f, 0, sizeof(*f));
    buf_init(&f->file, c->ar, max_file);
    if (r->content_length > 0) {
        /* One allocation of the right size: the file is never copied to grow. */
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

    struct mp_parser mp;
    struct mp_limits lim = {(unsigned)cfg->max_multipart_parts, (size_t)cfg->max_part_headers};
    if (mp_init(&mp, c->ar, bd, &lim, &up_mp_cb, f) != MP_OK)
        return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory"), -1;

    char *chunk = ar_alloc(c->ar, UP_READ_CHUNK);
    if (!chunk) return reject(c, 500, "INTERNAL_ERROR", NULL, "Out of memory"), -1;
    size_t got = 0;
    int rc = MP_OK;
    size_t want = r->content_length >= 0 ? (size_t)r->content_length : body_cap + 1;
    while (got < want && r->fx) {
        size_t room = want - got < UP_READ_CHUNK ? want - got : UP_READ_CHUNK;
        int n = FCGX_GetStr(chunk, (int)room, r->fx->in);
        if (n <= 0) break;
        got += (size_t)n;
        if (got > body_cap) {
            char m[128];
            snprintf(m, sizeof(m), "The upload is larger than the %ld-byte limit", cfg->max_upload);
            return reject(c, 413, "PAYLOAD_TOO_LARGE", NULL, m), -1;
        }
        if (rc == MP_OK) rc = mp_feed(&mp, chunk, (size_t)n);
        if (rc != MP_OK) break;
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

/* ---- steps ---------------------------------------------------------------- */

struct up {
    struct ctx *c;
    const struct cfg *cfg;
    struct sink *s;
    int last_pct;
    const char *step;
    size_t text_len;       /* for the chunking step's percent */
};

/* An error event; returns 0 so the handler ends normally (close follows). */
static int fail(struct up *u, const char *code, const char *msg)
{
    sink_error(u->s, code, msg);
    return 0;
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

/* The upload_fault knob: PROCESSING_ERROR at the start of `step`. */
static int fault(struct up *u, const char *step)
{
    if (strcmp(u->cfg->upload_fault, step) != 0) return 0;
    char m[128];
    snprintf(m, sizeof(m), "Injected fault in step %s (upload_fault)", step);
    sink_error(u->s, "PROCESSING_ERROR", m);
    return 1;
}

static const char *db_code(int rc)
{
    return rc == DB_ECONN ? "DB_CONNECTION_ERROR" : "DB_QUERY_ERROR";
}

static size_t u8_count(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

static json_object *complete_doc(struct ctx *c, const char *chatbot, const char *title, const char *mime,
                                 size_t bytes, const char *sha, long long file_id, long chunks, long tokens,
                                 const char *tokenizer, int pages, int duplicate)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "fileId", json_object_new_int64(file_id));
    json_object_object_add(o, "chatbotId", json_object_new_string(chatbot));
    json_object_object_add(o, "title", json_object_new_string(title));
    json_object_object_add(o, "mime", json_object_new_string(mime));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
    json_object_object_add(o, "sha256", json_object_new_string(sha));
    json_object_object_add(o, "chunks", json_object_new_int64(chunks));
    json_object_object_add(o, "tokens", json_object_new_int64(tokens));
    json_object_object_add(o, "tokenizer", json_object_new_string(tokenizer));
    json_object_object_add(o, "pages", pages > 0 ? json_object_new_int(pages) : NULL);
    json_object_object_add(o, "duplicate", json_object_new_boolean(duplicate));
    json_object_object_add(o, "duration", json_object_new_int64(hx_elapsed(c)));
    return o;
}

int h_upload(struct ctx *c)
{
    const struct cfg *cfg = &c->app->cfg;
    struct req *r = c->req;
    const char *rn = c->route->name;

    /* ---- before the stream: key, body, fields, type -------------------- */
    const char *key = presented_key(r);
    if (!cfg->upload_api_keys[0])
        return reject(c, 401, "UNAUTHORIZED", NULL, "Uploads are disabled: no upload_api_keys are configured");
    if (!key) return reject(c, 401, "UNAUTHORIZED", NULL, "An API key is required (Authorization: Bearer or X-API-Key)");
    if (!up_key_ok(cfg->upload_api_keys, key, strlen(key)))
        return reject(c, 401, "UNAUTHORIZED", NULL, "The API key is not valid");

    struct form f;
    if (read_form(c, &f) < 0) return 0;
    if (!f.have_file) return reject(c, 400, "INVALID_PARAMETERS", "file", "A part named \"file\" is required");
    const char *chatbot = f.chatbot.p ? f.chatbot.p : "";
    if (!*chatbot) return reject(c, 400, "INVALID_PARAMETERS", "chatbotId", "chatbotId is required");
    if (!up_chatbot_id_ok(chatbot))
        return reject(c, 400, "INVALID_PARAMETERS", "chatbotId",
                      "chatbotId must be 1-64 characters of A-Z, a-z, 0-9, _ and -");
    const char *title = f.title.p ? f.title.p : "";
    while (*title == ' ' || *title == '\t') title++;
    if (!u8_valid(title, strlen(title), NULL) || memchr(title, '\n', strlen(title)))
        return reject(c, 400, "INVALID_PARAMETERS", "title", "title must be one line of UTF-8 text");
    if (u8_count(title, strlen(title)) > UP_TITLE_CHARS)
        return reject(c, 400, "INVALID_PARAMETERS", "title", "title is longer than 255 characters");
    if (!*title) title = f.filename[0] ? f.filename : "Untitled";
    if (!u8_valid(f.filename, strlen(f.filename), NULL)) snprintf(f.filename, sizeof(f.filename), "upload");
    if (!*title || !u8_valid(title, strlen(title), NULL)) title = "Untitled";
    if (f.file.len == 0) return reject(c, 400, "INVALID_PARAMETERS", "file", "The file is empty");

    int from_ext;
    enum up_type type = up_declared(f.ctype, f.filename, &from_ext);
    if (type == UP_NONE) {
        char m[256];
        snprintf(m, sizeof(m),
                 "Accepted types are text/plain, text/markdown, text/csv, application/json, text/html and "
                 "application/pdf; the file is declared '%.80s'", f.ctype[0] ? f.ctype : "(no type)");
        return reject(c, 415, "UNSUPPORTED_MEDIA_TYPE", "file", m);
    }
    char why[512];
    if (up_sniff(type, f.file.p, f.file.len, why, sizeof(why)) < 0) {
        why[0] = (char)toupper((unsigned char)why[0]);
        return reject(c, 415, "UNSUPPORTED_MEDIA_TYPE", "file", why);
    }
    const char *mime = up_type_mime(type);
    char sha[65];
    snprintf(sha, sizeof(sha), "%s", g_checksum_get_string(f.sha));

    /* ---- the stream ------------------------------------------------------- */
    /* STREAMING_TIMEOUT bounds the processing, not the time the client took
     * to send the file. */
    c->sink->deadline_ms = req_mono_ms() + cfg->streaming_timeout;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "chatbotId", json_object_new_string(chatbot));
    json_object_object_add(j, "title", json_object_new_string(title));
    json_object_object_add(j, "filename", json_object_new_string(f.filename));
    json_object_object_add(j, "mime", json_object_new_string(mime));
    json_object_object_add(j, "bytes", json_object_new_int64((int64_t)f.file.len));
    json_object *lg = json_object_new_object();
    json_object_object_add(lg, "chatbotId", json_object_new_string(chatbot));
    json_object_object_add(lg, "mime", json_object_new_string(mime));
    json_object_object_add(lg, "bytes", json_object_new_int64((int64_t)f.file.len));
    LOG_INFO(rn, r->id, lg, "Upload started");
    json_object_put(lg);
    int rc = hx_connected(c, j);
    if (rc) return rc;

    struct up u = {.c = c, .cfg = cfg, .s = c->sink, .last_pct = -1};
    char err[512], msg[256];

    /* upload_validation: what was checked before the stream, then UTF-8 and
     * the duplicate check */
    snprintf(msg, sizeof(msg), "Validating %s (%zu bytes, type from the %s)", mime, f.file.len,
             from_ext ? "file name" : "part's Content-Type");
    if ((rc = progress(&u, "upload_validation", msg, -1, 0))) return rc;
    if (type != UP_PDF) {
        size_t bad;
        if (!u8_valid(f.file.p, f.file.len, &bad)) {
            snprintf(msg, sizeof(msg), "The file is not valid UTF-8: invalid byte at offset %zu", bad);
            return fail(&u, "INVALID_UTF8", msg);
        }
    }
    if (db_ensure(&c->app->db, cfg, err, sizeof(err)) < 0) return fail(&u, "DB_CONNECTION_ERROR", err);
    struct up_existing ex;
    int found = up_store_find(c->app->db, c->ar, chatbot, sha, &ex, err, sizeof(err));
    if (found < 0) return fail(&u, db_code(found), err);
    if (found) {
        snprintf(msg, sizeof(msg), "The same content is already stored for this chatbot as file %lld", ex.file_id);
        if ((rc = progress(&u, "upload_validation", msg, -1, 100))) return rc;
        LOG_INFO(rn, r->id, NULL, "Upload complete: duplicate of file %lld", ex.file_id);
        return sink_emit(c->sink, "complete",
                         complete_doc(c, chatbot, title, mime, f.file.len, sha, ex.file_id, ex.chunks, ex.tokens,
                                      ex.tokenizer, ex.pages, 1));
    }
    snprintf(msg, sizeof(msg), "Validated %s, %zu bytes", mime, f.file.len);
    if ((rc = progress(&u, "upload_validation", msg, (long)f.file.len, 100))) return rc;

    /* extraction */
    if (fault(&u, "extraction")) return 0;
    snprintf(msg, sizeof(msg), "Extracting text from %s", mime);
    if ((rc = progress(&u, "extraction", msg, -1, 0))) return rc;
    struct up_text text;
    size_t bad = 0;
    size_t max_text = (size_t)cfg->max_upload * 4;
    int ex_rc = up_extract(c->ar, type, f.file.p, f.file.len, max_text, &text, &bad, why, sizeof(why), sink_cancelled,
                           c->sink);
    if ((rc = sink_check(c->sink))) return rc;
    if (ex_rc != UP_EX_OK) {
        why[0] = (char)toupper((unsigned char)why[0]);
        return fail(&u, ex_rc == UP_EX_UTF8 ? "INVALID_UTF8" : ex_rc == UP_EX_NOTEXT ? "NO_EXTRACTABLE_TEXT"
                                                                                      : "PROCESSING_ERROR",
                    why);
    }
    size_t chars = u8_count(text.s, text.n);
    if (text.npages)
        snprintf(msg, sizeof(msg), "Extracted %zu characters from %d page%s", chars, text.npages,
                 text.npages == 1 ? "" : "s");
    else
        snprintf(msg, sizeof(msg), "Extracted %zu characters", chars);
    if ((rc = progress(&u, "extraction", msg, (long)chars, 100))) return rc;

    /* chunking */
    if (fault(&u, "chunking")) return 0;
    struct tok *tk = hx_tokenizer(c);
    if (!tk) return fail(&u, "PROCESSING_ERROR", "The tokenizer could not be set up");
    snprintf(msg, sizeof(msg), "Cutting into chunks of up to %d tokens (overlap %d, %s)", cfg->chunk_tokens,
             cfg->chunk_overlap, tok_name(tk));
    if ((rc = progress(&u, "chunking", msg, -1, 0))) return rc;
    struct up_chunking ch;
    u.text_len = text.n;
    int crc = up_chunk(tk, c->ar, &text, cfg->chunk_tokens, cfg->chunk_overlap, &ch, chunk_progress, &u);
    if (crc == -1) return fail(&u, "PROCESSING_ERROR", "Chunking failed (out of memory)");
    if (crc) return crc;   /* the stream ended (client gone, deadline) */
    if (ch.n == 0) return fail(&u, "NO_EXTRACTABLE_TEXT", "The file holds no text to store");
    snprintf(msg, sizeof(msg), "Created %zu chunk%s", ch.n, ch.n == 1 ? "" : "s");
    if ((rc = progress(&u, "chunking", msg, (long)ch.n, 100))) return rc;

    /* token_counting */
    if (fault(&u, "token_counting")) return 0;
    if (up_chunk_recount(tk, &text, &ch) < 0) return fail(&u, "PROCESSING_ERROR", "Token counting failed");
    snprintf(msg, sizeof(msg), "Counted %zu tokens with %s", ch.total_tokens, tok_name(tk));
    if ((rc = progress(&u, "token_counting", msg, (long)ch.total_tokens, 100))) return rc;

    /* embedding */
    if (fault(&u, "embedding")) return 0;
    struct embedder *e = hx_embedder(c, err, sizeof(err));
    if (!e) return fail(&u, "PROCESSING_ERROR", err);
    size_t dim = (size_t)e->dim, batch = (size_t)(cfg->embedding_batch > 0 ? cfg->embedding_batch : 64);
    float *vecs = ar_alloc(c->ar, ch.n * dim * sizeof(float));
    const char **texts = ar_alloc(c->ar, batch * sizeof(char *));
    size_t scratch_cap = 0;
    for (size_t at = 0; at < ch.n; at += batch) {
        size_t sum = 0;
        for (size_t i = at; i < ch.n && i < at + batch; i++) sum += ch.chunks[i].len + 1;
        if (sum > scratch_cap) scratch_cap = sum;
    }
    char *scratch = ar_alloc(c->ar, scratch_cap ? scratch_cap : 1);
    if (!vecs || !texts || !scratch) return fail(&u, "PROCESSING_ERROR", "Out of memory for the embeddings");
    snprintf(msg, sizeof(msg), "Embedding %zu chunks with %s", ch.n, e->name);
    if ((rc = progress(&u, "embedding", msg, (long)ch.n, 0))) return rc;
    e->cancel = sink_cancelled;
    e->cancel_arg = c->sink;
    for (size_t at = 0; at < ch.n; at += batch) {
        size_t k = ch.n - at < batch ? ch.n - at : batch, o = 0;
        for (size_t i = 0; i < k; i++) {
            const struct up_chunk *cc = &ch.chunks[at + i];
            memcpy(scratch + o, text.s + cc->off, cc->len);
            scratch[o + cc->len] = '\0';
            texts[i] = scratch + o;
            o += cc->len + 1;
        }
        int timeout = 0;
        if (e->embed(e, texts, k, vecs + at * dim, &timeout, err, sizeof(err)) < 0) {
            e->cancel = NULL;
            if ((rc = sink_check(c->sink))) return rc;
            return fail(&u, timeout ? "UPSTREAM_TIMEOUT" : strcmp(cfg->embedding_provider, "builtin") ? "UPSTREAM_ERROR"
                                                                                                 : "PROCESSING_ERROR",
                        err);
        }
        int pct = (int)((at + k) * 100 / ch.n);
        if (pct / 10 != u.last_pct / 10 || at + k == ch.n) {
            snprintf(msg, sizeof(msg), "Embedded %zu of %zu chunks", at + k, ch.n);
            if ((rc = progress(&u, "embedding", msg, (long)(at + k), pct))) {
                e->cancel = NULL;
                return rc;
            }
        }
    }
    e->cancel = NULL;

    /* storing */
    snprintf(msg, sizeof(msg), "Storing %zu chunks", ch.n);
    if ((rc = progress(&u, "storing", msg, (long)ch.n, 0))) return rc;
    struct up_store_req sr = {
        .chatbot = chatbot, .title = title, .filename = f.filename, .mime = mime, .sha256 = sha,
        .tokenizer = tok_name(tk), .embedder = e->name, .bytes = f.file.len, .tokens = ch.total_tokens,
        .pages = text.npages, .text = &text, .ch = &ch, .vecs = vecs, .dim = e->dim, .index_dir = cfg->index_dir,
        .fault = cfg->upload_fault, .progress = store_progress, .arg = &u,
    };
    long long file_id;
    int stop_rc;
    int st = up_store(c->app->db, c->ar, &sr, &file_id, &ex, &stop_rc, err, sizeof(err));
    switch (st) {
    case UP_ST_OK: break;
    case UP_ST_DUP:
        LOG_INFO(rn, r->id, NULL, "Upload complete: duplicate of file %lld (stored meanwhile)", ex.file_id);
        return sink_emit(c->sink, "complete",
                         complete_doc(c, chatbot, title, mime, f.file.len, sha, ex.file_id, ex.chunks, ex.tokens,
                                      ex.tokenizer, ex.pages, 1));
    case UP_ST_STOP: return stop_rc ? stop_rc : SINK_EIO;
    case UP_ST_DBCONN: return fail(&u, "DB_CONNECTION_ERROR", err);
    case UP_ST_DBQUERY: return fail(&u, "DB_QUERY_ERROR", err);
    case UP_ST_INDEX: return fail(&u, "INDEX_UNAVAILABLE", err);
    default: return fail(&u, "PROCESSING_ERROR", err);
    }
    snprintf(msg, sizeof(msg), "Stored file %lld with %zu chunks", file_id, ch.n);
    if ((rc = progress(&u, "storing", msg, (long)ch.n, 100))) return rc;

    json_object *done = complete_doc(c, chatbot, title, mime, f.file.len, sha, file_id, (long)ch.n,
                                     (long)ch.total_tokens, tok_name(tk), text.npages, 0);
    json_object_object_add(done, "embedder", json_object_new_string(e->name));
    json_object *lg2 = json_object_new_object();
    json_object_object_add(lg2, "fileId", json_object_new_int64(file_id));
    json_object_object_add(lg2, "chunks", json_object_new_int64((int64_t)ch.n));
    json_object_object_add(lg2, "tokens", json_object_new_int64((int64_t)ch.total_tokens));
    json_object_object_add(lg2, "durationMs", json_object_new_int64(hx_elapsed(c)));
    LOG_INFO(rn, r->id, lg2, "Upload complete");
    json_object_put(lg2);
    return sink_emit(c->sink, "complete", done);
}
