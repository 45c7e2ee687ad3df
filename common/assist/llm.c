/* llm.c: llm_open picks the provider named in config; every provider fills
 * the same struct llm (llm_provider.h), and the calls here only pass
 * through. Also what the providers share: the word streamer, failures, a
 * task's messages and the sentence gate. */
#include "common/assist/llm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assist/llm_provider.h"
#include "common/base/config.h"
#include "common/text/sentence.h"

struct llm *llm_open(const struct cfg *c, struct hc **hc, char *err, size_t errlen)
{
    struct llm *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc;
    if (!strcmp(c->llm_provider, "builtin")) {
        rc = llm_builtin_init(l, err, errlen);
    } else if (!strcmp(c->llm_provider, "openai")) {
        rc = llm_openai_init(l, c, hc, err, errlen);
    } else {
        snprintf(err, errlen, "llm_provider: '%s' is not one of builtin, openai", c->llm_provider);
        rc = -1;
    }
    if (rc < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void llm_close(struct llm *l)
{
    if (!l) return;
    if (l->close) l->close(l);
    free(l);
}

const char *llm_name(const struct llm *l) { return l->name; }

int llm_aborted(int rc)
{
    return rc != LLM_OK && rc != LLM_ETIMEOUT && rc != LLM_EUPSTREAM && rc != LLM_EINTERNAL && rc != LLM_ENOMODEL;
}

int llm_stream(struct llm *l, arena_t *ar, const struct llm_task *task, const struct llm_cb *cb,
               struct llm_result *res)
{
    memset(res, 0, sizeof(*res));
    return l->stream(l, ar, task, cb, res);
}

int llm_json(struct llm *l, arena_t *ar, const struct llm_task *task, llm_tick_fn tick, void *arg, char **out,
             size_t *outlen, struct llm_result *res)
{
    memset(res, 0, sizeof(*res));
    *out = NULL;
    if (outlen) *outlen = 0;
    return l->json(l, ar, task, tick, arg, out, outlen, res);
}

void llm_fail(struct llm_result *res, int rc, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->err, sizeof(res->err), fmt, ap);
    va_end(ap);
    res->rc = rc;
    snprintf(res->code, sizeof(res->code), "%s", code);
}

int llm_task_messages(const struct llm_task *t, arena_t *ar, const struct llm_msg **msgs, size_t *n)
{
    if (t->messages) return t->messages(t->arg, ar, msgs, n);
    *msgs = t->msgs;
    *n = t->nmsgs;
    return 0;
}

int llm_words(const char *text, size_t len, llm_delta_fn on_delta, void *arg)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) j++;
        while (j < len && !(text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) j++;
        int rc = on_delta(arg, text + i, j - i);
        if (rc) return rc;
        i = j;
    }
    return 0;
}

/* ---- the sentence gate ------------------------------------------------------------ */

void llm_gate_init(struct llm_gate *g, arena_t *ar, const struct llm_task *task, const struct llm_cb *cb)
{
    g->task = task;
    g->cb = cb;
    buf_init(&g->pend, ar, 64 * 1024);
}

/* Releases (or drops) the complete sentences at the front of pend. */
static int llm_gate_release(struct llm_gate *g, int final)
{
    buf_t *p = &g->pend;
    while (p->len) {
        size_t b = sent_boundary(p->p, p->len, final);
        if (!b) return 0;
        size_t e = b;
        while (e < p->len && (p->p[e] == ' ' || p->p[e] == '\t' || p->p[e] == '\n' || p->p[e] == '\r' ||
                              p->p[e] == '\f' || p->p[e] == '\v'))
            e++;
        int rc = 0;
        if (g->task->keep(g->task->arg, p->p, b)) rc = g->cb->delta(g->cb->arg, p->p, e);
        memmove(p->p, p->p + e, p->len - e);
        p->len -= e;
        p->p[p->len] = '\0';
        if (rc) return rc;
    }
    return 0;
}

int llm_gate_delta(void *gate, const char *text, size_t n)
{
    struct llm_gate *g = gate;
    if (!g->task->keep) return g->cb->delta(g->cb->arg, text, n);
    if (buf_add(&g->pend, text, n) < 0) return LLM_EINTERNAL;
    return llm_gate_release(g, 0);
}

int llm_gate_end(struct llm_gate *g)
{
    return g->task->keep ? llm_gate_release(g, 1) : 0;
}
