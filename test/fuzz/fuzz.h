/* fuzz.h: what the libFuzzer targets in test/fuzz share: the entry points'
 * prototypes, a check that aborts (so libFuzzer keeps the input), and a
 * reader that takes structure (a selector byte, a length, a piece) off the
 * front of an input. Built only with configure --enable-fuzzing (clang);
 * test/fuzz/run.sh runs one target, docs/reliability.md lists them all. */
#ifndef TROIKA_FUZZ_H
#define TROIKA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An expectation of the code under test: a failure is a finding. */
#define FZ_CHECK(cond, ...)                                                              \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* The input, consumed from the front. */
struct fz {
    const uint8_t *p;
    size_t n;
};

/* The next byte, or 0 when the input is used up. */
static inline unsigned fz_byte(struct fz *f)
{
    if (!f->n) return 0;
    f->n--;
    return *f->p++;
}

/* Up to `max` bytes up to the next `sep` byte (taken, not returned) or the
 * end, as a malloc'd NUL-terminated copy (embedded NULs kept; *len says
 * how many). The caller frees it. */
static inline char *fz_piece(struct fz *f, int sep, size_t max, size_t *len)
{
    const uint8_t *e = sep >= 0 ? memchr(f->p, sep, f->n) : NULL;
    size_t k = e ? (size_t)(e - f->p) : f->n;
    int at_sep = e && k <= max;
    if (k > max) k = max;
    char *s = malloc(k + 1);
    if (!s) abort();
    memcpy(s, f->p, k);
    s[k] = '\0';
    f->p += k + (size_t)at_sep;
    f->n -= k + (size_t)at_sep;
    if (len) *len = k;
    return s;
}

/* The rest of the input as a malloc'd NUL-terminated copy. */
static inline char *fz_rest(struct fz *f, size_t *len)
{
    return fz_piece(f, -1, (size_t)-1, len);
}

#endif
