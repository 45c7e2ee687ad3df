/* ps_query.c: what a shopper's query means; see ps_query.h. */
#include "handlers/search/ps_query.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/arena.h"
#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/search/spell.h"
#include "common/store/catalog.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "handlers/handlers.h"

/* ---- the vocabulary, per worker ------------------------------------------------ */

struct pq_vocab_cache {
    struct sp_vocab v;
    char **categories;        /* the catalog's own category names (malloc'd) */
    size_t ncategories;
    uint64_t version;         /* the catalog version it was loaded under */
    int64_t loaded_ms;
};

static void pq_categories_set(struct pq_vocab_cache *k, const char *const *cats, size_t n)
{
    for (size_t i = 0; i < k->ncategories; i++) free(k->categories[i]);
    free(k->categories);
    k->ncategories = 0;
    k->categories = n ? calloc(n, sizeof(*k->categories)) : NULL;
    for (size_t i = 0; k->categories && i < n; i++)
        if ((k->categories[k->ncategories] = strdup(cats[i]))) k->ncategories++;
}

const struct sp_vocab *pq_vocab(struct ctx *c)
{
    struct app *app = c->app;
    if (!app->vocab) app->vocab = calloc(1, sizeof(struct pq_vocab_cache));
    struct pq_vocab_cache *k = app->vocab;
    static const struct sp_vocab none;
    if (!k) return &none;
    /* read before loading: words loaded under version v are dropped at v + 1 */
    uint64_t version = hx_catalog_version(c);
    int64_t now = clk_mono_ms();
    if (!k->loaded_ms || version != k->version || now - k->loaded_ms >= app->cfg.troika_designer_refresh_ms) {
        char err[256] = "";
        const char **words;
        unsigned *docs;
        size_t n;
        struct sp_vocab fresh;
        const char **cats;
        size_t ncats;
        if (cat_vocab(app->store, c->ar, &words, &docs, &n, err, sizeof(err)) == ST_OK &&
            cat_categories(app->store, c->ar, &cats, &ncats, err, sizeof(err)) == ST_OK &&
            sp_vocab_build(&fresh, words, docs, n) == 0) {
            sp_vocab_free(&k->v);
            k->v = fresh;
            pq_categories_set(k, cats, ncats);
        } else {
            LOG_ERROR(c->route->name, c->req->id, NULL, "Vocabulary not loaded: %s", err[0] ? err : "out of memory");
        }
        k->loaded_ms = now;   /* after a failure: retry after the interval */
        k->version = version;
    }
    return &k->v;
}

/* ---- corrections ------------------------------------------------------------------- */

/* A word worth correcting: ASCII letters only, 5 or more (sp_allowed). */
static int pq_letters(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)w[i])) return 0;
    return n >= 5;
}

/* q with every word the vocabulary and the parser lack replaced by its
 * correction, recorded in out. */
static const char *pq_correct(struct ctx *c, const struct sp_vocab *v, const char *q, struct pq_query *out)
{
    if (!v->n) return q;
    buf_t b;
    buf_init(&b, c->ar, strlen(q) * 2 + 64);
    const char *p = q;
    while (*p) {
        if (!qp_wordbyte((unsigned char)*p)) {
            buf_addc(&b, *p++);
            continue;
        }
        const char *w = p;
        while (*p && qp_wordbyte((unsigned char)*p)) p++;
        size_t n = (size_t)(p - w);
        char low[SP_WORD_MAX + 1];
        const char *fix = NULL;
        if (pq_letters(w, n) && n <= SP_WORD_MAX && out->nfix < PQ_FIX_MAX) {
            for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)w[i]);
            low[n] = '\0';
            if (!sp_docs(v, low) && !qp_word_known(low)) fix = sp_correct(v, low);
        }
        if (fix) {
            out->fix_from[out->nfix] = ar_strndup(c->ar, low, n);
            out->fix_to[out->nfix++] = fix;
            buf_adds(&b, fix);
        } else {
            buf_add(&b, w, n);
        }
    }
    return b.p && !b.toobig ? b.p : q;
}

/* ---- unmatched words ----------------------------------------------------------------- */

/* Takes the residual words the vocabulary lacks out of r->residual into
 * out->unmatched, unless that would leave nothing to search for. */
static void pq_unmatched(struct ctx *c, const struct sp_vocab *v, struct pq_query *out)
{
    struct qp_result *r = &out->r;
    if (!v->n || !r->residual[0]) return;
    char kept[QP_RESIDUAL_MAX] = "";
    size_t o = 0;
    int nkept = 0;
    const char *lack[PQ_UNMATCHED_MAX];
    size_t nlack = 0;
    for (const char *p = r->residual; *p;) {
        size_t n = strcspn(p, " ");
        char w[QP_RESIDUAL_MAX];
        memcpy(w, p, n);
        w[n] = '\0';
        int letter = 0;
        for (size_t i = 0; i < n; i++) letter |= isalpha((unsigned char)w[i]) || (unsigned char)w[i] >= 0x80;
        /* (a word some vocabulary word starts with is still being typed) */
        if (letter && !sp_docs(v, w) && !qp_word_known(w) && !sp_prefix(v, w) && nlack < PQ_UNMATCHED_MAX) {
            lack[nlack++] = ar_strdup(c->ar, w);
        } else if (n) {
            o += (size_t)snprintf(kept + o, sizeof(kept) - o, "%s%s", o ? " " : "", w);
            nkept++;
        }
        p += n;
        while (*p == ' ') p++;
    }
    if (!nlack) return;
    memcpy(out->unmatched, lack, nlack * sizeof(*lack));
    out->nunmatched = nlack;
    /* every word unmatched and nothing else asked: search them all the same */
    if (!nkept && !qp_filters_any(&r->f)) return;
    snprintf(r->residual, sizeof(r->residual), "%s", kept);
    r->nterms = nkept;
}

/* English prepositions after which a query says what for, not what: the
 * garment comes before them ("turban for groom"). (Hinglish puts the
 * postposition after what it governs, "ladkiyon ke liye lehenga": no cut.) */
static const char *const pq_preps[] = {"for", "to", "at", "with", "in", "under", "below", "above", "between",
                                       "from", "of", "on", NULL};

/* The word a query is about: its last content word (not a stopword or
 * filler) before the first preposition, else its last content word
 * ("leather wallet": wallet; "mojari for men": mojari); none when the
 * words before the preposition ask for anything of a kind ("something
 * elegant for a party"). Lower-cased into out (cap bytes); "" when none. */
/* Words that say the query wants anything of a kind ("something elegant",
 * "an outfit for"): a query with one before its preposition has no head
 * word the shop could lack. */
static const char *const pq_generic[] = {"something", "anything", "outfit", "outfits", "dress", "dresses", "wear",
                                         "clothes", "clothing", "attire", "look", "piece", "pieces", NULL};

static void pq_head(const char *q, char *out, size_t cap)
{
    char w[SP_WORD_MAX + 1], last[SP_WORD_MAX + 1] = "";
    int before = 1, generic = 0;
    out[0] = '\0';
    for (const char *p = q; *p;) {
        while (*p && !qp_wordbyte((unsigned char)*p)) p++;
        const char *b = p;
        while (*p && qp_wordbyte((unsigned char)*p)) p++;
        size_t n = (size_t)(p - b);
        if (!n || n > SP_WORD_MAX) continue;
        for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)b[i]);
        w[n] = '\0';
        if (qp_in(w, pq_preps)) {
            if (before && generic) return;   /* "something elegant for": no head */
            if (before && last[0]) snprintf(out, cap, "%s", last);
            before = 0;
            continue;
        }
        if (before && qp_in(w, pq_generic)) generic = 1;
        if (n < 3 || isdigit((unsigned char)w[0]) || qp_ft_stopword(w) || qp_filler(w)) continue;
        snprintf(last, sizeof(last), "%s", w);
    }
    if (!out[0]) snprintf(out, cap, "%s", last);
}

void pq_understand(struct ctx *c, const char *q, const char *designer, struct pq_query *out)
{
    memset(out, 0, sizeof(*out));
    const struct sp_vocab *v = pq_vocab(c);
    const struct pq_vocab_cache *k = c->app->vocab;
    struct qp_catalog cat = {.categories = k ? (const char *const *)k->categories : NULL,
                             .ncategories = k ? k->ncategories : 0};
    out->text = pq_correct(c, v, q, out);
    hx_parse_query(c, out->text, designer, &cat, &out->r);
    pq_unmatched(c, v, out);
    /* what ranks first among equals: who for, the shade, the occasion */
    const char *words[64];
    size_t nw = 0;
    char *copy = ar_strdup(c->ar, out->text);
    for (char *p = copy; p && *p && nw < 64;) {
        while (*p && !qp_wordbyte((unsigned char)*p)) p++;
        char *b = p;
        while (*p && qp_wordbyte((unsigned char)*p)) {
            *p = (char)tolower((unsigned char)*p);
            p++;
        }
        if (*p) *p++ = '\0';
        if (*b) words[nw++] = b;
    }
    out->nboost = qp_boosts(words, nw, out->r.f.category, out->r.f.occasion, out->r.f.color, out->r.f.color_family,
                            out->boost, PQ_BOOST_MAX);
    /* what the query is about is a word no product has: nothing to show */
    char head[SP_WORD_MAX + 1];
    pq_head(out->text, head, sizeof(head));
    for (size_t i = 0; head[0] && i < out->nunmatched; i++)
        if (!strcmp(out->unmatched[i], head)) out->nothing = 1;
}

json_object *pq_corrected_json(const struct pq_query *q)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < q->nfix; i++) json_object_object_add(o, q->fix_from[i], json_object_new_string(q->fix_to[i]));
    return o;
}

json_object *pq_unmatched_json(const struct pq_query *q)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < q->nunmatched; i++) json_object_array_add(a, json_object_new_string(q->unmatched[i]));
    return a;
}
