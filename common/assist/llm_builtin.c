/* llm_builtin.c: the `builtin` LLM provider (llm.h): no network and no
 * model. A streaming task's answer is the one its compose() writes from the
 * same inputs a model would be given, streamed word by word; JSON-mode
 * tasks need a model and answer LLM_ENOMODEL, so the caller keeps its own
 * result. Deterministic: the same task gives the same events. */
#include <stdio.h>
#include <string.h>

#include "common/assist/llm.h"
#include "common/assist/llm_provider.h"

static int bi_stream(struct llm *l, arena_t *ar, const struct llm_task *t, const struct llm_cb *cb,
                     struct llm_result *res)
{
    (void)l;
    int rc = cb->sent ? cb->sent(cb->arg) : 0;   /* nothing to wait for: "sent" at once */
    if (rc) {
        res->rc = rc;
        snprintf(res->err, sizeof(res->err), "aborted");
        return rc;
    }
    const char *text = NULL;
    size_t len = 0;
    if (!t->compose || t->compose(t->arg, ar, &text, &len) < 0 || !text) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "The answer could not be composed");
        return res->rc;
    }
    res->text_len = len;
    if ((rc = llm_words(text, len, cb->delta, cb->arg)) != 0) {
        res->rc = rc;
        snprintf(res->err, sizeof(res->err), "aborted");
        return rc;
    }
    snprintf(res->stop_reason, sizeof(res->stop_reason), "stop");
    res->rc = LLM_OK;
    return LLM_OK;
}

static int bi_json(struct llm *l, arena_t *ar, const struct llm_task *t, llm_tick_fn tick, void *arg, char **out,
                   size_t *outlen, struct llm_result *res)
{
    (void)l, (void)ar, (void)t, (void)tick, (void)arg, (void)out, (void)outlen;
    static const char why[] = "the builtin provider has no model";
    memcpy(res->err, why, sizeof(why));   /* on every chat request: no printf */
    res->rc = LLM_ENOMODEL;
    return res->rc;
}

int llm_builtin_init(struct llm *l, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    snprintf(l->name, sizeof(l->name), "builtin");
    l->stream = bi_stream;
    l->json = bi_json;
    return 0;
}
