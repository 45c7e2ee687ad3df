/* session.c: the session store's SQL (MariaDB): sessions and messages over
 * prepared statements; see session.h. */
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

static int ssm_open(struct store *s, const char *want, const char *chatbot_id, struct sess *out, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    memset(out, 0, sizeof(*out));
    if (want && *want) {
        snprintf(out->id, sizeof(out->id), "%s", want);
    } else {
        char fresh[ID_SIZE];
        id_new(fresh);
        memcpy(out->id, fresh, sizeof(fresh));
    }
    struct db_param p[2] = {DB_STR(out->id), chatbot_id && *chatbot_id ? DB_STR(chatbot_id) : DB_NULL};
    unsigned long long affected = 0;
    int rc = db_exec(d, "INSERT IGNORE INTO sessions (id, chatbot_id) VALUES (?, ?)", p, 2, &affected, NULL, err,
                     errlen);
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

static int ssm_load(struct store *s, arena_t *ar, const char *id, int max_turns, int *exists, struct sess_msg **hist,
              size_t *nhist, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    struct db_param p[1] = {DB_STR(id)};
    struct db_rows rs;
    *hist = NULL;
    *nhist = 0;
    int rc = db_query(d, ar, "SELECT 1 FROM sessions WHERE id = ?", p, 1, 1, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *exists = rs.nrows > 0;
    return *exists ? ssm_history(s, ar, id, max_turns, hist, nhist, err, errlen) : DB_OK;
}

static int ssm_turn(struct store *s, const char *id, const char *chatbot_id, const char *user_text, const char *entities,
              struct sess *out, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    int rc = db_begin(d, err, errlen);
    if (rc != DB_OK) return rc;
    rc = ssm_open(s, id, chatbot_id, out, err, errlen);
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

const struct sess_ops sess_mariadb = {
    .open = ssm_open,
    .history = ssm_history,
    .load = ssm_load,
    .turn = ssm_turn,
    .add = ssm_add,
};
