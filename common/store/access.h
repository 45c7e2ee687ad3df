/* access.h: who may call what, behind struct store (store.h): the API
 * keys made by `troika-admin key create` (kept as their SHA-256 only, with
 * scopes and a chatbot), and the origins whose browser pages may call the
 * API for one chatbot (CORS, besides the config's cors_allowed_origins).
 *
 * Scopes nest: upload < manage < admin; a key with a scope may do what
 * the ones before it allow (a manage key may upload). A key names one
 * chatbot, or every chatbot.
 *
 * Memory: rows land in the arena given (borrowed until it is reset). Each
 * call returns ST_OK or ST_ECONN / ST_EQUERY with err filled, unless its
 * comment says otherwise. Nothing here ever holds or logs a key: only its
 * digest reaches the store. */
#ifndef TROIKA_ACCESS_H
#define TROIKA_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/store/store.h"

enum { ACC_UPLOAD = 1, ACC_MANAGE = 2, ACC_ADMIN = 4 };

enum { ACC_ID_SIZE = 16 };   /* a key's public id: "k" + 12 hex digits and the NUL */

/* A key as the request path needs it. */
struct acc_key {
    char id[ACC_ID_SIZE];
    unsigned scopes;          /* ACC_* bits as stored */
    char chatbot[65];         /* "" : every chatbot */
    int revoked;
    int stale;                /* last used more than a minute ago (or never): acc_key_touch is due */
};

/* A key to store (troika-admin key create). */
struct acc_key_new {
    const char *id;           /* "k" + 12 hex */
    const uint8_t *hash;      /* 32 bytes: SHA-256 of the key */
    const char *prefix;       /* its first characters, for listings */
    unsigned scopes;
    const char *chatbot;      /* NULL: every chatbot */
    const char *name;         /* NULL: none */
};

/* A key as `key list` shows it. */
struct acc_key_row {
    const char *id, *prefix, *scopes, *chatbot, *name, *created, *last_used, *revoked;   /* NULL: none */
};

/* An origin of a chatbot. */
struct acc_origin {
    const char *chatbot, *origin, *created;
};

/* 1 when scopes allow `need` (one ACC_* bit): a scope covers the ones below it. */
int acc_allows(unsigned scopes, unsigned need);

/* "upload,manage" and the like into bits; 0 when a word is not a scope
 * or the list is empty. */
unsigned acc_scopes_parse(const char *text);

/* The widest scope in bits, as a word ("admin"), for messages. */
const char *acc_scope_name(unsigned scopes);

struct acc_ops {
    int (*key_find)(struct store *s, arena_t *ar, const uint8_t hash[32], struct acc_key *out, char *err,
                    size_t errlen);
    int (*key_touch)(struct store *s, const char *id, char *err, size_t errlen);
    int (*key_add)(struct store *s, const struct acc_key_new *k, char *err, size_t errlen);
    int (*key_list)(struct store *s, arena_t *ar, struct acc_key_row **out, size_t *n, char *err, size_t errlen);
    int (*key_revoke)(struct store *s, const char *id, char *err, size_t errlen);
    int (*origin_allowed)(struct store *s, arena_t *ar, const char *chatbot, const char *origin, char *err,
                          size_t errlen);
    int (*origin_add)(struct store *s, const char *chatbot, const char *origin, char *err, size_t errlen);
    int (*origin_remove)(struct store *s, const char *chatbot, const char *origin, char *err, size_t errlen);
    int (*origin_list)(struct store *s, arena_t *ar, const char *chatbot, struct acc_origin **out, size_t *n,
                       char *err, size_t errlen);
};

/* The key whose SHA-256 is hash: 1 found (out filled, revoked ones too),
 * 0 none, or ST_E*. */
static inline int acc_key_find(struct store *s, arena_t *ar, const uint8_t hash[32], struct acc_key *out, char *err,
                               size_t errlen)
{
    return s->acc->key_find(s, ar, hash, out, err, errlen);
}

/* Records that key id was used now. */
static inline int acc_key_touch(struct store *s, const char *id, char *err, size_t errlen)
{
    return s->acc->key_touch(s, id, err, errlen);
}

static inline int acc_key_add(struct store *s, const struct acc_key_new *k, char *err, size_t errlen)
{
    return s->acc->key_add(s, k, err, errlen);
}

/* Every key, newest first. */
static inline int acc_key_list(struct store *s, arena_t *ar, struct acc_key_row **out, size_t *n, char *err,
                               size_t errlen)
{
    return s->acc->key_list(s, ar, out, n, err, errlen);
}

/* Revokes key id: 1 revoked now, 0 no such key or revoked already. */
static inline int acc_key_revoke(struct store *s, const char *id, char *err, size_t errlen)
{
    return s->acc->key_revoke(s, id, err, errlen);
}

/* Whether origin (lower case) may call for chatbot, or (chatbot NULL) for
 * some chatbot: 1 yes, 0 no, or ST_E*. */
static inline int acc_origin_allowed(struct store *s, arena_t *ar, const char *chatbot, const char *origin,
                                     char *err, size_t errlen)
{
    return s->acc->origin_allowed(s, ar, chatbot, origin, err, errlen);
}

/* Adds origin (checked and lower-cased by the caller) to chatbot's list. */
static inline int acc_origin_add(struct store *s, const char *chatbot, const char *origin, char *err, size_t errlen)
{
    return s->acc->origin_add(s, chatbot, origin, err, errlen);
}

/* 1 removed, 0 it was not listed. */
static inline int acc_origin_remove(struct store *s, const char *chatbot, const char *origin, char *err,
                                    size_t errlen)
{
    return s->acc->origin_remove(s, chatbot, origin, err, errlen);
}

/* chatbot's origins, or every chatbot's (NULL), by chatbot and origin. */
static inline int acc_origin_list(struct store *s, arena_t *ar, const char *chatbot, struct acc_origin **out,
                                  size_t *n, char *err, size_t errlen)
{
    return s->acc->origin_list(s, ar, chatbot, out, n, err, errlen);
}

#endif
