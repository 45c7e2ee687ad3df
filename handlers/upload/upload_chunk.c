/* upload_chunk.c: cuts extracted text into token-counted, overlapping
 * chunks (see up_chunk in upload.h).
 *
 * The text is scanned once with the tokenizer; its pieces (runs of the
 * split pattern, each some tokens) enter a window of at most chunk_tokens
 * tokens. Pieces longer than UP_SPLIT tokens enter token by token (merged
 * so that no unit starts inside a UTF-8 character). When the next unit
 * would overflow the window, a chunk is cut: at the best boundary in the
 * last 20% of the window (a blank line, then a line end or sentence end,
 * the latest of the best kind), else at the window's end. The next window
 * keeps the last ~overlap tokens. Memory: the window (at most
 * chunk_tokens units) and the chunk array, both in the arena. */
#include "handlers/upload/upload.h"

#include <stdlib.h>
#include <string.h>

#include "common/text/tok.h"

enum { UP_SPLIT = 16, BRK_NONE = 0, BRK_SENT = 2, BRK_LINE = 2, BRK_PARA = 3 };

struct cu {
    size_t off;
    size_t len;
    uint32_t ntok;
    uint8_t piece_start;  /* the unit starts a piece of the split pattern */
    uint8_t brk;          /* quality of the boundary after this unit */
};

struct chunker {
    struct tok *t;
    arena_t *ar;
    const char *s;
    size_t n;
    int T, O;
    struct cu *win;
    size_t wn, wcap;
    size_t wtok;
    struct up_chunk *out;
    size_t nout, ocap;
    size_t total;
    size_t covered;       /* end of the last chunk emitted */
    size_t cur_b, cur_c;  /* a forward cursor: byte offset and its character offset */
    uint32_t *starts;     /* scratch for long pieces */
    size_t starts_cap;
    int (*progress)(void *, size_t);
    void *parg;
    size_t next_report;
    int fail;
};

static int is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space_byte((unsigned char)s[i])) return 0;
    return 1;
}

/* Does s[0..n) end with one of the multi-byte sentence enders
 * (。！？ and the Devanagari danda and double danda)? */
static int ends_with_cjk_stop(const char *s, size_t n)
{
    static const char *const stops[] = {"\xe3\x80\x82", "\xef\xbc\x81", "\xef\xbc\x9f", "\xe0\xa5\xa4", "\xe0\xa5\xa5"};
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
        if (n >= 3 && memcmp(s + n - 3, stops[i], 3) == 0) return 1;
    return 0;
}

/* Quality of a boundary after unit text p[0..n) when the next unit starts
 * with byte next (0 at the end of the text). */
static int boundary_kind(const char *p, size_t n, unsigned char next)
{
    if (!n) return BRK_NONE;
    size_t nl = 0, i = n;
    while (i > 0 && is_space_byte((unsigned char)p[i - 1])) {
        if (p[i - 1] == '\n') nl++;
        i--;
    }
    if (nl >= 2) return BRK_PARA;
    if (nl == 1 && p[n - 1] == '\n') return BRK_LINE;
    if (ends_with_cjk_stop(p, n)) return BRK_SENT;
    /* . ! ? possibly followed by closing quotes or brackets, then a space */
    i = n;
    while (i > 0 && strchr(")]}\"'", p[i - 1])) i--;
    if (i > 0 && (p[i - 1] == '.' || p[i - 1] == '!' || p[i - 1] == '?') && (next == 0 || is_space_byte(next)))
        return BRK_SENT;
    if (i >= 3 && (memcmp(p + i - 3, "\xe2\x80\x9d", 3) == 0 || memcmp(p + i - 3, "\xe2\x80\x99", 3) == 0)) {
        /* ” or ’ after the stop */
        size_t j = i - 3;
        if (j > 0 && (p[j - 1] == '.' || p[j - 1] == '!' || p[j - 1] == '?') && (next == 0 || is_space_byte(next)))
            return BRK_SENT;
    }
    return BRK_NONE;
}

/* Moves the cursor forward to byte b, counting characters. */
static size_t char_at(struct chunker *k, size_t b)
{
    for (size_t i = k->cur_b; i < b; i++)
        if (((unsigned char)k->s[i] & 0xC0) != 0x80) k->cur_c++;
    if (b > k->cur_b) k->cur_b = b;
    return k->cur_c;
}

static int emit_chunk(struct chunker *k, size_t c, int end_exact)
{
    size_t off = k->win[0].off;
    size_t end = k->win[c - 1].off + k->win[c - 1].len;
    size_t tokens = 0;
    for (size_t i = 0; i < c; i++) tokens += k->win[i].ntok;
    if (end <= k->covered) return 0;             /* nothing new (the tail of an overlap) */
    k->covered = end;
    if (all_space(k->s + off, end - off)) return 0;
    if (k->nout == k->ocap) {
        size_t ncap = k->ocap ? k->ocap * 2 : 64;
        struct up_chunk *o = ar_alloc(k->ar, ncap * sizeof(*o));
        if (!o) return -1;
        if (k->nout) memcpy(o, k->out, k->nout * sizeof(*o));
        k->out = o;
        k->ocap = ncap;
    }
    struct up_chunk *ch = &k->out[k->nout++];
    memset(ch, 0, sizeof(*ch));
    ch->off = off;
    ch->len = end - off;
    ch->char_off = char_at(k, off);
    ch->tokens = (int)tokens;
    ch->exact_edges = k->win[0].piece_start && end_exact;
    return 0;
}

/* Cuts a chunk from the window; next_piece_start tells whether the unit
 * about to enter starts a piece (the window's end is then a piece edge). */
static int cut(struct chunker *k, int next_piece_start)
{
    size_t zone = (size_t)((k->T * 8 + 9) / 10);   /* ceil(0.8 T) */
    size_t cum = 0, best_i = 0;
    int best = BRK_NONE;
    for (size_t i = 0; i < k->wn; i++) {
        cum += k->win[i].ntok;
        if (cum < zone || i + 1 == k->wn) continue;   /* the window's end is the fallback */
        if (k->win[i].brk && k->win[i].brk >= best) {
            best = k->win[i].brk;
            best_i = i;
        }
    }
    size_t c = best ? best_i + 1 : k->wn;
    int end_exact = c < k->wn ? k->win[c].piece_start : next_piece_start;
    if (emit_chunk(k, c, end_exact) < 0) return -1;
    /* keep the last <= O tokens before the cut, starting on a piece */
    size_t s = c, ov = 0;
    while (s > 0 && ov + k->win[s - 1].ntok <= (size_t)k->O) ov += k->win[--s].ntok;
    while (s < c && !k->win[s].piece_start) s++;
    if (s == 0) s = 1;   /* always move on */
    memmove(k->win, k->win + s, (k->wn - s) * sizeof(*k->win));
    k->wn -= s;
    k->wtok = 0;
    for (size_t i = 0; i < k->wn; i++) k->wtok += k->win[i].ntok;
    return 0;
}

static int add_unit(struct chunker *k, struct cu u)
{
    if (k->wn) {
        struct cu *prev = &k->win[k->wn - 1];
        prev->brk = (uint8_t)boundary_kind(k->s + prev->off, prev->len, (unsigned char)k->s[u.off]);
    }
    while (k->wn && k->wtok + u.ntok > (size_t)k->T)
        if (cut(k, u.piece_start) < 0) return -1;
    if (k->wn == k->wcap) {
        size_t ncap = k->wcap * 2;
        struct cu *w = ar_alloc(k->ar, ncap * sizeof(*w));
        if (!w) return -1;
        memcpy(w, k->win, k->wn * sizeof(*w));
        k->win = w;
        k->wcap = ncap;
    }
    k->win[k->wn++] = u;
    k->wtok += u.ntok;
    return 0;
}

static int on_piece(void *ud, size_t off, size_t len, size_t ntok)
{
    struct chunker *k = ud;
    k->total += ntok;
    if (k->progress && off >= k->next_report) {
        int rc = k->progress(k->parg, off);
        if (rc) return rc;
        k->next_report = off + (1u << 20);
    }
    if (ntok <= UP_SPLIT) {
        if (ntok == 0 && k->wn) {   /* text the pattern did not match: part of the previous unit */
            k->win[k->wn - 1].len = off + len - k->win[k->wn - 1].off;
            return 0;
        }
        return add_unit(k, (struct cu){off, len, (uint32_t)ntok, 1, 0}) < 0 ? -1 : 0;
    }
    /* a long piece: token by token, never starting a unit inside a character */
    if (ntok > k->starts_cap) {
        free(k->starts);
        k->starts_cap = ntok;
        k->starts = malloc(ntok * sizeof(*k->starts));
        if (!k->starts) {
            k->starts_cap = 0;
            return -1;
        }
    }
    long nt = tok_piece_starts(k->t, k->s + off, len, k->starts, k->starts_cap);
    if (nt < 0) return -1;
    size_t i = 0;
    while (i < (size_t)nt) {
        size_t j = i + 1;
        while (j < (size_t)nt && ((unsigned char)k->s[off + k->starts[j]] & 0xC0) == 0x80) j++;
        size_t a = k->starts[i], b = j < (size_t)nt ? k->starts[j] : len;
        if (add_unit(k, (struct cu){off + a, b - a, (uint32_t)(j - i), i == 0, 0}) < 0) return -1;
        i = j;
    }
    return 0;
}

/* 1-based page holding byte `at` (pages[] ascending starts). */
static int page_of(const struct up_text *t, size_t at)
{
    int lo = 0, hi = t->npages - 1, ans = 0;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (t->pages[mid] <= at) ans = mid, lo = mid + 1;
        else hi = mid - 1;
    }
    return ans + 1;
}

int up_chunk(struct tok *t, arena_t *ar, const struct up_text *text, int chunk_tokens, int overlap,
             struct up_chunking *out, int (*progress)(void *, size_t), void *arg)
{
    memset(out, 0, sizeof(*out));
    if (chunk_tokens < 32) chunk_tokens = 32;
    if (overlap < 0) overlap = 0;
    if (overlap > chunk_tokens / 2) overlap = chunk_tokens / 2;
    struct chunker k = {.t = t, .ar = ar, .s = text->s, .n = text->n, .T = chunk_tokens, .O = overlap,
                        .progress = progress, .parg = arg};
    k.wcap = (size_t)chunk_tokens + 1;
    k.win = ar_alloc(ar, k.wcap * sizeof(*k.win));
    if (!k.win) return -1;
    int rc = tok_scan(t, text->s, text->n, on_piece, &k);
    if (rc == 0 && k.wn) {
        k.win[k.wn - 1].brk = (uint8_t)boundary_kind(k.s + k.win[k.wn - 1].off, k.win[k.wn - 1].len, 0);
        rc = emit_chunk(&k, k.wn, 1);
    }
    free(k.starts);
    if (rc) return rc;
    if (text->npages > 0) {
        for (size_t i = 0; i < k.nout; i++) {
            size_t at = k.out[i].off, end = at + k.out[i].len;
            while (at < end && is_space_byte((unsigned char)k.s[at])) at++;
            k.out[i].page = page_of(text, at);
        }
    }
    out->chunks = k.out;
    out->n = k.nout;
    out->total_tokens = k.total;
    return 0;
}

int up_chunk_recount(struct tok *t, const struct up_text *text, struct up_chunking *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        struct up_chunk *c = &ch->chunks[i];
        if (c->exact_edges) continue;
        long n = tok_count(t, text->s + c->off, c->len);
        if (n < 0) return -1;
        c->tokens = (int)n;
        c->exact_edges = 1;
    }
    return 0;
}
