/* test_b64.c: base64 and the audio chunking rule (common/base/b64). */
#include <stdlib.h>
#include <string.h>

#include "common/base/b64.h"
#include "test/unit/unit.h"

static void t_vectors(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char buf[32];
    unsigned char dec[32];
    for (int i = 0; i < 7; i++) {
        size_t n = b64_encode((const unsigned char *)in[i], strlen(in[i]), buf);
        CU_ASSERT_EQUAL(n, b64_encoded_len(strlen(in[i])));
        CU_ASSERT_STRING_EQUAL(buf, out[i]);
        long d = b64_decode(out[i], strlen(out[i]), dec);
        CU_ASSERT_EQUAL(d, (long)strlen(in[i]));
        CU_ASSERT(memcmp(dec, in[i], strlen(in[i])) == 0);
    }
    CU_ASSERT_EQUAL(b64_decode("Zm9v!", 5, dec), -1);
}

/* Cutting audio into pieces of b64_piece_bytes(max) bytes gives base64
 * pieces of at most max characters, each a multiple of 4, each decoding on
 * its own, which concatenate back to the original. */
static void t_chunking(void)
{
    const size_t sizes[] = {1, 2, 3, 755, 756, 757, 10000};
    const size_t maxes[] = {8, 100, 1008, 1009, 1011};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        unsigned char *audio = malloc(n), *back = malloc(n + 8);
        for (size_t i = 0; i < n; i++) audio[i] = (unsigned char)(i * 131 + 7);
        for (size_t mi = 0; mi < sizeof(maxes) / sizeof(maxes[0]); mi++) {
            size_t max = maxes[mi], piece = b64_piece_bytes(max), got = 0, pieces = 0;
            CU_ASSERT(piece % 3 == 0);
            char *text = malloc(b64_encoded_len(piece) + 1);
            for (size_t off = 0; off < n; off += piece) {
                size_t len = n - off < piece ? n - off : piece;
                size_t tl = b64_encode(audio + off, len, text);
                CU_ASSERT(tl <= max);
                CU_ASSERT(tl % 4 == 0);
                if (off + len < n) CU_ASSERT(strchr(text, '=') == NULL);
                long d = b64_decode(text, tl, back + got);
                CU_ASSERT_EQUAL(d, (long)len);
                got += (size_t)(d > 0 ? d : 0);
                pieces++;
            }
            CU_ASSERT_EQUAL(got, n);
            CU_ASSERT(memcmp(audio, back, n) == 0);
            CU_ASSERT_EQUAL(pieces, (n + piece - 1) / piece);
            free(text);
        }
        free(audio);
        free(back);
    }
}

void register_b64(void)
{
    static const struct unit_case cases[] = {
        {"RFC 4648 vectors", t_vectors},
        {"audio chunking", t_chunking},
        {NULL, NULL},
    };
    unit_suite("b64", cases);
}
