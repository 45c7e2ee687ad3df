/* session.h: conversation sessions and their messages in MySQL, shared by
 * chat (issue 7) and the sales agent (issue 9).
 *
 * A session is identified by its id alone (1-64 of [A-Za-z0-9._-]); an
 * unknown id given by a client is created under that id, a missing one gets
 * a fresh random id. Messages keep the user's words and the assistant's
 * answer; an answer cut short (client gone, upstream failure) is stored with
 * partial = 1. Reached through struct store (store.h): with MariaDB,
 * every call is one or two prepared statements on the worker's
 * connection; results land in the request arena. Returns ST_OK or
 * ST_ECONN / ST_EQUERY with err filled. */
#ifndef TROIKA_SESSION_H
#define TROIKA_SESSION_H

#include <stddef.h>

#include "common/base/arena.h"
#include "common/store/store.h"

struct sess {
    char id[65];
    int created;      /* 1: this call created the session */
};

struct sess_msg {
    const char *role;      /* "user" or "assistant" */
    const char *content;
    size_t len;
    int partial;
    const char *entities;  /* JSON text or NULL */
};

/* 1 when id can name a session. */
int sess_id_valid(const char *id);

struct sess_ops {
    int (*open)(struct store *s, const char *want, const char *chatbot_id, struct sess *out, char *err,
                size_t errlen);
    int (*history)(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out, size_t *n,
                   char *err, size_t errlen);
    int (*load)(struct store *s, arena_t *ar, const char *id, int max_turns, int *exists, struct sess_msg **hist,
                size_t *nhist, char *err, size_t errlen);
    int (*turn)(struct store *s, const char *id, const char *chatbot_id, const char *user_text,
                const char *entities, struct sess *out, char *err, size_t errlen);
    int (*add)(struct store *s, const char *id, const char *role, const char *content, size_t len, int partial,
               const char *entities, char *err, size_t errlen);
};

/* Opens the session `want` (NULL or "": a new one), creating it when it
 * does not exist, and marks it used. chatbot_id (may be NULL) is recorded
 * on creation. */
static inline int sess_open(struct store *s, const char *want, const char *chatbot_id, struct sess *out,
                            char *err, size_t errlen)
{
    return s->sess->open(s, want, chatbot_id, out, err, errlen);
}

/* The last max_turns turns (a user message and what followed it, oldest
 * first): at most 2 * max_turns messages. Borrowed (arena). */
static inline int sess_history(struct store *s, arena_t *ar, const char *id, int max_turns, struct sess_msg **out,
                               size_t *n, char *err, size_t errlen)
{
    return s->sess->history(s, ar, id, max_turns, out, n, err, errlen);
}

/* Reads only (no commit on the request's path): whether session `id`
 * exists, and its last max_turns turns as sess_history gives them. */
static inline int sess_load(struct store *s, arena_t *ar, const char *id, int max_turns, int *exists,
                            struct sess_msg **hist, size_t *nhist, char *err, size_t errlen)
{
    return s->sess->load(s, ar, id, max_turns, exists, hist, nhist, err, errlen);
}

/* Stores the start of a turn in one transaction (one commit): the session
 * (created when it does not exist, else marked used) and the user's
 * message (entities: JSON text or NULL). out->created says which. A
 * caller may run it while an upstream prepares its answer. */
static inline int sess_turn(struct store *s, const char *id, const char *chatbot_id, const char *user_text,
                            const char *entities, struct sess *out, char *err, size_t errlen)
{
    return s->sess->turn(s, id, chatbot_id, user_text, entities, out, err, errlen);
}

/* Appends a message; entities is a JSON text or NULL. */
static inline int sess_add(struct store *s, const char *id, const char *role, const char *content, size_t len,
                           int partial, const char *entities, char *err, size_t errlen)
{
    return s->sess->add(s, id, role, content, len, partial, entities, err, errlen);
}

#endif
