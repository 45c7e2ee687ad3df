/* test_ps_page.c: product search's sorts, its cursor (what it encodes and
 * what it refuses) and the page an attribute sort picks without sorting
 * the whole set (handlers/search/ps_page.c): every page by offset and every
 * walk by cursor equals the slices of a full sort. */
#include <stdlib.h>
#include <string.h>

#include "common/base/arena.h"
#include "common/base/b64.h"
#include "common/search/qparse.h"
#include "handlers/search/ps_page.h"
#include "test/unit/unit.h"

static void t_sort_names(void)
{
    for (int i = 0; i < PG_NSORTS; i++) CU_ASSERT_EQUAL(pg_sort_parse(pg_sort_name(i)), i);
    CU_ASSERT_EQUAL(pg_sort_parse("price_asc"), PG_PRICE_ASC);
    CU_ASSERT_EQUAL(pg_sort_parse("PRICE_ASC"), -1);
    CU_ASSERT_EQUAL(pg_sort_parse("cheapest"), -1);
    CU_ASSERT_EQUAL(pg_sort_parse(""), -1);
    CU_ASSERT_STRING_EQUAL(pg_sort_name(-1), "relevance");
}

static void t_fingerprint(void)
{
    struct qp_filters a, b;
    qp_filters_init(&a);
    qp_filters_init(&b);
    uint64_t base = pg_fingerprint("red lehenga", &a, PG_RELEVANCE);
    CU_ASSERT_EQUAL(base, pg_fingerprint("red lehenga", &b, PG_RELEVANCE));
    CU_ASSERT_NOT_EQUAL(base, pg_fingerprint("red lehenga ", &a, PG_RELEVANCE));
    CU_ASSERT_NOT_EQUAL(base, pg_fingerprint("red lehenga", &a, PG_PRICE_ASC));
    b.max_price = 5000;
    CU_ASSERT_NOT_EQUAL(base, pg_fingerprint("red lehenga", &b, PG_RELEVANCE));
}

static void t_cursor_round_trip(void)
{
    arena_t *ar = ar_new(4096);
    struct pg_cursor c = {.sort = PG_PRICE_DESC, .fp = 0x0123456789abcdefULL, .key = -24999.5, .pos = 392};
    strcpy(c.sku, "SKU|with|bars and spaces/é");
    const char *s = pg_cursor_encode(ar, &c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (const char *p = s; *p; p++) CU_ASSERT(strchr("+/=", *p) == NULL);   /* base64url, no padding */
    struct pg_cursor d;
    CU_ASSERT_EQUAL_FATAL(pg_cursor_decode(s, &d), 0);
    CU_ASSERT_EQUAL(d.sort, c.sort);
    CU_ASSERT_EQUAL(d.fp, c.fp);
    CU_ASSERT_EQUAL(d.key, c.key);   /* %.17g: the same double */
    CU_ASSERT_EQUAL(d.pos, c.pos);
    CU_ASSERT_STRING_EQUAL(d.sku, c.sku);
    c.key = 0.1 + 0.2;
    CU_ASSERT_EQUAL(pg_cursor_decode(pg_cursor_encode(ar, &c), &d), 0);
    CU_ASSERT_EQUAL(d.key, c.key);
    ar_free(ar);
}

/* base64url of raw text, as a cursor would be written */
static const char *enc(arena_t *ar, const char *raw)
{
    char *out = ar_alloc(ar, b64_encoded_len(strlen(raw)) + 1);
    size_t n = b64_encode((const unsigned char *)raw, strlen(raw), out);
    while (n && out[n - 1] == '=') n--;
    out[n] = '\0';
    for (char *p = out; *p; p++) *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

static void t_cursor_refusals(void)
{
    arena_t *ar = ar_new(4096);
    struct pg_cursor d;
    CU_ASSERT_EQUAL(pg_cursor_decode(enc(ar, "v1|price_asc|0123456789abcdef|100|8|S1"), &d), 0);
    const char *bad[] = {
        "", "!!!!", "a", "v1", "djE=",   /* padding is not base64url */
        NULL,
    };
    for (int i = 0; bad[i]; i++) CU_ASSERT_EQUAL(pg_cursor_decode(bad[i], &d), -1);
    const char *raw[] = {
        "v2|price_asc|0123456789abcdef|100|8|S1",      /* another version */
        "v1|cheapest|0123456789abcdef|100|8|S1",       /* no such sort */
        "v1|price_asc|0123456789abcde|100|8|S1",       /* fingerprint not 16 digits */
        "v1|price_asc|0123456789abcdeg|100|8|S1",
        "v1|price_asc|0123456789abcdef|x|8|S1",        /* key */
        "v1|price_asc|0123456789abcdef|nan|8|S1",
        "v1|price_asc|0123456789abcdef|inf|8|S1",
        "v1|price_asc|0123456789abcdef|100|0|S1",      /* position below 1 */
        "v1|price_asc|0123456789abcdef|100|-3|S1",
        "v1|price_asc|0123456789abcdef|100|8|",        /* no sku */
        "v1|price_asc|0123456789abcdef|100|8",         /* a field missing */
        NULL,
    };
    for (int i = 0; raw[i]; i++) CU_ASSERT_EQUAL(pg_cursor_decode(enc(ar, raw[i]), &d), -1);
    char longs[400];
    memset(longs, 'A', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    CU_ASSERT_EQUAL(pg_cursor_decode(longs, &d), -1);
    ar_free(ar);
}

enum { N = 997 };

struct fx {
    struct pg_item v[N];
    char skus[N][12];
    size_t order[N];   /* the full sort: v's indexes */
};

static struct fx *fx_make(unsigned seed, int with_pos)
{
    struct fx *f = calloc(1, sizeof(*f));
    srand(seed);
    for (size_t i = 0; i < N; i++) {
        snprintf(f->skus[i], sizeof(f->skus[i]), "S%06d", (int)((i * 7919) % N));
        f->v[i] = (struct pg_item){.key = (double)(rand() % 40) * 250.0, .sku = f->skus[i], .src = i,
                                   .skupos = with_pos ? 2 * (int64_t)((i * 7919) % N) : -1};
    }
    return f;
}

static int by_item(const void *a, const void *b)
{
    const struct pg_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->sku, y->sku);
}

static void full_sort(struct fx *f)
{
    struct pg_item s[N];
    memcpy(s, f->v, sizeof(s));
    qsort(s, N, sizeof(*s), by_item);
    for (size_t i = 0; i < N; i++) f->order[i] = s[i].src;
}

static void t_offset_pages(void)
{
    for (int with_pos = 0; with_pos < 2; with_pos++) {
        struct fx *f = fx_make(7, with_pos);
        full_sort(f);
        const long offsets[] = {0, 1, 8, 392, 990, 996, 997, 5000};
        const long limits[] = {1, 8, 50};
        for (size_t a = 0; a < sizeof(offsets) / sizeof(*offsets); a++)
            for (size_t b = 0; b < 3; b++) {
                struct pg_item w[N];
                memcpy(w, f->v, sizeof(w));
                size_t start, k;
                int more;
                pg_select(w, N, NULL, -1, offsets[a], limits[b], &start, &k, &more);
                size_t from = offsets[a] < N ? (size_t)offsets[a] : N;
                size_t want = from + (size_t)limits[b] < N ? (size_t)limits[b] : N - from;
                CU_ASSERT_EQUAL(start, from);
                CU_ASSERT_EQUAL(k, want);
                CU_ASSERT_EQUAL(more, from + want < N);
                for (size_t i = 0; i < k && i < want; i++) CU_ASSERT_EQUAL(w[i].src, f->order[from + i]);
            }
        free(f);
    }
}

static void t_cursor_walk(void)
{
    for (int with_pos = 0; with_pos < 2; with_pos++) {
        struct fx *f = fx_make(11, with_pos);
        full_sort(f);
        size_t seen = 0;
        struct pg_cursor cur;
        int have = 0, more = 1;
        int64_t cur_pos = -1;
        while (more) {
            struct pg_item w[N];
            memcpy(w, f->v, sizeof(w));
            size_t start, k;
            pg_select(w, N, have ? &cur : NULL, cur_pos, 0, 8, &start, &k, &more);
            CU_ASSERT_EQUAL_FATAL(start, seen);
            for (size_t i = 0; i < k; i++) CU_ASSERT_EQUAL(w[i].src, f->order[seen + i]);
            seen += k;
            if (!k) break;
            cur = (struct pg_cursor){.key = w[k - 1].key, .pos = (long)seen};
            strcpy(cur.sku, w[k - 1].sku);
            cur_pos = w[k - 1].skupos;
            have = 1;
        }
        CU_ASSERT_EQUAL(seen, N);
        free(f);
    }
}

/* A product added or removed before the cursor's place does not move the
 * next page: it continues after (key, sku). */
static void t_cursor_after_changes(void)
{
    struct fx *f = fx_make(3, 0);
    full_sort(f);
    struct pg_item w[N];
    memcpy(w, f->v, sizeof(w));
    size_t start, k;
    int more;
    pg_select(w, N, NULL, -1, 0, 40, &start, &k, &more);
    struct pg_cursor cur = {.key = w[39].key, .pos = 40};
    strcpy(cur.sku, w[39].sku);
    /* the set changes: the first product goes, one cheaper than all comes */
    struct pg_item x[N];
    memcpy(x, f->v, sizeof(x));
    for (size_t i = 0; i < N; i++)
        if (x[i].src == f->order[0]) x[i] = (struct pg_item){.key = -1, .sku = "NEW", .skupos = -1, .src = N + 1};
    pg_select(x, N, &cur, -1, 0, 8, &start, &k, &more);
    CU_ASSERT_EQUAL(k, 8);
    CU_ASSERT_EQUAL(start, 40);
    for (size_t i = 0; i < k; i++) CU_ASSERT_EQUAL(x[i].src, f->order[40 + i]);
    free(f);
}

void register_ps_page(void)
{
    static const struct unit_case cases[] = {
        {"sort names both ways", t_sort_names},
        {"the fingerprint of q, filters and sort", t_fingerprint},
        {"a cursor decodes to what was encoded", t_cursor_round_trip},
        {"text that is not a cursor is refused", t_cursor_refusals},
        {"pages by offset are slices of the full sort", t_offset_pages},
        {"a walk by cursor is the full sort", t_cursor_walk},
        {"a cursor continues after (key, sku) when the set changed", t_cursor_after_changes},
        {NULL, NULL},
    };
    unit_suite("ps_page", cases);
}
