/* spell.c: the catalog's vocabulary and typo correction; see spell.h. */
#include "common/search/spell.h"

#include <stdlib.h>
#include <string.h>

void sp_vocab_free(struct sp_vocab *v)
{
    free(v->words);
    free(v->docs);
    free(v->order);
    free(v->pool);
    memset(v, 0, sizeof(*v));
}

static int sp_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct sp_ent {
    const char *w;
    size_t len;
    unsigned d;
    size_t at;       /* its index once sorted by word */
};

static int sp_ent_word(const void *a, const void *b)
{
    return strcmp(((const struct sp_ent *)a)->w, ((const struct sp_ent *)b)->w);
}

/* By length, then most products first, then word order. */
static int sp_ent_len(const void *a, const void *b)
{
    const struct sp_ent *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    if (x->d != y->d) return x->d > y->d ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

int sp_vocab_build(struct sp_vocab *v, const char *const *words, const unsigned *docs, size_t n)
{
    memset(v, 0, sizeof(*v));
    size_t bytes = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (strlen(words[i]) <= SP_WORD_MAX) bytes += strlen(words[i]) + 1;
    struct sp_ent *e = malloc((n ? n : 1) * sizeof(*e));
    v->pool = malloc(bytes ? bytes : 1);
    v->words = malloc((n ? n : 1) * sizeof(*v->words));
    v->docs = malloc((n ? n : 1) * sizeof(*v->docs));
    v->order = malloc((n ? n : 1) * sizeof(*v->order));
    if (!e || !v->pool || !v->words || !v->docs || !v->order) {
        free(e);
        sp_vocab_free(v);
        return -1;
    }
    char *p = v->pool;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(words[i]);
        if (len > SP_WORD_MAX) continue;
        memcpy(p, words[i], len + 1);
        e[k++] = (struct sp_ent){.w = p, .len = len, .d = docs[i]};
        p += len + 1;
    }
    qsort(e, k, sizeof(*e), sp_ent_word);
    for (size_t i = 0; i < k; i++) {
        v->words[i] = e[i].w;
        v->docs[i] = e[i].d;
        e[i].at = i;
    }
    qsort(e, k, sizeof(*e), sp_ent_len);
    for (size_t i = 0; i < k; i++) v->order[i] = e[i].at;
    size_t at = 0;
    for (size_t len = 0; len <= SP_WORD_MAX + 1; len++) {
        while (at < k && e[at].len < len) at++;
        v->bylen[len] = at;
    }
    free(e);
    v->n = k;
    return 0;
}

unsigned sp_docs(const struct sp_vocab *v, const char *w)
{
    if (!v->n) return 0;
    const char **hit = bsearch(&w, v->words, v->n, sizeof(*v->words), sp_str_cmp);
    return hit ? v->docs[hit - v->words] : 0;
}

int sp_allowed(size_t len)
{
    return len < 5 ? 0 : len < 9 ? 1 : 2;
}

int sp_distance(const char *a, size_t la, const char *b, size_t lb, int max)
{
    if (la > lb ? la - lb > (size_t)max : lb - la > (size_t)max) return max + 1;
    if (la > SP_WORD_MAX || lb > SP_WORD_MAX) return max + 1;
    /* three rows of the optimal-string-alignment table */
    int rows[3][SP_WORD_MAX + 1];
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int d = prev[j] + 1;
            if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d) d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
            if (d < best) best = d;
        }
        if (best > max) return max + 1;
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] <= max ? prev[lb] : max + 1;
}

const char *sp_correct(const struct sp_vocab *v, const char *w)
{
    size_t len = strlen(w);
    int max = sp_allowed(len);
    if (!max || !v->n || sp_docs(v, w)) return NULL;
    const char *best = NULL;
    int bestd = max + 1;
    unsigned bestdocs = 0;
    size_t lo = len > (size_t)max ? len - (size_t)max : 0, hi = len + (size_t)max;
    if (hi > SP_WORD_MAX) hi = SP_WORD_MAX;
    for (size_t l = lo; l <= hi; l++) {
        for (size_t k = v->bylen[l]; k < v->bylen[l + 1]; k++) {
            size_t i = v->order[k];
            const char *c = v->words[i];
            /* a word of the vocabulary one or two letters long is no target;
             * nor one that starts otherwise: shoppers rarely mistype the
             * first letter, and other words are real ones ("south" is not
             * "youth") */
            if (l < 3 || c[0] != w[0]) continue;
            int d = sp_distance(w, len, c, l, bestd < max + 1 ? bestd : max);
            if (d > max) continue;
            if (d < bestd || (d == bestd && (v->docs[i] > bestdocs || (v->docs[i] == bestdocs && strcmp(c, best) < 0)))) {
                best = c;
                bestd = d;
                bestdocs = v->docs[i];
            }
        }
    }
    return best;
}

int sp_prefix(const struct sp_vocab *v, const char *w)
{
    size_t lo = 0, hi = v->n, len = strlen(w);
    while (lo < hi) {   /* the first word not before w */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v->words[mid], w) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < v->n && strncmp(v->words[lo], w, len) == 0;
}
