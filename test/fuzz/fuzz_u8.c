/* fuzz_u8.c: UTF-8 checks and repair (common/base/u8.c) on any bytes.
 *
 * Checks what the stream code relies on: u8_repair's output is valid and
 * leaves valid input unchanged; on valid text every cut held back by
 * u8_complete_prefix is a character boundary at most 3 bytes back and the
 * same one u8_floor gives; u8_seqlen walks valid text exactly; u8_chars
 * counts what that walk counts. */
#include "test/fuzz/fuzz.h"

#include "common/base/arena.h"
#include "common/base/u8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    arena_t *ar = ar_new(4096);
    if (!ar) return 0;

    size_t bad = (size_t)-1;
    int valid = u8_valid(s, size, &bad);
    FZ_CHECK(valid || bad < size, "bad offset %zu of %zu", bad, size);
    if (!valid) {
        FZ_CHECK(u8_valid(s, bad, NULL), "the part before the first bad byte %zu is not valid", bad);
        FZ_CHECK(u8_seqlen(data + bad, size - bad) == 0, "the bad byte %zu starts a valid sequence", bad);
    }

    size_t vlen = 0;
    char *v = u8_repair(ar, s, size, &vlen);
    FZ_CHECK(v != NULL, "u8_repair failed");
    FZ_CHECK(vlen <= 3 * size, "repaired %zu bytes into %zu", size, vlen);
    FZ_CHECK(v[vlen] == '\0', "not terminated");
    FZ_CHECK(u8_valid(v, vlen, NULL), "u8_repair's output is not valid UTF-8");
    if (valid) FZ_CHECK(vlen == size && !memcmp(v, s, size), "valid input changed by u8_repair");

    /* walk the valid text */
    size_t chars = 0;
    for (size_t i = 0; i < vlen; chars++) {
        size_t l = u8_seqlen((const unsigned char *)v + i, vlen - i);
        FZ_CHECK(l >= 1 && l <= 4, "u8_seqlen %zu at %zu of valid text", l, i);
        i += l;
        FZ_CHECK(i <= vlen, "u8_seqlen ran past the end");
    }
    FZ_CHECK(u8_chars(v, vlen) == chars, "u8_chars %zu, walk %zu", u8_chars(v, vlen), chars);

    /* every cut a streamer could see */
    for (size_t c = 0; c <= vlen && c < 4096; c++) {
        size_t p = u8_complete_prefix(v, c);
        FZ_CHECK(p <= c && c - p <= 3, "complete prefix %zu of a cut at %zu", p, c);
        /* a boundary of valid text leaves a valid prefix; checked in full for short ones (O(n^2)) */
        FZ_CHECK(c > 64 || u8_valid(v, p, NULL), "the complete prefix %zu of a cut at %zu is not valid", p, c);
        FZ_CHECK(p == vlen || ((unsigned char)v[p] & 0xC0) != 0x80, "prefix %zu ends inside a character", p);
        FZ_CHECK(u8_floor(v, vlen, c) == p, "u8_floor %zu, complete prefix %zu at %zu", u8_floor(v, vlen, c),
                 p, c);
    }
    /* any cut of the raw bytes stays within them */
    size_t p = u8_complete_prefix(s, size);
    FZ_CHECK(p <= size && size - p <= 3, "complete prefix %zu of %zu raw bytes", p, size);
    ar_free(ar);
    return 0;
}
