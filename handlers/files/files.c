/* files.c: the document management API (docs/upload.md "Managing
 * files"): GET /api/context/files?chatbotId= (a chatbot's files), GET
 * /api/context/files/{id} (one file), DELETE /api/context/files/{id}
 * (the file, its chunks and its vectors, all or nothing: cx_delete). Each
 * needs a key of scope manage for the file's chatbot (403 FORBIDDEN for
 * another chatbot's key, 401 without one); an unknown file is 404
 * NOT_FOUND. Plain JSON answers (sink_respond), never a stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/config.h"
#include "common/base/log.h"
#include "common/store/access.h"
#include "common/store/context.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "fcgi/sse.h"
#include "handlers/handlers.h"

enum { FILES_LIMIT_DEFAULT = 100, FILES_LIMIT_MAX = 1000 };

/* A store failure before anything was sent: 503 / 500 with its code. */
static int files_db_reject(struct ctx *c, int rc, const char *what, const char *err)
{
    LOG_ERROR(c->route->name, c->req->id, NULL, "Files: %s failed: %s: %s", what, st_code(rc), err);
    char m[160];
    snprintf(m, sizeof(m), rc == ST_ECONN ? "The database is unreachable (%s)" : "The database could not answer (%s)",
             what);
    sink_reject(c->sink, sink_status_for(st_code(rc)), st_code(rc), m, NULL);
    return 0;
}

static json_object *files_json(const struct cx_file_info *f)
{
    char ts[32];
    sse_timestamp(ts, f->uploaded_ms);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(f->id));
    json_object_object_add(o, "chatbotId", json_object_new_string(f->chatbot ? f->chatbot : ""));
    json_object_object_add(o, "title", json_object_new_string(f->title));
    json_object_object_add(o, "filename", json_object_new_string(f->filename));
    json_object_object_add(o, "type", json_object_new_string(f->mime));
    json_object_object_add(o, "bytes", json_object_new_int64(f->bytes));
    json_object_object_add(o, "tokens", json_object_new_int64(f->tokens));
    json_object_object_add(o, "tokenizer", json_object_new_string(f->tokenizer));
    json_object_object_add(o, "chunks", json_object_new_int64(f->chunks));
    json_object_object_add(o, "pages", f->pages >= 0 ? json_object_new_int(f->pages) : NULL);
    json_object_object_add(o, "sha256", json_object_new_string(f->sha256));
    json_object_object_add(o, "embedder", json_object_new_string(f->embedder));
    json_object_object_add(o, "uploadedAt", json_object_new_string(ts));
    return o;
}

int h_files_list(struct ctx *c)
{
    const char *bot = req_param(c->req, "chatbotId");
    if (!bot || !*bot) return hx_bad_field(c, "chatbotId", "chatbotId is required"), 0;
    if (!cx_chatbot_id_ok(bot))
        return hx_bad_field(c, "chatbotId", "chatbotId must be 1-64 characters of A-Z, a-z, 0-9, _ and -"), 0;
    hx_cors_chatbot(c, bot);
    long limit, offset;
    if (hx_param_int(c, "limit", FILES_LIMIT_DEFAULT, 1, FILES_LIMIT_MAX, &limit) < 0 ||
        hx_param_int(c, "offset", 0, 0, 1000000000L, &offset) < 0)
        return 0;
    if (hx_authorize(c, ACC_MANAGE, bot) < 0) return 0;
    struct cx_file_info *f;
    size_t n;
    long long total;
    char err[512];
    int rc = cx_file_list(c->app->store, c->ar, bot, limit, offset, &f, &n, &total, err, sizeof(err));
    if (rc != ST_OK) return files_db_reject(c, rc, "files", err);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(arr, files_json(&f[i]));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "chatbotId", json_object_new_string(bot));
    json_object_object_add(o, "files", arr);
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "limit", json_object_new_int64(limit));
    json_object_object_add(o, "offset", json_object_new_int64(offset));
    return sink_respond(c->sink, 200, o);
}

/* The {id} of the path: a positive whole number, else 404 (no such file
 * can exist). 0 with *id, or -1 answered. */
static int files_id(struct ctx *c, long long *id)
{
    char text[32];
    char *end;
    errno = 0;
    if (rt_param(c->route, c->req->path, "id", text, sizeof(text)) == 0) {
        long long v = strtoll(text, &end, 10);
        if (!errno && end != text && !*end && v > 0 && text[0] != '+') {
            *id = v;
            return 0;
        }
    }
    sink_reject(c->sink, 404, "NOT_FOUND", "No such file: file ids are positive whole numbers", NULL);
    return -1;
}

/* The file of the path, checked against the key. 0 with *f, or -1 answered. */
static int files_find(struct ctx *c, long long id, struct cx_file_info *f)
{
    char err[512];
    struct hx_key k;
    if (hx_authenticate(c, ACC_MANAGE, &k) < 0) return -1;
    int rc = cx_file_get(c->app->store, c->ar, id, f, err, sizeof(err));
    if (rc < 0) return files_db_reject(c, rc, "file", err), -1;
    const char *want = req_param(c->req, "chatbotId");
    if (rc == 0 || (want && *want && strcmp(want, f->chatbot) != 0)) {
        char m[96];
        snprintf(m, sizeof(m), "No file %lld", id);
        sink_reject(c->sink, 404, "NOT_FOUND", m, NULL);
        return -1;
    }
    hx_cors_chatbot(c, f->chatbot);
    return hx_permit(c, &k, ACC_MANAGE, f->chatbot);
}

static int files_delete(struct ctx *c, const struct cx_file_info *f)
{
    const struct cfg *cfg = &c->app->cfg;
    struct cx_delete r = {.file_id = f->id, .chatbot = f->chatbot, .index_dir = cfg->index_dir,
                          .fault = cfg->upload_fault};
    struct cx_deleted out;
    char err[512];
    int rc = cx_delete(c->app->store, c->ar, &r, &out, err, sizeof(err));
    if (rc == CX_DEL_GONE) {
        char m[96];
        snprintf(m, sizeof(m), "No file %lld", f->id);
        return sink_reject(c->sink, 404, "NOT_FOUND", m, NULL), 0;
    }
    if (rc != CX_DEL_OK) {
        LOG_ERROR(c->route->name, c->req->id, NULL, "Delete of file %lld failed: %s", f->id, err);
        if (rc == CX_DEL_DBCONN || rc == CX_DEL_DBQUERY) return files_db_reject(c, rc, "deleting the file", err);
        sink_reject(c->sink, rc == CX_DEL_INDEX ? 503 : 500, rc == CX_DEL_INDEX ? "INDEX_UNAVAILABLE" : "PROCESSING_ERROR",
                    rc == CX_DEL_INDEX ? "The chatbot's vector index could not be rebuilt; nothing was deleted"
                                       : "The delete failed; nothing was deleted",
                    NULL);
        return 0;
    }
    static const char *const idx[] = {"", "rebuilt", "removed", "none"};
    json_object *lg = json_object_new_object();
    json_object_object_add(lg, "fileId", json_object_new_int64(f->id));
    json_object_object_add(lg, "chatbotId", json_object_new_string(f->chatbot));
    json_object_object_add(lg, "chunks", json_object_new_int64(out.chunks));
    json_object_object_add(lg, "index", json_object_new_string(idx[out.index]));
    LOG_INFO(c->route->name, c->req->id, lg, "File deleted");
    json_object_put(lg);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "deleted", json_object_new_boolean(1));
    json_object_object_add(o, "file", files_json(f));
    json_object_object_add(o, "chunksDeleted", json_object_new_int64(out.chunks));
    json_object_object_add(o, "index", json_object_new_string(idx[out.index]));
    json_object_object_add(o, "indexVectors", json_object_new_int64(out.vectors));
    return sink_respond(c->sink, 200, o);
}

int h_file(struct ctx *c)
{
    long long id;
    struct cx_file_info f;
    if (files_id(c, &id) < 0 || files_find(c, id, &f) < 0) return 0;
    if (!strcmp(c->req->method, "DELETE")) return files_delete(c, &f);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "file", files_json(&f));
    return sink_respond(c->sink, 200, o);
}
