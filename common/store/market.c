/* market.c: the market store's SQL (MariaDB); see market.h. The WHERE
 * clause of a segment is built from fixed fragments and every value is a
 * bound parameter.
 *
 * Shapes, measured (docs/troika-agent.md): the figures come from one
 * pass over the segment's rows (mk_rows: price order gives the count,
 * stock, range, exact quartiles, designers and the trending ids; only the
 * five trending products' cards are read again, mk_cards). Each of four
 * statements used to scan the segment with its EXISTS filters anew: "what
 * should I wear to a mehendi?" (16k products at 100k) took 27 + 22 + 21 +
 * 36 ms for those figures, the pass takes ~27 ms. Colours are counted in C
 * from (family, colour, product) rows (mk_shades): a GROUP BY family,
 * colour WITH ROLLUP with COUNT(DISTINCT) built a temporary table that cost
 * more than the rows, 66 against 40 ms in SQL for the mehendi segment (an
 * ORDER BY cost 54). */
#include "common/store/market.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/search/qparse.h"
#include "common/store/mariadb.h"

enum { MK_MAXP = 16, MK_SQL_MAX = 2048 };

/* A WHERE clause over `products p` with its parameters. */
struct mk_where {
    char sql[1024];
    size_t len;
    struct db_param p[MK_MAXP];
    size_t np;
};

static void mk_w_add(struct mk_where *w, const char *frag)
{
    int n = snprintf(w->sql + w->len, sizeof(w->sql) - w->len, "%s%s", w->len ? " AND " : "", frag);
    if (n > 0 && (size_t)n < sizeof(w->sql) - w->len) w->len += (size_t)n;
}

static void mk_w_param(struct mk_where *w, struct db_param p)
{
    if (w->np < MK_MAXP) w->p[w->np++] = p;
}

static void mk_where_build(const struct mk_segment *s, unsigned parts, struct mk_where *w)
{
    memset(w, 0, sizeof(*w));
    if ((parts & MK_CAT) && s->category[0]) {
        mk_w_add(w, "p.category = ?");
        mk_w_param(w, DB_STR(s->category));
    }
    if ((parts & MK_COLOR) && s->color_family[0]) {
        mk_w_add(w, "EXISTS (SELECT 1 FROM product_colors c WHERE c.product_id = p.id AND c.family = ?)");
        mk_w_param(w, DB_STR(s->color_family));
    }
    if ((parts & MK_BUDGET) && s->min > 0) {
        mk_w_add(w, "p.price >= ?");
        mk_w_param(w, DB_DOUBLE(s->min));
    }
    if ((parts & MK_BUDGET) && s->max > 0) {
        mk_w_add(w, "p.price <= ?");
        mk_w_param(w, DB_DOUBLE(s->max));
    }
    if ((parts & MK_OCC) && s->occasion[0]) {
        const char *const *tags = qp_occasion_tags(s->occasion);
        const char *one[2] = {s->occasion, NULL};
        if (!tags) tags = one;
        char frag[256] = "EXISTS (SELECT 1 FROM product_tags t WHERE t.product_id = p.id AND t.tag IN (";
        size_t fl = strlen(frag);
        for (size_t i = 0; tags[i] && i < 5; i++) {
            fl += (size_t)snprintf(frag + fl, sizeof(frag) - fl, "%s?", i ? ", " : "");
            mk_w_param(w, DB_STR(tags[i]));
        }
        snprintf(frag + fl, sizeof(frag) - fl, "))");
        mk_w_add(w, frag);
    }
    if (!w->len) mk_w_add(w, "1 = 1");
}

/* fmt holds exactly one %s: the segment's WHERE clause. Parameters: pre
 * (bound before the clause's), then the clause's. */
static int mk_query(struct store *s, arena_t *ar, const char *fmt, const struct db_param *pre, size_t npre,
                    const struct mk_segment *seg, unsigned parts, size_t max_rows, struct db_rows *out, char *err,
                    size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    struct mk_where w;
    mk_where_build(seg, parts, &w);
    char sql[MK_SQL_MAX];
    struct db_param p[MK_MAXP + 4];
    snprintf(sql, sizeof(sql), fmt, w.sql);
    size_t np = 0;
    for (size_t i = 0; i < npre && np < 4; i++) p[np++] = pre[i];
    for (size_t i = 0; i < w.np; i++) p[np++] = w.p[i];
    return db_query(d, ar, sql, p, np, max_rows, out, err, errlen);
}

static double mk_num(const char *s)
{
    return s ? strtod(s, NULL) : 0;
}

static long long mk_int(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static int mk_oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return ST_EQUERY;
}

static int mkm_rows(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts, struct mk_row **out,
                    size_t *n, char *err, size_t errlen)
{
    struct db_rows rs;
    *n = 0;
    int rc = mk_query(s, ar,
                      "SELECT p.price, p.in_stock, COALESCE(p.designer, ''), p.popularity, p.id FROM products p "
                      "WHERE %s ORDER BY p.price, p.id",
                      NULL, 0, seg, parts, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**out));
    if (!*out) return mk_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct mk_row){.price = mk_num(db_cell(&rs, i, 0)),
                                    .popularity = mk_num(db_cell(&rs, i, 3)),
                                    .id = mk_int(db_cell(&rs, i, 4)),
                                    .in_stock = mk_int(db_cell(&rs, i, 1)) != 0,
                                    .designer = db_cell(&rs, i, 2) ? db_cell(&rs, i, 2) : ""};
    *n = rs.nrows;
    return ST_OK;
}

static int mkm_shades(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts,
                      struct mk_shade **out, size_t *n, char *err, size_t errlen)
{
    struct db_rows rs;
    *n = 0;
    int rc = mk_query(s, ar,
                      "SELECT c.family, c.color, p.id FROM products p JOIN product_colors c ON c.product_id = p.id "
                      "WHERE %s",
                      NULL, 0, seg, parts, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**out));
    if (!*out) return mk_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct mk_shade){db_cell(&rs, i, 0) ? db_cell(&rs, i, 0) : "",
                                      db_cell(&rs, i, 1) ? db_cell(&rs, i, 1) : "", mk_int(db_cell(&rs, i, 2))};
    *n = rs.nrows;
    return ST_OK;
}

static int mkm_bands(struct store *s, arena_t *ar, const struct mk_segment *seg, unsigned parts, double lo,
                     double hi, long *below, long *above, char *err, size_t errlen)
{
    struct db_rows rs;
    struct db_param pre[2] = {DB_DOUBLE(lo), DB_DOUBLE(hi > 0 ? hi : 1e18)};
    *below = *above = 0;
    int rc = mk_query(s, ar,
                      "SELECT COALESCE(SUM(p.price < ?), 0), COALESCE(SUM(p.price > ?), 0) FROM products p WHERE %s",
                      pre, 2, seg, parts, 1, &rs, err, errlen);
    if (rc != DB_OK || rs.nrows != 1) return rc;
    *below = (long)mk_int(db_cell(&rs, 0, 0));
    *above = (long)mk_int(db_cell(&rs, 0, 1));
    return ST_OK;
}

static int mkm_cards(struct store *s, arena_t *ar, const long long *ids, size_t nids, struct mk_card **out,
                     size_t *n, char *err, size_t errlen)
{
    struct db *d = stm_db(s, err, errlen);
    if (!d) return ST_ECONN;
    *n = 0;
    *out = NULL;
    if (!nids) return ST_OK;
    buf_t sql;
    buf_init(&sql, ar, 4096);
    buf_adds(&sql, "SELECT p.sku, p.title, COALESCE(p.designer, ''), p.price, p.popularity, p.in_stock, p.id "
                   "FROM products p WHERE p.id IN (");
    struct db_param *p = ar_alloc(ar, nids * sizeof(*p));
    if (!p) return mk_oom(err, errlen);
    for (size_t i = 0; i < nids; i++) {
        p[i] = DB_INT(ids[i]);
        buf_adds(&sql, i ? ",?" : "?");
    }
    buf_adds(&sql, ") ORDER BY p.popularity DESC, p.id");
    if (!sql.p) return mk_oom(err, errlen);
    struct db_rows rs;
    int rc = db_query(d, ar, sql.p, p, nids, nids, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *out = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(**out));
    if (!*out) return mk_oom(err, errlen);
    for (size_t i = 0; i < rs.nrows; i++)
        (*out)[i] = (struct mk_card){.sku = db_cell(&rs, i, 0) ? db_cell(&rs, i, 0) : "",
                                     .title = db_cell(&rs, i, 1) ? db_cell(&rs, i, 1) : "",
                                     .designer = db_cell(&rs, i, 2) ? db_cell(&rs, i, 2) : "",
                                     .price = mk_num(db_cell(&rs, i, 3)),
                                     .popularity = mk_num(db_cell(&rs, i, 4)),
                                     .in_stock = mk_int(db_cell(&rs, i, 5)) != 0};
    *n = rs.nrows;
    return ST_OK;
}

const struct mk_ops mk_mariadb = {
    .rows = mkm_rows,
    .shades = mkm_shades,
    .bands = mkm_bands,
    .cards = mkm_cards,
};
