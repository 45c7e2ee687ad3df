/* sessions.c: which session a chat or sales-agent request continues, or
 * starts, decided before `connected` so that the id sent there is final
 * (docs/access.md "Sessions"). The client's id is used only when the
 * session store says it exists, belongs to this owner (chat of this
 * chatbot, or the agent with this chatbotId) and has not sat idle past
 * session_idle_timeout_s; otherwise a fresh id from the kernel's CSPRNG. */
#include <stdio.h>
#include <string.h>

#include "common/base/config.h"
#include "common/base/id.h"
#include "common/base/log.h"
#include "common/store/session.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

int hx_session_pick(struct ctx *c, int kind, const char *chatbot, const char *asked, struct hx_session *out)
{
    memset(out, 0, sizeof(*out));
    out->asked = asked && *asked ? asked : NULL;
    out->decision = SESS_UNKNOWN;
    if (out->asked) {
        struct sess_info info;
        char err[512];
        int rc = sess_find(c->app->store, c->ar, out->asked, &info, err, sizeof(err));
        if (rc < 0) {
            LOG_ERROR(c->route->name, c->req->id, NULL, "Session lookup failed: %s: %s", st_code(rc), err);
            sink_reject(c->sink, sink_status_for(st_code(rc)), st_code(rc),
                        rc == ST_ECONN ? "The database is unreachable (session)"
                                       : "The database could not answer (session)",
                        NULL);
            return -1;
        }
        out->decision = sess_decide(rc == 1 ? &info : NULL, kind, chatbot, c->app->cfg.session_idle_timeout_s);
        if (out->decision == SESS_CONTINUE) {
            out->id = out->asked;
            out->continued = 1;
            return 0;
        }
        LOG_INFO(c->route->name, c->req->id, NULL, "Session not continued (%s): a new one was issued",
                 sess_decision_name(out->decision));
    }
    char fresh[ID_SIZE];
    if (id_secret(fresh) < 0 || !(out->id = ar_strdup(c->ar, fresh))) {
        LOG_ERROR(c->route->name, c->req->id, NULL, "No session id: the kernel's random source failed");
        sink_reject(c->sink, 500, "PROCESSING_ERROR", "A session id could not be made", NULL);
        return -1;
    }
    return 0;
}

const char *hx_session_note(struct ctx *c, const struct hx_session *h, const char *owner)
{
    if (!h->asked || h->continued) return NULL;
    const char *why = h->decision == SESS_FOREIGN   ? ar_printf(c->ar, "it belongs to another %s", owner)
                      : h->decision == SESS_EXPIRED ? ar_printf(c->ar, "it was idle longer than %d s",
                                                                c->app->cfg.session_idle_timeout_s)
                      : h->decision == SESS_OLD     ? "it was made before sessions belonged to a chatbot"
                                                    : "there is no such session";
    return ar_printf(c->ar, "Session %.64s was not continued (%s): a new session was started", h->asked, why);
}
