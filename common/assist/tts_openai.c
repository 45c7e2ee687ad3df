/* tts_openai.c: the `openai` TTS provider (tts.h): POST
 * {tts_url}/v1/audio/speech {model, voice, input, response_format: "mp3"}
 * on the worker's HTTP client, shared with the LLM. A job is a transfer
 * that runs in the background: whoever steps the client (the LLM while it
 * streams, or tts_wait) moves it on, so the next sentence is generated
 * while this one is spoken. The API key goes only into the Authorization
 * header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/assist/llm_provider.h"
#include "common/assist/tts.h"
#include "common/assist/tts_provider.h"
#include "common/base/config.h"
#include "common/io/hc.h"

static const char *const oa_voices[] = {
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
};

static int ts_voice_valid(const struct tts *t, const char *voice)
{
    return tts_list_has(t->voices, t->nvoices, voice, strlen(voice));
}

static int ts_begin(struct tts *t, struct tts_job *j, const char *text, size_t n, const char *voice)
{
    const struct cfg *c = t->cfg;
    json_object *b = json_object_new_object();
    json_object_object_add(b, "model", json_object_new_string(c->tts_model));
    json_object_object_add(b, "voice", json_object_new_string(voice));
    json_object_object_add(b, "input", json_object_new_string_len(text, (int)n));
    json_object_object_add(b, "response_format", json_object_new_string("mp3"));
    size_t len;
    const char *js = json_object_to_json_string_length(b, JSON_C_TO_STRING_PLAIN, &len);
    char *copy = js ? ar_strndup(j->ar, js, len) : NULL;
    json_object_put(b);
    struct hc_req rq = {
        .url = hc_url_join(j->ar, c->tts_url, "/v1/audio/speech"),
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
    struct hc_xfer *x = NULL;
    if (hc_start(t->impl, j->ar, &rq, &x, err, sizeof(err)) < 0) {
        snprintf(j->err, sizeof(j->err), "%s", err);
        return -1;
    }
    j->impl = x;
    j->state = TTS_RUNNING;
    return 0;
}

/* Moves a job on from its transfer's state. */
static void ts_poll(struct tts_job *j)
{
    struct hc_xfer *x = j->impl;
    int st = hc_state(x);
    if (st == HC_RUNNING) return;
    long status = hc_status(x);
    size_t n;
    const char *b = hc_body(x, &n);
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
        snprintf(j->err, sizeof(j->err), "The speech service failed: %s", hc_error(x));
    }
}

static void ts_cancel(struct tts_job *j)
{
    if (j->impl) hc_end(j->t->impl, j->impl);
}

static void ts_wait(struct tts *t, int ms) { hc_step(t->impl, ms); }

/* The voices, comma-separated, as far as the hint holds them. */
static void ts_hint(struct tts *t)
{
    size_t o = 0;
    for (size_t i = 0; i < t->nvoices && o + 24 < sizeof(t->hint); i++)
        o += (size_t)snprintf(t->hint + o, sizeof(t->hint) - o, "%s%s", o ? ", " : "", t->voices[i]);
}

int tts_openai_init(struct tts *t, struct hc **hc, char *err, size_t errlen)
{
    const struct cfg *c = t->cfg;
    t->provider = "openai";
    snprintf(t->name, sizeof(t->name), "openai:%s", c->tts_model);
    t->voice_valid = ts_voice_valid;
    t->begin = ts_begin;
    t->poll = ts_poll;
    t->cancel = ts_cancel;
    t->wait = ts_wait;
    if (!hc) {
        snprintf(err, errlen, "tts: the openai provider needs the HTTP client");
        return -1;
    }
    if (!*hc && !(*hc = hc_open(err, errlen))) return -1;
    t->impl = *hc;   /* shared, not ours to close */
    int rc = 0;
    if (c->tts_voices[0]) rc = tts_list_csv(&t->voices, &t->nvoices, c->tts_voices);
    else
        for (size_t i = 0; rc == 0 && i < sizeof(oa_voices) / sizeof(oa_voices[0]); i++)
            rc = tts_list_add(&t->voices, &t->nvoices, oa_voices[i]);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* tts_voice, else the first of tts_voices, else OpenAI's default */
    snprintf(t->def_voice, sizeof(t->def_voice), "%s",
             c->tts_voice[0] ? c->tts_voice : c->tts_voices[0] && t->nvoices ? t->voices[0] : "alloy");
    ts_hint(t);
    return 0;
}
