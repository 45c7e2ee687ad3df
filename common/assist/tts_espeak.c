/* tts_espeak.c: the `builtin` TTS provider (tts.h): espeak-ng in this
 * process (AUDIO_OUTPUT_SYNCHRONOUS; 16-bit mono PCM from the synth
 * callback) encoded to MP3 in memory by LAME. A sentence is spoken inside
 * tts_begin, so nothing runs in the background.
 *
 * espeak-ng keeps its state per process; es_rate records that this process
 * initialised it (workers are single-threaded, so no lock). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <espeak-ng/speak_lib.h>
#include <lame/lame.h>

#include "common/assist/tts.h"
#include "common/assist/tts_provider.h"
#include "common/base/config.h"

static int es_rate;   /* espeak-ng's sample rate once initialised in this process */

struct es {
    char cur_voice[64];       /* the voice espeak has loaded */
    char **tags;              /* every language tag espeak-ng knows ... */
    char **files;             /* ... and the voice file that speaks it best ("gmw/en") */
    int *prio;
    size_t ntags;
    char **variants;          /* variant names ("f3", "klatt") */
    size_t nvariants;
};

/* ---- voice lists ------------------------------------------------------------ */

/* Records that voice file `file` speaks language `tag` with priority
 * `prio` (lower is better), keeping the best file per tag. */
static int es_map(struct es *e, const char *tag, const char *file, int prio)
{
    for (size_t i = 0; i < e->ntags; i++) {
        if (strcasecmp(e->tags[i], tag) != 0) continue;
        if (prio < e->prio[i]) {
            char *f = strdup(file);
            if (!f) return -1;
            free(e->files[i]);
            e->files[i] = f;
            e->prio[i] = prio;
        }
        return 0;
    }
    char **nt = realloc(e->tags, (e->ntags + 1) * sizeof(*nt));
    if (!nt) return -1;
    e->tags = nt;
    char **nf = realloc(e->files, (e->ntags + 1) * sizeof(*nf));
    if (!nf) return -1;
    e->files = nf;
    int *np = realloc(e->prio, (e->ntags + 1) * sizeof(*np));
    if (!np) return -1;
    e->prio = np;
    if (!(nt[e->ntags] = strdup(tag))) return -1;
    if (!(nf[e->ntags] = strdup(file))) {
        free(nt[e->ntags]);
        return -1;
    }
    np[e->ntags++] = prio;
    return 0;
}

/* The voice file for a language tag, or NULL. */
static const char *es_file(const struct es *e, const char *tag, size_t len)
{
    for (size_t i = 0; i < e->ntags; i++)
        if (strlen(e->tags[i]) == len && strncasecmp(e->tags[i], tag, len) == 0) return e->files[i];
    return NULL;
}

static int es_lists(struct tts *t, struct es *e)
{
    const espeak_VOICE **vs = espeak_ListVoices(NULL);
    for (size_t i = 0; vs && vs[i]; i++) {
        if (!vs[i]->identifier || strncmp(vs[i]->identifier, "mb/", 3) == 0) continue;   /* MBROLA */
        /* languages: (priority byte, NUL-terminated name)*, then a NUL */
        for (const char *p = vs[i]->languages; p && *p; p += strlen(p + 1) + 2) {
            if (!p[1]) continue;
            if (tts_list_add(&t->voices, &t->nvoices, p + 1) < 0) return -1;
            if (es_map(e, p + 1, vs[i]->identifier, (unsigned char)p[0]) < 0) return -1;
        }
    }
    espeak_VOICE spec;
    memset(&spec, 0, sizeof(spec));
    spec.languages = "variant";
    vs = espeak_ListVoices(&spec);
    for (size_t i = 0; vs && vs[i]; i++) {
        const char *id = vs[i]->identifier;
        if (id && strncmp(id, "!v/", 3) == 0 && tts_list_add(&e->variants, &e->nvariants, id + 3) < 0) return -1;
    }
    return 0;
}

/* A language tag of the list, optionally "+variant". */
static int es_voice_valid(const struct tts *t, const char *voice)
{
    const struct es *e = t->impl;
    const char *plus = strchr(voice, '+');
    size_t ll = plus ? (size_t)(plus - voice) : strlen(voice);
    if (!tts_list_has(t->voices, t->nvoices, voice, ll)) return 0;
    return !plus || tts_list_has(e->variants, e->nvariants, plus + 1, strlen(plus + 1));
}

/* ---- speaking ------------------------------------------------------------------ */

static int es_collect(short *wav, int numsamples, espeak_EVENT *events)
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

/* Loads `voice` unless it is loaded. espeak-ng loads voices by file
 * ("gmw/en"), not by every language tag it lists ("en-gb"): a tag is
 * spoken with its best file. */
static int es_load(struct es *e, struct tts_job *j, const char *voice)
{
    if (strcasecmp(e->cur_voice, voice) == 0) return 0;
    const char *plus = strchr(voice, '+');
    size_t tl = plus ? (size_t)(plus - voice) : strlen(voice);
    const char *file = es_file(e, voice, tl);
    char name[160];
    snprintf(name, sizeof(name), "%s%s", file ? file : voice, plus ? plus : "");
    if (espeak_SetVoiceByName(name) != EE_OK) {
        snprintf(j->err, sizeof(j->err), "espeak-ng could not load voice '%s'", voice);
        return -1;
    }
    snprintf(e->cur_voice, sizeof(e->cur_voice), "%s", voice);
    return 0;
}

static int es_begin(struct tts *t, struct tts_job *j, const char *text, size_t n, const char *voice)
{
    struct es *e = t->impl;
    if (es_load(e, j, voice) < 0) return -1;
    char *z = ar_strndup(j->ar, text, n);
    buf_t pcm;
    buf_init(&pcm, j->ar, 64u << 20);
    if (!z) return -1;
    espeak_SetSynthCallback(es_collect);
    if (espeak_Synth(z, n + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, &pcm) != EE_OK || pcm.toobig) {
        snprintf(j->err, sizeof(j->err), "espeak-ng could not synthesise the sentence");
        return -1;
    }
    unsigned char *mp3;
    size_t len;
    if (tts_mp3_encode(j->ar, (const short *)(void *)pcm.p, pcm.len / sizeof(short), es_rate, &mp3, &len) < 0) {
        snprintf(j->err, sizeof(j->err), "LAME could not encode the speech");
        return -1;
    }
    j->mp3 = mp3;
    j->len = len;
    j->state = TTS_DONE;
    return 0;
}

/* ---- the provider ------------------------------------------------------------------- */

static void es_close(struct tts *t)
{
    struct es *e = t->impl;
    if (!e) return;
    tts_list_free(e->tags, e->ntags);
    tts_list_free(e->files, e->ntags);
    free(e->prio);
    tts_list_free(e->variants, e->nvariants);
    free(e);
}

/* A sample of the common tags this build has, for error messages. */
static void es_hint(struct tts *t)
{
    static const char *const common_tags[] = {"en-us", "en-gb", "en", "hi", "ta", "te", "bn", "mr", "gu"};
    size_t o = 0;
    for (size_t i = 0; i < sizeof(common_tags) / sizeof(common_tags[0]); i++)
        if (tts_voice_valid(t, common_tags[i]))
            o += (size_t)snprintf(t->hint + o, sizeof(t->hint) - o, "%s%s", o ? ", " : "", common_tags[i]);
    snprintf(t->hint + o, sizeof(t->hint) - o, "%s(espeak-ng language tags, optionally +variant, e.g. en-us+f3)",
             o ? " ... " : "");
}

int tts_espeak_init(struct tts *t, char *err, size_t errlen)
{
    const struct cfg *c = t->cfg;
    t->provider = "builtin";
    snprintf(t->name, sizeof(t->name), "builtin");
    t->voice_valid = es_voice_valid;
    t->begin = es_begin;
    t->close = es_close;
    if (!es_rate) {
        int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0);
        if (rate <= 0) {
            snprintf(err, errlen, "espeak-ng could not be initialised (is espeak-ng-data installed?)");
            return -1;
        }
        es_rate = rate;
    }
    struct es *e = calloc(1, sizeof(*e));
    if (!e) goto oom;
    t->impl = e;
    if (es_lists(t, e) < 0) goto oom;
    if (c->tts_voices[0]) {   /* an operator's narrower list */
        tts_list_free(t->voices, t->nvoices);
        t->voices = NULL;
        t->nvoices = 0;
        if (tts_list_csv(&t->voices, &t->nvoices, c->tts_voices) < 0) goto oom;
    }
    snprintf(t->def_voice, sizeof(t->def_voice), "%s", c->tts_voice[0] ? c->tts_voice : "en-us");
    es_hint(t);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}
