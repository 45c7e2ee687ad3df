/* tts.c: the TTS providers (see tts.h): espeak-ng + LAME in process, and
 * an OpenAI-compatible /v1/audio/speech client on the worker's HTTP client.
 *
 * espeak-ng keeps its state per process; tts_es_rate records that this
 * process initialised it (workers are single-threaded, so no lock). */
#include "common/assist/tts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <espeak-ng/speak_lib.h>
#include <json-c/json.h>
#include <lame/lame.h>

#include "common/base/config.h"
#include "common/io/hc.h"
#include "common/assist/llm.h"

static int tts_es_rate;   /* espeak-ng's sample rate once initialised in this process */

static const char *const tts_openai_voices[] = {
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
};

struct tts {
    const struct cfg *cfg;
    struct hc *hc;
    int remote;
    char name[160];
    char def_voice[64];
    char cur_voice[64];       /* the voice espeak has loaded */
    char **voices;            /* builtin: language tags; openai: names */
    size_t nvoices;
    char **es_tags;           /* builtin: every language tag espeak-ng knows ... */
    char **es_files;          /* ... and the voice file that speaks it best ("gmw/en") */
    int *es_prio;
    size_t nes;
    char **variants;          /* builtin: variant names ("f3", "klatt") */
    size_t nvariants;
    char hint[256];
};

struct tts_job {
    struct tts *t;
    arena_t *ar;
    int state;
    struct hc_xfer *x;
    const unsigned char *mp3;
    size_t len;
    const char *code;
    char err[320];
};

/* ---- voice lists ------------------------------------------------------------ */

static int tts_list_add(char ***list, size_t *n, const char *s)
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

static void tts_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

static int tts_list_has(char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0) return 1;
    return 0;
}

/* Records that voice file `file` speaks language `tag` with priority
 * `prio` (lower is better), keeping the best file per tag. */
static int tts_es_map(struct tts *t, const char *tag, const char *file, int prio)
{
    for (size_t i = 0; i < t->nes; i++) {
        if (strcasecmp(t->es_tags[i], tag) != 0) continue;
        if (prio < t->es_prio[i]) {
            char *f = strdup(file);
            if (!f) return -1;
            free(t->es_files[i]);
            t->es_files[i] = f;
            t->es_prio[i] = prio;
        }
        return 0;
    }
    char **nt = realloc(t->es_tags, (t->nes + 1) * sizeof(*nt));
    if (!nt) return -1;
    t->es_tags = nt;
    char **nf = realloc(t->es_files, (t->nes + 1) * sizeof(*nf));
    if (!nf) return -1;
    t->es_files = nf;
    int *np = realloc(t->es_prio, (t->nes + 1) * sizeof(*np));
    if (!np) return -1;
    t->es_prio = np;
    if (!(nt[t->nes] = strdup(tag))) return -1;
    if (!(nf[t->nes] = strdup(file))) {
        free(nt[t->nes]);
        return -1;
    }
    np[t->nes++] = prio;
    return 0;
}

/* The voice file for a language tag, or NULL. */
static const char *tts_es_file(const struct tts *t, const char *tag, size_t len)
{
    for (size_t i = 0; i < t->nes; i++)
        if (strlen(t->es_tags[i]) == len && strncasecmp(t->es_tags[i], tag, len) == 0) return t->es_files[i];
    return NULL;
}

static int tts_es_lists(struct tts *t)
{
    const espeak_VOICE **vs = espeak_ListVoices(NULL);
    for (size_t i = 0; vs && vs[i]; i++) {
        if (!vs[i]->identifier || strncmp(vs[i]->identifier, "mb/", 3) == 0) continue;   /* MBROLA */
        /* languages: (priority byte, NUL-terminated name)*, then a NUL */
        for (const char *p = vs[i]->languages; p && *p; p += strlen(p + 1) + 2) {
            if (!p[1]) continue;
            if (tts_list_add(&t->voices, &t->nvoices, p + 1) < 0) return -1;
            if (tts_es_map(t, p + 1, vs[i]->identifier, (unsigned char)p[0]) < 0) return -1;
        }
    }
    espeak_VOICE spec;
    memset(&spec, 0, sizeof(spec));
    spec.languages = "variant";
    vs = espeak_ListVoices(&spec);
    for (size_t i = 0; vs && vs[i]; i++) {
        const char *id = vs[i]->identifier;
        if (id && strncmp(id, "!v/", 3) == 0 && tts_list_add(&t->variants, &t->nvariants, id + 3) < 0) return -1;
    }
    return 0;
}

static int tts_cfg_list(struct tts *t, const char *csv)
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
            if (tts_list_add(&t->voices, &t->nvoices, v) < 0) return -1;
        }
        p = e;
    }
    return 0;
}

int tts_voice_valid(const struct tts *t, const char *voice)
{
    if (!voice || !*voice) return 0;
    size_t len = strlen(voice);
    if (len >= 64) return 0;
    if (t->remote) return tts_list_has(t->voices, t->nvoices, voice, len);
    const char *plus = strchr(voice, '+');
    size_t ll = plus ? (size_t)(plus - voice) : len;
    if (!tts_list_has(t->voices, t->nvoices, voice, ll)) return 0;
    return !plus || tts_list_has(t->variants, t->nvariants, plus + 1, strlen(plus + 1));
}

/* ---- open / close ------------------------------------------------------------ */

struct tts *tts_open(const struct cfg *c, struct hc *hc, char *err, size_t errlen)
{
    struct tts *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = c;
    t->hc = hc;
    t->remote = strcmp(c->tts_provider, "openai") == 0;
    snprintf(t->name, sizeof(t->name), t->remote ? "openai:%s" : "builtin", c->tts_model);
    if (t->remote) {
        if (!hc) {
            snprintf(err, errlen, "tts: the openai provider needs the HTTP client");
            goto fail;
        }
        int rc = 0;
        if (c->tts_voices[0]) rc = tts_cfg_list(t, c->tts_voices);
        else
            for (size_t i = 0; rc == 0 && i < sizeof(tts_openai_voices) / sizeof(tts_openai_voices[0]); i++)
                rc = tts_list_add(&t->voices, &t->nvoices, tts_openai_voices[i]);
        if (rc < 0) goto oom;
        snprintf(t->def_voice, sizeof(t->def_voice), "%s",
                 c->tts_voice[0] ? c->tts_voice : t->nvoices ? t->voices[0] : "alloy");
        if (!c->tts_voices[0] && !c->tts_voice[0]) snprintf(t->def_voice, sizeof(t->def_voice), "alloy");
    } else {
        if (!tts_es_rate) {
            int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0);
            if (rate <= 0) {
                snprintf(err, errlen, "espeak-ng could not be initialised (is espeak-ng-data installed?)");
                goto fail;
            }
            tts_es_rate = rate;
        }
        if (tts_es_lists(t) < 0) goto oom;
        if (c->tts_voices[0]) {   /* an operator's narrower list */
            tts_list_free(t->voices, t->nvoices);
            t->voices = NULL;
            t->nvoices = 0;
            if (tts_cfg_list(t, c->tts_voices) < 0) goto oom;
        }
        snprintf(t->def_voice, sizeof(t->def_voice), "%s", c->tts_voice[0] ? c->tts_voice : "en-us");
    }
    if (!tts_voice_valid(t, t->def_voice)) {
        snprintf(err, errlen, "tts_voice: '%s' is not a voice of the %s provider", t->def_voice,
                 t->remote ? "openai" : "builtin");
        goto fail;
    }
    if (t->remote) {
        size_t o = 0;
        for (size_t i = 0; i < t->nvoices && o + 24 < sizeof(t->hint); i++)
            o += (size_t)snprintf(t->hint + o, sizeof(t->hint) - o, "%s%s", o ? ", " : "", t->voices[i]);
    } else {
        static const char *const common_tags[] = {"en-us", "en-gb", "en", "hi", "ta", "te", "bn", "mr", "gu"};
        size_t o = 0;
        for (size_t i = 0; i < sizeof(common_tags) / sizeof(common_tags[0]); i++)
            if (tts_voice_valid(t, common_tags[i]))
                o += (size_t)snprintf(t->hint + o, sizeof(t->hint) - o, "%s%s", o ? ", " : "", common_tags[i]);
        snprintf(t->hint + o, sizeof(t->hint) - o, "%s(espeak-ng language tags, optionally +variant, e.g. en-us+f3)",
                 o ? " ... " : "");
    }
    return t;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    tts_close(t);
    return NULL;
}

void tts_close(struct tts *t)
{
    if (!t) return;
    tts_list_free(t->voices, t->nvoices);
    tts_list_free(t->variants, t->nvariants);
    tts_list_free(t->es_tags, t->nes);
    tts_list_free(t->es_files, t->nes);
    free(t->es_prio);
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

/* ---- builtin: espeak-ng + LAME ------------------------------------------------ */

static int tts_es_collect(short *wav, int numsamples, espeak_EVENT *events)
{
    buf_t *pcm = events ? events->user_data : NULL;
    if (!pcm || !wav || numsamples <= 0) return 0;
    return buf_add(pcm, wav, (size_t)numsamples * sizeof(short)) < 0 ? 1 : 0;   /* 1 aborts */
}

int tts_mp3_encode(arena_t *ar, const short *pcm, size_t nsamples, int rate, unsigned char **out, size_t *outlen)
{
    int rc = -1;
    lame_global_flags *gf = lame_init();
    if (!gf) return -1;
    lame_set_in_samplerate(gf, rate);
    lame_set_out_samplerate(gf, rate);
    lame_set_num_channels(gf, 1);
    lame_set_mode(gf, MONO);
    lame_set_brate(gf, 32);
    lame_set_quality(gf, 7);
    lame_set_bWriteVbrTag(gf, 0);
    if (lame_init_params(gf) < 0) goto out;
    size_t cap = nsamples + nsamples / 4 + 7200;
    unsigned char *mp3 = ar_alloc(ar, cap);
    if (!mp3) goto out;
    size_t len = 0;
    const size_t step = 1 << 16;   /* lame takes an int sample count */
    for (size_t off = 0; off < nsamples; off += step) {
        int chunk = (int)(nsamples - off < step ? nsamples - off : step);
        int n = lame_encode_buffer(gf, pcm + off, NULL, chunk, mp3 + len, (int)(cap - len));
        if (n < 0) goto out;
        len += (size_t)n;
    }
    int n = lame_encode_flush(gf, mp3 + len, (int)(cap - len));
    if (n < 0) goto out;
    len += (size_t)n;
    *out = mp3;
    *outlen = len;
    rc = 0;
out:
    lame_close(gf);
    return rc;
}

static int tts_es_speak(struct tts *t, arena_t *ar, struct tts_job *j, const char *text, size_t n, const char *voice)
{
    if (strcasecmp(t->cur_voice, voice) != 0) {
        /* espeak-ng loads voices by file ("gmw/en"), not by every language
         * tag it lists ("en-gb"): speak a tag with its best file */
        const char *plus = strchr(voice, '+');
        size_t tl = plus ? (size_t)(plus - voice) : strlen(voice);
        const char *file = tts_es_file(t, voice, tl);
        char name[160];
        snprintf(name, sizeof(name), "%s%s", file ? file : voice, plus ? plus : "");
        if (espeak_SetVoiceByName(name) != EE_OK) {
            snprintf(j->err, sizeof(j->err), "espeak-ng could not load voice '%s'", voice);
            return -1;
        }
        snprintf(t->cur_voice, sizeof(t->cur_voice), "%s", voice);
    }
    char *z = ar_strndup(ar, text, n);
    buf_t pcm;
    buf_init(&pcm, ar, 64u << 20);
    if (!z) return -1;
    espeak_SetSynthCallback(tts_es_collect);
    if (espeak_Synth(z, n + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &pcm) != EE_OK || pcm.toobig) {
        snprintf(j->err, sizeof(j->err), "espeak-ng could not synthesise the sentence");
        return -1;
    }
    unsigned char *mp3;
    size_t len;
    if (tts_mp3_encode(ar, (const short *)(void *)pcm.p, pcm.len / sizeof(short), tts_es_rate, &mp3, &len) < 0) {
        snprintf(j->err, sizeof(j->err), "LAME could not encode the speech");
        return -1;
    }
    j->mp3 = mp3;
    j->len = len;
    return 0;
}

/* ---- openai ------------------------------------------------------------------- */

static int tts_http_start(struct tts *t, arena_t *ar, struct tts_job *j, const char *text, size_t n,
                          const char *voice)
{
    const struct cfg *c = t->cfg;
    json_object *b = json_object_new_object();
    json_object_object_add(b, "model", json_object_new_string(c->tts_model));
    json_object_object_add(b, "voice", json_object_new_string(voice));
    json_object_object_add(b, "input", json_object_new_string_len(text, (int)n));
    json_object_object_add(b, "response_format", json_object_new_string("mp3"));
    size_t len;
    const char *js = json_object_to_json_string_length(b, JSON_C_TO_STRING_PLAIN, &len);
    char *copy = js ? ar_strndup(ar, js, len) : NULL;
    json_object_put(b);
    struct hc_req rq = {
        .url = hc_url_join(ar, c->tts_url, "/v1/audio/speech"),
        .body = copy,
        .body_len = len,
        .accept = "audio/mpeg",
        .bearer = c->tts_api_key,
        .connect_timeout_ms = c->tts_timeout_ms,
        .timeout_ms = c->tts_timeout_ms,
        .max_body = 16u << 20,
    };
    if (!copy || !rq.url) return -1;
    char err[256];
    if (hc_start(t->hc, ar, &rq, &j->x, err, sizeof(err)) < 0) {
        snprintf(j->err, sizeof(j->err), "%s", err);
        return -1;
    }
    return 0;
}

/* Moves an openai job on from its transfer's state. */
static void tts_http_poll(struct tts_job *j)
{
    int st = hc_state(j->x);
    if (st == HC_RUNNING) return;
    long status = hc_status(j->x);
    size_t n;
    const char *b = hc_body(j->x, &n);
    if (st == HC_OK && status < 300 && n > 0) {
        j->mp3 = (const unsigned char *)b;
        j->len = n;
        j->state = TTS_DONE;
        return;
    }
    j->state = TTS_EFAIL;
    if (st == HC_ETIMEOUT) {
        j->code = "UPSTREAM_TIMEOUT";
        snprintf(j->err, sizeof(j->err), "The speech service did not answer within %d ms", j->t->cfg->tts_timeout_ms);
    } else if (st == HC_OK) {
        j->code = "UPSTREAM_ERROR";
        snprintf(j->err, sizeof(j->err), "The speech service answered HTTP %ld%s%s", status, n ? ": " : " with no audio",
                 n ? llm_error_message(j->ar, b, n, 200) : "");
    } else {
        j->code = "UPSTREAM_ERROR";
        snprintf(j->err, sizeof(j->err), "The speech service failed: %s", hc_error(j->x));
    }
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
    if (!voice || !*voice) voice = t->def_voice;
    *out = j;
    if (t->remote) {
        if (tts_http_start(t, ar, j, text, n, voice) < 0) {
            j->state = TTS_EFAIL;
            snprintf(err, errlen, "%s", j->err[0] ? j->err : "out of memory");
            return -1;
        }
        j->state = TTS_RUNNING;
        return 0;
    }
    if (tts_es_speak(t, ar, j, text, n, voice) < 0) {
        j->state = TTS_EFAIL;
        snprintf(err, errlen, "%s", j->err[0] ? j->err : "out of memory");
        return -1;
    }
    j->state = TTS_DONE;
    return 0;
}

int tts_job_state(struct tts_job *j)
{
    if (j->state == TTS_RUNNING && j->x) tts_http_poll(j);
    return j->state;
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
    if (j->x) hc_end(t->hc, j->x);
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
        hc_step(t->hc, 20);
    }
    if (j->state != TTS_DONE) {
        snprintf(err, errlen, "%s", j->err);
        return TTS_EFAIL;
    }
    *mp3 = tts_job_audio(j, len);
    return 0;
}
