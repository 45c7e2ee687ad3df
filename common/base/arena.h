/* arena.h: one memory arena per request.
 *
 * Everything a request allocates comes from its arena and is released at
 * once by ar_reset()/ar_free(). Library objects (json-c values, MySQL
 * results, curl handles) are handed to ar_defer() and released with it.
 * Not thread-safe: an arena belongs to one thread at a time. */
#ifndef TROIKA_ARENA_H
#define TROIKA_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena_t;

/* Creates an arena whose blocks are at least `block` bytes. NULL on ENOMEM. */
arena_t *ar_new(size_t block);
/* Runs the cleanups (last registered first), then frees every block. */
void ar_free(arena_t *ar);
/* Runs the cleanups and forgets every allocation but keeps the first block,
 * so a worker reuses one arena for all its requests. */
void ar_reset(arena_t *ar);

/* Aligned allocation; NULL only when memory is exhausted. */
void *ar_alloc(arena_t *ar, size_t n);
void *ar_calloc(arena_t *ar, size_t n, size_t size);
char *ar_strdup(arena_t *ar, const char *s);
char *ar_strndup(arena_t *ar, const char *s, size_t n);
char *ar_printf(arena_t *ar, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *ar_vprintf(arena_t *ar, const char *fmt, va_list ap);

/* Registers fn(p) to run when the arena is reset or freed. 0 or -1. */
int ar_defer(arena_t *ar, void (*fn)(void *), void *p);

/* Bytes handed out since the last reset (for metrics and tests). */
size_t ar_used(const arena_t *ar);

/* A growing byte buffer inside an arena, with a hard cap: appending past
 * `max` fails with -1 and sets `toobig`, which callers turn into a 413. */
typedef struct {
    arena_t *ar;
    char *p;      /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;
    int toobig;
} buf_t;

void buf_init(buf_t *b, arena_t *ar, size_t max);
int buf_add(buf_t *b, const void *data, size_t n);
int buf_adds(buf_t *b, const char *s);
int buf_addc(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(buf_t *b);

#endif
