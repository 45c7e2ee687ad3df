/* rank.h: fusion of ranked candidate lists (full-text and vector) into one
 * ranking. Pure functions over caller-owned arrays; no allocation.
 *
 * rrf:      score = sum over the lists a candidate is in of 1 / (k + rank),
 *           rank 1-based (Cormack et al.; k = 60 by default).
 * weighted: score = w * t + (1 - w) * v, where t is the text relevance
 *           divided by the best text relevance among the candidates (or,
 *           when the text list carries no relevance, 1 - (rank - 1) / n),
 *           and v is the cosine similarity clipped to 0..1. */
#ifndef TROIKA_RANK_H
#define TROIKA_RANK_H

#include <stddef.h>
#include <stdint.h>

enum rk_method { RK_RRF, RK_WEIGHTED };

struct rk_params {
    enum rk_method method;
    int k;                 /* RRF constant */
    double text_weight;    /* weighted: w */
};

struct rk_item {
    int64_t id;
    int text_rank;         /* 1-based; 0 when not in the text list */
    int vec_rank;          /* 1-based; 0 when not in the vector list */
    double text_score;     /* FULLTEXT relevance (>= 0), 0 when none */
    double vec_score;      /* cosine similarity */
    double tiebreak;       /* larger first when scores tie (popularity) */
    double score;          /* set by rk_fuse */
};

/* RRF contribution of one list at a 1-based rank (0: not in the list). */
double rk_rrf(int rank, int k);

/* Scores items[0..n) and sorts them best first. Ties: the better text
 * rank, the better vector rank, the larger tiebreak, the larger (newer) id,
 * so the order is total and repeatable. n_text is the length of the text
 * list. */
void rk_fuse(struct rk_item *items, size_t n, size_t n_text, const struct rk_params *p);

/* "rrf" / "weighted" to a method; -1 when unknown. */
int rk_method_parse(const char *s);

#endif
