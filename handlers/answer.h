/* answer.h: streams an answer as it is generated: `text` events ({token,
 * fullText}) and, with speech on, `audio` events sentence by sentence, so a
 * finished sentence is spoken while the next is still being generated.
 * Shared by chat (issue 7) and the sales agent (issue 9).
 *
 * Use: a = ans_new(c, tts or NULL, voice); pass ans_delta / ans_tick as the
 * llm_stream callbacks (struct llm_cb; or ans_delta to llm_words);
 * then ans_finish(a) (last sentence, waits for speech still running). After
 * a failure, ans_abort(a) stops speech in flight; ans_text() still gives
 * what was sent, for storing a partial answer.
 *
 * Speech: sentences come from common/text/sentence; each is spoken with its
 * citation and markdown marks removed (common/text/sentence sent_speakable).
 * A provider that speaks at once (builtin) does so inside ans_delta; one
 * that works in the background (openai) has up to two sentences in flight,
 * moved on by the LLM's client steps, ans_tick and tts_wait. Audio goes out in sentence
 * order, cut into pieces whose base64 fits streaming_chunk_size, as events
 * {chunk, format: "mp3", sequence (1-based over the answer), text (the
 * sentence), sentence (1-based), last (the sentence's final piece)}. A TTS
 * failure does not end the answer: speech stops, one progress event
 * {step: "tts"} says why, and ans_tts_error() reports it for `complete`.
 * Memory: the request arena. */
#ifndef TROIKA_ANSWER_H
#define TROIKA_ANSWER_H

#include <stddef.h>

struct ctx;
struct tts;
struct ans;

/* tts NULL: text only. voice NULL: the provider's default. NULL when out
 * of memory. */
struct ans *ans_new(struct ctx *c, struct tts *tts, const char *voice);

/* llm_delta_fn: emits `text` for text[0..n) and speaks finished sentences.
 * 0 or a SINK_E* code. */
int ans_delta(void *a, const char *text, size_t n);
/* llm_tick_fn: sends audio that became ready; 0 or a SINK_E* code (the
 * client left, the deadline passed). */
int ans_tick(void *a);
/* The text is complete: speaks the last sentence, waits for speech still
 * running, and ends the `tts` step. 0 or a SINK_E* code. */
int ans_finish(struct ans *a);
/* Stops speech still running (after a failure). */
void ans_abort(struct ans *a);

/* Everything sent as text so far. Borrowed (arena). */
const char *ans_text(const struct ans *a, size_t *len);
/* Monotonic ms when the first `text` event went out (0: none). */
long long ans_first_text_ms(const struct ans *a);
/* `audio` events sent. */
int ans_audio_events(const struct ans *a);
/* Sentences spoken (audio sent). */
int ans_sentences_spoken(const struct ans *a);
/* The first TTS failure (code and message), or NULL. */
const char *ans_tts_error(const struct ans *a, const char **code);

#endif
