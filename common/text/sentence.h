/* sentence.h: cuts streaming text into sentences as it arrives, so each
 * finished sentence can be spoken while the next is still being generated.
 *
 * A sentence ends at . ! ? … । 。 (plus closing quotes, brackets or `**`)
 * followed by whitespace, or at a newline. A period does not end one after
 * a known abbreviation ("Rs.", "e.g.", "Dr.", "No."), an initial ("J."), a
 * dotted acronym, or when a lowercase letter follows; "1.5" and "40,000.00"
 * have no whitespace after the period. Deciding needs the first character
 * after the whitespace, so a sentence is released when the next one starts
 * (or at sent_flush). Text with no end for max_len bytes is cut at its last
 * space. Memory from the arena; one splitter per answer. */
#ifndef TROIKA_SENTENCE_H
#define TROIKA_SENTENCE_H

#include <stddef.h>

#include "common/base/arena.h"

struct sent {
    buf_t buf;          /* text not yet released */
    size_t max_len;
};

/* One finished sentence, trimmed, never empty. Borrowed: valid during the
 * call. Non-zero stops the splitter and is returned. */
typedef int (*sent_fn)(void *arg, const char *s, size_t n);

void sent_init(struct sent *sp, arena_t *ar, size_t max_len);
/* Adds text; calls fn for each sentence it completes. 0, -1 (no memory),
 * or fn's non-zero code. */
int sent_feed(struct sent *sp, const char *text, size_t n, sent_fn fn, void *arg);
/* The text ended: releases what is left as the last sentence. */
int sent_flush(struct sent *sp, sent_fn fn, void *arg);

/* The end offset of the first sentence of s[0..n) (just after its
 * terminator and closing marks), or 0 when it cannot be decided yet.
 * `final`: no more text will come. Exposed for unit tests. */
size_t sent_boundary(const char *s, size_t n, int final);

/* The form to speak: citation marks ("[1]"), markdown marks (* _ ` #, a
 * leading "- " or "> ") removed, whitespace
 * collapsed. NUL-terminated copy in the arena; *outlen may be NULL. */
char *sent_speakable(arena_t *ar, const char *s, size_t n, size_t *outlen);

#endif
