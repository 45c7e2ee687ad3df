/* test_sse.c: SSE framing (fcgi/sse.c): the data-line splitter, one framed
 * event, pings, timestamps and the small JSON string writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/base/u8.h"
#include "fcgi/sse.h"
#include "test/unit/capture.h"
#include "test/unit/unit.h"

/* Independent scan: 1 when a data line may end right before offset p,
 * i.e. json[p-1] is , : { or [ outside a string. */
static void breakable_map(const char *json, size_t len, unsigned char *ok)
{
    int in_str = 0, esc = 0;
    memset(ok, 0, len + 1);
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        if (in_str) {
            if (esc) esc = 0;
            else if (c == '\\') esc = 1;
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') in_str = 1;
        else if (c == ',' || c == ':' || c == '{' || c == '[') ok[i + 1] = 1;
    }
}

/* Checks every rule of sse_split on one document and one max. */
static void check_split(const char *json, size_t max)
{
    size_t len = strlen(json);
    size_t cuts[4096];
    unsigned char *ok = malloc(len + 1);
    breakable_map(json, len, ok);
    size_t n = sse_split(json, len, max, cuts, 4096);
    CU_ASSERT_FATAL(n >= 1);
    CU_ASSERT_EQUAL(cuts[n - 1], len);
    size_t start = 0;
    char *joined = malloc(len + n + 1);
    size_t jl = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(i == n - 1 || cuts[i] > start);   /* lines are never empty */
        if (i < n - 1) CU_ASSERT(ok[cuts[i]]);       /* only between tokens */
        size_t ll = cuts[i] - start;
        if (ll > max) {
            /* Allowed only when nothing in reach could have ended the line. */
            for (size_t p = start + 1; p <= start + max && p < len; p++) {
                if (ok[p]) {
                    CU_FAIL("a line is longer than max although it could have been broken");
                    fprintf(stderr, "\n  max %zu, line at %zu len %zu breakable at %zu: %s\n", max, start, ll, p, json);
                    break;
                }
            }
        }
        if (i) joined[jl++] = '\n';
        memcpy(joined + jl, json + start, ll);
        jl += ll;
        start = cuts[i];
    }
    joined[jl] = '\0';
    json_object *a = cap_json(json, len), *b = cap_json(joined, jl);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (a && b) CU_ASSERT(json_object_equal(a, b));
    json_object_put(a);
    json_object_put(b);
    free(joined);
    free(ok);
}

static char *doc_big(int count)
{
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (int i = 0; i < count; i++) {
        json_object *p = json_object_new_object();
        char sku[32];
        snprintf(sku, sizeof(sku), "SKU-%04d", i);
        json_object_object_add(p, "sku", json_object_new_string(sku));
        json_object_object_add(p, "title", json_object_new_string("Silk \"kurta\", {red}: [size M]\\ 東京 🎉"));
        json_object_object_add(p, "price", json_object_new_double(1999.5 + i));
        json_object *cols = json_object_new_array();
        json_object_array_add(cols, json_object_new_string("red"));
        json_object_array_add(cols, json_object_new_string("ivory\nline"));
        json_object_object_add(p, "colors", cols);
        json_object_object_add(p, "inStock", json_object_new_boolean(i % 2));
        json_object_object_add(p, "empty", json_object_new_object());
        json_object_array_add(arr, p);
    }
    json_object_object_add(o, "products", arr);
    json_object_object_add(o, "total", json_object_new_int(count));
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

static void t_split_properties(void)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        "{\"a\":1}",
        "{\"k\":\"a\\\",b:c[{\",\"z\":[1,2]}",
        "{\"s\":\"\\\\\",\"t\":\"\\\\\\\"\",\"u\":[[[[1]]],{\"v\":{\"w\":null}}]}",
        "{\"text\":\"caf\xC3\xA9, na\xC3\xAFve: [ok] {yes}\",\"n\":-1.5e3,\"b\":true}",
        "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]",
    };
    static const size_t maxes[] = {1, 2, 5, 8, 16, 33, 64, 100, 1024, 100000};
    char *big = doc_big(40);
    for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
        for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) check_split(docs[d], maxes[m]);
        check_split(big, maxes[m]);
    }
    free(big);
}

static void t_split_exact_cuts(void)
{
    /* The commas, colons and brackets inside the string are not break
     * points; the escaped quote does not end the string. */
    const char *j = "{\"k\":\"a\\\",b:c[{\",\"z\":[1,2]}";
    size_t cuts[16];
    size_t n = sse_split(j, strlen(j), 1, cuts, 16);
    static const size_t want[] = {1, 5, 17, 21, 22, 24, 27};
    CU_ASSERT_EQUAL_FATAL(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(cuts[i], want[i]);
}

static void t_split_long_string_whole(void)
{
    char j[400];
    char x[201];
    memset(x, 'x', 200);
    x[200] = '\0';
    snprintf(j, sizeof(j), "{\"a\":\"%s\",\"b\":[1,2,3],\"c\":\"short\"}", x);
    size_t cuts[64];
    size_t n = sse_split(j, strlen(j), 16, cuts, 64);
    size_t start = 0, found = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ll = cuts[i] - start;
        const char *q = memchr(j + start, 'x', ll);
        if (q) {
            /* the one line holding the string holds all of it */
            CU_ASSERT(memmem(j + start, ll, x, 200) != NULL);
            found++;
        } else {
            CU_ASSERT(ll <= 16);
        }
        start = cuts[i];
    }
    CU_ASSERT_EQUAL(found, 1);
    check_split(j, 16);
}

static void t_split_limits(void)
{
    size_t cuts[4];
    /* empty payload: one empty line */
    CU_ASSERT_EQUAL(sse_split("", 0, 10, cuts, 4), 1);
    CU_ASSERT_EQUAL(cuts[0], 0);
    /* fits: one line */
    CU_ASSERT_EQUAL(sse_split("{\"a\":1}", 7, 7, cuts, 4), 1);
    CU_ASSERT_EQUAL(cuts[0], 7);
    /* max 0 behaves as 1 */
    CU_ASSERT_EQUAL(sse_split("[1,2]", 5, 0, cuts, 4), 3);
    /* never more than maxcuts lines; the last still ends the payload */
    const char *j = "[1,2,3,4,5,6,7,8,9]";
    size_t n = sse_split(j, strlen(j), 2, cuts, 4);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_EQUAL(cuts[3], strlen(j));
}

static void t_event_frame_exact(void)
{
    struct cap c = {0};
    struct sse_io io;
    cap_io(&c, &io);
    CU_ASSERT_EQUAL(sse_write_event(&io, 7, "progress", "{\"a\":1}", 7, 1024), 0);
    CU_ASSERT_STRING_EQUAL(c.p, "id: 7\nevent: progress\ndata: {\"a\":1}\n\n");
    CU_ASSERT_EQUAL(c.flushes, 1);
    c.len = 0;
    CU_ASSERT_EQUAL(sse_write_event(&io, 8, "results", "{\"a\":[1,2]}", 11, 6), 0);
    c.p[c.len] = '\0';
    CU_ASSERT_STRING_EQUAL(c.p, "id: 8\nevent: results\ndata: {\"a\":[\ndata: 1,2]}\n\n");
    c.len = 0;
    CU_ASSERT_EQUAL(sse_write_ping(&io), 0);
    c.p[c.len] = '\0';
    CU_ASSERT_STRING_EQUAL(c.p, ": ping\n\n");
    CU_ASSERT_EQUAL(c.flushes, 3);
    cap_free(&c);
}

static void t_event_write_failure(void)
{
    struct cap c = {0};
    struct sse_io io;
    cap_io(&c, &io);
    c.fail_after = 10;
    CU_ASSERT_EQUAL(sse_write_event(&io, 1, "connected", "{\"message\":\"Stream started\"}", 28, 1024), -1);
    CU_ASSERT_EQUAL(c.flushes, 0);
    c.fail_after = 5;
    CU_ASSERT_EQUAL(sse_write_ping(&io), -1);
    /* an event name that does not fit the header is refused, not cut */
    char name[200];
    memset(name, 'e', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    c.fail_after = 0;
    CU_ASSERT_EQUAL(sse_write_event(&io, 1, name, "{}", 2, 1024), -1);
    cap_free(&c);
}

/* A payload needing more data lines than the splitter's table holds at
 * once still keeps every line within the chunk size. */
static void t_event_many_lines(void)
{
    struct cap c = {0};
    struct sse_io io;
    cap_io(&c, &io);
    char *big = doc_big(200);
    size_t len = strlen(big);
    /* 64 is the smallest streaming_chunk_size the config accepts */
    CU_ASSERT_EQUAL_FATAL(sse_write_event(&io, 1, "results", big, len, 64), 0);
    const char *head = "Status: 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
    struct cap whole = {0};
    struct sse_io wio;
    cap_io(&whole, &wio);
    wio.write(wio.ctx, head, strlen(head));
    wio.write(wio.ctx, c.p, c.len);
    struct cap_parse p;
    int rc = cap_parse(&whole, &p);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "\n  %s\n", p.error);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT(p.ev[0].lines > 512);
    CU_ASSERT(p.ev[0].longest <= 64);
    json_object *want = cap_json(big, len);
    CU_ASSERT(json_object_equal(want, p.ev[0].data));
    json_object_put(want);
    cap_parse_free(&p);
    cap_free(&whole);
    cap_free(&c);
    free(big);
}

static void t_timestamp(void)
{
    char ts[32];
    sse_timestamp(ts, 0);
    CU_ASSERT_STRING_EQUAL(ts, "1970-01-01T00:00:00.000Z");
    sse_timestamp(ts, 1700000000123LL);
    CU_ASSERT_STRING_EQUAL(ts, "2023-11-14T22:13:20.123Z");
    sse_timestamp(ts, 1700000000007LL);
    CU_ASSERT_STRING_EQUAL(ts, "2023-11-14T22:13:20.007Z");
    /* The hand-written calendar agrees with gmtime_r + strftime: every day
     * from 1900 to 2400 (leap days, century years), at a varying second. */
    int bad = 0;
    for (long long day = -25567; day <= 157000 && bad < 3; day++) {
        long long sec = day * 86400 + ((day * 7919) % 86400 + 86400) % 86400;
        long long frac = (day % 1000 + 1000) % 1000, ms = sec * 1000 + frac;
        time_t t = (time_t)sec;
        struct tm tm;
        char want[40];
        gmtime_r(&t, &tm);
        size_t n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof(want) - n, ".%03dZ", (int)frac);
        sse_timestamp(ts, ms);
        if (strcmp(ts, want) != 0) {
            bad++;
            CU_FAIL("timestamp differs from gmtime_r");
            fprintf(stderr, "ms=%lld got %s want %s\n", ms, ts, want);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void t_json_str(void)
{
    char out[256];
    size_t n = sse_json_str(out, sizeof(out), "a\"b\\c\n\r\t\x01 caf\xC3\xA9 /");
    CU_ASSERT_STRING_EQUAL(out, "\"a\\\"b\\\\c\\u000a\\u000d\\u0009\\u0001 caf\xC3\xA9 /\"");
    CU_ASSERT_EQUAL(n, strlen(out));
    json_object *o = cap_json(out, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(o), "a\"b\\c\n\r\t\x01 caf\xC3\xA9 /");
    json_object_put(o);

    CU_ASSERT_EQUAL(sse_json_str(out, sizeof(out), ""), 2);
    CU_ASSERT_STRING_EQUAL(out, "\"\"");
    CU_ASSERT_EQUAL(sse_json_str(out, 2, "x"), 0);   /* no room for "" + NUL */
}

/* Truncation keeps the result a valid JSON string of valid UTF-8: never
 * half an escape, never half a character. */
static void t_json_str_truncation(void)
{
    const char *src = "\"\"\\\x02 \xC3\xA9\xE6\x9D\xB1\xF0\x9F\x8E\x89 end";
    for (size_t cap = 3; cap < 48; cap++) {
        char out[64];
        memset(out, 0x55, sizeof(out));
        size_t n = sse_json_str(out, cap, src);
        CU_ASSERT(n < cap);
        CU_ASSERT_EQUAL(out[n], '\0');
        CU_ASSERT_EQUAL((unsigned char)out[cap], 0x55);   /* nothing past cap */
        json_object *o = cap_json(out, n);
        CU_ASSERT_PTR_NOT_NULL(o);
        if (o) {
            const char *v = json_object_get_string(o);
            CU_ASSERT(strncmp(src, v, strlen(v)) == 0);   /* a prefix of the input */
            CU_ASSERT(u8_valid(v, strlen(v), NULL));
            json_object_put(o);
        } else {
            fprintf(stderr, "\n  cap %zu gave %s\n", cap, out);
        }
    }
}

void register_sse(void)
{
    static const struct unit_case cases[] = {
        {"split: lines within max, only between tokens, same JSON", t_split_properties},
        {"split: exact cut points around strings and escapes", t_split_exact_cuts},
        {"split: a string longer than max stays whole", t_split_long_string_whole},
        {"split: empty, fitting, max 0, maxcuts", t_split_limits},
        {"event: exact frame, multi-line data, ping", t_event_frame_exact},
        {"event: write failures", t_event_write_failure},
        {"event: more lines than one split table", t_event_many_lines},
        {"timestamp: ISO 8601 UTC with ms", t_timestamp},
        {"json_str: escaping", t_json_str},
        {"json_str: truncation never splits an escape or a character", t_json_str_truncation},
        {NULL, NULL},
    };
    unit_suite("sse", cases);
}
