/* fuzz_sse.c: SSE framing (fcgi/sse.c) and the sinks (fcgi/sink.c) on
 * strings from outside: any bytes, invalid UTF-8 included, as values (and
 * keys) of the events a handler emits, at any streaming_chunk_size.
 *
 * Input: byte 0 picks the chunk size (64 + 8 * b) and byte 1 the mode
 * (bit 0: JSON twin instead of SSE; bit 1: an `error` event before
 * `close`); the rest, split at 0xFF bytes, gives the strings. What must
 * hold: the response parses with the strict client parser of the unit
 * tests (test/unit/capture.c: framing, `id:` sequence, one JSON object per
 * event, every data line valid UTF-8, no CR), every string comes back as
 * u8_repair made it, and sse_json_str's literal parses back to the string
 * it was given (or a prefix of it when cut at the buffer's end). */
#include "test/fuzz/fuzz.h"

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/config.h"
#include "common/base/u8.h"
#include "fcgi/sink.h"
#include "fcgi/sse.h"
#include "test/unit/capture.h"

static struct cfg fz_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg_defaults(&fz_cfg);
    return 0;
}

/* sse_json_str: a literal that parses back to s (or to a prefix of it). */
static void check_json_str(const char *s, size_t cap)
{
    char *out = malloc(cap);
    if (!out) abort();
    size_t o = sse_json_str(out, cap, s);
    if (cap < 3) {
        FZ_CHECK(o == 0, "cap %zu gave %zu", cap, o);
        free(out);
        return;
    }
    FZ_CHECK(o < cap && out[o] == '\0' && o >= 2, "length %zu of cap %zu", o, cap);
    json_tokener *tok = json_tokener_new();
    json_object *v = json_tokener_parse_ex(tok, out, (int)o);
    FZ_CHECK(v && json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(v, json_type_string),
             "not a JSON string: %s", out);
    const char *back = json_object_get_string(v);
    size_t bl = (size_t)json_object_get_string_len(v);
    FZ_CHECK(bl <= strlen(s) && !memcmp(back, s, bl), "the literal %s is not a prefix of the input", out);
    if (o + 8 < cap) FZ_CHECK(bl == strlen(s), "cut short with room left: %s", out);
    json_object_put(v);
    json_tokener_free(tok);
    free(out);
}

/* The repaired form of s[0..n) (valid UTF-8), malloc'd. */
static char *repaired(const char *s, size_t n, size_t *len)
{
    arena_t *ar = ar_new(4096);
    char *r = u8_repair(ar, s, n, len);
    char *copy = malloc(*len + 1);
    if (!r || !copy) abort();
    memcpy(copy, r, *len + 1);
    ar_free(ar);
    return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct cfg c = fz_cfg;
    c.streaming_chunk_size = 64 + 8 * (int)fz_byte(&f);
    unsigned mode = fz_byte(&f);
    enum { NSTR = 8 };
    char *str[NSTR] = {0};
    size_t len[NSTR] = {0};
    size_t ns = 0;
    while (ns < NSTR && (f.n || ns == 0)) {
        str[ns] = fz_piece(&f, 0xFF, 1 << 16, &len[ns]);
        ns++;
    }
    check_json_str(str[0], (size_t)(mode >> 2) + 1);
    check_json_str(str[0], len[0] * 6 + 3);

    /* one results event: the strings as values, in an array, and the second one as a key */
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ns; i++) json_object_array_add(arr, json_object_new_string_len(str[i], (int)len[i]));
    json_object_object_add(o, "text", json_object_new_string_len(str[0], (int)len[0]));
    json_object_object_add(o, "list", arr);
    if (ns > 1 && strlen(str[1]) == len[1]) {
        char *key = malloc(len[1] + 3);
        if (!key) abort();
        memcpy(key, "k:", 2);
        memcpy(key + 2, str[1], len[1] + 1);
        json_object_object_add(o, key, json_object_new_int((int)len[1]));
        free(key);
    }

    arena_t *ar = ar_new(64 * 1024);
    struct cap cp = {0};
    struct sse_io io;
    cap_io(&cp, &io);
    struct sink s;
    sink_init(&s, (mode & 1) ? SINK_JSON : SINK_SSE, ar, &c, "rid-fuzz", "fuzz", &io, 0);
    s.deadline_ms = INT64_MAX;   /* no watcher deadline while fuzzing */
    int rc = sink_emit(&s, "results", o);
    FZ_CHECK(rc == SINK_OK, "sink_emit %d", rc);
    if (mode & 2) sink_error(&s, "PROCESSING_ERROR", str[ns - 1]);
    sink_finish(&s);

    struct cap_parse p;
    int pr = cap_parse(&cp, &p);
    FZ_CHECK(pr == 0, "malformed response (%s):\n%s", p.error, cp.p ? cp.p : "");
    json_object *res = NULL;
    if (mode & 1) {
        res = p.body;
    } else {
        const struct cap_event *e = cap_find(&p, "results", 0);
        FZ_CHECK(e != NULL, "no results event");
        res = e->data;
        for (size_t i = 0; i < p.n; i++)
            FZ_CHECK(p.ev[i].id == i + 1, "event %zu has id %lu", i, p.ev[i].id);
        FZ_CHECK(!strcmp(p.ev[p.n - 1].name, "close"), "the last event is %s", p.ev[p.n - 1].name);
    }
    json_object *t = NULL;
    FZ_CHECK(json_object_object_get_ex(res, "text", &t), "no text in the results");
    size_t rl;
    char *want = repaired(str[0], len[0], &rl);
    FZ_CHECK((size_t)json_object_get_string_len(t) == rl && !memcmp(json_object_get_string(t), want, rl),
             "text came back changed");
    free(want);
    cap_parse_free(&p);
    cap_free(&cp);
    ar_free(ar);
    for (size_t i = 0; i < ns; i++) free(str[i]);
    return 0;
}
