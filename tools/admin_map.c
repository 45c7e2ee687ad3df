/* admin_map.c: troika-admin's string -> value map; see admin_map.h. */
#include "tools/admin_map.h"

#include <string.h>

#include "common/base/hash.h"
#include "tools/admin.h"

int adm_map_init(struct adm_map *m, arena_t *ar, size_t want)
{
    size_t cap = 1024;
    while (cap < want * 2) cap *= 2;
    m->e = ar_calloc(ar, cap, sizeof(*m->e));
    m->cap = cap;
    m->n = 0;
    return m->e ? 0 : -1;
}

static struct adm_ent *adm_map_slot(struct adm_map *m, const char *key)
{
    size_t i = (size_t)hash_fnv1a(HASH_FNV_BASIS, key, strlen(key)) & (m->cap - 1);
    while (m->e[i].key && strcmp(m->e[i].key, key) != 0) i = (i + 1) & (m->cap - 1);
    return &m->e[i];
}

int adm_map_put(struct adm_map *m, arena_t *ar, const char *key, uint64_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct adm_map bigger;
        if (adm_map_init(&bigger, ar, m->cap) < 0) return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].key) *adm_map_slot(&bigger, m->e[i].key) = m->e[i];
        bigger.n = m->n;
        *m = bigger;
    }
    struct adm_ent *e = adm_map_slot(m, key);
    if (!e->key) {
        e->key = ar_strdup(ar, key);
        if (!e->key) return -1;
        m->n++;
    }
    e->hash = v;
    return 0;
}

struct adm_ent *adm_map_get(struct adm_map *m, const char *key)
{
    struct adm_ent *e = adm_map_slot(m, key);
    return e->key ? e : NULL;
}
