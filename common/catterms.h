/* catterms.h: document frequencies of the catalog's full-text words.
 *
 * InnoDB's FULLTEXT cost grows with the documents each word of a query
 * matches (about 1 us each at 100k products). troika-admin counts, after an
 * import, how many products contain each word (ct_sync, table search_terms);
 * text search reads the counts of a query's words (ct_lookup) to put the
 * rarest first and to check very frequent words on the matched rows instead
 * (docs/search.md). */
#ifndef TROIKA_CATTERMS_H
#define TROIKA_CATTERMS_H

#include <stddef.h>

#include "common/arena.h"

struct db;

/* Rebuilds search_terms when force is set or it was built by another
 * version of this code (catalog_meta "terms_version"); *rebuilt says
 * whether it did. Runs in its own transaction. DB_OK or DB_E*. */
int ct_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);

#endif
