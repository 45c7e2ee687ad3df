/* tts.h: text to speech behind one interface, for chat (issue 7) and the
 * sales agent (issue 9). Output is MP3. Callers never ask which provider
 * they have; each fills the same struct (common/assist/tts_provider.h).
 *
 * `builtin` (tts_espeak.c): espeak-ng in this process (AUDIO_OUTPUT_SYNCHRONOUS,
 * initialised once per worker; 16-bit mono PCM at 22050 Hz from the synth
 * callback) encoded to MP3 in memory with LAME; a sentence takes tens of ms
 * and is done inside tts_begin. Voices: espeak-ng language tags ("en-us",
 * "en-gb", "hi", "ta", ...) from espeak_ListVoices (MBROLA voices left
 * out: they need extra data), optionally with a variant ("en-us+f3").
 * `openai` (tts_openai.c): POST {tts_url}/v1/audio/speech {model, voice, input,
 * response_format: "mp3"} through the worker's HTTP client; the request
 * runs in the background (the HTTP client drives it, e.g. while the LLM
 * streams on the same client, or tts_wait),
 * so the next sentence is generated while this one is spoken. Voices: the
 * OpenAI list (alloy, ash, ballad, coral, echo, fable, nova, onyx, sage,
 * shimmer, verse), or `tts_voices` from config for other servers.
 *
 * One struct tts per worker process, opened after fork; a job and its
 * audio live in the request arena. Keys are never logged. */
#ifndef TROIKA_TTS_H
#define TROIKA_TTS_H

#include <stddef.h>

#include "common/base/arena.h"

struct cfg;
struct hc;
struct tts;
struct tts_job;

/* Opens the provider named by cfg->tts_provider (builtin: initialises
 * espeak-ng). `hc` is the worker's HTTP client slot: a network provider
 * opens the client there when it is NULL and shares it with the LLM; the
 * slot's owner closes it after the providers. NULL with err filled. */
struct tts *tts_open(const struct cfg *c, struct hc **hc, char *err, size_t errlen);
void tts_close(struct tts *t);

/* "builtin" or "openai:<model>". */
const char *tts_name(const struct tts *t);
/* The voice used when a request names none (tts_voice, else the
 * provider's default: "en-us" / "alloy"). */
const char *tts_default_voice(const struct tts *t);
/* 1 when `voice` is one of the provider's voices (case-insensitive). */
int tts_voice_valid(const struct tts *t, const char *voice);
/* Every voice a request may name (variants aside). Borrowed. */
size_t tts_voices(const struct tts *t, const char *const **out);
/* A short, comma-separated sample of valid voices for error messages. */
const char *tts_voice_hint(const struct tts *t);

enum { TTS_RUNNING = 1, TTS_DONE = 0, TTS_EFAIL = -1 };

/* Starts speaking text[0..n) with `voice` (NULL: the default). builtin
 * finishes here; openai starts a transfer. 0 and *out, or -1 with err. */
int tts_begin(struct tts *t, arena_t *ar, const char *text, size_t n, const char *voice,
              struct tts_job **out, char *err, size_t errlen);
/* TTS_RUNNING, TTS_DONE or TTS_EFAIL (tts_wait, or the shared HTTP client
 * stepped by another caller, moves background jobs on). */
int tts_job_state(struct tts_job *j);
/* Moves background jobs on, waiting up to ms for one to progress; returns
 * at once when the provider runs nothing in the background. */
void tts_wait(struct tts *t, int ms);
/* The MP3 of a finished job. Borrowed (arena). */
const unsigned char *tts_job_audio(const struct tts_job *j, size_t *len);
/* For a failed job: "UPSTREAM_TIMEOUT", "UPSTREAM_ERROR" or
 * "PROCESSING_ERROR", and a key-free message. */
const char *tts_job_code(const struct tts_job *j);
const char *tts_job_error(const struct tts_job *j);
/* Stops a job that is still running (closing its connection). */
void tts_job_cancel(struct tts *t, struct tts_job *j);

/* Speaks one text to the end: tts_begin, then tts_wait, calling tick (may be NULL; non-zero aborts and is returned) at least every
 * 20 ms. 0 with *mp3 and *len, TTS_EFAIL with *job for the code and message,
 * or tick's code. */
int tts_speak(struct tts *t, arena_t *ar, const char *text, size_t n, const char *voice,
              int (*tick)(void *arg), void *arg, const unsigned char **mp3, size_t *len,
              struct tts_job **job, char *err, size_t errlen);

/* Encodes 16-bit mono PCM to MP3 (LAME, 32 kbit/s CBR, no Xing tag) into
 * the arena. 0 or -1. Exposed for tests and other callers (tts_espeak.c). */
int tts_mp3_encode(arena_t *ar, const short *pcm, size_t nsamples, int rate, unsigned char **out,
                   size_t *outlen);

#endif
