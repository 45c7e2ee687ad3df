/* handlers.h: one entry point per route family, and small helpers that
 * every handler uses for parameters and replies. */
#ifndef TROIKA_HANDLERS_H
#define TROIKA_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

struct ctx;
struct json_object;
struct llm;
struct tts;
struct qp_catalog;
struct qp_result;
struct cs_snap;
struct rt_table;

/* The route table (handlers/routes.c): every route, its handler below. */
struct rt_table h_routes(void);

int h_chat(struct ctx *c);
int h_aza_search(struct ctx *c);
int h_health(struct ctx *c);
int h_metrics(struct ctx *c);
int h_product_search(struct ctx *c);
int h_selftest(struct ctx *c);
int h_upload(struct ctx *c);
int h_files_list(struct ctx *c);
int h_file(struct ctx *c);
int h_troika(struct ctx *c);

/* Reads an integer query parameter in [min, max] (def when absent). On a
 * bad value answers 400 INVALID_PARAMETERS naming the field and returns -1. */
int hx_param_int(struct ctx *c, const char *name, long def, long min, long max, long *out);

/* Rejects with 400 INVALID_PARAMETERS naming `field`. Returns -1. */
int hx_bad_field(struct ctx *c, const char *field, const char *message);

/* `connected` event with message "Stream started"; takes `fields` (may be
 * NULL) and adds the route context to it. 0 or SINK_E*. */
int hx_connected(struct ctx *c, struct json_object *fields);

/* This worker's LLM and TTS providers, opened on first use (after fork)
 * and kept for the worker's life; network providers share the worker's
 * HTTP client (app->hc). NULL with err filled. */
struct llm *hx_llm(struct ctx *c, char *err, size_t errlen);
struct tts *hx_tts(struct ctx *c, char *err, size_t errlen);
/* This worker's embedder, opened on first use (emb_open) and kept for
 * the worker's life. NULL with err filled when it cannot be opened. */
struct embedder *hx_embedder(struct ctx *c, char *err, size_t errlen);

/* This worker's tokenizer (cl100k_base from tokenizer_file, or the
 * estimate when the file is missing: tok_name says which), loaded on first
 * use and kept. NULL only when out of memory. */
struct tok *hx_tokenizer(struct ctx *c);

/* The catalog's version (cat_version), read from the database at most once
 * per request: everything a worker derives from the catalog is kept only
 * while it stays the same, so that no two identical requests differ once
 * an import has returned, whichever worker answers. When the read fails the
 * last version read is kept (and the failure logged). */
uint64_t hx_catalog_version(struct ctx *c);

/* This worker's snapshot of the catalog (common/store/catsnap.h) for the
 * current catalog version, loaded on first use after the version changed;
 * NULL when there is none (an empty catalog, ids past CB_MAX_ID, or the
 * load failed: logged, and the last snapshot is kept). Borrowed until the
 * next call. */
const struct cs_snap *hx_catsnap(struct ctx *c);

/* The catalog's designer names, for recognising them in a query: loaded
 * per worker, reloaded when the catalog version changes (and, for edits
 * made behind troika-admin's back, after troika_designer_refresh_ms). A
 * failed load keeps the old list (or none) and is logged: designers are a
 * nicety, not a step. Borrowed until the next call; *n names. */
const char *const *hx_designers(struct ctx *c, size_t *n);

/* Parses a shopper's query (qp_parse), first taking a catalog designer's
 * whole name out of it as the designer filter (qp_take_designer over
 * hx_designers) unless `designer` (the request's explicit filter, may be
 * NULL) names one: matched before the parser, so "Kesariya House" is not
 * read as a colour. cat (may be NULL): the catalog's own category names
 * for the parser (qp_parse_in). */
void hx_parse_query(struct ctx *c, const char *q, const char *designer, const struct qp_catalog *cat,
                    struct qp_result *out);

/* Milliseconds since the request started. */
int64_t hx_elapsed(const struct ctx *c);

/* The one "database failure -> error event": a store call failed (rc:
 * ST_ECONN or ST_EQUERY; DB_E* are the same values) after the stream
 * opened, in step `what` of `who` ("Product search", "Chat"): ERROR log
 * with err (never sent), and an `error` event with st_code(rc) and a
 * message naming the step.
 * 0 or SINK_E*; a step returns its own "stop" code when 0. */
int hx_db_fail(struct ctx *c, const char *who, int rc, const char *what, const char *err);

/* ---- sessions (handlers/sessions.c) ---------------------------------------------- */

/* The session a chat or sales-agent request uses, decided before
 * `connected`. */
struct hx_session {
    const char *id;          /* the id to use: the client's, or a fresh one (arena) */
    const char *asked;       /* the client's id, NULL when none */
    int decision;            /* sess_decide's SESS_* for asked (SESS_UNKNOWN when none) */
    int continued;           /* 1: id is asked, continued */
};

/* Picks the session for owner (kind SESS_CHAT / SESS_AGENT, chatbot:
 * NULL for none): asked when it may be continued, else a fresh id from
 * the kernel's CSPRNG (never the client's). 0, or -1 after answering
 * 503 DB_CONNECTION_ERROR / 500 DB_QUERY_ERROR (the lookup failed) or 500. */
int hx_session_pick(struct ctx *c, int kind, const char *chatbot, const char *asked, struct hx_session *out);

/* Why asked was not continued, for a progress event ("Session X was not
 * continued (it belongs to another chatbot): a new session was started";
 * owner names what another owner is: "chatbot", "assistant"); NULL when
 * it was continued or none was asked. Arena. */
const char *hx_session_note(struct ctx *c, const struct hx_session *h, const char *owner);

/* ---- who may call (handlers/access.c) -------------------------------------------- */

/* A key a request carried, once known. */
struct hx_key {
    unsigned scopes;         /* ACC_* (common/store/access.h) */
    char chatbot[65];        /* "" : every chatbot */
    char id[16];             /* the key's public id; "config" for a key of upload_api_keys */
};

/* The key a request must carry on the upload, manage and admin routes:
 * `Authorization: Bearer <key>` or `X-API-Key`; a key of upload_api_keys
 * (every chatbot, scope admin) or one of troika-admin key create (stored
 * as its SHA-256). 0 with *out filled, or -1 after answering 401
 * UNAUTHORIZED (no key, an unknown or revoked one; WWW-Authenticate:
 * Bearer), 403 FORBIDDEN (its scopes do not reach `need`, ACC_*) or
 * 503 / 500 (the store failed). The key never reaches a log. */
int hx_authenticate(struct ctx *c, unsigned need, struct hx_key *out);

/* Whether key k may do `need` for chatbot (NULL: a host-wide route, which
 * needs a key for every chatbot). 0, or -1 after answering 403
 * FORBIDDEN. */
int hx_permit(struct ctx *c, const struct hx_key *k, unsigned need, const char *chatbot);

/* hx_authenticate then hx_permit. */
int hx_authorize(struct ctx *c, unsigned need, const char *chatbot);

/* 1 when `presented` (n bytes) is one of the comma-separated keys: every
 * key's SHA-256 compared in constant time, all of them each time. */
int hx_key_listed(const char *keys, const char *presented, size_t n);

/* The host's internals (metrics, the scoreboard): 0 when the client is in
 * ops_allowed_networks or carries an admin key for every chatbot; else
 * -1 after answering 403 FORBIDDEN (401 for a wrong key). */
int hx_ops_allowed(struct ctx *c);

/* The handler learned the request's chatbot: CORS keeps an origin that
 * only some chatbot lists when it is this chatbot's (fcgi/cors.h). */
void hx_cors_chatbot(struct ctx *c, const char *chatbot);

#endif
