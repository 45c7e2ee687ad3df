/* answer.c: text events and sentence-by-sentence speech for a streaming
 * answer; see answer.h. */
#include "handlers/answer.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/b64.h"
#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/host/metrics.h"
#include "common/text/sentence.h"
#include "common/assist/tts.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"

enum { ANS_PARALLEL = 2 };   /* openai speech requests in flight at once */

struct ans_item {
    struct ans_item *next;
    const char *text;          /* the sentence as written */
    size_t len;
    int index;                 /* 1-based sentence number */
    struct tts_job *job;       /* NULL until started */
    int64_t started_ms;
};

struct ans {
    struct ctx *c;
    struct tts *tts;
    const char *voice;
    buf_t full;                /* fullText */
    struct sent split;
    struct ans_item *head, *tail;
    int sentences;             /* sentences queued */
    int spoken;
    int audio_events;
    int seq;
    int tts_started;           /* the `tts` progress step began */
    int tts_failed;
    const char *tts_code;
    const char *tts_err;
    size_t piece;              /* MP3 bytes per audio event */
    long long first_text_ms;
};

struct ans *ans_new(struct ctx *c, struct tts *tts, const char *voice)
{
    struct ans *a = ar_calloc(c->ar, 1, sizeof(*a));
    if (!a) return NULL;
    a->c = c;
    a->tts = tts;
    a->voice = voice;
    const struct cfg *cfg = &c->app->cfg;
    buf_init(&a->full, c->ar, (size_t)-1 / 2);
    /* a sentence travels in each of its audio events' `text`, so it must
     * fit one data line even when every byte needs escaping */
    size_t chunk = (size_t)cfg->streaming_chunk_size;
    size_t max_sentence = chunk > 64 ? (chunk - 48) / 2 : 8;
    sent_init(&a->split, c->ar, max_sentence < 400 ? max_sentence : 400);
    /* `"<base64>",` must fit a data line: 3 bytes of quotes and comma */
    a->piece = b64_piece_bytes(chunk > 16 ? chunk - 8 : 8);
    return a;
}

const char *ans_text(const struct ans *a, size_t *len)
{
    *len = a->full.len;
    return a->full.p ? a->full.p : "";
}

int ans_audio_events(const struct ans *a) { return a->audio_events; }
long long ans_first_text_ms(const struct ans *a) { return a->first_text_ms; }
int ans_sentences_spoken(const struct ans *a) { return a->spoken; }

const char *ans_tts_error(const struct ans *a, const char **code)
{
    if (code) *code = a->tts_code;
    return a->tts_err;
}

/* ---- speech ------------------------------------------------------------------ */

static int ans_tts_fail(struct ans *a, const char *code, const char *msg)
{
    if (a->tts_failed) return 0;
    a->tts_failed = 1;
    a->tts_code = code;
    a->tts_err = ar_strdup(a->c->ar, msg);
    LOG_ERROR(a->c->route->name, a->c->req->id, NULL, "Speech failed (%s): %s; the answer goes on as text", code,
              msg);
    for (struct ans_item *it = a->head; it; it = it->next)
        if (it->job) tts_job_cancel(a->tts, it->job);
    a->head = a->tail = NULL;
    char m[400];
    snprintf(m, sizeof(m), "Speech failed, the answer continues as text: %s", msg);
    return sink_progress(a->c->sink, "tts", m, a->audio_events, -1);
}

/* Sends one finished sentence's MP3 as audio events. */
static int ans_send_audio(struct ans *a, const struct ans_item *it, const unsigned char *mp3, size_t len)
{
    char *b64 = ar_alloc(a->c->ar, b64_encoded_len(a->piece) + 1);
    if (!b64) return SINK_EIO;
    for (size_t off = 0; off < len; off += a->piece) {
        size_t n = len - off < a->piece ? len - off : a->piece;
        b64_encode(mp3 + off, n, b64);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "chunk", json_object_new_string(b64));
        json_object_object_add(o, "format", json_object_new_string("mp3"));
        json_object_object_add(o, "sequence", json_object_new_int(++a->seq));
        json_object_object_add(o, "text", json_object_new_string_len(it->text, (int)it->len));
        json_object_object_add(o, "sentence", json_object_new_int(it->index));
        json_object_object_add(o, "last", json_object_new_boolean(off + n >= len));
        int rc = sink_emit(a->c->sink, "audio", o);
        if (rc) return rc;
        a->audio_events++;
    }
    a->spoken++;
    return 0;
}

static int ans_start_job(struct ans *a, struct ans_item *it)
{
    size_t sl;
    char *say = sent_speakable(a->c->ar, it->text, it->len, &sl);
    char err[320];
    if (!say) return SINK_EIO;
    if (sl == 0) say = ar_strndup(a->c->ar, it->text, sl = it->len);
    it->started_ms = clk_mono_ms();
    if (tts_begin(a->tts, a->c->ar, say, sl, a->voice, &it->job, err, sizeof(err)) < 0) {
        mx_upstream("tts", 0, (long)(clk_mono_ms() - it->started_ms));
        return ans_tts_fail(a, it->job ? tts_job_code(it->job) : "PROCESSING_ERROR", err);
    }
    return 0;
}

/* Starts queued sentences while fewer than ANS_PARALLEL run, in order;
 * none after one that failed (ans_pump reports it at the head). */
static int ans_start_queued(struct ans *a)
{
    int running = 0, rc = 0;
    for (struct ans_item *it = a->head; it && !rc && !a->tts_failed; it = it->next) {
        if (!it->job) {
            if (running >= ANS_PARALLEL) break;
            if ((rc = ans_start_job(a, it)) != 0 || a->tts_failed) break;
        }
        int st = tts_job_state(it->job);
        if (st == TTS_EFAIL) break;
        running += st == TTS_RUNNING;
    }
    return rc;
}

/* Starts queued sentences and sends the audio of finished ones, in order. */
static int ans_pump(struct ans *a)
{
    int rc = 0;
    while (!rc && a->head && !a->tts_failed) {
        if ((rc = ans_start_queued(a)) != 0 || a->tts_failed) break;
        struct ans_item *h = a->head;
        int st = h->job ? tts_job_state(h->job) : TTS_RUNNING;
        if (st == TTS_RUNNING) break;
        mx_upstream("tts", st == TTS_DONE, (long)(clk_mono_ms() - h->started_ms));
        if (st != TTS_DONE) return ans_tts_fail(a, tts_job_code(h->job), tts_job_error(h->job));
        size_t len;
        const unsigned char *mp3 = tts_job_audio(h->job, &len);
        a->head = h->next;
        if (!a->head) a->tail = NULL;
        rc = ans_send_audio(a, h, mp3, len);
    }
    return rc;
}

static int ans_on_sentence(void *arg, const char *s, size_t n)
{
    struct ans *a = arg;
    if (!a->tts || a->tts_failed) return 0;
    struct ans_item *it = ar_calloc(a->c->ar, 1, sizeof(*it));
    if (!it || !(it->text = ar_strndup(a->c->ar, s, n))) return SINK_EIO;
    it->len = n;
    it->index = ++a->sentences;
    if (a->tail) a->tail->next = it;
    else a->head = it;
    a->tail = it;
    int rc = 0;
    if (!a->tts_started) {
        a->tts_started = 1;
        char m[160];
        snprintf(m, sizeof(m), "Speaking the answer sentence by sentence (%s)", tts_name(a->tts));
        rc = sink_progress(a->c->sink, "tts", m, -1, -1);
    }
    return rc ? rc : ans_pump(a);
}

/* ---- callbacks ------------------------------------------------------------------ */

int ans_delta(void *arg, const char *text, size_t n)
{
    struct ans *a = arg;
    if (!n) return 0;
    if (buf_add(&a->full, text, n) < 0) return SINK_EIO;
    int rc = 0;
    if (a->tts && !a->tts_failed) {
        rc = sent_feed(&a->split, text, n, ans_on_sentence, a);
        if (rc == -1) rc = SINK_EIO;
        if (rc) return rc;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "token", json_object_new_string_len(text, (int)n));
    json_object_object_add(o, "fullText", json_object_new_string_len(a->full.p, (int)a->full.len));
    rc = sink_emit(a->c->sink, "text", o);
    if (!rc && !a->first_text_ms) a->first_text_ms = clk_mono_ms();
    return rc;
}

int ans_tick(void *arg)
{
    struct ans *a = arg;
    int rc = sink_check(a->c->sink);
    if (rc) return rc;
    return a->head ? ans_pump(a) : 0;
}

int ans_finish(struct ans *a)
{
    if (!a->tts) return 0;
    int rc = 0;
    if (!a->tts_failed) {
        rc = sent_flush(&a->split, ans_on_sentence, a);
        if (rc == -1) rc = SINK_EIO;
    }
    while (!rc && a->head && !a->tts_failed) {
        if ((rc = sink_check(a->c->sink)) != 0) break;
        if ((rc = ans_pump(a)) != 0 || !a->head) break;
        tts_wait(a->tts, 20);
    }
    if (rc) {
        ans_abort(a);
        return rc;
    }
    if (a->tts_started && !a->tts_failed) {
        char m[160];
        snprintf(m, sizeof(m), "Speech ready: %d sentences in %d audio events", a->spoken, a->audio_events);
        rc = sink_progress(a->c->sink, "tts", m, a->audio_events, 100);
    }
    return rc;
}

void ans_abort(struct ans *a)
{
    for (struct ans_item *it = a->head; it; it = it->next)
        if (it->job) tts_job_cancel(a->tts, it->job);
    a->head = a->tail = NULL;
}
