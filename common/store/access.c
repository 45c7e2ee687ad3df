/* access.c: the access store's SQL (MariaDB): api_keys and
 * chatbot_origins over prepared statements; the scope words. See
 * access.h. */
#include "common/store/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/store/mariadb.h"

static const struct {
    const char *word;
    unsigned bit;
} acc_scope_words[] = {{"upload", ACC_UPLOAD}, {"manage", ACC_MANAGE}, {"admin", ACC_ADMIN}};

int acc_allows(unsigned scopes, unsigned need)
{
    /* each scope covers itself and every scope below it */
    unsigned covered = 0;
    if (scopes & ACC_ADMIN) covered |= ACC_ADMIN | ACC_MANAGE | ACC_UPLOAD;
    if (scopes & ACC_MANAGE) covered |= ACC_MANAGE | ACC_UPLOAD;
    if (scopes & ACC_UPLOAD) covered |= ACC_UPLOAD;
    return need && (covered & need) == need;
}

unsigned acc_scopes_parse(const char *text)
{
    unsigned bits = 0;
    const char *p = text;
    while (p && *p) {
        while (*p == ',' || *p == ' ') p++;
        const char *b = p;
        while (*p && *p != ',' && *p != ' ') p++;
        size_t n = (size_t)(p - b);
        if (!n) continue;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof(acc_scope_words) / sizeof(acc_scope_words[0]); i++)
            if (strlen(acc_scope_words[i].word) == n && !strncasecmp(b, acc_scope_words[i].word, n))
                bit = acc_scope_words[i].bit;
        if (!bit) return 0;
        bits |= bit;
    }
    return bits;
}

const char *acc_scope_name(unsigned scopes)
{
    return scopes & ACC_ADMIN ? "admin" : scopes & ACC_MANAGE ? "manage" : scopes & ACC_UPLOAD ? "upload" : "none";
}

/* The bits as the SET column's text: "upload,manage". */
static void acc_scopes_text(unsigned bits, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(acc_scope_words) / sizeof(acc_scope_words[0]); i++)
        if (bits & acc_scope_words[i].bit)
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", acc_scope_words[i].word);
}

#define ACC_DB(s, err, errlen)                      \
    struct db *d = stm_db((s), (err), (errlen));    \
    if (!d) return ST_ECONN

static int accm_key_find(struct store *s, arena_t *ar, const uint8_t hash[32], struct acc_key *out, char *err,
                         size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_param p[] = {DB_BLOB(hash, 32)};
    struct db_rows rs;
    int rc = db_query(d, ar,
                      "SELECT id, scopes, chatbot_id, revoked_at IS NOT NULL, "
                      "last_used_at IS NULL OR last_used_at < CURRENT_TIMESTAMP(3) - INTERVAL 60 SECOND "
                      "FROM api_keys WHERE hash = ?",
                      p, 1, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (!rs.nrows) return 0;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", db_cell(&rs, 0, 0) ? db_cell(&rs, 0, 0) : "");
    out->scopes = acc_scopes_parse(db_cell(&rs, 0, 1) ? db_cell(&rs, 0, 1) : "");
    snprintf(out->chatbot, sizeof(out->chatbot), "%s", db_cell(&rs, 0, 2) ? db_cell(&rs, 0, 2) : "");
    out->revoked = db_cell(&rs, 0, 3) && atoi(db_cell(&rs, 0, 3)) != 0;
    out->stale = db_cell(&rs, 0, 4) && atoi(db_cell(&rs, 0, 4)) != 0;
    return 1;
}

static int accm_key_touch(struct store *s, const char *id, char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_param p[] = {DB_STR(id)};
    return db_exec(d, "UPDATE api_keys SET last_used_at = CURRENT_TIMESTAMP(3) WHERE id = ?", p, 1, NULL, NULL, err,
                   errlen);
}

static int accm_key_add(struct store *s, const struct acc_key_new *k, char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    char scopes[64];
    acc_scopes_text(k->scopes, scopes, sizeof(scopes));
    struct db_param p[] = {DB_STR(k->id), DB_BLOB(k->hash, 32), DB_STR(k->prefix), DB_STR(scopes),
                           k->chatbot ? DB_STR(k->chatbot) : DB_NULL, k->name ? DB_STR(k->name) : DB_NULL};
    return db_exec(d, "INSERT INTO api_keys (id, hash, prefix, scopes, chatbot_id, name) VALUES (?, ?, ?, ?, ?, ?)",
                   p, 6, NULL, NULL, err, errlen);
}

static int accm_key_list(struct store *s, arena_t *ar, struct acc_key_row **out, size_t *n, char *err,
                         size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_rows rs;
    *n = 0;
    int rc = db_query(d, ar,
                      "SELECT id, prefix, scopes, chatbot_id, name, created_at, last_used_at, revoked_at "
                      "FROM api_keys ORDER BY created_at DESC, id",
                      NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(**out));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct acc_key_row){db_cell(&rs, i, 0), db_cell(&rs, i, 1), db_cell(&rs, i, 2),
                                         db_cell(&rs, i, 3), db_cell(&rs, i, 4), db_cell(&rs, i, 5),
                                         db_cell(&rs, i, 6), db_cell(&rs, i, 7)};
    *n = rs.nrows;
    return ST_OK;
}

static int accm_key_revoke(struct store *s, const char *id, char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_param p[] = {DB_STR(id)};
    unsigned long long affected = 0;
    int rc = db_exec(d, "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND revoked_at IS NULL",
                     p, 1, &affected, NULL, err, errlen);
    return rc != DB_OK ? rc : affected > 0;
}

static int accm_origin_allowed(struct store *s, arena_t *ar, const char *chatbot, const char *origin, char *err,
                               size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {DB_STR(origin), chatbot ? DB_STR(chatbot) : DB_NULL};
    int rc = chatbot ? db_query(d, ar, "SELECT 1 FROM chatbot_origins WHERE origin = ? AND chatbot_id = ?", p, 2, 1,
                                &rs, err, errlen)
                     : db_query(d, ar, "SELECT 1 FROM chatbot_origins WHERE origin = ? LIMIT 1", p, 1, 1, &rs, err,
                                errlen);
    return rc != DB_OK ? rc : rs.nrows > 0;
}

static int accm_origin_add(struct store *s, const char *chatbot, const char *origin, char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_param p[] = {DB_STR(chatbot), DB_STR(origin)};
    return db_exec(d, "INSERT IGNORE INTO chatbot_origins (chatbot_id, origin) VALUES (?, ?)", p, 2, NULL, NULL, err,
                   errlen);
}

static int accm_origin_remove(struct store *s, const char *chatbot, const char *origin, char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_param p[] = {DB_STR(chatbot), DB_STR(origin)};
    unsigned long long affected = 0;
    int rc = db_exec(d, "DELETE FROM chatbot_origins WHERE chatbot_id = ? AND origin = ?", p, 2, &affected, NULL,
                     err, errlen);
    return rc != DB_OK ? rc : affected > 0;
}

static int accm_origin_list(struct store *s, arena_t *ar, const char *chatbot, struct acc_origin **out, size_t *n,
                            char *err, size_t errlen)
{
    ACC_DB(s, err, errlen);
    struct db_rows rs;
    struct db_param p[] = {chatbot ? DB_STR(chatbot) : DB_NULL};
    *n = 0;
    int rc = chatbot ? db_query(d, ar,
                                "SELECT chatbot_id, origin, created_at FROM chatbot_origins WHERE chatbot_id = ? "
                                "ORDER BY origin",
                                p, 1, 0, &rs, err, errlen)
                     : db_query(d, ar,
                                "SELECT chatbot_id, origin, created_at FROM chatbot_origins ORDER BY chatbot_id, "
                                "origin",
                                NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(**out));
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct acc_origin){db_cell(&rs, i, 0), db_cell(&rs, i, 1), db_cell(&rs, i, 2)};
    *n = rs.nrows;
    return ST_OK;
}

const struct acc_ops acc_mariadb = {
    .key_find = accm_key_find,
    .key_touch = accm_key_touch,
    .key_add = accm_key_add,
    .key_list = accm_key_list,
    .key_revoke = accm_key_revoke,
    .origin_allowed = accm_origin_allowed,
    .origin_add = accm_origin_add,
    .origin_remove = accm_origin_remove,
    .origin_list = accm_origin_list,
};
