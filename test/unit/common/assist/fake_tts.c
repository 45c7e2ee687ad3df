/* fake_tts.c: the scripted speech provider of fake_tts.h. */
#include "test/unit/common/assist/fake_tts.h"

#include <stdio.h>
#include <string.h>

static int ft_voice_valid(const struct tts *t, const char *voice)
{
    return tts_list_has(t->voices, t->nvoices, voice, strlen(voice));
}

/* Finishes a job: its audio, or the scripted failure. */
static void ft_finish(struct fake_tts *f, struct tts_job *j, int n, const char *text, size_t len)
{
    if (n == f->fail_at) {
        j->state = TTS_EFAIL;
        j->code = "UPSTREAM_ERROR";
        snprintf(j->err, sizeof(j->err), "The speech service answered HTTP 503: fake outage on sentence %d", n);
        return;
    }
    char *a = ar_printf(j->ar, "FAKE-MP3 %d: %.*s", n, (int)len, text);
    j->mp3 = (const unsigned char *)a;
    j->len = a ? strlen(a) : 0;
    j->state = a ? TTS_DONE : TTS_EFAIL;
}

static int ft_begin(struct tts *t, struct tts_job *j, const char *text, size_t n, const char *voice)
{
    struct fake_tts *f = (struct fake_tts *)t;
    (void)voice;
    int k = ++f->begun;
    if (k <= FAKE_TTS_MAX) snprintf(f->said[k - 1], sizeof(f->said[0]), "%.*s", (int)n, text);
    if (!f->background) {
        ft_finish(f, j, k, text, n);
        return 0;
    }
    j->state = TTS_RUNNING;
    j->impl = ar_strndup(j->ar, text, n);
    if (k <= FAKE_TTS_MAX) f->running[k - 1] = j;
    return 0;
}

static void ft_cancel(struct tts_job *j)
{
    struct fake_tts *f = (struct fake_tts *)j->t;
    if (j->state == TTS_RUNNING) f->cancelled++;
}

/* Every running job finishes. */
static void ft_wait(struct tts *t, int ms)
{
    struct fake_tts *f = (struct fake_tts *)t;
    (void)ms;
    f->waits++;
    for (int i = 0; i < FAKE_TTS_MAX && i < f->begun; i++) {
        struct tts_job *j = f->running[i];
        if (!j || j->state != TTS_RUNNING) continue;
        const char *text = j->impl;
        ft_finish(f, j, i + 1, text, strlen(text));
        f->running[i] = NULL;
    }
}

void fake_tts_init(struct fake_tts *f)
{
    memset(f, 0, sizeof(*f));
    f->t.provider = "fake";
    snprintf(f->t.name, sizeof(f->t.name), "fake:tts");
    snprintf(f->t.def_voice, sizeof(f->t.def_voice), "fake-a");
    snprintf(f->t.hint, sizeof(f->t.hint), "fake-a, fake-b");
    tts_list_add(&f->t.voices, &f->t.nvoices, "fake-a");
    tts_list_add(&f->t.voices, &f->t.nvoices, "fake-b");
    f->t.voice_valid = ft_voice_valid;
    f->t.begin = ft_begin;
    f->t.cancel = ft_cancel;
    f->t.wait = ft_wait;
}

void fake_tts_free(struct fake_tts *f)
{
    tts_list_free(f->t.voices, f->t.nvoices);
    f->t.voices = NULL;
    f->t.nvoices = 0;
}
