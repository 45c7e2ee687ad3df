/* common.c: helpers shared by the handlers (parameter checks, the
 * `connected` event). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/clock.h"
#include "common/assist/llm.h"
#include "common/base/log.h"
#include "common/search/qparse.h"
#include "common/store/catalog.h"
#include "common/assist/tts.h"
#include "common/store/catsnap.h"
#include "common/store/store.h"
#include "common/text/tok.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"
#include "index/embed.h"

int hx_bad_field(struct ctx *c, const char *field, const char *message)
{
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "field", json_object_new_string(field));
    sink_reject(c->sink, 400, "INVALID_PARAMETERS", message, extra);
    return -1;
}

int hx_param_int(struct ctx *c, const char *name, long def, long min, long max, long *out)
{
    const char *v = req_param(c->req, name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        char m[160];
        snprintf(m, sizeof(m), "%s must be a whole number from %ld to %ld", name, min, max);
        return hx_bad_field(c, name, m);
    }
    *out = n;
    return 0;
}

int hx_connected(struct ctx *c, json_object *fields)
{
    json_object *o = fields ? fields : json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string("Stream started"));
    return sink_emit(c->sink, "connected", o);
}

int64_t hx_elapsed(const struct ctx *c)
{
    return clk_mono_ms() - c->req->t0_ms;
}

int hx_db_fail(struct ctx *c, const char *who, int rc, const char *what, const char *err)
{
    const char *code = st_code(rc);
    LOG_ERROR(c->route->name, c->req->id, NULL, "%s failed in %s: %s: %s", who, what, code, err);
    char m[256];
    snprintf(m, sizeof(m), rc == ST_ECONN ? "The database is unreachable (%s)" : "The database could not answer (%s)",
             what);
    return sink_error(c->sink, code, m);
}

struct llm *hx_llm(struct ctx *c, char *err, size_t errlen)
{
    if (c->app->llm) return c->app->llm;
    c->app->llm = llm_open(&c->app->cfg, &c->app->hc, err, errlen);
    if (!c->app->llm) LOG_ERROR(c->route->name, c->req->id, NULL, "LLM provider unavailable: %s", err);
    return c->app->llm;
}

struct tts *hx_tts(struct ctx *c, char *err, size_t errlen)
{
    if (c->app->tts) return c->app->tts;
    c->app->tts = tts_open(&c->app->cfg, &c->app->hc, err, errlen);
    if (!c->app->tts) LOG_ERROR(c->route->name, c->req->id, NULL, "TTS provider unavailable: %s", err);
    return c->app->tts;
}

struct embedder *hx_embedder(struct ctx *c, char *err, size_t errlen)
{
    if (!c->app->emb) c->app->emb = emb_open(&c->app->cfg, err, errlen);
    return c->app->emb;
}

struct tok *hx_tokenizer(struct ctx *c)
{
    if (c->app->tok) return c->app->tok;
    char why[512], err[256];
    c->app->tok = tok_open(c->app->cfg.tokenizer_file, why, sizeof(why), err, sizeof(err));
    if (!c->app->tok)
        LOG_ERROR("worker", c->req->id, NULL, "tokenizer: %s", err);
    else if (!tok_exact(c->app->tok))
        LOG_ERROR("worker", c->req->id, NULL, "tokenizer: counting with %s: %s", tok_name(c->app->tok), why);
    return c->app->tok;
}

/* ---- what this worker derived from the catalog --------------------------------- */

enum { HX_DESIGNERS_MAX = 5000 };   /* names kept per worker */

/* Tied to the catalog version (cat_version), read at most once per request
 * (app->served changes only between requests). */
struct hx_catalog {
    uint64_t version;         /* the version the current request saw */
    unsigned long served;     /* the request that read it (app->served) */
    int read;                 /* version holds a value read from the database */
    char **names;             /* the designer names; malloc'd, kept until the version changes */
    size_t n;
    uint64_t names_version;   /* the version they were loaded under */
    int64_t loaded_ms;        /* 0: not loaded */
    struct cs_snap *snap;     /* the snapshot (common/store/catsnap.h), or NULL */
    uint64_t snap_version;    /* the version snap (or the lack of one) is for */
    int snap_tried;           /* a load was tried under snap_version */
};

static struct hx_catalog *hx_catalog(struct app *app)
{
    if (!app->catalog) app->catalog = calloc(1, sizeof(struct hx_catalog));
    return app->catalog;
}

uint64_t hx_catalog_version(struct ctx *c)
{
    struct app *app = c->app;
    struct hx_catalog *k = hx_catalog(app);
    if (!k) return 0;
    if (k->read && k->served == app->served) return k->version;
    char err[256];
    uint64_t v;
    if (cat_version(app->store, c->ar, &v, err, sizeof(err)) == ST_OK) {
        k->version = v;
        k->read = 1;
    } else {
        /* keep the last version: a database blip does not throw away what was derived */
        LOG_ERROR(c->route->name, c->req->id, NULL, "Catalog version not read: %s", err);
    }
    k->served = app->served;
    return k->version;
}

static void hx_designers_clear(struct hx_catalog *k)
{
    for (size_t i = 0; i < k->n; i++) free(k->names[i]);
    free(k->names);
    k->names = NULL;
    k->n = 0;
}

const char *const *hx_designers(struct ctx *c, size_t *n)
{
    struct app *app = c->app;
    *n = 0;
    struct hx_catalog *k = hx_catalog(app);
    if (!k) return NULL;
    /* read before loading: names loaded under version v are dropped at v + 1 */
    uint64_t v = hx_catalog_version(c);
    int64_t now = clk_mono_ms();
    if (!k->loaded_ms || v != k->names_version || now - k->loaded_ms >= app->cfg.troika_designer_refresh_ms) {
        char err[256];
        const char **names;
        size_t nn;
        if (cat_designers(app->store, c->ar, HX_DESIGNERS_MAX, &names, &nn, err, sizeof(err)) == ST_OK) {
            char **list = nn ? calloc(nn, sizeof(char *)) : NULL;
            if (list || !nn) {
                hx_designers_clear(k);
                for (size_t i = 0; i < nn; i++)
                    if ((list[k->n] = strdup(names[i]))) k->n++;
                k->names = list;
                k->names_version = v;
            }
        } else {
            LOG_ERROR(c->route->name, c->req->id, NULL, "Designer list not loaded: %s", err);
        }
        k->loaded_ms = now;   /* after a failure: retry after the interval, not on every request */
    }
    *n = k->n;
    return (const char *const *)k->names;
}

const struct cs_snap *hx_catsnap(struct ctx *c)
{
    struct app *app = c->app;
    struct hx_catalog *k = hx_catalog(app);
    if (!k) return NULL;
    uint64_t v = hx_catalog_version(c);
    if (k->snap_tried && k->snap_version == v) return k->snap;
    char err[256];
    struct cs_snap *snap = NULL;
    int64_t t0 = clk_mono_ms();
    if (cat_snapshot(app->store, v, &snap, err, sizeof(err)) != ST_OK) {
        /* keep an older snapshot: better than none; try again next request */
        LOG_ERROR(c->route->name, c->req->id, NULL, "Catalog snapshot not loaded: %s", err);
        return k->snap;
    }
    cs_free(k->snap);
    k->snap = snap;
    k->snap_version = v;
    k->snap_tried = 1;
    LOG_INFO(c->route->name, c->req->id, NULL, "Catalog snapshot for version %llu: %ld products%s, %lld ms",
             (unsigned long long)v, snap ? snap->count : 0L,
             snap ? (snap->nbits ? "" : " (no attribute bitmaps)") : " (none)", (long long)(clk_mono_ms() - t0));
    return k->snap;
}

void hx_parse_query(struct ctx *c, const char *q, const char *designer, const struct qp_catalog *cat,
                    struct qp_result *out)
{
    const char *text = q;
    char named[sizeof(out->f.designer)] = "";
    if (!designer || !*designer) {
        size_t nd, rlen = strlen(q) + 2;
        const char *const *names = hx_designers(c, &nd);
        char *rest = ar_alloc(c->ar, rlen);
        if (rest && nd && qp_take_designer(q, names, nd, named, sizeof(named), rest, rlen)) text = rest;
    }
    qp_parse_in(text, cat, out);
    if (named[0]) {
        qp_filter_put(&out->f, QPF_DESIGNER, named, NULL);
        out->f.soft |= QPF_BIT(QPF_DESIGNER);   /* a name in the words: a preference */
    }
}
