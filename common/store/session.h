/* session.h: conversation sessions and their messages, shared by chat
 * (issue 7) and the sales agent (issue 9), behind struct store (store.h).
 *
 * A session is issued by the server (id_secret: 128 bits from the
 * kernel's CSPRNG) and belongs to whoever created it: the chat of one
 * chatbot, or the sales agent (with the chatbotId it was given, or none).
 * A client continues a session by sending its id; the handler asks
 * sess_find and sess_decide whether that id may be continued by this
 * owner, now: an id that does not exist, belongs to another owner, sat
 * idle longer than session_idle_timeout_s, or predates owners (a row
 * without kind) is never adopted: a fresh id is issued instead.
 * Messages keep the user's words and the assistant's answer; an answer
 * cut short (client gone, upstream failure) is stored with partial = 1.
 * With MariaDB every call is one or two prepared statements on the
 * worker's connection; results land in the arena given. Returns ST_OK or
 * ST_ECONN / ST_EQUERY with err filled, unless a comment says otherwise. */
#ifndef TROIKA_SESSION_H
#define TROIKA_SESSION_H

#include <stddef.h>

#include "common/base/arena.h"
#include "common/store/store.h"

/* Who owns a session (sessions.kind). */
enum { SESS_LEGACY = 0, SESS_CHAT = 1, SESS_AGENT = 2 };

struct sess {
    char id[65];
    int created;      /* 1: this call created the session */
};

/* A stored session as sess_find reads it. */
struct sess_info {
    int kind;             /* SESS_CHAT, SESS_AGENT, or SESS_LEGACY (a row from before owners) */
    char chatbot[65];     /* "" when none */
    long long idle_s;     /* seconds since it was last used */
};

struct sess_msg {
    const char *role;      /* "user" or "assistant" */
    const char *content;
    size_t len;
    int partial;
    const char *entities;  /* JSON text or NULL */
};

/* What sess_decide says about a session id a client sent. */
enum {
    SESS_CONTINUE = 0,     /* continue it */
    SESS_UNKNOWN = 1,      /* no such session (never was, or pruned) */
    SESS_FOREIGN = 2,      /* another chatbot's (or chat's / the agent's) */
    SESS_EXPIRED = 3,      /* idle longer than the timeout */
    SESS_OLD = 4,          /* created before sessions had owners */
};

/* 1 when id can name a session. */
int sess_id_valid(const char *id);

/* Whether a client may continue the session `found` (NULL: not found) as
 * owner (kind, chatbot: NULL or "" for none), with idle_timeout_s (0:
 * sessions never expire). A SESS_* decision. Pure. */
int sess_decide(const struct sess_info *found, int kind, const char *chatbot, int idle_timeout_s);

/* The decision as a word for progress events and logs ("unknown",
 * "other_owner", "expired", "before_owners"; "continued"). */
const char *sess_decision_name(int decision);

/* "chat" / "agent" for SESS_CHAT / SESS_AGENT. */
const char *sess_kind_name(int kind);

struct sess_ops {
    int (*find)(struct store *s, arena_t *ar, const char *id, struct sess_info *out, char *err, size_t errlen);
    int (*open)(struct store *s, const char *id, int kind, const char *chatbot_id, struct sess *out, char *err,
                size_t errlen);
    int (*history)(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out, size_t *n,
                   char *err, size_t errlen);
    int (*turn)(struct store *s, const char *id, int kind, const char *chatbot_id, const char *user_text,
                const char *entities, struct sess *out, char *err, size_t errlen);
    int (*add)(struct store *s, const char *id, const char *role, const char *content, size_t len, int partial,
               const char *entities, char *err, size_t errlen);
    int (*prune)(struct store *s, arena_t *ar, long long idle_s, int batch, int dry_run, long long *sessions,
                 long long *messages, char *err, size_t errlen);
};

/* Session id: 1 found (out filled), 0 not found, or ST_ECONN / ST_EQUERY. */
static inline int sess_find(struct store *s, arena_t *ar, const char *id, struct sess_info *out, char *err,
                            size_t errlen)
{
    return s->sess->find(s, ar, id, out, err, errlen);
}

/* Opens session id (a server-issued one: the caller decided it may be
 * continued, or made it fresh), creating it for owner (kind, chatbot_id:
 * NULL for none) when it does not exist, and marks it used. */
static inline int sess_open(struct store *s, const char *id, int kind, const char *chatbot_id, struct sess *out,
                            char *err, size_t errlen)
{
    return s->sess->open(s, id, kind, chatbot_id, out, err, errlen);
}

/* The last max_turns turns (a user message and what followed it, oldest
 * first): at most 2 * max_turns messages. Borrowed (arena). */
static inline int sess_history(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out,
                               size_t *n, char *err, size_t errlen)
{
    return s->sess->history(s, ar, id, max_turns, out, n, err, errlen);
}

/* Stores the start of a turn in one transaction (one commit): the session
 * (created for its owner when it does not exist, else marked used) and
 * the user's message (entities: JSON text or NULL). out->created says
 * which. A caller may run it while an upstream prepares its answer. */
static inline int sess_turn(struct store *s, const char *id, int kind, const char *chatbot_id, const char *user_text,
                            const char *entities, struct sess *out, char *err, size_t errlen)
{
    return s->sess->turn(s, id, kind, chatbot_id, user_text, entities, out, err, errlen);
}

/* Appends a message; entities is a JSON text or NULL. */
static inline int sess_add(struct store *s, const char *id, const char *role, const char *content, size_t len,
                           int partial, const char *entities, char *err, size_t errlen)
{
    return s->sess->add(s, id, role, content, len, partial, entities, err, errlen);
}

/* The retention job: deletes every session not used for idle_s seconds,
 * with its messages, `batch` sessions a transaction (so a large backlog
 * never holds locks for long); dry_run counts without deleting. *sessions
 * and *messages get what was (or would be) deleted. */
static inline int sess_prune(struct store *s, arena_t *ar, long long idle_s, int batch, int dry_run,
                             long long *sessions, long long *messages, char *err, size_t errlen)
{
    return s->sess->prune(s, ar, idle_s, batch, dry_run, sessions, messages, err, errlen);
}

#endif
