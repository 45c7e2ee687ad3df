/* admin_map.h: a small string -> 64-bit value map for troika-admin (skus
 * seen and stored by import-products, titles already given by
 * gen-catalog). Open addressing, grown when half full; keys and slots live
 * in an arena, so there is nothing to free. */
#ifndef TROIKA_ADMIN_MAP_H
#define TROIKA_ADMIN_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct adm_ent {
    const char *key;   /* arena copy; NULL = empty slot */
    uint64_t hash;     /* the caller's value */
};

struct adm_map {
    struct adm_ent *e;
    size_t cap, n;
};

/* Room for about want keys. 0, or -1 on ENOMEM. */
int adm_map_init(struct adm_map *m, arena_t *ar, size_t want);

/* Sets key's value (adding a copy of key). 0, or -1 on ENOMEM. */
int adm_map_put(struct adm_map *m, arena_t *ar, const char *key, uint64_t v);

/* key's entry, or NULL. Borrowed until the next put. */
struct adm_ent *adm_map_get(struct adm_map *m, const char *key);

#endif
