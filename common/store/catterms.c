/* catterms.c: document frequencies of the catalog's words (search_terms)
 * and the full-text plan built from them; see catterms.h.
 *
 * Words are split exactly as catalog.c splits a query (letters, digits and
 * UTF-8 bytes, at least three characters), lower-cased in ASCII, so that a
 * query word finds its own count. */
#include "common/store/catterms.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/hash.h"
#include "common/io/db.h"
#include "common/search/qparse.h"

/* Bump when the way search_terms is built changes: the next import or
 * build-index rebuilds it. */
#define CT_VERSION "3"   /* 3: and the vocabulary (search_vocab) */

/* Words in fewer products than this are not stored: absent means rare. */
enum { CT_MIN_DOCS = 20 };

/* Longest word kept (InnoDB's innodb_ft_max_token_size default). */
enum { CT_MAX_WORD = 84 };

/* Products read per page while counting. */
enum { CT_PAGE = 2000 };

/* Rows per INSERT while writing. */
enum { CT_INSERT = 500 };

/* ---- words ------------------------------------------------------------------ */

size_t ct_words(const char *s, const char **w, size_t *wl, size_t max)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p && n < max) {
        while (*p && !qp_wordbyte(*p)) p++;
        const unsigned char *b = p;
        size_t chars = 0;
        while (*p && qp_wordbyte(*p)) {
            if ((*p & 0xC0) != 0x80) chars++;
            p++;
        }
        if (p > b && chars >= 3) {
            w[n] = (const char *)b;
            wl[n] = (size_t)(p - b);
            n++;
        }
    }
    return n;
}

/* A lower-cased (ASCII) copy of w[0..n) in out (room for CT_MAX_WORD + 1);
 * 0 when the word is too long to be a FULLTEXT token. */
static int ct_lower(const char *w, size_t n, char *out)
{
    if (n > CT_MAX_WORD) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    out[n] = '\0';
    return 1;
}

/* ---- counting (troika-admin) ----------------------------------------------- */

struct ct_slot {
    char *word;           /* arena copy; NULL = empty slot */
    unsigned docs;
    long long last;       /* product id that last counted it: once per product */
};

struct ct_map {
    struct ct_slot *v;
    size_t cap, n;
    arena_t *ar;
};

static uint64_t ct_hash(const char *s, size_t n)
{
    return hash_fnv1a(HASH_FNV_BASIS, s, n);
}

static int ct_map_grow(struct ct_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16384;
    struct ct_slot *v = calloc(cap, sizeof(*v));
    if (!v) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->v[i].word) continue;
        size_t k = ct_hash(m->v[i].word, strlen(m->v[i].word)) & (cap - 1);
        while (v[k].word) k = (k + 1) & (cap - 1);
        v[k] = m->v[i];
    }
    free(m->v);
    m->v = v;
    m->cap = cap;
    return 0;
}

/* Counts word (lower-cased) once for product id. */
static int ct_map_count(struct ct_map *m, const char *word, size_t n, long long id)
{
    if ((m->n + 1) * 2 > m->cap && ct_map_grow(m) < 0) return -1;
    size_t k = ct_hash(word, n) & (m->cap - 1);
    while (m->v[k].word) {
        if (!strncmp(m->v[k].word, word, n) && m->v[k].word[n] == '\0') {
            if (m->v[k].last != id) {
                m->v[k].docs++;
                m->v[k].last = id;
            }
            return 0;
        }
        k = (k + 1) & (m->cap - 1);
    }
    char *copy = ar_strndup(m->ar, word, n);
    if (!copy) return -1;
    m->v[k] = (struct ct_slot){.word = copy, .docs = 1, .last = id};
    m->n++;
    return 0;
}

static int ct_map_text(struct ct_map *m, const char *text, long long id)
{
    const char *w[256];
    size_t wl[256];
    const char *p = text ? text : "";
    /* a long description has more than 256 words: take them in runs */
    while (*p) {
        size_t n = ct_words(p, w, wl, 256);
        if (!n) break;
        for (size_t i = 0; i < n; i++) {
            char low[CT_MAX_WORD + 1];
            /* InnoDB never indexes its stopwords: never in a plan either */
            if (ct_lower(w[i], wl[i], low) && !qp_ft_stopword(low) && ct_map_count(m, low, wl[i], id) < 0)
                return -1;
        }
        if (n < 256) break;
        p = w[n - 1] + wl[n - 1];
    }
    return 0;
}

static int ct_current(struct db *db, arena_t *ar, char *err, size_t errlen)
{
    struct db_rows rs;
    int rc = db_query(db, ar, "SELECT v FROM catalog_meta WHERE k = 'terms_version'", NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    return rs.nrows && db_cell(&rs, 0, 0) && !strcmp(db_cell(&rs, 0, 0), CT_VERSION) ? 1 : 0;
}

/* 1 when w has a letter: a word typo correction may aim at. */
static int ct_has_letter(const char *w)
{
    for (; *w; w++)
        if ((*w >= 'a' && *w <= 'z') || (unsigned char)*w >= 0x80) return 1;
    return 0;
}

/* Every word with a letter and its product count: the vocabulary typo
 * correction and the unmatched-word check read (common/search/spell.h). */
static int ct_write_vocab(struct db *db, arena_t *ar, const struct ct_map *m, char *err, size_t errlen)
{
    int rc = db_exec(db, "DELETE FROM search_vocab", NULL, 0, NULL, NULL, err, errlen);
    if (rc != DB_OK) return rc;
    struct db_param p[CT_INSERT * 2];
    buf_t sql;
    buf_init(&sql, ar, 1 << 16);
    size_t np = 0, rows = 0;
    for (size_t i = 0; i < m->cap; i++) {
        const struct ct_slot *s = &m->v[i];
        if (s->word && ct_has_letter(s->word)) {
            p[np++] = DB_STR(s->word);
            p[np++] = DB_INT(s->docs);
            rows++;
        }
        if (rows && (rows == CT_INSERT || i + 1 == m->cap)) {
            buf_clear(&sql);
            buf_adds(&sql, "INSERT INTO search_vocab (word, docs) VALUES ");
            for (size_t r = 0; r < rows; r++) buf_adds(&sql, r ? ", (?, ?)" : "(?, ?)");
            rc = db_exec(db, sql.p, p, np, NULL, NULL, err, errlen);
            if (rc != DB_OK) return rc;
            np = rows = 0;
        }
    }
    return DB_OK;
}

int ct_vocab_load(struct db *db, arena_t *ar, const char ***words, unsigned **docs, size_t *n, char *err,
                  size_t errlen)
{
    struct db_rows rs;
    *words = NULL;
    *docs = NULL;
    *n = 0;
    int rc = db_query(db, ar, "SELECT word, docs FROM search_vocab", NULL, 0, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    const char **w = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(*w));
    unsigned *d = ar_alloc(ar, (rs.nrows ? rs.nrows : 1) * sizeof(*d));
    if (!w || !d) {
        snprintf(err, errlen, "out of memory");
        return DB_EQUERY;
    }
    for (size_t r = 0; r < rs.nrows; r++) {
        w[r] = db_cell(&rs, r, 0) ? db_cell(&rs, r, 0) : "";
        d[r] = db_cell(&rs, r, 1) ? (unsigned)strtoul(db_cell(&rs, r, 1), NULL, 10) : 0;
    }
    *words = w;
    *docs = d;
    *n = rs.nrows;
    return DB_OK;
}

static int ct_write(struct db *db, arena_t *ar, const struct ct_map *m, long long products, char *err,
                    size_t errlen)
{
    int rc = db_exec(db, "DELETE FROM search_terms", NULL, 0, NULL, NULL, err, errlen);
    if (rc != DB_OK) return rc;
    struct db_param p[CT_INSERT * 2];
    buf_t sql;
    buf_init(&sql, ar, 1 << 16);
    size_t np = 0, rows = 0;
    /* the product count rides along as the word "#products" (never a word) */
    struct ct_slot total = {.word = "#products", .docs = (unsigned)products};
    for (size_t i = 0; i <= m->cap; i++) {
        const struct ct_slot *s = i < m->cap ? &m->v[i] : &total;
        if (!s->word || (i < m->cap && s->docs < CT_MIN_DOCS)) continue;
        p[np++] = DB_STR(s->word);
        p[np++] = DB_INT(s->docs);
        rows++;
        if (rows == CT_INSERT || i == m->cap) {
            buf_clear(&sql);
            buf_adds(&sql, "INSERT INTO search_terms (term, docs) VALUES ");
            for (size_t r = 0; r < rows; r++) buf_adds(&sql, r ? ", (?, ?)" : "(?, ?)");
            rc = db_exec(db, sql.p, p, np, NULL, NULL, err, errlen);
            if (rc != DB_OK) return rc;
            np = rows = 0;
        }
    }
    rc = ct_write_vocab(db, ar, m, err, errlen);
    if (rc != DB_OK) return rc;
    return db_exec(db,
                   "INSERT INTO catalog_meta (k, v) VALUES ('terms_version', '" CT_VERSION "') "
                   "ON DUPLICATE KEY UPDATE v = VALUES(v), updated_at = CURRENT_TIMESTAMP",
                   NULL, 0, NULL, NULL, err, errlen);
}

int ct_sync(struct db *db, arena_t *ar, int force, int *rebuilt, char *err, size_t errlen)
{
    *rebuilt = 0;
    int rc;
    if (!force) {
        rc = ct_current(db, ar, err, errlen);
        if (rc < 0) return rc;
        if (rc == 1) return DB_OK;
    }
    struct ct_map m = {.ar = ar_new(1 << 20)};
    arena_t *page = ar_new(1 << 20);
    long long after = 0, products = 0;
    rc = DB_EQUERY;
    if (!m.ar || !page || ct_map_grow(&m) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* The same columns as the FULLTEXT index (conf/schema.sql). */
    for (;;) {
        ar_reset(page);
        struct db_rows rs;
        struct db_param p[2] = {DB_INT(after), DB_INT(CT_PAGE)};
        rc = db_query(db, page,
                      "SELECT id, title, description, tags, designer, category FROM products "
                      "WHERE id > ? ORDER BY id LIMIT ?",
                      p, 2, 0, &rs, err, errlen);
        if (rc != DB_OK) goto out;
        for (size_t r = 0; r < rs.nrows; r++) {
            long long id = strtoll(db_cell(&rs, r, 0), NULL, 10);
            for (size_t c = 1; c < 6; c++)
                if (ct_map_text(&m, db_cell(&rs, r, c), id) < 0) {
                    snprintf(err, errlen, "out of memory");
                    rc = DB_EQUERY;
                    goto out;
                }
            after = id;
            products++;
        }
        if (rs.nrows < CT_PAGE) break;
    }
    rc = db_begin(db, err, errlen);
    if (rc != DB_OK) goto out;
    rc = ct_write(db, page, &m, products, err, errlen);
    if (rc == DB_OK) rc = db_commit(db, err, errlen);
    if (rc != DB_OK && rc != DB_ECONN) db_rollback(db);
    if (rc == DB_OK) *rebuilt = 1;
out:
    free(m.v);
    if (m.ar) ar_free(m.ar);
    if (page) ar_free(page);
    return rc;
}

/* ---- the plan (workers) ----------------------------------------------------- */

int ct_by_docs(const void *a, const void *b)
{
    const struct ct_word *x = a, *y = b;
    return x->docs < y->docs ? -1 : x->docs > y->docs;
}

/* Reads the counts of v[0..n) and the product count. *products 0: no counts. */
static int ct_lookup(struct db *db, arena_t *ar, struct ct_word *v, size_t n, long long *products, char *err,
                     size_t errlen)
{
    struct db_param p[CT_PLAN_WORDS + 1];
    buf_t sql;
    buf_init(&sql, ar, 4096);
    buf_adds(&sql, "SELECT term, docs FROM search_terms WHERE term IN (?");
    p[0] = DB_STR("#products");
    for (size_t i = 0; i < n; i++) {
        buf_adds(&sql, ", ?");
        p[i + 1] = DB_STR(v[i].w);
    }
    buf_addc(&sql, ')');
    struct db_rows rs;
    int rc = db_query(db, ar, sql.p, p, n + 1, 0, &rs, err, errlen);
    if (rc != DB_OK) return rc;
    *products = 0;
    for (size_t i = 0; i < n; i++) v[i].docs = 0;   /* counted: absent = under CT_MIN_DOCS */
    for (size_t r = 0; r < rs.nrows; r++) {
        const char *t = db_cell(&rs, r, 0);
        long long d = strtoll(db_cell(&rs, r, 1), NULL, 10);
        if (!strcmp(t, "#products")) *products = d;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(t, v[i].w)) v[i].docs = d;
    }
    if (!*products)
        for (size_t i = 0; i < n; i++) v[i].docs = -1;
    return DB_OK;
}

/* The estimated cost of a choice S, in hundredths of a
 * microsecond (figures measured at 100k products, docs/search.md):
 *     CT_COST_LIST * (documents of the words in S)        reading their lists
 *   + rows * (CT_COST_ROW + CT_COST_CHECK * words checked) each matched row
 * with rows = products * the product of each word's share (independence).
 * Every subset is tried (n <= CT_CHOOSE_MAX; more words: all to FULLTEXT). */
enum { CT_COST_LIST = 25, CT_COST_ROW = 250, CT_COST_CHECK = 100 };

size_t ct_choose(const struct ct_word *v, size_t n, long long products)
{
    size_t all = 0;
    for (size_t i = 0; i < n; i++)
        if (!v[i].category) all |= (size_t)1 << i;
    if (n > CT_CHOOSE_MAX) return all;
    size_t best = all;
    double best_cost = -1;
    for (size_t set = 1; set < ((size_t)1 << n); set++) {
        double list = 0, rows = (double)products;
        int checked = 0;
        for (size_t i = 0; i < n; i++) {
            /* a stored word is in >= CT_MIN_DOCS products; absent: fewer */
            double d = v[i].docs > 0 ? (double)v[i].docs : CT_MIN_DOCS / 2.0;
            if (set & ((size_t)1 << i)) {
                list += d;
                rows *= d / (double)products;
            } else if (!v[i].category) {
                checked++;
            }
        }
        double cost = CT_COST_LIST * list + rows * (CT_COST_ROW + CT_COST_CHECK * checked);
        /* ties: the set with more words (a better relevance) */
        if (best_cost < 0 || cost < best_cost ||
            (cost == best_cost && __builtin_popcountl(set) > __builtin_popcountl(best))) {
            best = set;
            best_cost = cost;
        }
    }
    return best;
}

int ct_plan(struct db *db, arena_t *ar, const char *residual, const char *category, struct ct_plan *out,
            char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->expr = "";
    out->row_list = "";
    const char *w[CT_PLAN_WORDS];
    size_t wl[CT_PLAN_WORDS];
    struct ct_word v[CT_PLAN_WORDS];
    size_t n = 0, nq = ct_words(residual, w, wl, CT_PLAN_WORDS);
    for (size_t i = 0; i < nq; i++) {
        char low[CT_MAX_WORD + 1];
        if (!ct_lower(w[i], wl[i], low)) continue;
        int dup = 0;
        for (size_t k = 0; k < n; k++) dup |= !strcmp(v[k].w, low);
        if (dup) continue;
        v[n++] = (struct ct_word){.w = ar_strdup(ar, low), .docs = -1};
    }
    if (!n) return DB_OK;
    if (category) {
        size_t nc = ct_words(category, w, wl, CT_PLAN_WORDS);
        for (size_t i = 0; i < nc && n < CT_PLAN_WORDS; i++) {
            char low[CT_MAX_WORD + 1];
            if (!ct_lower(w[i], wl[i], low) || qp_ft_stopword(low)) continue;
            int dup = 0;
            for (size_t k = 0; k < n; k++) dup |= !strcmp(v[k].w, low);
            if (!dup) v[n++] = (struct ct_word){.w = ar_strdup(ar, low), .docs = -1, .category = 1};
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!v[i].w) {
            snprintf(err, errlen, "out of memory");
            return DB_EQUERY;
        }
    long long products = 0;
    int rc = ct_lookup(db, ar, v, n, &products, err, errlen);
    if (rc != DB_OK) return rc;
    out->counted = products > 0;
    if (!out->counted) return DB_OK;   /* the caller requires every word as typed */

    buf_t e, rw;
    buf_init(&e, ar, 4096);
    buf_init(&rw, ar, 4096);
    qsort(v, n, sizeof(*v), ct_by_docs);
    size_t best = ct_choose(v, n, products);
    size_t nrow = 0;
    for (size_t i = 0; i < n; i++) {
        if (best & ((size_t)1 << i)) {
            buf_adds(&e, e.len ? " +" : "+");
            buf_adds(&e, v[i].w);
        } else if (!v[i].category) {
            out->row_words[nrow++] = v[i].w;
            buf_adds(&rw, rw.len ? " " : "");
            buf_adds(&rw, v[i].w);
        }
    }
    out->expr = e.p ? e.p : "";
    out->nrow_words = nrow;
    out->row_list = rw.p ? rw.p : "";
    return DB_OK;
}
