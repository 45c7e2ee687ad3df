/* test_tts.c: the builtin speech provider (common/assist/tts): every voice it
 * lists loads and speaks, the output is MP3, and voices are checked. */
#include <stdio.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/base/config.h"
#include "common/assist/tts.h"
#include "common/io/hc.h"
#include "test/unit/unit.h"

/* An MPEG audio frame header: 11 sync bits, layer III. */
static int is_mp3(const unsigned char *p, size_t n)
{
    return n > 4 && p[0] == 0xFF && (p[1] & 0xE0) == 0xE0 && ((p[1] >> 1) & 3) == 1;
}

static void t_every_voice_speaks(void)
{
    struct cfg c;
    cfg_defaults(&c);
    char err[256];
    struct tts *t = tts_open(&c, NULL, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(tts_default_voice(t), "en-us");
    const char *const *v;
    size_t n = tts_voices(t, &v);
    CU_ASSERT(n > 50);
    arena_t *ar = ar_new(1 << 16);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *mp3;
        size_t len;
        int rc = tts_speak(t, ar, "ok", 2, v[i], NULL, NULL, &mp3, &len, NULL, err, sizeof(err));
        CU_ASSERT_EQUAL(rc, 0);
        if (rc) fprintf(stderr, "voice %s: %s\n", v[i], err);
        else CU_ASSERT(is_mp3(mp3, len));
        ar_reset(ar);
    }
    const unsigned char *mp3;
    size_t len;
    CU_ASSERT_EQUAL(tts_speak(t, ar, "Namaste, welcome to the shop.", 29, "en-gb+f3", NULL, NULL, &mp3, &len, NULL,
                              err, sizeof(err)),
                    0);
    CU_ASSERT(len > 2000 && is_mp3(mp3, len));
    ar_free(ar);
    tts_close(t);
}

static void t_voice_checks(void)
{
    struct cfg c;
    cfg_defaults(&c);
    char err[256];
    struct tts *t = tts_open(&c, NULL, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT(tts_voice_valid(t, "en-us"));
    CU_ASSERT(tts_voice_valid(t, "EN-GB"));
    CU_ASSERT(tts_voice_valid(t, "hi+f3"));
    CU_ASSERT(!tts_voice_valid(t, "en-us+nosuchvariant"));
    CU_ASSERT(!tts_voice_valid(t, "alloy"));
    CU_ASSERT(!tts_voice_valid(t, ""));
    tts_close(t);
    /* openai: its own list, or tts_voices */
    snprintf(c.tts_provider, sizeof(c.tts_provider), "openai");
    struct hc *fake_hc = (struct hc *)&c;   /* never used: nothing is spoken here */
    t = tts_open(&c, &fake_hc, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(tts_default_voice(t), "alloy");
    CU_ASSERT(tts_voice_valid(t, "nova"));
    CU_ASSERT(!tts_voice_valid(t, "en-us"));
    tts_close(t);
    snprintf(c.tts_voices, sizeof(c.tts_voices), "af_bella, am_adam");
    snprintf(c.tts_voice, sizeof(c.tts_voice), "am_adam");
    t = tts_open(&c, &fake_hc, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT(tts_voice_valid(t, "af_bella"));
    CU_ASSERT(!tts_voice_valid(t, "nova"));
    tts_close(t);
    /* a default voice outside the list is refused when the provider opens */
    snprintf(c.tts_voice, sizeof(c.tts_voice), "nova");
    CU_ASSERT_PTR_NULL(tts_open(&c, &fake_hc, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "tts_voice"));
}

static void t_providers(void)
{
    struct cfg c;
    cfg_defaults(&c);
    char err[256];
    struct hc *slot = NULL;
    struct tts *t = tts_open(&c, &slot, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NULL(slot);   /* espeak-ng needs no HTTP client */
    CU_ASSERT_STRING_EQUAL(tts_name(t), "builtin");
    tts_wait(t, 1000);          /* nothing runs in the background: returns at once */
    arena_t *ar = ar_new(1 << 16);
    struct tts_job *j = NULL;
    CU_ASSERT_EQUAL(tts_begin(t, ar, "Hello.", 6, NULL, &j, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(tts_job_state(j), TTS_DONE);   /* spoken inside tts_begin */
    size_t len;
    CU_ASSERT(is_mp3(tts_job_audio(j, &len), len));
    tts_close(t);
    /* openai opens the worker's client in the slot, and shares it */
    snprintf(c.tts_provider, sizeof(c.tts_provider), "openai");
    snprintf(c.tts_voices, sizeof(c.tts_voices), "af_bella, am_adam");
    t = tts_open(&c, &slot, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL(slot);
    CU_ASSERT_STRING_EQUAL(tts_name(t), "openai:tts-1");
    CU_ASSERT_STRING_EQUAL(tts_default_voice(t), "af_bella");   /* the first of tts_voices */
    CU_ASSERT_PTR_NOT_NULL(strstr(tts_voice_hint(t), "am_adam"));
    tts_close(t);
    hc_close(slot);
    /* an unknown provider is refused by name */
    snprintf(c.tts_provider, sizeof(c.tts_provider), "polly");
    CU_ASSERT_PTR_NULL(tts_open(&c, &slot, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "tts_provider: 'polly'"));
    ar_free(ar);
}

void register_tts(void)
{
    static const struct unit_case cases[] = {
        {"every voice speaks MP3", t_every_voice_speaks},
        {"voice checks", t_voice_checks},
        {"providers from config, the shared HTTP client", t_providers},
        {NULL, NULL},
    };
    unit_suite("tts", cases);
}
