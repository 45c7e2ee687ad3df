/* upload.h: the context-upload pipeline's parts, shared by handlers/upload/upload*.c
 * and their unit tests (not by other handlers). Steps, in order:
 * upload_validation (up_sniff), extraction (up_extract), chunking and
 * token_counting (up_chunk), embedding, and storing (cx_upload in
 * common/store/context.h: the rows and the chatbot's index, all or nothing).
 *
 * Memory: everything lives in the request arena unless a prototype says
 * otherwise; texts are UTF-8 and NUL-terminated. */
#ifndef TROIKA_UPLOAD_H
#define TROIKA_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct tok;

/* ---- types and validation (upload_extract.c) ---------------------------- */

enum up_type { UP_NONE = 0, UP_TEXT, UP_MARKDOWN, UP_CSV, UP_JSON, UP_HTML, UP_PDF };

/* "text/plain" ... for a type; "" for UP_NONE. */
const char *up_type_mime(enum up_type t);

/* The declared type: the part's Content-Type (parameters dropped, any
 * case), or, when that is absent, application/octet-stream or not one of
 * the six, the file name's extension (.txt .text .md .markdown .csv .json
 * .html .htm .pdf). UP_NONE when neither names an accepted type.
 * *from_ext says which one decided. */
enum up_type up_declared(const char *content_type, const char *filename, int *from_ext);

/* Content sniffing: 0 when data[0..n) can be of type t, else -1 with a
 * sentence in why (a PDF must start with %PDF-; text types must not hold
 * NUL bytes or the signature of a known binary format; JSON must parse). */
int up_sniff(enum up_type t, const char *data, size_t n, char *why, size_t whylen);

/* Extracted text; pages[] for PDFs (page i starts at byte pages[i]). */
struct up_text {
    const char *s;
    size_t n;
    size_t *pages;       /* npages entries, ascending; NULL unless PDF */
    int npages;
};

/* Error classes of up_extract, mapped to SPEC codes by the handler. */
enum {
    UP_EX_OK = 0,
    UP_EX_UTF8 = -1,       /* INVALID_UTF8, *bad_offset set */
    UP_EX_NOTEXT = -2,     /* NO_EXTRACTABLE_TEXT */
    UP_EX_FAIL = -3,       /* PROCESSING_ERROR (unreadable PDF, too much text, ...) */
};

/* Extracts the text of data[0..n) (borrowed: the result may point into
 * it, so data must outlive out) as type t, at most max_text bytes.
 * UP_EX_* with why filled on failure. `cancel` (may be NULL) is polled
 * between PDF pages; non-zero stops with UP_EX_FAIL. */
int up_extract(arena_t *ar, enum up_type t, const char *data, size_t n, size_t max_text,
               struct up_text *out, size_t *bad_offset, char *why, size_t whylen,
               int (*cancel)(void *), void *cancel_arg);

/* Limits of the extraction child (upload_child.c). */
struct up_bounds {
    int timeout_ms;      /* wall time; CPU time is limited to it rounded up, plus 1 s */
    long memory;         /* bytes the child may map over what it inherits; 0: no limit */
};

/* up_extract, run for PDF and HTML in a child process bounded by `b`
 * (other types in this process: their parsers are linear and stop at
 * max_text). A child over a limit is killed and the file refused
 * (UP_EX_FAIL, why naming the limit); `cancel` is polled every 10 ms while
 * it runs and kills it too. Results land in `ar` as with up_extract. */
int up_extract_bounded(arena_t *ar, enum up_type t, const char *data, size_t n, size_t max_text,
                       const struct up_bounds *b, struct up_text *out, size_t *bad_offset, char *why,
                       size_t whylen, int (*cancel)(void *), void *cancel_arg);

/* ---- chunking (upload_chunk.c) -------------------------------------------- */

struct up_chunk {
    size_t off, len;     /* bytes of the extracted text */
    size_t char_off;     /* the same start counted in characters (code points) */
    int page;            /* 1-based page of the chunk's first character; 0 unless PDF */
    int tokens;
    int exact_edges;     /* both edges on pieces of the split pattern */
};

struct up_chunking {
    struct up_chunk *chunks;
    size_t n;
    size_t total_tokens;   /* tokens of the whole text (not the sum over chunks) */
};

/* Cuts text into chunks of at most chunk_tokens tokens that overlap by
 * about `overlap` tokens, cutting at a paragraph or sentence end when one
 * lies within the last 20% of a chunk, else at a piece of the split
 * pattern, never inside a UTF-8 character. Whitespace-only text gives no
 * chunk. progress(arg, bytes done) is called now and then (may be NULL;
 * non-zero stops with that value). 0, -1 (memory / invalid UTF-8) or the
 * progress value. */
int up_chunk(struct tok *t, arena_t *ar, const struct up_text *text, int chunk_tokens, int overlap,
             struct up_chunking *out, int (*progress)(void *, size_t), void *arg);

/* Recounts the chunks whose edges fall inside a piece (their window count
 * can differ from the count of the text alone); 0 or -1. */
int up_chunk_recount(struct tok *t, const struct up_text *text, struct up_chunking *ch);

/* ---- auth (upload.c) -------------------------------------------------------- */

/* 1 when `presented` (n bytes) equals one of the comma-separated keys in
 * `keys` (spaces around commas ignored), compared in constant time over
 * SHA-256 digests; 0 otherwise, also when keys is empty. */
int up_key_ok(const char *keys, const char *presented, size_t n);

#endif
