/* rank.c: rank fusion; see rank.h. */
#include "common/search/rank.h"

#include <stdlib.h>
#include <string.h>

double rk_rrf(int rank, int k)
{
    return rank > 0 ? 1.0 / (double)(k + rank) : 0.0;
}

int rk_method_parse(const char *s)
{
    if (!strcmp(s, "rrf")) return RK_RRF;
    if (!strcmp(s, "weighted")) return RK_WEIGHTED;
    return -1;
}

/* A missing rank sorts after every present one. */
static int rk_rank_cmp(int a, int b)
{
    if (a == b) return 0;
    if (!a) return 1;
    if (!b) return -1;
    return a < b ? -1 : 1;
}

static int rk_cmp(const void *pa, const void *pb)
{
    const struct rk_item *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    int c = rk_rank_cmp(a->text_rank, b->text_rank);
    if (c) return c;
    c = rk_rank_cmp(a->vec_rank, b->vec_rank);
    if (c) return c;
    if (a->tiebreak != b->tiebreak) return a->tiebreak > b->tiebreak ? -1 : 1;
    return a->id > b->id ? -1 : a->id < b->id;   /* newer first, as the SQL lists */
}

void rk_fuse(struct rk_item *items, size_t n, size_t n_text, const struct rk_params *p)
{
    double tmax = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].text_rank && items[i].text_score > tmax) tmax = items[i].text_score;
    for (size_t i = 0; i < n; i++) {
        struct rk_item *it = &items[i];
        if (p->method == RK_WEIGHTED) {
            double t = 0, v = 0;
            if (it->text_rank) {
                if (tmax > 0) t = it->text_score / tmax;
                else if (n_text) t = 1.0 - (double)(it->text_rank - 1) / (double)n_text;
            }
            if (it->vec_rank) v = it->vec_score < 0 ? 0 : it->vec_score > 1 ? 1 : it->vec_score;
            it->score = p->text_weight * t + (1.0 - p->text_weight) * v;
        } else {
            it->score = rk_rrf(it->text_rank, p->k) + rk_rrf(it->vec_rank, p->k);
        }
    }
    qsort(items, n, sizeof(*items), rk_cmp);
}
