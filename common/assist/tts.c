/* tts.c: tts_open picks the speech provider named in config; every
 * provider fills the same struct tts (tts_provider.h), and the calls here
 * only pass through. Also what the providers share: voice lists, jobs,
 * and speaking one text to the end. */
#include "common/assist/tts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/assist/tts_provider.h"
#include "common/base/config.h"

/* ---- voice lists ------------------------------------------------------------ */

int tts_list_add(char ***list, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*list)[i], s) == 0) return 0;
    char **nl = realloc(*list, (*n + 1) * sizeof(*nl));
    if (!nl) return -1;
    *list = nl;
    if (!(nl[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

void tts_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

int tts_list_has(char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0) return 1;
    return 0;
}

int tts_list_csv(char ***list, size_t *n, const char *csv)
{
    const char *p = csv;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p)) p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *te = e;
        while (te > p && isspace((unsigned char)te[-1])) te--;
        if (te > p) {
            char v[64];
            snprintf(v, sizeof(v), "%.*s", (int)(te - p), p);
            if (tts_list_add(list, n, v) < 0) return -1;
        }
        p = e;
    }
    return 0;
}

/* ---- open / close ------------------------------------------------------------ */

struct tts *tts_open(const struct cfg *c, struct hc **hc, char *err, size_t errlen)
{
    struct tts *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = c;
    int rc;
    if (!strcmp(c->tts_provider, "builtin")) {
        rc = tts_espeak_init(t, err, errlen);
    } else if (!strcmp(c->tts_provider, "openai")) {
        rc = tts_openai_init(t, hc, err, errlen);
    } else {
        snprintf(err, errlen, "tts_provider: '%s' is not one of builtin, openai", c->tts_provider);
        rc = -1;
    }
    if (rc == 0 && !tts_voice_valid(t, t->def_voice)) {
        snprintf(err, errlen, "tts_voice: '%s' is not a voice of the %s provider", t->def_voice, t->provider);
        rc = -1;
    }
    if (rc < 0) {
        tts_close(t);
        return NULL;
    }
    return t;
}

void tts_close(struct tts *t)
{
    if (!t) return;
    if (t->close) t->close(t);
    tts_list_free(t->voices, t->nvoices);
    free(t);
}

const char *tts_name(const struct tts *t) { return t->name; }
const char *tts_default_voice(const struct tts *t) { return t->def_voice; }
const char *tts_voice_hint(const struct tts *t) { return t->hint; }

size_t tts_voices(const struct tts *t, const char *const **out)
{
    *out = (const char *const *)t->voices;
    return t->nvoices;
}

int tts_voice_valid(const struct tts *t, const char *voice)
{
    if (!voice || !*voice || strlen(voice) >= 64) return 0;
    return t->voice_valid(t, voice);
}

/* ---- jobs ----------------------------------------------------------------------- */

int tts_begin(struct tts *t, arena_t *ar, const char *text, size_t n, const char *voice, struct tts_job **out,
              char *err, size_t errlen)
{
    struct tts_job *j = ar_calloc(ar, 1, sizeof(*j));
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->t = t;
    j->ar = ar;
    j->code = "PROCESSING_ERROR";
    *out = j;
    if (t->begin(t, j, text, n, voice && *voice ? voice : t->def_voice) < 0) {
        j->state = TTS_EFAIL;
        snprintf(err, errlen, "%s", j->err[0] ? j->err : "out of memory");
        return -1;
    }
    return 0;
}

int tts_job_state(struct tts_job *j)
{
    if (j->state == TTS_RUNNING && j->t->poll) j->t->poll(j);
    return j->state;
}

void tts_wait(struct tts *t, int ms)
{
    if (t->wait) t->wait(t, ms);
}

const unsigned char *tts_job_audio(const struct tts_job *j, size_t *len)
{
    *len = j->len;
    return j->mp3;
}

const char *tts_job_code(const struct tts_job *j) { return j->code; }
const char *tts_job_error(const struct tts_job *j) { return j->err; }

void tts_job_cancel(struct tts *t, struct tts_job *j)
{
    (void)t;
    if (j->t->cancel) j->t->cancel(j);
    if (j->state == TTS_RUNNING) {
        j->state = TTS_EFAIL;
        snprintf(j->err, sizeof(j->err), "cancelled");
    }
}

int tts_speak(struct tts *t, arena_t *ar, const char *text, size_t n, const char *voice, int (*tick)(void *arg),
              void *arg, const unsigned char **mp3, size_t *len, struct tts_job **job, char *err, size_t errlen)
{
    struct tts_job *j = NULL;
    *mp3 = NULL;
    *len = 0;
    int rc = tts_begin(t, ar, text, n, voice, &j, err, errlen);
    if (job) *job = j;
    if (rc < 0) return TTS_EFAIL;
    while (tts_job_state(j) == TTS_RUNNING) {
        if (tick && (rc = tick(arg)) != 0) {
            tts_job_cancel(t, j);
            return rc;
        }
        tts_wait(t, 20);
    }
    if (j->state != TTS_DONE) {
        snprintf(err, errlen, "%s", j->err);
        return TTS_EFAIL;
    }
    *mp3 = tts_job_audio(j, len);
    return 0;
}
