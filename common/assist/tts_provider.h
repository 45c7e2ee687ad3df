/* tts_provider.h: what a TTS provider implements (common/assist/tts.h is
 * what callers use), the providers' constructors, and the voice-list
 * helpers they share. Private to common/assist and the tests, whose fakes
 * fill a struct tts of their own. */
#ifndef TROIKA_TTS_PROVIDER_H
#define TROIKA_TTS_PROVIDER_H

#include <stddef.h>

#include "common/assist/tts.h"
#include "common/base/arena.h"

struct tts {
    const struct cfg *cfg;
    const char *provider;     /* "builtin", "openai" (for messages) */
    char name[160];           /* "builtin", "openai:<model>" */
    char def_voice[64];
    char hint[256];
    char **voices;            /* what a request may name (variants aside); malloc'd */
    size_t nvoices;
    /* 1 when `voice` (not empty, under 64 bytes) is one of the provider's. */
    int (*voice_valid)(const struct tts *t, const char *voice);
    /* Starts j (zeroed but for t, ar, code) speaking text[0..n) in `voice`:
     * sets j->state to TTS_DONE (with mp3, len) or TTS_RUNNING; or -1 with
     * j->err. */
    int (*begin)(struct tts *t, struct tts_job *j, const char *text, size_t n, const char *voice);
    /* A TTS_RUNNING job: looks again, setting its state (may be NULL). */
    void (*poll)(struct tts_job *j);
    /* Stops a running job (may be NULL). */
    void (*cancel)(struct tts_job *j);
    /* Moves jobs in flight on, waiting up to ms (may be NULL: nothing runs
     * in the background). */
    void (*wait)(struct tts *t, int ms);
    void (*close)(struct tts *t);   /* frees impl and its own lists (not voices); may be NULL */
    void *impl;
};

struct tts_job {
    struct tts *t;
    arena_t *ar;
    int state;                /* TTS_RUNNING, TTS_DONE, TTS_EFAIL */
    const unsigned char *mp3; /* a finished job's audio (arena) */
    size_t len;
    const char *code;         /* a failed job's SPEC code */
    char err[320];
    void *impl;               /* the provider's (an HTTP transfer) */
};

/* Fill a zeroed *t (cfg set). 0, or -1 with err; tts_close frees what was
 * made. hc: the worker's HTTP client slot (tts_open). */
int tts_espeak_init(struct tts *t, char *err, size_t errlen);
int tts_openai_init(struct tts *t, struct hc **hc, char *err, size_t errlen);

/* ---- voice lists (malloc'd arrays of strdup'd strings) -------------------------- */

/* Appends s unless present (case-insensitive). 0 or -1. */
int tts_list_add(char ***list, size_t *n, const char *s);
void tts_list_free(char **list, size_t n);
/* 1 when s[0..len) is on the list (case-insensitive). */
int tts_list_has(char *const *list, size_t n, const char *s, size_t len);
/* Adds the comma-separated names of csv (tts_voices). 0 or -1. */
int tts_list_csv(char ***list, size_t *n, const char *csv);

#endif
