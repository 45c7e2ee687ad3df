/* fuzz_qparse.c: query understanding (common/search/qparse.c, filters.c):
 * a shopper's `q` -> designer, filters and residual words, and the
 * explicit filters of a request (qp_filters_override, the canonicalisers).
 *
 * Input: the query up to the first NUL; after it, NUL-separated explicit
 * values for size, colour, category, designer, occasion, fabric, work.
 * What must hold: every field stays terminated inside its width; the
 * residual has as many words as nterms says; the filters render as JSON;
 * clearing every relaxation group clears every filter. With
 * TROIKA_FUZZ_STRICT=1 also the property test_qparse checks on its table
 * of phrasings: the query qp_render writes for what was understood reads
 * back as the same filters and residual words (off by default: qp_render
 * documents exceptions, and the corner cases it finds are quality issues
 * of the suggestions, listed in docs/reliability.md, not faults). */
#include "test/fuzz/fuzz.h"

#include <json-c/json.h>

#include "common/search/qparse.h"

static const char *const fz_designers[] = {"Studio Kesar", "Anaya Mehrotra", "AND", "Ritu Kumar"};
enum { FZ_ND = sizeof(fz_designers) / sizeof(fz_designers[0]) };

static int strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *e = getenv("TROIKA_FUZZ_STRICT");
    strict = e && !strcmp(e, "1");
    return 0;
}

static void parse_with(const char *q, struct qp_result *r)
{
    char d[128], rest[QP_MAX_INPUT + 1];
    int got = qp_take_designer(q, fz_designers, FZ_ND, d, sizeof(d), rest, sizeof(rest));
    qp_parse(got ? rest : q, r);
    if (got) snprintf(r->f.designer, sizeof(r->f.designer), "%s", d);
}

static void check_terminated(const struct qp_result *r)
{
    const struct qp_filters *f = &r->f;
    FZ_CHECK(memchr(f->size, 0, sizeof(f->size)) && memchr(f->color, 0, sizeof(f->color)) &&
                 memchr(f->color_family, 0, sizeof(f->color_family)) && memchr(f->category, 0, sizeof(f->category)) &&
                 memchr(f->designer, 0, sizeof(f->designer)) && memchr(f->occasion, 0, sizeof(f->occasion)) &&
                 memchr(f->fabric, 0, sizeof(f->fabric)) && memchr(f->work, 0, sizeof(f->work)),
             "a filter is not terminated");
    FZ_CHECK(memchr(r->residual, 0, sizeof(r->residual)), "the residual is not terminated");
    int words = 0;
    for (const char *p = r->residual; *p; p++)
        if (*p != ' ' && (p == r->residual || p[-1] == ' ')) words++;
    FZ_CHECK(words == r->nterms, "nterms %d, residual '%s'", r->nterms, r->residual);
}

static int same(const struct qp_result *a, const struct qp_result *b)
{
    json_object *x = qp_filters_json(&a->f), *y = qp_filters_json(&b->f);
    int eq = x && y && json_object_equal(x, y) && !strcmp(a->residual, b->residual);
    json_object_put(x);
    json_object_put(y);
    return eq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = {data, size};
    char *q = fz_piece(&in, 0, 4 * QP_MAX_INPUT, NULL);

    struct qp_result r, back, words;
    parse_with(q, &r);
    check_terminated(&r);
    json_object *j = qp_filters_json(&r.f);
    FZ_CHECK(j != NULL, "no JSON for the filters");
    json_object_put(j);

    /* written back, it reads the same (leftover filter words aside, as in test_qparse) */
    qp_parse(r.residual, &words);
    char out[QP_MAX_INPUT];
    int n = qp_render(&r.f, r.residual, out, sizeof(out));
    FZ_CHECK(n < (int)sizeof(out), "qp_render returned %d", n);
    if (n >= 0 && strict && !strcmp(words.residual, r.residual)) {
        FZ_CHECK((size_t)n == strlen(out), "qp_render's length %d, wrote %zu", n, strlen(out));
        parse_with(out, &back);
        FZ_CHECK(same(&r, &back), "'%s' was rendered as '%s', which reads differently (residual '%s' -> '%s')", q,
                 out, r.residual, back.residual);
    }

    /* explicit filters over what q said */
    struct qp_given g;
    qp_given_init(&g);
    static const enum qp_filter_id ids[] = {QPF_SIZE, QPF_COLOR, QPF_CATEGORY, QPF_DESIGNER,
                                            QPF_OCCASION, QPF_FABRIC, QPF_WORK};
    char *v[sizeof(ids) / sizeof(ids[0])];
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        v[i] = fz_piece(&in, 0, 1024, NULL);
        if (v[i][0]) qp_given_set_text(&g, ids[i], v[i]);
    }
    qp_filters_override(&r.f, &g);
    check_terminated(&r);
    for (int id = 0; id < QPF_N; id++) {
        const char *vals[QPF_MAX_VALUES];
        int alt;
        int k = qp_filter_values(&r.f, (enum qp_filter_id)id, vals, &alt);
        FZ_CHECK(k >= 0 && k <= QPF_MAX_VALUES, "%d values", k);
        for (int i = 0; i < k; i++) FZ_CHECK(vals[i] != NULL, "value %d of filter %d is NULL", i, id);
    }
    for (int grp = 0; grp < QPG_N; grp++) {
        FZ_CHECK(qp_group_what(&r.f, (enum qp_group)grp) != NULL, "no phrase for group %d", grp);
        qp_group_clear(&r.f, (enum qp_group)grp);
    }
    FZ_CHECK(!qp_filters_any(&r.f), "filters left after clearing every group");

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) free(v[i]);
    free(q);
    return 0;
}
