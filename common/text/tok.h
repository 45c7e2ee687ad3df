/* tok.h: token counting with OpenAI's cl100k_base encoding, exactly as
 * tiktoken counts (encode_ordinary): the split pattern through PCRE2, then
 * byte-pair merges over the rank file shipped in the npm `tiktoken`
 * package (encoders/cl100k_base.json, fetched by tools/fetch-tokenizer.sh).
 *
 * Without the rank file the same pieces are counted with a documented
 * estimate (ceil(characters / 4) per piece, at least 1), named
 * "estimate:chars/4" by tok_name(). A struct tok is built once per process
 * (tok_open) and then only read, except for its PCRE2 match scratch: use
 * one struct tok from one thread at a time. */
#ifndef TROIKA_TOK_H
#define TROIKA_TOK_H

#include <stddef.h>
#include <stdint.h>

struct tok;

/* The name of the encoding, and of the estimate used without it. */
#define TOK_EXACT_NAME "cl100k_base"
#define TOK_ESTIMATE_NAME "estimate:chars/4"

/* Opens the tokenizer with the rank file at `path` (NULL or "": none).
 * A missing or unreadable rank file is not an error: the result counts
 * with the estimate, and `why` (may be NULL) says why in a sentence.
 * NULL only when the split pattern cannot be compiled or memory runs out,
 * with err filled. Owned by the caller: tok_close. */
struct tok *tok_open(const char *path, char *why, size_t whylen, char *err, size_t errlen);
void tok_close(struct tok *t);

/* 1 when counts are exact (rank file loaded), 0 for the estimate. */
int tok_exact(const struct tok *t);
/* TOK_EXACT_NAME or TOK_ESTIMATE_NAME. */
const char *tok_name(const struct tok *t);

/* Called once per piece of the split pattern, in order: bytes [off, off+len)
 * of the text are `ntok` tokens. A non-zero return stops the scan and is
 * returned by tok_scan. */
typedef int (*tok_piece_fn)(void *ud, size_t off, size_t len, size_t ntok);

/* Splits s[0..n) (valid UTF-8, checked: -1 when it is not) into pieces and
 * counts each. Pieces cover the whole text with no gap. 0, -1 (invalid
 * UTF-8 or out of memory), or the callback's non-zero value. */
int tok_scan(struct tok *t, const char *s, size_t n, tok_piece_fn fn, void *ud);

/* Tokens in s[0..n), or -1 when s is not valid UTF-8 / memory runs out. */
long tok_count(struct tok *t, const char *s, size_t n);

/* Token start offsets inside one piece p[0..n) as tok_scan reported it:
 * fills starts[0..k) (starts[0] == 0), returns k (the piece's token count),
 * or -1 when more than cap or out of memory. Estimate mode cuts every 4
 * characters. */
long tok_piece_starts(struct tok *t, const char *p, size_t n, uint32_t *starts, size_t cap);

/* Tests: the heap-based merge (used for long pieces) on any piece, so it can
 * be checked against the simple one. Token count or -1. */
long tok_bpe_count_heap(const struct tok *t, const char *p, size_t n);
long tok_bpe_count_simple(const struct tok *t, const char *p, size_t n);

#endif
