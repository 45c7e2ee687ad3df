/* fake_tts.h: a TTS provider for unit tests (a struct tts, as
 * common/assist/tts_provider.h defines it). Each sentence's "audio" is the
 * bytes "FAKE-MP3 <n>: <text>"; sentence `fail_at` fails the way an
 * upstream does (UPSTREAM_ERROR). With `background`, a job runs until the
 * next tts_wait, like a network provider; otherwise it is done inside
 * tts_begin, like espeak-ng. No network, no threads. */
#ifndef TROIKA_TEST_FAKE_TTS_H
#define TROIKA_TEST_FAKE_TTS_H

#include <stddef.h>

#include "common/assist/tts.h"
#include "common/assist/tts_provider.h"

enum { FAKE_TTS_MAX = 16 };

struct fake_tts {
    struct tts t;             /* hand &f->t to the code under test */
    int fail_at;              /* the 1-based sentence that fails (0: none) */
    int background;           /* jobs finish at the next tts_wait */
    /* what it saw */
    int begun;                /* sentences begun */
    int cancelled;
    int waits;
    char said[FAKE_TTS_MAX][160];   /* each sentence's text as given */
    struct tts_job *running[FAKE_TTS_MAX];
};

/* Voices "fake-a" (default) and "fake-b"; name "fake:tts". */
void fake_tts_init(struct fake_tts *f);
/* Frees what fake_tts_init allocated (the voice list). */
void fake_tts_free(struct fake_tts *f);

#endif
