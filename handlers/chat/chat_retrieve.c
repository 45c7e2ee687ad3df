/* chat_retrieve.c: the retrieval step of chat: the chatbot's chunks by
 * vector similarity (its own index, chatbot-<id>) and by FULLTEXT, fused by
 * reciprocal rank; see chat.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/clock.h"
#include "common/base/config.h"
#include "common/base/log.h"
#include "common/store/context.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/sink.h"
#include "handlers/chat/chat.h"
#include "handlers/handlers.h"
#include "index/embed.h"
#include "index/vidx.h"

enum { CHAT_RRF_K = 60 };

struct rrf_ent {
    long long id;
    double score;
    int vrank, trank;
};

static int rrf_cmp(const void *a, const void *b)
{
    const struct rrf_ent *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    int bx = x->vrank && (!x->trank || x->vrank < x->trank) ? x->vrank : x->trank;
    int by = y->vrank && (!y->trank || y->vrank < y->trank) ? y->vrank : y->trank;
    if (bx != by) return bx < by ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

size_t chat_rrf(const long long *vec, size_t nv, const long long *txt, size_t nt, int k_rrf, size_t max,
                long long *ids, double *scores, int *vranks, int *tranks)
{
    struct rrf_ent *e = calloc(nv + nt ? nv + nt : 1, sizeof(*e));
    size_t n = 0;
    if (!e) return 0;
    for (int side = 0; side < 2; side++) {
        const long long *list = side ? txt : vec;
        size_t len = side ? nt : nv;
        for (size_t r = 0; r < len; r++) {
            size_t j = 0;
            while (j < n && e[j].id != list[r]) j++;
            if (j == n) e[n++].id = list[r];
            int *rank = side ? &e[j].trank : &e[j].vrank;
            if (*rank) continue;   /* a repeated id keeps its best rank */
            *rank = (int)r + 1;
            e[j].score += 1.0 / (k_rrf + (int)r + 1);
        }
    }
    qsort(e, n, sizeof(*e), rrf_cmp);
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) {
        ids[i] = e[i].id;
        if (scores) scores[i] = e[i].score;
        if (vranks) vranks[i] = e[i].vrank;
        if (tranks) tranks[i] = e[i].trank;
    }
    free(e);
    return n;
}

int chat_number_sources(struct chat_chunk *ch, size_t n)
{
    int next = 0;
    for (size_t i = 0; i < n; i++) {
        ch[i].source = 0;
        for (size_t j = 0; j < i && !ch[i].source; j++)
            if (ch[j].file_id == ch[i].file_id && ch[j].page == ch[i].page) ch[i].source = ch[j].source;
        if (!ch[i].source) ch[i].source = ++next;
    }
    return next;
}

static int chat_cancel(void *arg)
{
    struct ctx *c = arg;
    return sink_check(c->sink);
}

/* The vector side: ids of chunks at or above the cosine floor, best first.
 * Failures only leave a note (the full-text side still answers), except
 * an abort by the sink, returned as its SINK_E* code. */
static int chat_vector(struct ctx *c, const char *chatbot, const char *query, int cand, struct chat_sources *out,
                       long long *ids, double *cos, size_t *nout)
{
    const struct cfg *cfg = &c->app->cfg;
    char err[512], name[96];
    *nout = 0;
    struct embedder *emb = hx_embedder(c, err, sizeof(err));
    if (!emb) {
        out->note = ar_printf(c->ar, "the embedder is unavailable (%s); full-text only", err);
        return 0;
    }
    cx_index_name(chatbot, name, sizeof(name));
    struct vidx *v = vidx_open(cfg->index_dir, name, err, sizeof(err));
    if (!v) {
        out->note = strstr(err, "absent") ? "this chatbot has no vector index yet; full-text only"
                                          : ar_printf(c->ar, "the chatbot's vector index cannot be opened (%s); "
                                                             "full-text only", err);
        return 0;
    }
    int rc = 0;
    if (vidx_compatible(v, emb->name, emb->dim, err, sizeof(err)) < 0) {
        out->note = ar_printf(c->ar, "%s; full-text only", err);
        LOG_ERROR(c->route->name, c->req->id, NULL, "Chat index of chatbot %s not searched: %s", chatbot, err);
        goto out;
    }
    float *q = ar_alloc(c->ar, (size_t)emb->dim * sizeof(float));
    int64_t *vid = ar_alloc(c->ar, (size_t)cand * sizeof(int64_t));
    float *vs = ar_alloc(c->ar, (size_t)cand * sizeof(float));
    if (!q || !vid || !vs) goto out;
    int timeout = 0, found = 0;
    emb->cancel = chat_cancel;
    emb->cancel_arg = c;
    const char *texts[1] = {query};
    int64_t t0 = clk_mono_ms();
    int erc = emb->embed(emb, texts, 1, q, &timeout, err, sizeof(err));
    emb->cancel = NULL;
    emb->cancel_arg = NULL;
    if (erc < 0) {
        if ((rc = sink_check(c->sink)) != 0) goto out;
        out->note = ar_printf(c->ar, "the question could not be embedded (%s%s); full-text only",
                              timeout ? "timeout: " : "", err);
        LOG_ERROR(c->route->name, c->req->id, NULL, "Chat query embedding failed after %lld ms: %s",
                  (long long)(clk_mono_ms() - t0), err);
        goto out;
    }
    if (vidx_search(v, q, cand, 0, vid, vs, &found) < 0) {
        out->note = "the vector search failed; full-text only";
        goto out;
    }
    out->vector_used = 1;
    for (int i = 0; i < found; i++) {
        if (vid[i] < 0 || vs[i] < cfg->chat_min_score) continue;
        ids[*nout] = vid[i];
        cos[*nout] = vs[i];
        (*nout)++;
    }
out:
    vidx_close(v);
    return rc;
}

const char *chat_retrieve(struct ctx *c, const char *chatbot, const char *query, struct chat_sources *out,
                          int *abort_rc, char *err, size_t errlen)
{
    const struct cfg *cfg = &c->app->cfg;
    memset(out, 0, sizeof(*out));
    *abort_rc = 0;
    int k = cfg->chat_top_k, cand = k * 4 < 20 ? 20 : k * 4;
    long long *vids = ar_alloc(c->ar, (size_t)cand * sizeof(long long));
    double *vcos = ar_alloc(c->ar, (size_t)cand * sizeof(double));
    long long *tids = ar_alloc(c->ar, (size_t)cand * sizeof(long long));
    if (!vids || !vcos || !tids) {
        snprintf(err, errlen, "out of memory");
        return "PROCESSING_ERROR";
    }
    size_t nv = 0, nt = 0;
    if ((*abort_rc = chat_vector(c, chatbot, query, cand, out, vids, vcos, &nv)) != 0) return NULL;
    out->vector_hits = nv;

    int rc = cx_text_search(c->app->store, c->ar, chatbot, query, cand, tids, &nt, err, errlen);
    if (rc != ST_OK) return st_code(rc);
    out->text_hits = nt;

    long long *ids = ar_alloc(c->ar, (size_t)k * sizeof(long long));
    double *scores = ar_alloc(c->ar, (size_t)k * sizeof(double));
    int *vr = ar_alloc(c->ar, (size_t)k * sizeof(int)), *tr = ar_alloc(c->ar, (size_t)k * sizeof(int));
    if (!ids || !scores || !vr || !tr) {
        snprintf(err, errlen, "out of memory");
        return "PROCESSING_ERROR";
    }
    size_t n = chat_rrf(vids, nv, tids, nt, CHAT_RRF_K, (size_t)k, ids, scores, vr, tr);
    if (n == 0) return NULL;

    /* the rows, with their file's title */
    struct cx_chunk *rows;
    size_t nrows;
    rc = cx_chunks(c->app->store, c->ar, chatbot, ids, n, &rows, &nrows, err, errlen);
    if (rc != ST_OK) return st_code(rc);
    out->chunks = ar_calloc(c->ar, n, sizeof(*out->chunks));
    if (!out->chunks) {
        snprintf(err, errlen, "out of memory");
        return "PROCESSING_ERROR";
    }
    for (size_t i = 0; i < n; i++) {   /* in fused order; rows gone since indexing are skipped */
        for (size_t r = 0; r < nrows; r++) {
            if (rows[r].id != ids[i]) continue;
            struct chat_chunk *ch = &out->chunks[out->n++];
            ch->id = ids[i];
            ch->file_id = rows[r].file_id;
            ch->page = rows[r].page;
            ch->text = rows[r].text;
            ch->len = rows[r].len;
            ch->title = rows[r].title;
            ch->score = scores[i];
            ch->vrank = vr[i];
            ch->trank = tr[i];
            ch->cosine = -2;
            for (size_t j = 0; j < nv; j++)
                if (vids[j] == ids[i]) ch->cosine = vcos[j];
            break;
        }
    }
    out->nsources = chat_number_sources(out->chunks, out->n);
    return NULL;
}
