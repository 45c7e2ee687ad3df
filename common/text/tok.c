/* tok.c: cl100k_base token counting (see tok.h).
 *
 * Memory: the rank table (token bytes in one blob, an open-addressing hash
 * of 2^18 slots) is malloc'd once by tok_open and lives as long as the
 * struct tok; scans allocate only for pieces longer than TOK_SMALL bytes.
 * Not thread-safe: the PCRE2 match data and JIT stack are shared scratch. */
#include "common/text/tok.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <json-c/json.h>

#include "common/base/b64.h"
#include "common/base/hash.h"
#include "common/base/u8.h"

/* cl100k_base's split pattern (tiktoken's current spelling: possessive
 * quantifiers, same matches as the older one in the npm rank file). \s and
 * \S are spelled out as the Unicode White_Space set, which is what \s means
 * in tiktoken's Rust regex; PCRE2's own \s (even with UCP) lacks U+0085. */
#define TOK_WS "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char tok_pattern[] =
    "'(?i:[sdmt]|ll|ve|re)"
    "|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+"
    "|\\p{N}{1,3}"
    "| ?[^" TOK_WS "\\p{L}\\p{N}]++[\\r\\n]*"
    "|[" TOK_WS "]*[\\r\\n]"
    "|[" TOK_WS "]+(?![^" TOK_WS "])"
    "|[" TOK_WS "]+";

/* The pattern the rank file must declare (the older spelling). */
static const char tok_file_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

enum {
    TOK_RANKS = 100256,       /* mergeable ranks of cl100k_base: 0 .. 100255 */
    TOK_SLOTS = 1 << 18,      /* hash slots, a power of two over 2 * TOK_RANKS */
    TOK_SMALL = 256,          /* pieces up to this many bytes merge on the stack */
};

#define TOK_NONE UINT32_MAX

struct tok {
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    int jit_ok;

    /* rank table; blob == NULL in estimate mode */
    unsigned char *blob;
    uint32_t *off;            /* per rank: offset in blob */
    uint16_t *len;            /* per rank: byte length */
    uint32_t *slot;           /* TOK_SLOTS entries: rank + 1, 0 = empty */
    size_t nranks;
    size_t maxlen;            /* longest token, in bytes */
};

/* ---- hash table ---------------------------------------------------------- */

static uint64_t tok_hash(const unsigned char *p, size_t n)
{
    uint64_t h = hash_fnv1a(HASH_FNV_BASIS, p, n);   /* then a final mix */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

static uint32_t tok_rank(const struct tok *t, const unsigned char *p, size_t n)
{
    if (n > t->maxlen || n == 0) return TOK_NONE;
    size_t i = (size_t)tok_hash(p, n) & (TOK_SLOTS - 1);
    for (;;) {
        uint32_t s = t->slot[i];
        if (!s) return TOK_NONE;
        uint32_t r = s - 1;
        if (t->len[r] == n && memcmp(t->blob + t->off[r], p, n) == 0) return r;
        i = (i + 1) & (TOK_SLOTS - 1);
    }
}

static int tok_insert(struct tok *t, uint32_t r)
{
    const unsigned char *p = t->blob + t->off[r];
    size_t n = t->len[r];
    size_t i = (size_t)tok_hash(p, n) & (TOK_SLOTS - 1);
    while (t->slot[i]) {
        uint32_t o = t->slot[i] - 1;
        if (t->len[o] == n && memcmp(t->blob + t->off[o], p, n) == 0) return -1;   /* duplicate */
        i = (i + 1) & (TOK_SLOTS - 1);
    }
    t->slot[i] = r + 1;
    return 0;
}

/* ---- rank file ----------------------------------------------------------- */

/* Parses "bpe_ranks": lines of `<name> <first rank> <b64> <b64> ...`. */
/* The tables a rank file of n bytes fills (its decoded bytes are shorter
 * than their base64). */
static int tok_alloc_ranks(struct tok *t, size_t n, char *why, size_t whylen)
{
    t->off = calloc(TOK_RANKS, sizeof(*t->off));
    t->len = calloc(TOK_RANKS, sizeof(*t->len));
    t->slot = calloc(TOK_SLOTS, sizeof(*t->slot));
    t->blob = malloc(n);
    if (!t->off || !t->len || !t->slot || !t->blob) {
        snprintf(why, whylen, "out of memory loading the rank file");
        return -1;
    }
    return 0;
}

/* Where a rank file's lines are read into: bytes of t->blob used so far,
 * ranks seen (once each) and counted. */
struct tok_load {
    unsigned char *seen;
    size_t used, count;
};

/* One line [p, le): a name, the first rank, then the base64 bytes of that
 * rank and the ones after it. An empty line is skipped. 0 or -1 with why. */
static int tok_parse_line(struct tok *t, struct tok_load *ld, const char *p, const char *le, char *why,
                          size_t whylen)
{
    const char *f = memchr(p, ' ', (size_t)(le - p));   /* field 0: a name; field 1: first rank */
    if (!f) {
        if (le == p) return 0;
        snprintf(why, whylen, "rank file: a line without ranks");
        return -1;
    }
    f++;
    char *num_end;
    errno = 0;
    long r = strtol(f, &num_end, 10);
    if (errno || num_end == f || r < 0 || (*num_end != ' ' && num_end != le)) {
        snprintf(why, whylen, "rank file: bad rank offset");
        return -1;
    }
    for (const char *q = num_end; q < le; r++) {
        while (q < le && *q == ' ') q++;
        if (q >= le) break;
        const char *sp = memchr(q, ' ', (size_t)(le - q));
        const char *te = sp ? sp : le;
        if (r >= TOK_RANKS || ld->seen[r]) {
            snprintf(why, whylen, "rank file: rank %ld out of range or repeated", r);
            return -1;
        }
        long dl = b64_decode(q, (size_t)(te - q), t->blob + ld->used);
        if (dl <= 0 || dl > 65535) {
            snprintf(why, whylen, "rank file: bad token bytes at rank %ld", r);
            return -1;
        }
        t->off[r] = (uint32_t)ld->used;
        t->len[r] = (uint16_t)dl;
        if ((size_t)dl > t->maxlen) t->maxlen = (size_t)dl;
        ld->used += (size_t)dl;
        ld->seen[r] = 1;
        ld->count++;
        q = te;
    }
    return 0;
}

/* Every rank into the hash table, each byte string once; and every single
 * byte must be a token, or some text could not be encoded. */
static int tok_index_ranks(struct tok *t, char *why, size_t whylen)
{
    for (uint32_t i = 0; i < TOK_RANKS; i++) {
        if (tok_insert(t, i) < 0) {
            snprintf(why, whylen, "rank file: the bytes of rank %u appear twice", i);
            return -1;
        }
    }
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        if (tok_rank(t, &c, 1) == TOK_NONE) {
            snprintf(why, whylen, "rank file: byte 0x%02x has no rank", b);
            return -1;
        }
    }
    return 0;
}

static int tok_parse_ranks(struct tok *t, const char *s, size_t n, char *why, size_t whylen)
{
    if (tok_alloc_ranks(t, n, why, whylen) < 0) return -1;
    struct tok_load ld = {.seen = calloc(TOK_RANKS, 1)};
    if (!ld.seen) {
        snprintf(why, whylen, "out of memory loading the rank file");
        return -1;
    }
    int rc = -1;
    for (const char *p = s, *end = s + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (tok_parse_line(t, &ld, p, le, why, whylen) < 0) goto out;
        p = le + 1;
    }
    if (ld.count != TOK_RANKS) {
        snprintf(why, whylen, "rank file: %zu ranks, cl100k_base has %d", ld.count, TOK_RANKS);
        goto out;
    }
    if (tok_index_ranks(t, why, whylen) < 0) goto out;
    t->nranks = ld.count;
    rc = 0;
out:
    free(ld.seen);
    return rc;
}

static void tok_drop_ranks(struct tok *t)
{
    free(t->blob);
    free(t->off);
    free(t->len);
    free(t->slot);
    t->blob = NULL;
    t->off = NULL;
    t->len = NULL;
    t->slot = NULL;
    t->nranks = t->maxlen = 0;
}

static int tok_load(struct tok *t, const char *path, char *why, size_t whylen)
{
    int rc = -1;
    json_object *root = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "rank file %s: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    root = json_object_from_file(path);
    json_object *ranks, *pat;
    if (!root || !json_object_object_get_ex(root, "bpe_ranks", &ranks) ||
        !json_object_is_type(ranks, json_type_string)) {
        snprintf(why, whylen, "rank file %s is not tiktoken's encoder JSON (no bpe_ranks)", path);
        goto out;
    }
    if (!json_object_object_get_ex(root, "pat_str", &pat) || !json_object_is_type(pat, json_type_string) ||
        strcmp(json_object_get_string(pat), tok_file_pattern) != 0) {
        snprintf(why, whylen, "rank file %s does not declare the cl100k_base split pattern", path);
        goto out;
    }
    if (tok_parse_ranks(t, json_object_get_string(ranks), (size_t)json_object_get_string_len(ranks), why,
                        whylen) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) tok_drop_ranks(t);
    if (root) json_object_put(root);
    return rc;
}

/* ---- open / close -------------------------------------------------------- */

struct tok *tok_open(const char *path, char *why, size_t whylen, char *err, size_t errlen)
{
    char whybuf[256];
    if (!why || !whylen) why = whybuf, whylen = sizeof(whybuf);
    why[0] = '\0';
    struct tok *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int ec;
    PCRE2_SIZE eo;
    t->re = pcre2_compile((PCRE2_SPTR)tok_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        snprintf(err, errlen, "tokenizer pattern: %s at %zu", (const char *)msg, (size_t)eo);
        goto fail;
    }
    t->jit_ok = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
    t->md = pcre2_match_data_create_from_pattern(t->re, NULL);
    t->mctx = pcre2_match_context_create(NULL);
    if (!t->md || !t->mctx) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (t->jit_ok) {
        t->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (t->jit) pcre2_jit_stack_assign(t->mctx, NULL, t->jit);
        else t->jit_ok = 0;
    }
    if (!path || !*path) snprintf(why, whylen, "no tokenizer_file configured");
    else tok_load(t, path, why, whylen);
    return t;
fail:
    tok_close(t);
    return NULL;
}

void tok_close(struct tok *t)
{
    if (!t) return;
    tok_drop_ranks(t);
    if (t->jit) pcre2_jit_stack_free(t->jit);
    if (t->mctx) pcre2_match_context_free(t->mctx);
    if (t->md) pcre2_match_data_free(t->md);
    if (t->re) pcre2_code_free(t->re);
    free(t);
}

int tok_exact(const struct tok *t)
{
    return t && t->blob != NULL;
}

const char *tok_name(const struct tok *t)
{
    return tok_exact(t) ? TOK_EXACT_NAME : TOK_ESTIMATE_NAME;
}

/* ---- byte-pair merges ---------------------------------------------------- */

/* Rank of p[a..b) as one token, TOK_NONE when it is not one. */
static inline uint32_t tok_span(const struct tok *t, const unsigned char *p, size_t a, size_t b)
{
    return tok_rank(t, p + a, b - a);
}

/* tiktoken's merge: parts are token starts; each caches the rank of itself
 * merged with the next part; the lowest rank (leftmost on ties) merges
 * first. O(n^2) on n bytes: for short pieces. starts has n + 1 entries;
 * returns the token count and leaves starts[0..count] (count+1 = end). */
static size_t tok_merge_simple(const struct tok *t, const unsigned char *p, size_t n, uint32_t *starts,
                               uint32_t *ranks)
{
    size_t m = n + 1;
    for (size_t i = 0; i < m; i++) {
        starts[i] = (uint32_t)i;
        ranks[i] = i + 2 <= n ? tok_span(t, p, i, i + 2) : TOK_NONE;
    }
    while (m > 2) {
        uint32_t best = TOK_NONE;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < m; i++)
            if (ranks[i] < best) best = ranks[i], bi = i;
        if (best == TOK_NONE) break;
        /* merge part bi with bi+1: new rank of bi spans to the part after next */
        ranks[bi] = bi + 3 < m ? tok_span(t, p, starts[bi], starts[bi + 3]) : TOK_NONE;
        if (bi > 0) ranks[bi - 1] = bi + 2 < m ? tok_span(t, p, starts[bi - 1], starts[bi + 2]) : TOK_NONE;
        memmove(starts + bi + 1, starts + bi + 2, (m - bi - 2) * sizeof(*starts));
        memmove(ranks + bi + 1, ranks + bi + 2, (m - bi - 2) * sizeof(*ranks));
        m--;
    }
    return m - 1;
}

/* The same merge order with a binary heap of (rank, start) over a linked
 * list of parts: O(n log n), for long pieces. Stale heap entries are
 * skipped when popped (the part is gone or its rank changed). */
struct tok_he {
    uint32_t rank;
    uint32_t at;   /* start of the left part */
};

static inline int he_less(struct tok_he a, struct tok_he b)
{
    return a.rank < b.rank || (a.rank == b.rank && a.at < b.at);
}

static void he_push(struct tok_he *h, size_t *n, struct tok_he e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (!he_less(e, h[par])) break;
        h[i] = h[par];
        i = par;
    }
    h[i] = e;
}

static struct tok_he he_pop(struct tok_he *h, size_t *n)
{
    struct tok_he top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && he_less(h[c + 1], h[c])) c++;
        if (!he_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

/* Parts are indexed by their start byte; next[i]/prev[i] link live parts,
 * next of the last is n. rank[i] is the rank of part i merged with its next
 * part. Returns the token count; when starts is non-NULL (room for the
 * count) it receives the token starts. -1 when out of memory. */
static long tok_merge_heap(const struct tok *t, const unsigned char *p, size_t n, uint32_t *starts,
                           size_t cap)
{
    long rc = -1;
    uint32_t *next = malloc((n + 1) * sizeof(*next));
    uint32_t *prev = malloc((n + 1) * sizeof(*prev));
    uint32_t *rank = malloc((n + 1) * sizeof(*rank));
    size_t hcap = 3 * n + 4, hn = 0;
    struct tok_he *heap = malloc(hcap * sizeof(*heap));
    if (!next || !prev || !rank || !heap) goto out;
    for (size_t i = 0; i <= n; i++) {
        next[i] = (uint32_t)(i + 1);
        prev[i] = i ? (uint32_t)(i - 1) : UINT32_MAX;
        rank[i] = i + 2 <= n ? tok_span(t, p, i, i + 2) : TOK_NONE;
        if (rank[i] != TOK_NONE) he_push(heap, &hn, (struct tok_he){rank[i], (uint32_t)i});
    }
    size_t count = n;
    while (hn) {
        struct tok_he e = he_pop(heap, &hn);
        uint32_t i = e.at;
        if (next[i] == UINT32_MAX || rank[i] != e.rank || e.rank == TOK_NONE) continue;   /* stale */
        uint32_t j = next[i];                 /* absorbed part */
        uint32_t k = next[j];                 /* part after the merged one */
        next[i] = k;
        if (k <= n) prev[k] = i;
        next[j] = UINT32_MAX;                 /* gone */
        count--;
        /* new rank of i: i .. next(k) */
        uint32_t nr = TOK_NONE;
        if (k < n) nr = tok_span(t, p, i, next[k] <= n ? next[k] : n);
        rank[i] = nr;
        if (nr != TOK_NONE && hn < hcap) he_push(heap, &hn, (struct tok_he){nr, i});
        if (prev[i] != UINT32_MAX) {
            uint32_t h = prev[i];
            uint32_t pr = tok_span(t, p, h, k);
            rank[h] = pr;
            if (pr != TOK_NONE && hn < hcap) he_push(heap, &hn, (struct tok_he){pr, h});
        }
    }
    if (starts) {
        if (count > cap) goto out;
        size_t o = 0;
        for (uint32_t i = 0; i < n; i = next[i]) starts[o++] = i;
    }
    rc = (long)count;
out:
    free(next);
    free(prev);
    free(rank);
    free(heap);
    return rc;
}

/* Tokens of one piece (exact mode). */
static long tok_piece_count(const struct tok *t, const unsigned char *p, size_t n)
{
    if (n <= 1) return (long)n;
    if (tok_rank(t, p, n) != TOK_NONE) return 1;
    if (n <= TOK_SMALL) {
        uint32_t starts[TOK_SMALL + 1], ranks[TOK_SMALL + 1];
        return (long)tok_merge_simple(t, p, n, starts, ranks);
    }
    return tok_merge_heap(t, p, n, NULL, 0);
}

long tok_bpe_count_heap(const struct tok *t, const char *p, size_t n)
{
    if (!tok_exact(t)) return -1;
    if (n <= 1) return (long)n;
    return tok_merge_heap(t, (const unsigned char *)p, n, NULL, 0);
}

long tok_bpe_count_simple(const struct tok *t, const char *p, size_t n)
{
    if (!tok_exact(t)) return -1;
    if (n <= 1) return (long)n;
    uint32_t *starts = malloc((n + 1) * sizeof(*starts)), *ranks = malloc((n + 1) * sizeof(*ranks));
    long rc = -1;
    if (starts && ranks) rc = (long)tok_merge_simple(t, (const unsigned char *)p, n, starts, ranks);
    free(starts);
    free(ranks);
    return rc;
}

/* ---- estimate ------------------------------------------------------------ */

static size_t tok_estimate(const char *s, size_t n)
{
    size_t c = u8_chars(s, n);
    return c ? (c + 3) / 4 : 0;
}

/* ---- scanning ------------------------------------------------------------ */

int tok_scan(struct tok *t, const char *s, size_t n, tok_piece_fn fn, void *ud)
{
    if (!u8_valid(s, n, NULL)) return -1;
    int exact = tok_exact(t);
    size_t pos = 0;
    while (pos < n) {
        int m = t->jit_ok ? pcre2_jit_match(t->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, t->md, t->mctx)
                          : pcre2_match(t->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, t->md, t->mctx);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
        size_t a = ov[0], b = ov[1];
        if (b <= a) return -1;   /* the pattern never matches empty; refuse to loop */
        if (a > pos) {
            /* Unmatched text (cannot happen with this pattern: every
             * character is a letter, number, space or other). tiktoken skips
             * it; report it as a piece of zero tokens so offsets stay whole. */
            int rc = fn(ud, pos, a - pos, 0);
            if (rc) return rc;
        }
        long k = exact ? tok_piece_count(t, (const unsigned char *)s + a, b - a) : (long)tok_estimate(s + a, b - a);
        if (k < 0) return -1;
        int rc = fn(ud, a, b - a, (size_t)k);
        if (rc) return rc;
        pos = b;
    }
    if (pos < n) {
        int rc = fn(ud, pos, n - pos, 0);
        if (rc) return rc;
    }
    return 0;
}

static int tok_add(void *ud, size_t off, size_t len, size_t ntok)
{
    (void)off;
    (void)len;
    *(size_t *)ud += ntok;
    return 0;
}

long tok_count(struct tok *t, const char *s, size_t n)
{
    size_t total = 0;
    if (tok_scan(t, s, n, tok_add, &total) != 0) return -1;
    return (long)total;
}

long tok_piece_starts(struct tok *t, const char *p, size_t n, uint32_t *starts, size_t cap)
{
    if (n == 0) return 0;
    if (!tok_exact(t)) {
        size_t k = 0, chars = 0;
        for (size_t i = 0; i < n; i++) {
            if (((unsigned char)p[i] & 0xC0) == 0x80) continue;
            if (chars % 4 == 0) {
                if (k >= cap) return -1;
                starts[k++] = (uint32_t)i;
            }
            chars++;
        }
        return (long)k;
    }
    const unsigned char *u = (const unsigned char *)p;
    if (n == 1 || tok_rank(t, u, n) != TOK_NONE) {
        if (cap < 1) return -1;
        starts[0] = 0;
        return 1;
    }
    if (n <= TOK_SMALL) {
        uint32_t st[TOK_SMALL + 1], rk[TOK_SMALL + 1];
        size_t k = tok_merge_simple(t, u, n, st, rk);
        if (k > cap) return -1;
        memcpy(starts, st, k * sizeof(*st));
        return (long)k;
    }
    return tok_merge_heap(t, u, n, starts, cap);
}
