/* access.c: who may call what (docs/access.md): the API key a route
 * needs (upload, manage, admin), the networks that may read the host's
 * internals (/api/metrics, /api/health?full=1), and the handlers' side of
 * CORS (a chatbot's own origins).
 *
 * A presented key is hashed (SHA-256) at once; only the digest is
 * compared (constant time, against every configured key) or looked up in
 * the store. Neither the key nor its digest is ever logged; a key's
 * public id may be. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/base/addr.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/base/sha256.h"
#include "common/store/access.h"
#include "fcgi/app.h"
#include "fcgi/cors.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

int hx_key_listed(const char *keys, const char *presented, size_t n)
{
    if (!keys || !presented || !n) return 0;
    uint8_t want[SHA256_LEN], have[SHA256_LEN];
    sha256(presented, n, have);
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
            sha256(k, kl, want);
            ok |= ct_equal(want, have, SHA256_LEN);   /* every key is compared: no early exit */
        }
        if (!e) break;
        p = e + 1;
    }
    return ok;
}

/* The key the client presented: `Authorization: Bearer <key>`, else
 * `X-API-Key`. NULL when neither. */
static const char *hx_presented_key(const struct req *r)
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

static int hx_unauthorized(struct ctx *c, const char *message)
{
    sink_header(c->sink, "WWW-Authenticate", "Bearer");
    sink_reject(c->sink, 401, "UNAUTHORIZED", message, NULL);
    return -1;
}

static int hx_forbidden(struct ctx *c, const char *message)
{
    sink_reject(c->sink, 403, "FORBIDDEN", message, NULL);
    return -1;
}

/* A stored key: 1 found (usable or revoked: k->id says), 0 none, -1 after
 * answering the store's failure. */
static int hx_key_stored(struct ctx *c, const char *key, struct hx_key *out, int *revoked)
{
    uint8_t h[SHA256_LEN];
    sha256(key, strlen(key), h);
    struct acc_key k;
    char err[512];
    int rc = acc_key_find(c->app->store, c->ar, h, &k, err, sizeof(err));
    if (rc < 0) {
        LOG_ERROR(c->route->name, c->req->id, NULL, "Key lookup failed: %s: %s", st_code(rc), err);
        sink_reject(c->sink, sink_status_for(st_code(rc)), st_code(rc),
                    rc == ST_ECONN ? "The database is unreachable (key)" : "The database could not answer (key)",
                    NULL);
        return -1;
    }
    if (rc == 0) return 0;
    *revoked = k.revoked;
    out->scopes = k.scopes;
    snprintf(out->chatbot, sizeof(out->chatbot), "%s", k.chatbot);
    snprintf(out->id, sizeof(out->id), "%s", k.id);
    if (!k.revoked && k.stale && acc_key_touch(c->app->store, k.id, err, sizeof(err)) != ST_OK)
        LOG_ERROR(c->route->name, c->req->id, NULL, "Key %s: last use not recorded: %s", k.id, err);
    return 1;
}

int hx_authenticate(struct ctx *c, unsigned need, struct hx_key *out)
{
    memset(out, 0, sizeof(*out));
    const char *key = hx_presented_key(c->req);
    if (!key) return hx_unauthorized(c, "An API key is required (Authorization: Bearer or X-API-Key)");
    if (hx_key_listed(c->app->cfg.upload_api_keys, key, strlen(key))) {
        out->scopes = ACC_ADMIN | ACC_MANAGE | ACC_UPLOAD;
        snprintf(out->id, sizeof(out->id), "config");
    } else {
        int revoked = 0, rc = c->app->store ? hx_key_stored(c, key, out, &revoked) : 0;
        if (rc < 0) return -1;
        if (rc == 0) return hx_unauthorized(c, "The API key is not valid");
        if (revoked) return hx_unauthorized(c, "The API key was revoked");
    }
    if (!acc_allows(out->scopes, need)) {
        char m[200];
        snprintf(m, sizeof(m), "This key's scope (%s) does not allow this; it needs %s", acc_scope_name(out->scopes),
                 acc_scope_name(need));
        return hx_forbidden(c, m);
    }
    return 0;
}

int hx_permit(struct ctx *c, const struct hx_key *k, unsigned need, const char *chatbot)
{
    if (!acc_allows(k->scopes, need)) {
        char m[200];
        snprintf(m, sizeof(m), "This key's scope (%s) does not allow this; it needs %s", acc_scope_name(k->scopes),
                 acc_scope_name(need));
        return hx_forbidden(c, m);
    }
    if (!k->chatbot[0]) return 0;
    if (!chatbot) return hx_forbidden(c, "This key works for one chatbot; this needs a key for every chatbot");
    if (strcmp(k->chatbot, chatbot) != 0) {
        char m[200];
        snprintf(m, sizeof(m), "This key does not work for chatbot %.64s", chatbot);
        return hx_forbidden(c, m);
    }
    return 0;
}

int hx_authorize(struct ctx *c, unsigned need, const char *chatbot)
{
    struct hx_key k;
    if (hx_authenticate(c, need, &k) < 0) return -1;
    return hx_permit(c, &k, need, chatbot);
}

int hx_ops_allowed(struct ctx *c)
{
    uint8_t a[16];
    if (addr_parse(c->req->client_ip, a) == 0 && addr_nets_match(&c->app->ops_nets, a)) return 0;
    if (hx_presented_key(c->req)) return hx_authorize(c, ACC_ADMIN, NULL);
    return hx_forbidden(c, "The host's internals answer only to ops_allowed_networks or an admin key");
}

void hx_cors_chatbot(struct ctx *c, const char *chatbot)
{
    cors_chatbot(c->app, c->req, c->sink, chatbot);
}
