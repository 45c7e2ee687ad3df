/* session.c: the session store's SQL (MariaDB): sessions and messages over
 * prepared statements; and the pure rule for continuing one. See
 * session.h. */
#include "common/store/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/id.h"
#include "common/store/mariadb.h"

int sess_id_valid(const char *id)
{
    return id && id_valid(id);
}

int sess_decide(const struct sess_info *found, int kind, const char *chatbot, int idle_timeout_s)
{
    if (!found) return SESS_UNKNOWN;
    if (found->kind == SESS_LEGACY) return SESS_OLD;
    if (found->kind != kind || strcmp(found->chatbot, chatbot ? chatbot : "") != 0) return SESS_FOREIGN;
    if (idle_timeout_s > 0 && found->idle_s >= idle_timeout_s) return SESS_EXPIRED;
    return SESS_CONTINUE;
}

const char *sess_decision_name(int decision)
{
    switch (decision) {
    case SESS_CONTINUE: return "continued";
    case SESS_UNKNOWN: return "unknown";
    case SESS_FOREIGN: return "other_owner";
    case SESS_EXPIRED: return "expired";
    default: return "before_owners";
    }
}

const char *sess_kind_name(int kind)
{
    return kind == SESS_AGENT ? "agent" : "chat";
}

static int ssm_find(struct store *s, arena_t *ar, const char *id, struct sess_info *out, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    struct db_param p[1] = {DB_STR(id)};
    struct db_rows rs;
    int rc = db_query(d, ar,
                      "SELECT kind, chatbot_id, TIMESTAMPDIFF(SECOND, updated_at, CURRENT_TIMESTAMP(3)) "
                      "FROM sessions WHERE id = ?",
                      p, 1, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (!rs.nrows) return 0;
    memset(out, 0, sizeof(*out));
    const char *kind = db_cell(&rs, 0, 0);
    out->kind = !kind ? SESS_LEGACY : !strcmp(kind, "agent") ? SESS_AGENT : SESS_CHAT;
    snprintf(out->chatbot, sizeof(out->chatbot), "%s", db_cell(&rs, 0, 1) ? db_cell(&rs, 0, 1) : "");
    out->idle_s = db_cell(&rs, 0, 2) ? atoll(db_cell(&rs, 0, 2)) : 0;
    return 1;
}

static int ssm_open(struct store *s, const char *id, int kind, const char *chatbot_id, struct sess *out, char *err,
                    size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    struct db_param p[3] = {DB_STR(out->id), chatbot_id && *chatbot_id ? DB_STR(chatbot_id) : DB_NULL,
                            DB_STR(sess_kind_name(kind))};
    unsigned long long affected = 0;
    int rc = db_exec(d, "INSERT IGNORE INTO sessions (id, chatbot_id, kind) VALUES (?, ?, ?)", p, 3, &affected, NULL,
                     err, errlen);
    if (rc != DB_OK) return rc;
    out->created = affected > 0;
    if (!out->created)
        rc = db_exec(d, "UPDATE sessions SET updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?", p, 1, NULL, NULL, err,
                     errlen);
    return rc;
}

static int ssm_history(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out, size_t *n,
                       char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    *out = NULL;
    *n = 0;
    if (max_turns <= 0) return DB_OK;
    /* Everything from the oldest of the newest max_turns user messages on
     * (one statement: each is a round trip or three). */
    struct db_param q[4] = {DB_STR(id), DB_STR(id), DB_INT(max_turns), DB_INT(2LL * max_turns + 2)};
    struct db_rows rs;
    int rc = db_query(d, ar,
                      "SELECT role, content, partial, entities FROM messages WHERE session_id = ? AND id >= "
                      "(SELECT MIN(id) FROM (SELECT id FROM messages WHERE session_id = ? AND role = 'user' "
                      "ORDER BY id DESC LIMIT ?) t) ORDER BY id LIMIT ?",
                      q, 4, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    struct sess_msg *m = ar_calloc(ar, rs.nrows ? rs.nrows : 1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    for (size_t r = 0; r < rs.nrows; r++) {
        m[r].role = db_cell(&rs, r, 0);
        m[r].content = db_cell(&rs, r, 1) ? db_cell(&rs, r, 1) : "";
        m[r].len = rs.lens[r * rs.ncols + 1];
        m[r].partial = db_cell(&rs, r, 2) && atoi(db_cell(&rs, r, 2)) != 0;
        m[r].entities = db_cell(&rs, r, 3);
    }
    *out = m;
    *n = rs.nrows;
    return DB_OK;
}

static int ssm_add(struct store *s, const char *id, const char *role, const char *content, size_t len, int partial,
                   const char *entities, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    struct db_param p[5] = {DB_STR(id), DB_STR(role), DB_STRN(content ? content : "", content ? len : 0),
                            DB_INT(partial ? 1 : 0), entities ? DB_STR(entities) : DB_NULL};
    int rc = db_exec(d,
                     "INSERT INTO messages (session_id, role, content, partial, entities) VALUES (?, ?, ?, ?, ?)",
                     p, 5, NULL, NULL, err, errlen);
    if (rc != DB_OK) return rc;
    return db_exec(d, "UPDATE sessions SET updated_at = CURRENT_TIMESTAMP(3) WHERE id = ?", p, 1, NULL, NULL, err,
                   errlen);
}

static int ssm_turn(struct store *s, const char *id, int kind, const char *chatbot_id, const char *user_text,
                    const char *entities, struct sess *out, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    int rc = db_begin(d, err, errlen);
    if (rc != DB_OK) return rc;
    rc = ssm_open(s, id, kind, chatbot_id, out, err, errlen);
    if (rc == DB_OK) {
        struct db_param p[5] = {DB_STR(out->id), DB_STR("user"), DB_STR(user_text), DB_INT(0),
                                entities ? DB_STR(entities) : DB_NULL};
        rc = db_exec(d, "INSERT INTO messages (session_id, role, content, partial, entities) VALUES (?, ?, ?, ?, ?)",
                     p, 5, NULL, NULL, err, errlen);
    }
    if (rc == DB_OK) rc = db_commit(d, err, errlen);
    if (rc != DB_OK) db_rollback(d);
    return rc;
}

/* ---- the retention job ------------------------------------------------------------ */

/* One batch: up to `batch` sessions last used before `cutoff`, locked,
 * their messages counted, deleted (messages by the foreign key's cascade),
 * committed. *n gets how many sessions went. */
static int ssm_prune_batch(struct db *d, arena_t *ar, const char *cutoff, int batch, long long *n, long long *msgs,
                           char *err, size_t errlen)
{
    struct db_param p[2] = {DB_STR(cutoff), DB_INT(batch)};
    struct db_rows rs;
    *n = 0;
    int rc = db_begin(d, err, errlen);
    if (rc != DB_OK) return rc;
    rc = db_query(d, ar, "SELECT id FROM sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ? FOR UPDATE", p, 2,
                  (size_t)batch, &rs, err, errlen);
    if (rc != DB_OK || !rs.nrows) goto out;
    buf_t in;
    buf_init(&in, ar, 64 + 3 * rs.nrows);
    struct db_param *q = ar_calloc(ar, rs.nrows + 1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "out of memory");
        rc = DB_EQUERY;
        goto out;
    }
    for (size_t i = 0; i < rs.nrows; i++) {
        buf_adds(&in, i ? ",?" : "?");
        q[i] = DB_STR(db_cell(&rs, i, 0));
    }
    const char *ids = in.p ? in.p : "?";
    struct db_rows cnt;
    rc = db_query(d, ar, ar_printf(ar, "SELECT COUNT(*) FROM messages WHERE session_id IN (%s)", ids), q, rs.nrows,
                  1, &cnt, err, errlen);
    if (rc != DB_OK) goto out;
    *msgs += cnt.nrows && db_cell(&cnt, 0, 0) ? atoll(db_cell(&cnt, 0, 0)) : 0;
    unsigned long long gone = 0;
    rc = db_exec(d, ar_printf(ar, "DELETE FROM sessions WHERE id IN (%s)", ids), q, rs.nrows, &gone, NULL, err,
                 errlen);
    if (rc == DB_OK) rc = db_commit(d, err, errlen);
    if (rc == DB_OK) *n = (long long)gone;
out:
    if (rc != DB_OK) db_rollback(d);
    else if (!rs.nrows) rc = db_commit(d, err, errlen);
    return rc;
}

static int ssm_prune(struct store *s, arena_t *ar, long long idle_s, int batch, int dry_run, long long *sessions,
                     long long *messages, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    *sessions = *messages = 0;
    /* One cutoff for the whole run, so that sessions turning idle while it
     * runs do not keep it going. */
    struct db_param p[1] = {DB_INT(idle_s)};
    struct db_rows rs;
    int rc = db_query(d, ar, "SELECT CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND", p, 1, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    if (!rs.nrows || !db_cell(&rs, 0, 0)) {
        snprintf(err, errlen, "the server gave no time");
        return ST_EQUERY;
    }
    const char *cutoff = db_cell(&rs, 0, 0);
    struct db_param c[1] = {DB_STR(cutoff)};
    if (dry_run) {
        rc = db_query(d, ar,
                      "SELECT (SELECT COUNT(*) FROM sessions WHERE updated_at < ?), (SELECT COUNT(*) FROM messages m "
                      "JOIN sessions x ON x.id = m.session_id WHERE x.updated_at < ?)",
                      (struct db_param[]){c[0], c[0]}, 2, 1, &rs, err, errlen);
        if (rc != DB_OK) return rc;
        *sessions = atoll(db_cell(&rs, 0, 0) ? db_cell(&rs, 0, 0) : "0");
        *messages = atoll(db_cell(&rs, 0, 1) ? db_cell(&rs, 0, 1) : "0");
        return ST_OK;
    }
    for (;;) {
        long long n = 0;
        rc = ssm_prune_batch(d, ar, cutoff, batch, &n, messages, err, errlen);
        if (rc != DB_OK) return rc;
        *sessions += n;
        if (n < batch) return ST_OK;
    }
}

const struct sess_ops sess_mariadb = {
    .find = ssm_find,
    .open = ssm_open,
    .history = ssm_history,
    .turn = ssm_turn,
    .add = ssm_add,
    .prune = ssm_prune,
};
