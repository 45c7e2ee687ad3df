/* fake_llm.c: the scripted model of fake_llm.h. */
#include "test/unit/common/assist/fake_llm.h"

#include <stdio.h>
#include <string.h>

struct fk_words {
    struct fake_llm *f;
    struct llm_gate *gate;
};

/* One word to the gate; the script's failure point stops the stream. */
static int fk_word(void *arg, const char *text, size_t n)
{
    struct fk_words *w = arg;
    int rc = llm_gate_delta(w->gate, text, n);
    if (rc) return rc;
    return ++w->f->words == w->f->fail_after ? LLM_EUPSTREAM : 0;
}

static int fk_messages(struct fake_llm *f, arena_t *ar, const struct llm_task *t, struct llm_result *res)
{
    const struct llm_msg *m;
    if (llm_task_messages(t, ar, &m, &f->nmsgs) < 0) {
        llm_fail(res, LLM_EINTERNAL, "PROCESSING_ERROR", "out of memory");
        return -1;
    }
    snprintf(f->system, sizeof(f->system), "%s", f->nmsgs && m[0].content ? m[0].content : "");
    size_t o = 0;
    f->all[0] = '\0';
    for (size_t i = 1; i < f->nmsgs && o < sizeof(f->all); i++) {
        int w = snprintf(f->all + o, sizeof(f->all) - o, "%s%s: %s", o ? "\n" : "", m[i].role ? m[i].role : "",
                         m[i].content ? m[i].content : "");
        if (w < 0) break;
        o += (size_t)w;
    }
    return 0;
}

static int fk_stream(struct llm *l, arena_t *ar, const struct llm_task *t, const struct llm_cb *cb,
                     struct llm_result *res)
{
    struct fake_llm *f = (struct fake_llm *)l;
    f->streams++;
    f->words = 0;
    if (fk_messages(f, ar, t, res) < 0) return res->rc;
    int rc = cb->sent ? cb->sent(cb->arg) : 0;
    if (!rc && cb->tick) rc = cb->tick(cb->arg);
    struct llm_gate gate;
    llm_gate_init(&gate, ar, t, cb);
    struct fk_words w = {.f = f, .gate = &gate};
    if (!rc) rc = f->fail_after < 0 ? LLM_EUPSTREAM : llm_words(f->answer, strlen(f->answer), fk_word, &w);
    if (rc == LLM_EUPSTREAM) {
        if (f->fail_rc == LLM_ETIMEOUT)
            llm_fail(res, LLM_ETIMEOUT, "UPSTREAM_TIMEOUT", "The LLM sent nothing for 400 ms");
        else
            llm_fail(res, LLM_EUPSTREAM, "UPSTREAM_ERROR", "The LLM failed mid-answer: fake crash after %d words",
                     f->words);
        return res->rc;
    }
    if (!rc) rc = llm_gate_end(&gate);
    if (rc) {
        res->rc = rc;   /* the caller's own code */
        snprintf(res->err, sizeof(res->err), "aborted");
        return rc;
    }
    snprintf(res->stop_reason, sizeof(res->stop_reason), "stop");
    res->usage = (struct llm_usage){.prompt_tokens = 100, .completion_tokens = f->words,
                                    .total_tokens = 100 + f->words, .reported = 1};
    res->rc = LLM_OK;
    return LLM_OK;
}

static int fk_json(struct llm *l, arena_t *ar, const struct llm_task *t, llm_tick_fn tick, void *arg, char **out,
                   size_t *outlen, struct llm_result *res)
{
    struct fake_llm *f = (struct fake_llm *)l;
    f->jsons++;
    if (!f->json) {
        res->rc = LLM_ENOMODEL;
        return res->rc;
    }
    if (fk_messages(f, ar, t, res) < 0) return res->rc;
    int rc = tick ? tick(arg) : 0;
    if (rc) {
        res->rc = rc;
        return rc;
    }
    *out = ar_strdup(ar, f->json);
    if (outlen) *outlen = strlen(f->json);
    res->rc = *out ? LLM_OK : LLM_EINTERNAL;
    return res->rc;
}

void fake_llm_init(struct fake_llm *f, const char *answer)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->l.name, sizeof(f->l.name), "fake:model");
    f->l.stream = fk_stream;
    f->l.json = fk_json;
    f->answer = answer;
    f->fail_rc = LLM_EUPSTREAM;
}
