/* ps_widen.c: the levels of a product search that widens its preferences;
 * see ps_widen.h. */
#include "handlers/search/ps_widen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/search/filters.h"
#include "common/search/qparse.h"
#include "common/search/rank.h"
#include "common/store/catalog.h"
#include "fcgi/app.h"
#include "handlers/handlers.h"

static int pw_id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* A sorted set of ids (the arena's). */
struct pw_seen {
    int64_t *v;
    size_t n, cap;
};

static int pw_seen_has(const struct pw_seen *s, int64_t id)
{
    return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), pw_id_cmp) != NULL;
}

/* Adds ids[0..n) and sorts again. */
static int pw_seen_add(arena_t *ar, struct pw_seen *s, const int64_t *ids, size_t n)
{
    if (s->n + n > s->cap) {
        size_t cap = (s->n + n) * 2;
        int64_t *v = ar_alloc(ar, cap * sizeof(*v));
        if (!v) return -1;
        if (s->n) memcpy(v, s->v, s->n * sizeof(*v));
        s->v = v;
        s->cap = cap;
    }
    memcpy(s->v + s->n, ids, n * sizeof(*ids));
    s->n += n;
    qsort(s->v, s->n, sizeof(*s->v), pw_id_cmp);
    return 0;
}

size_t pw_distinct(arena_t *ar, const struct pw_level *lv, int nlv)
{
    size_t cap = 0;
    for (int l = 0; l < nlv; l++) cap += lv[l].ntext + lv[l].nvf;
    int64_t *ids = ar_alloc(ar, (cap ? cap : 1) * sizeof(*ids));
    if (!ids) return 0;
    size_t n = 0;
    for (int l = 0; l < nlv; l++) {
        for (size_t i = 0; i < lv[l].ntext; i++) ids[n++] = lv[l].text[i]->id;
        for (size_t i = 0; i < lv[l].nvf; i++) ids[n++] = lv[l].vrows[i]->id;
    }
    qsort(ids, n, sizeof(*ids), pw_id_cmp);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (!i || ids[i] != ids[i - 1]) d++;
    return d;
}

int pw_search(struct ctx *c, const char *residual, int any, const struct qp_filters *f, const int64_t *vids,
              const float *vscores, size_t nv, int limit, struct pw_level *out, const char **mode, char *err,
              size_t errlen)
{
    struct cat_product *rows;
    size_t n;
    struct cat_text_info ti;
    int rc = any ? cat_text_any(c->app->store, c->ar, residual, f, limit, &rows, &n, &ti, err, errlen)
                 : cat_text_search(c->app->store, c->ar, residual, f, limit, &rows, &n, &ti, err, errlen);
    if (rc != ST_OK) return rc;
    *mode = ti.mode;
    out->text = ar_alloc(c->ar, (n ? n : 1) * sizeof(*out->text));
    if (!out->text) goto oom;
    for (size_t i = 0; i < n; i++) out->text[i] = &rows[i];
    out->ntext = n;
    out->nvf = 0;
    if (!nv) return ST_OK;
    struct cat_product *vr;
    size_t nvr;
    rc = cat_fetch(c->app->store, c->ar, vids, nv, f, &vr, &nvr, err, errlen);
    if (rc != ST_OK) return rc;
    out->vrows = ar_alloc(c->ar, nv * sizeof(*out->vrows));
    out->vscores = ar_alloc(c->ar, nv * sizeof(*out->vscores));
    if (!out->vrows || !out->vscores) goto oom;
    for (size_t i = 0; i < nv; i++) {
        struct cat_product *p = cat_find(vr, nvr, vids[i]);
        if (!p) continue;
        out->vrows[out->nvf] = p;
        out->vscores[out->nvf++] = vscores[i];
    }
    return ST_OK;
oom:
    snprintf(err, errlen, "out of memory");
    return ST_EQUERY;
}

/* Fuses the new products of one level into items/rows from index at. */
static size_t pw_fuse_level(arena_t *ar, const struct pw_level *lv, const struct pw_seen *seen,
                            const struct rk_params *rp, struct rk_item *items, struct cat_product **rows,
                            size_t *ntext)
{
    /* this level's text matches not seen before, in order; their ranks
     * are their places among these */
    struct cat_product **text = ar_alloc(ar, (lv->ntext ? lv->ntext : 1) * sizeof(*text));
    struct cat_product **byid = ar_alloc(ar, (lv->ntext ? lv->ntext : 1) * sizeof(*byid));
    struct cat_product **vec = ar_alloc(ar, (lv->nvf ? lv->nvf : 1) * sizeof(*vec));
    if (!text || !byid || !vec) return (size_t)-1;
    size_t nt = 0, n = 0;
    for (size_t i = 0; i < lv->ntext; i++)
        if (!pw_seen_has(seen, lv->text[i]->id)) text[nt++] = lv->text[i];
    memcpy(byid, text, nt * sizeof(*byid));
    qsort(byid, nt, sizeof(*byid), cat_row_id_cmp);
    for (size_t i = 0; i < nt; i++)
        items[n++] = (struct rk_item){.id = text[i]->id, .text_rank = (int)i + 1, .text_score = text[i]->relevance,
                                      .tiebreak = text[i]->popularity};
    int vrank = 0;
    for (size_t j = 0; j < lv->nvf; j++) {
        struct cat_product *p = lv->vrows[j];
        if (pw_seen_has(seen, p->id)) continue;
        vec[vrank++] = p;
        struct cat_product **hit = nt ? bsearch(&p, byid, nt, sizeof(*byid), cat_row_id_cmp) : NULL;
        if (hit) {
            for (size_t i = 0; i < nt; i++)
                if (text[i] == *hit) {
                    items[i].vec_rank = vrank;
                    items[i].vec_score = lv->vscores[j];
                    break;
                }
        } else {
            items[n++] = (struct rk_item){.id = p->id, .vec_rank = vrank, .vec_score = lv->vscores[j],
                                          .tiebreak = p->popularity};
        }
    }
    rk_fuse(items, n, nt, rp);
    for (size_t i = 0; i < n; i++)
        rows[i] = items[i].text_rank ? text[items[i].text_rank - 1] : vec[items[i].vec_rank - 1];
    *ntext += nt;
    return n;
}

int pw_fuse(arena_t *ar, const struct pw_level *lv, int nlv, const struct rk_params *rp, const int64_t *before,
            size_t nbefore, struct pw_ranked *out)
{
    size_t cap = 0;
    memset(out, 0, sizeof(*out));
    for (int l = 0; l < nlv; l++) cap += lv[l].ntext + lv[l].nvf;
    if (!cap) cap = 1;
    out->items = ar_calloc(ar, cap, sizeof(*out->items));
    out->rows = ar_alloc(ar, cap * sizeof(*out->rows));
    out->level = ar_alloc(ar, cap);
    int64_t *ids = ar_alloc(ar, cap * sizeof(*ids));
    if (!out->items || !out->rows || !out->level || !ids) return -1;
    struct pw_seen seen = {0};
    if (nbefore && pw_seen_add(ar, &seen, before, nbefore) < 0) return -1;
    for (int l = 0; l < nlv; l++) {
        size_t n = pw_fuse_level(ar, &lv[l], &seen, rp, out->items + out->n, out->rows + out->n, &out->ntext);
        if (n == (size_t)-1) return -1;
        for (size_t i = 0; i < n; i++) {
            ids[i] = out->items[out->n + i].id;
            out->level[out->n + i] = (unsigned char)l;
        }
        if (n && l + 1 < nlv && pw_seen_add(ar, &seen, ids, n) < 0) return -1;
        out->n += n;
    }
    return 0;
}

int pw_matched(struct ctx *c, const struct qp_filters *f, unsigned prefs, const struct pw_level *lv,
               struct cat_product *const *rows, const unsigned char *level, size_t n, unsigned *met, char *err,
               size_t errlen)
{
    unsigned given_up = 0;
    for (size_t i = 0; i < n; i++) {
        met[i] = prefs & ~lv[level[i]].dropped;
        given_up |= prefs & lv[level[i]].dropped;
    }
    if (!given_up) return ST_OK;
    int64_t *ids = ar_alloc(c->ar, n * sizeof(*ids));
    if (!ids) {
        snprintf(err, errlen, "out of memory");
        return ST_EQUERY;
    }
    /* each preference given up: which of the rows that lacked it in
     * their level meet it all the same (one statement over at most a
     * page of ids) */
    for (int id = 0; id < QPF_N; id++) {
        unsigned bit = QPF_BIT(id);
        if (!(given_up & bit)) continue;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (lv[level[i]].dropped & bit) ids[k++] = rows[i]->id;
        struct qp_filters only;
        qp_filters_init(&only);
        qp_filter_copy(&only, f, (enum qp_filter_id)id);
        struct cat_product *pass;
        size_t np;
        int rc = cat_fetch(c->app->store, c->ar, ids, k, &only, &pass, &np, err, errlen);
        if (rc != ST_OK) return rc;
        for (size_t i = 0; i < n; i++)
            if ((lv[level[i]].dropped & bit) && cat_find(pass, np, rows[i]->id)) met[i] |= bit;
    }
    return ST_OK;
}

/* 1 when text has one of words as a whole word (ASCII case-insensitive). */
static int pw_has_word(const char *text, const char *const *words)
{
    const char *p = text ? text : "";
    while (*p) {
        while (*p && !qp_wordbyte((unsigned char)*p)) p++;
        const char *b = p;
        while (*p && qp_wordbyte((unsigned char)*p)) p++;
        size_t n = (size_t)(p - b);
        for (const char *const *w = words; n && *w; w++)
            if (strlen(*w) == n && !strncasecmp(*w, b, n)) return 1;
    }
    return 0;
}

/* The family of the row's first (main) colour, or NULL. */
static const char *pw_main_family(const struct cat_product *row)
{
    const char *p = row->colors ? strchr(row->colors, '"') : NULL, *e = p ? strchr(p + 1, '"') : NULL;
    char name[80];
    if (!e || (size_t)(e - p - 1) >= sizeof(name)) return NULL;
    memcpy(name, p + 1, (size_t)(e - p - 1));
    name[e - p - 1] = '\0';
    const char *fam = qp_color_family(name);
    return fam ? fam : qp_color_guess(name);
}

/* What the groups the row meets weigh together: a group is met when the
 * title, colours, category or tags have one of its words. */
static int pw_met(const struct cat_product *row, const struct qp_boost *b, int nb)
{
    int met = 0;
    for (int g = 0; g < nb; g++) {
        int w = b[g].weight > 0 ? b[g].weight : 1;
        if (b[g].family) {
            const char *fam = pw_main_family(row);
            met += fam && !strcmp(fam, b[g].family) ? w : 0;
            continue;
        }
        int has = pw_has_word(row->title, b[g].words) || pw_has_word(row->colors, b[g].words) ||
                  pw_has_word(row->category, b[g].words) || pw_has_word(row->tags, b[g].words);
        met += (b[g].negate ? !has : has) ? w : 0;
    }
    return met;
}

enum { PW_WORDS = 100 };   /* the words found it: above any groups met */

struct pw_order {
    int met;
    size_t at;
};

static int pw_order_cmp(const void *a, const void *b)
{
    const struct pw_order *x = a, *y = b;
    if (x->met != y->met) return y->met - x->met;
    return x->at < y->at ? -1 : x->at > y->at;
}

int pw_boost(arena_t *ar, struct pw_ranked *r, const struct qp_boost *b, int nb, int words, size_t stable)
{
    if ((!nb && !words) || !r->n) return 0;
    struct pw_order *o = ar_alloc(ar, r->n * sizeof(*o));
    struct rk_item *items = ar_alloc(ar, r->n * sizeof(*items));
    struct cat_product **rows = ar_alloc(ar, r->n * sizeof(*rows));
    if (!o || !items || !rows) return -1;
    /* a product the words found outranks one only the vector side brought:
     * the words are what the shopper typed */
    for (size_t i = 0; i < r->n; i++)
        o[i] = (struct pw_order){.met = (r->rows[i] ? pw_met(r->rows[i], b, nb) : 0) +
                                        (words && r->items[i].text_rank ? PW_WORDS : 0),
                                 .at = i};
    /* level by level: a boost never lifts a product above a level; in
     * level 0 only among its first `stable` products */
    for (size_t from = 0; from < r->n;) {
        size_t to = from;
        while (to < r->n && r->level[to] == r->level[from]) to++;
        size_t end = r->level[from] == 0 && to - from > stable ? from + stable : to;
        qsort(o + from, end - from, sizeof(*o), pw_order_cmp);
        for (size_t i = end; i < to; i++) o[i].met = 0;   /* past the stable part: as fused */
        from = to;
    }
    for (size_t i = 0; i < r->n; i++) {
        items[i] = r->items[o[i].at];
        items[i].score += o[i].met;
        rows[i] = r->rows[o[i].at];
    }
    memcpy(r->items, items, r->n * sizeof(*items));
    memcpy(r->rows, rows, r->n * sizeof(*rows));
    return 0;
}
