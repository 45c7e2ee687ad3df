/* ps_set.c: a product search's whole match set; see ps_set.h.
 *
 * With the worker's catalog snapshot a browse's products are the attribute
 * bitmaps ANDed in memory (cs_filter) and every count is a popcount over
 * the match set's bitset; sort keys come from the snapshot's arrays. The
 * relevance ranking only needs the text list as deep as the page (RRF
 * appends deeper text products after every ranked one), and an attribute
 * sort only the page's products in order (quickselect, pg_select), so
 * neither sorts the whole set. */
#include "handlers/search/ps_set.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/rank.h"
#include "common/store/catalog.h"
#include "common/store/catbits.h"
#include "common/store/catsnap.h"
#include "handlers/search/ps_page.h"

static struct cat_product *ps_row_of(const struct ps_set *ps, int64_t id)
{
    struct cat_product key = {.id = id}, *kp = &key;
    struct cat_product **hit =
        ps->ntext ? bsearch(&kp, ps->byid, ps->ntext, sizeof(*ps->byid), cat_row_id_cmp) : NULL;
    return hit ? *hit : NULL;
}

/* Browse order: popularity, then the larger (newer) id (arg: the snapshot). */
static int ps_by_pop(const void *a, const void *b, void *arg)
{
    const struct cs_snap *snap = arg;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (snap->pop[x] != snap->pop[y]) return snap->pop[x] > snap->pop[y] ? -1 : 1;
    return x > y ? -1 : x < y;
}

/* The k first of v[0..n) in browse order to v[0..k), sorted. */
static void ps_top_by_pop(const struct cs_snap *snap, int64_t *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1, store = lo;
        int64_t t = v[mid];
        v[mid] = v[last];
        v[last] = t;
        for (size_t i = lo; i < last; i++)
            if (ps_by_pop(&v[i], &v[last], (void *)snap) < 0) {
                t = v[i];
                v[i] = v[store];
                v[store] = t;
                store++;
            }
        t = v[last];
        v[last] = v[store];
        v[store] = t;
        if (store == k) break;
        if (store < k) lo = store + 1;
        else hi = store;
    }
    qsort_r(v, k < n ? k : n, sizeof(*v), ps_by_pop, (void *)snap);
}

static int ps_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* A vector candidate's key for the browse order, with its place. */
struct ps_vkey {
    int64_t id;
    size_t j;
};

/* Each vector candidate's place in the whole text list (the first `full`
 * of it): in the matches (one pass, the candidates' ids sorted), or, for a
 * browse, 1 + the products the browse order puts before it (one pass over
 * the products: each is counted at the first candidate it precedes). */
static int ps_vranks(struct ps_set *ps, size_t full)
{
    arena_t *ar = ps->ar;
    size_t nv = ps->nvf;
    ps->vrank = ar_calloc(ar, nv ? nv : 1, sizeof(*ps->vrank));
    ps->vrel = ar_calloc(ar, nv ? nv : 1, sizeof(*ps->vrel));
    struct ps_vkey *vk = ar_alloc(ar, (nv ? nv : 1) * sizeof(*vk));
    if (!ps->vrank || !ps->vrel || !vk) return -1;
    if (!nv) return 0;
    if (ps->survivors) {
        const struct cs_snap *snap = ps->snap;
        size_t m = 0;
        for (size_t j = 0; j < nv; j++) {
            int64_t id = ps->vrows[j]->id;
            if (bsearch(&id, ps->survivors, ps->nsurv, sizeof(id), ps_i64_cmp)) vk[m++] = (struct ps_vkey){id, j};
        }
        /* best first in the browse order */
        for (size_t a = 1; a < m; a++)
            for (size_t b = a; b > 0 && ps_by_pop(&vk[b].id, &vk[b - 1].id, (void *)snap) < 0; b--) {
                struct ps_vkey t = vk[b];
                vk[b] = vk[b - 1];
                vk[b - 1] = t;
            }
        size_t *cnt = ar_calloc(ar, m + 1, sizeof(*cnt));
        if (!cnt) return -1;
        for (size_t i = 0; i < ps->nsurv; i++) {
            /* how many candidates come before this product */
            size_t lo = 0, hi = m;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (ps_by_pop(&vk[mid].id, &ps->survivors[i], (void *)snap) < 0) lo = mid + 1;
                else hi = mid;
            }
            cnt[lo]++;
        }
        size_t before = 0;
        for (size_t a = 0; a < m; a++) {
            before += cnt[a];   /* products up to and including this candidate */
            if (before <= full) ps->vrank[vk[a].j] = (int)before;
        }
        return 0;
    }
    if (!ps->all || !ps->all->n) return 0;   /* the candidates: found among them (ps_fuse) */
    for (size_t j = 0; j < nv; j++) vk[j] = (struct ps_vkey){ps->vrows[j]->id, j};
    qsort(vk, nv, sizeof(*vk), ps_i64_cmp);   /* id first in the struct */
    for (size_t i = 0; i < full; i++) {
        struct ps_vkey *hit = bsearch(&ps->all->v[i].id, vk, nv, sizeof(*vk), ps_i64_cmp);
        if (hit) {
            ps->vrank[hit->j] = (int)i + 1;
            ps->vrel[hit->j] = ps->all->v[i].rel;
        }
    }
    return 0;
}

int pset_text(struct ps_set *ps, size_t depth)
{
    arena_t *ar = ps->ar;
    const struct cs_snap *snap = ps->snap;
    if (depth < ps->ncand) depth = ps->ncand;
    ps->byid = ar_alloc(ar, (ps->ntext ? ps->ntext : 1) * sizeof(*ps->byid));
    if (!ps->byid) return -1;
    for (size_t i = 0; i < ps->ntext; i++) ps->byid[i] = &ps->text[i];
    qsort(ps->byid, ps->ntext, sizeof(*ps->byid), cat_row_id_cmp);
    int64_t *top = NULL;
    size_t full = ps->ntext;
    if (ps->all && ps->all->n) {
        full = ps->all->n;
    } else if (ps->browse && snap && snap->nbits) {
        uint8_t *set = cs_set(snap, ar);
        if (!set) return -1;
        if (cs_filter(snap, ps->f, ar, set) == 0) {
            size_t count = cb_count(set, snap->bitlen);
            ps->survivors = ar_alloc(ar, (count + 1) * sizeof(*ps->survivors));
            if (!ps->survivors) return -1;
            ps->nsurv = cb_list(set, snap->bitlen, ps->survivors, count);
            full = ps->nsurv;   /* a browse has no cap: its products are counted, not fetched */
            size_t k = full < depth ? full : depth;
            if (!(top = ar_alloc(ar, (ps->nsurv + 1) * sizeof(*top)))) return -1;
            memcpy(top, ps->survivors, ps->nsurv * sizeof(*top));
            ps_top_by_pop(snap, top, ps->nsurv, k);
        }
    }
    size_t n = full < depth ? full : depth;
    if (ps_vranks(ps, full) < 0) return -1;
    ps->tid = ar_alloc(ar, (n ? n : 1) * sizeof(*ps->tid));
    ps->trel = ar_alloc(ar, (n ? n : 1) * sizeof(*ps->trel));
    ps->tpop = ar_alloc(ar, (n ? n : 1) * sizeof(*ps->tpop));
    ps->trow = ar_alloc(ar, (n ? n : 1) * sizeof(*ps->trow));
    if (!ps->tid || !ps->trel || !ps->tpop || !ps->trow) return -1;
    for (size_t i = 0; i < n; i++) {
        if (ps->all && ps->all->n) {
            ps->tid[i] = ps->all->v[i].id;
            ps->trel[i] = ps->all->v[i].rel;
            ps->tpop[i] = ps->all->v[i].popularity;
            ps->trow[i] = ps_row_of(ps, ps->tid[i]);
        } else if (top) {
            ps->tid[i] = top[i];
            ps->trel[i] = 0;
            ps->tpop[i] = snap->pop[top[i]];
            ps->trow[i] = ps_row_of(ps, top[i]);
        } else {
            ps->tid[i] = ps->text[i].id;
            ps->trel[i] = ps->text[i].relevance;
            ps->tpop[i] = ps->text[i].popularity;
            ps->trow[i] = &ps->text[i];
        }
    }
    ps->nt = n;
    ps->tfull = full;
    return 0;
}

/* The match set's product ids: the whole text list (a browse: all of its
 * products), then the vector candidates not among them. New array. */
static int64_t *ps_members(struct ps_set *ps, size_t *n)
{
    size_t nt = ps->survivors ? ps->nsurv : ps->all && ps->all->n ? ps->all->n : ps->ntext;
    int64_t *v = ar_alloc(ps->ar, (nt + ps->nvf + 1) * sizeof(*v));
    int64_t *sorted = ar_alloc(ps->ar, (nt + 1) * sizeof(*sorted));
    if (!v || !sorted) return NULL;
    for (size_t i = 0; i < nt; i++)
        v[i] = ps->survivors ? ps->survivors[i] : ps->all && ps->all->n ? ps->all->v[i].id : ps->text[i].id;
    memcpy(sorted, v, nt * sizeof(*v));
    if (!ps->survivors) qsort(sorted, nt, sizeof(*sorted), ps_i64_cmp);
    size_t k = nt;
    for (size_t j = 0; j < ps->nvf; j++)
        if (!bsearch(&ps->vrows[j]->id, sorted, nt, sizeof(*sorted), ps_i64_cmp)) v[k++] = ps->vrows[j]->id;
    *n = k;
    return v;
}

json_object *pset_count(struct ps_set *ps, const struct rk_item *items, struct cat_product **rows, size_t n,
                        long *total, int *exact)
{
    const struct cs_snap *snap = ps->snap;
    *total = (long)n;
    *exact = 0;
    size_t nm;
    int64_t *m = ps_members(ps, &nm);
    if (m && snap && snap->nbits) {
        uint8_t *set = cs_set(snap, ps->ar);
        if (set) {
            long missing = 0;   /* products newer than the snapshot (added behind troika-admin's back) */
            for (size_t i = 0; i < nm; i++) {
                if (!cs_has(snap, m[i])) {
                    missing++;
                    continue;
                }
                set[m[i] / 8] |= (uint8_t)(1u << (m[i] % 8));
            }
            json_object *facets = cs_facets(snap, set);
            if (facets) {
                *total = (long)cb_count(set, snap->bitlen) + missing;
                *exact = !missing && (ps->survivors || (ps->all && ps->all->complete));
                return facets;
            }
        }
    }
    if (m && nm > n) *total = (long)nm;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i]) rows[k++] = rows[i];
    (void)items;
    return cat_facets((const struct cat_product *const *)rows, k);
}

/* A product's row among the text candidates or the vector candidates. */
static struct cat_product *ps_any_row(const struct ps_set *ps, int64_t id)
{
    struct cat_product *r = ps_row_of(ps, id);
    for (size_t j = 0; !r && j < ps->nvf; j++)
        if (ps->vrows[j]->id == id) r = ps->vrows[j];
    return r;
}

int pset_page(struct ps_set *ps, int sort, const struct pg_cursor *cur, long offset, long limit,
              struct ps_pick *page, size_t *k, size_t *start, int *more)
{
    size_t nm;
    int64_t *m = ps_members(ps, &nm);
    struct pg_item *v = ar_alloc(ps->ar, (nm + 1) * sizeof(*v));
    if (!m || !v) return -1;
    for (size_t i = 0; i < nm; i++) {
        /* the snapshot's keys; a product it lacks, from its row */
        int known = ps->snap && cs_has(ps->snap, m[i]);
        pg_item_of(sort, ps->snap, m[i], known ? NULL : ps_any_row(ps, m[i]), &v[i]);
        v[i].src = i;
    }
    int64_t cpos = cur && ps->snap ? cs_sku_pos(ps->snap, cur->sku) : -1;
    pg_select(v, nm, cur, cpos, offset, limit, start, k, more);
    for (size_t i = 0; i < *k; i++) page[i] = (struct ps_pick){.id = m[v[i].src], .row = ps_any_row(ps, m[v[i].src])};
    return 0;
}
