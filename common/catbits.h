/* catbits.h: attribute bitmaps of the catalog, for browsing.
 *
 * Built by troika-admin after an import (cb_sync); read by the workers'
 * browse step. See docs/search.md. */
#ifndef TROIKA_CATBITS_H
#define TROIKA_CATBITS_H

#include <stddef.h>

#include "common/arena.h"

struct db;

/* Rebuilds the bitmaps when force is set or they were built by another
 * version of this code (catalog_meta "bits_version"); *rebuilt says whether
 * it did. Runs in its own transaction. DB_OK or DB_E*. */
int cb_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen);

#endif
