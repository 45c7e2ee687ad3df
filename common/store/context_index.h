/* context_index.h: the files of a chatbot's vector index (chatbot-<id> in
 * index_dir: .faiss, .ids, .meta.json), as the upload and the delete
 * transactions stage, rename and remove them. Private to common/store's
 * context module (context_upload.c, context_delete.c). */
#ifndef TROIKA_CONTEXT_INDEX_H
#define TROIKA_CONTEXT_INDEX_H

#include <stddef.h>

/* The three extensions, the meta file last. */
extern const char *const cx_index_exts[3];

/* "<name>.staging-<pid>": where this process builds a new index. */
void cx_index_staging(const char *name, char *out, size_t cap);

/* Removes the three files of name (staging leftovers). */
void cx_index_unlink(const char *dir, const char *name);

/* Removes a live index, meta first, so that a reader finds none at all. */
void cx_index_remove(const char *dir, const char *name);

/* Renames from's three files to to's, meta last. 0, or -1 with err. */
int cx_index_rename(const char *dir, const char *from, const char *to, char *err, size_t errlen);

/* Removes the staging files of name left by processes that are gone; run
 * while holding the chatbot's lock. */
void cx_index_sweep(const char *dir, const char *name);

#endif
