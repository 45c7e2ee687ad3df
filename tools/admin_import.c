/* admin_import.c: `troika-admin import-products FILE`.
 *
 * Reads JSON Lines or CSV, checks each record (admin_product.c), and
 * upserts by sku in batches of ADM_BATCH products per transaction. The
 * content hash of every product already stored is loaded first, so that an
 * unchanged record is counted and skipped without a write, and a rerun of
 * the same file changes nothing. A record the database refuses is retried
 * alone and rejected with the database's reason; the batch's other records
 * are written. Memory: one arena for the run (sku sets, rejects) and one
 * reset after every batch (records). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/store/catbits.h"
#include "common/store/catterms.h"
#include "common/io/db.h"
#include "common/base/u8.h"
#include "tools/admin.h"
#include "tools/admin_map.h"
#include "tools/admin_product.h"

enum { ADM_BATCH = 500, AI_MAX_REJECTS_SHOWN = 200 };


/* ---- the run --------------------------------------------------------------- */

struct ai_reject {
    int line;
    const char *why;
};

struct ai_run {
    struct adm *a;
    struct db *db;
    arena_t *batch_ar;
    int dry, prune;
    struct adm_map stored;     /* sku -> content hash in the database */
    struct adm_map seen;       /* sku -> first line in this file */
    struct adm_prod *pending[ADM_BATCH];
    int npending;
    long lines, records, inserted, updated, unchanged, deleted;
    const char *not_pruned;    /* why --prune deleted nothing, or NULL */
    struct ai_reject *rejects;
    size_t nrejects, caprejects;
    int fatal;
    char fatal_msg[768];
};

static void ai_reject(struct ai_run *r, int line, const char *why)
{
    if (r->nrejects == r->caprejects) {
        size_t cap = r->caprejects ? r->caprejects * 2 : 64;
        struct ai_reject *n = ar_alloc(r->a->ar, cap * sizeof(*n));
        if (!n) return;
        if (r->nrejects) memcpy(n, r->rejects, r->nrejects * sizeof(*n));
        r->rejects = n;
        r->caprejects = cap;
    }
    r->rejects[r->nrejects++] = (struct ai_reject){line, ar_strdup(r->a->ar, why)};
}

static int ai_load_stored(struct ai_run *r)
{
    struct db_rows rows;
    char err[512];
    int rc = db_query(r->db, r->a->ar, "SELECT sku, content_hash FROM products", NULL, 0, 0, &rows, err,
                      sizeof(err));
    if (rc != DB_OK) {
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "cannot read the products table: %s", err);
        return -1;
    }
    if (adm_map_init(&r->stored, r->a->ar, rows.nrows) < 0) return -1;
    for (size_t i = 0; i < rows.nrows; i++)
        if (adm_map_put(&r->stored, r->a->ar, db_cell(&rows, i, 0),
                       strtoull(db_cell(&rows, i, 1) ? db_cell(&rows, i, 1) : "0", NULL, 10)) < 0)
            return -1;
    return 0;
}

/* ---- writing ----------------------------------------------------------------- */

static const char ai_upsert_head[] =
    "INSERT INTO products (sku, title, description, category, designer, colors, sizes, price, currency, "
    "in_stock, stock_count, tags, image_url, url, popularity, content_hash) VALUES ";
static const char ai_upsert_tail[] =
    " ON DUPLICATE KEY UPDATE title = VALUES(title), description = VALUES(description), "
    "category = VALUES(category), designer = VALUES(designer), colors = VALUES(colors), "
    "sizes = VALUES(sizes), price = VALUES(price), currency = VALUES(currency), "
    "in_stock = VALUES(in_stock), stock_count = VALUES(stock_count), tags = VALUES(tags), "
    "image_url = VALUES(image_url), url = VALUES(url), popularity = VALUES(popularity), "
    "content_hash = VALUES(content_hash)";

static struct db_param ai_opt(const char *s)
{
    return s ? DB_STR(s) : DB_NULL;
}

/* "(?,?,...)" n times, comma-separated, with k placeholders each. */
static void ai_tuples(buf_t *b, int n, int k)
{
    for (int i = 0; i < n; i++) {
        buf_adds(b, i ? ",(" : "(");
        for (int j = 0; j < k; j++) buf_adds(b, j ? ",?" : "?");
        buf_addc(b, ')');
    }
}

static int ai_children(struct ai_run *r, arena_t *ar, struct adm_prod **v, const long long *ids, int n,
                       char *err, size_t errlen)
{
    static const char *const tables[] = {"product_sizes", "product_colors", "product_tags"};
    struct db_param *p = ar_alloc(ar, (size_t)n * ADM_MAX_TAGS * 3 * sizeof(*p) + sizeof(*p) * (size_t)n);
    if (!p) return DB_EQUERY;
    for (size_t t = 0; t < 3; t++) {
        buf_t sql;
        buf_init(&sql, ar, 1 << 20);
        buf_printf(&sql, "DELETE FROM %s WHERE product_id IN ", tables[t]);
        ai_tuples(&sql, 1, n);
        for (int i = 0; i < n; i++) p[i] = DB_INT(ids[i]);
        int rc = db_exec(r->db, sql.p, p, (size_t)n, NULL, NULL, err, errlen);
        if (rc != DB_OK) return rc;
    }
    for (size_t t = 0; t < 3; t++) {
        size_t np = 0;
        int rowsn = 0;
        int k = t == 1 ? 3 : 2;
        for (int i = 0; i < n; i++) {
            int cnt = t == 0 ? v[i]->nsizes : t == 1 ? v[i]->ncolors : v[i]->ntags;
            for (int j = 0; j < cnt; j++) {
                p[np++] = DB_INT(ids[i]);
                if (t == 0) p[np++] = DB_STR(v[i]->sizes[j]);
                if (t == 1) p[np++] = DB_STR(v[i]->colors[j]), p[np++] = DB_STR(v[i]->families[j]);
                if (t == 2) p[np++] = DB_STR(v[i]->tags[j]);
                rowsn++;
            }
        }
        if (!rowsn) continue;
        buf_t sql;
        buf_init(&sql, ar, 1 << 20);
        buf_printf(&sql, "INSERT INTO %s VALUES ", tables[t]);
        ai_tuples(&sql, rowsn, k);
        int rc = db_exec(r->db, sql.p, p, np, NULL, NULL, err, errlen);
        if (rc != DB_OK) return rc;
    }
    return DB_OK;
}

/* Writes v[0..n) in one transaction. DB_OK or DB_E* (rolled back). */
static int ai_write(struct ai_run *r, struct adm_prod **v, int n, char *err, size_t errlen)
{
    arena_t *ar = r->batch_ar;
    int rc = db_begin(r->db, err, errlen);
    if (rc != DB_OK) return rc;
    enum { K = 16 };
    struct db_param *p = ar_alloc(ar, (size_t)n * K * sizeof(*p));
    long long *ids = ar_calloc(ar, (size_t)n, sizeof(*ids));
    if (!p || !ids) {
        snprintf(err, errlen, "out of memory");
        rc = DB_EQUERY;
        goto out;
    }
    buf_t sql;
    buf_init(&sql, ar, 1 << 22);
    buf_adds(&sql, ai_upsert_head);
    ai_tuples(&sql, n, K);
    buf_adds(&sql, ai_upsert_tail);
    size_t np = 0;
    for (int i = 0; i < n; i++) {
        const struct adm_prod *d = v[i];
        p[np++] = DB_STR(d->sku);
        p[np++] = DB_STR(d->title);
        p[np++] = ai_opt(d->description);
        p[np++] = DB_STR(d->category);
        p[np++] = ai_opt(d->designer);
        p[np++] = DB_STR(d->colors_json);
        p[np++] = DB_STR(d->sizes_json);
        p[np++] = DB_STR(d->price);
        p[np++] = DB_STR(d->currency);
        p[np++] = DB_INT(d->in_stock);
        p[np++] = d->stock_count >= 0 ? DB_INT(d->stock_count) : DB_NULL;
        p[np++] = DB_STR(d->tags_text);
        p[np++] = ai_opt(d->image_url);
        p[np++] = ai_opt(d->url);
        p[np++] = DB_DOUBLE(d->popularity);
        p[np++] = DB_INT((long long)d->hash);
    }
    rc = db_exec(r->db, sql.p, p, np, NULL, NULL, err, errlen);
    if (rc != DB_OK) goto out;

    buf_init(&sql, ar, 1 << 20);
    buf_adds(&sql, "SELECT id, sku FROM products WHERE sku IN ");
    ai_tuples(&sql, 1, n);
    for (int i = 0; i < n; i++) p[i] = DB_STR(v[i]->sku);
    struct db_rows rows;
    rc = db_query(r->db, ar, sql.p, p, (size_t)n, 0, &rows, err, errlen);
    if (rc != DB_OK) goto out;
    for (size_t k = 0; k < rows.nrows; k++)
        for (int i = 0; i < n; i++)
            if (!strcmp(db_cell(&rows, k, 1), v[i]->sku)) ids[i] = strtoll(db_cell(&rows, k, 0), NULL, 10);
    for (int i = 0; i < n; i++)
        if (!ids[i]) {
            snprintf(err, errlen, "sku %s vanished after its upsert", v[i]->sku);
            rc = DB_EQUERY;
            goto out;
        }
    rc = ai_children(r, ar, v, ids, n, err, errlen);
    if (rc != DB_OK) goto out;
    rc = db_commit(r->db, err, errlen);
out:
    if (rc != DB_OK && rc != DB_ECONN) db_rollback(r->db);
    return rc;
}

static void ai_count(struct ai_run *r, const struct adm_prod *d)
{
    if (adm_map_get(&r->stored, d->sku)) r->updated++;
    else r->inserted++;
}

static void ai_flush(struct ai_run *r)
{
    if (r->fatal || !r->npending) goto done;
    char err[512];
    int rc = r->dry ? DB_OK : ai_write(r, r->pending, r->npending, err, sizeof(err));
    if (rc == DB_OK) {
        for (int i = 0; i < r->npending; i++) ai_count(r, r->pending[i]);
    } else if (rc == DB_ECONN) {
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "lost the database connection: %s", err);
    } else {
        /* Find the record(s) the database refuses: one at a time. */
        for (int i = 0; i < r->npending && !r->fatal; i++) {
            rc = ai_write(r, &r->pending[i], 1, err, sizeof(err));
            if (rc == DB_OK) {
                ai_count(r, r->pending[i]);
            } else if (rc == DB_ECONN) {
                r->fatal = 1;
                snprintf(r->fatal_msg, sizeof(r->fatal_msg), "lost the database connection: %s", err);
            } else {
                char why[600];
                snprintf(why, sizeof(why), "the database refused it: %s", err);
                ai_reject(r, r->pending[i]->line, why);
            }
        }
    }
done:
    r->npending = 0;
    ar_reset(r->batch_ar);
}

/* One parsed record (takes o). */
static void ai_record(struct ai_run *r, int line, json_object *o)
{
    char why[300];
    r->records++;
    struct adm_prod *d = ar_calloc(r->batch_ar, 1, sizeof(*d));
    if (!d) {
        json_object_put(o);
        return;
    }
    d->line = line;
    int rc = adm_prod_from_json(r->batch_ar, o, &r->a->cfg, d, why, sizeof(why));
    json_object_put(o);
    if (rc < 0) {
        ai_reject(r, line, why);
        return;
    }
    struct adm_ent *first = adm_map_get(&r->seen, d->sku);
    if (first) {
        snprintf(why, sizeof(why), "duplicate sku \"%s\" (first on line %llu)", d->sku,
                 (unsigned long long)first->hash);
        ai_reject(r, line, why);
        return;
    }
    adm_map_put(&r->seen, r->a->ar, d->sku, (uint64_t)line);
    struct adm_ent *st = adm_map_get(&r->stored, d->sku);
    if (st && st->hash == d->hash) {
        r->unchanged++;
        return;
    }
    r->pending[r->npending++] = d;
    if (r->npending == ADM_BATCH) ai_flush(r);
}

/* ---- JSON Lines ----------------------------------------------------------------- */

static void ai_jsonl(struct ai_run *r, char *buf, size_t len)
{
    json_tokener *tok = json_tokener_new();
    size_t off = 0;
    int line = 0;
    while (off < len && !r->fatal) {
        char *nl = memchr(buf + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - buf) : len;
        char *s = buf + off;
        size_t n = end - off;
        off = end + 1;
        line++;
        r->lines++;
        if (n && s[n - 1] == '\r') n--;
        if (line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) s += 3, n -= 3;   /* BOM */
        size_t k = 0;
        while (k < n && isspace((unsigned char)s[k])) k++;
        if (k == n) continue;   /* blank line */
        size_t bad;
        if (!u8_valid(s, n, &bad)) {
            char why[96];
            snprintf(why, sizeof(why), "not valid UTF-8 (byte %zu of the line)", bad + 1);
            r->records++;
            ai_reject(r, line, why);
            continue;
        }
        json_tokener_reset(tok);
        json_object *o = json_tokener_parse_ex(tok, s, (int)n);
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (!o || je != json_tokener_success) {
            char why[200];
            snprintf(why, sizeof(why), "not valid JSON: %s",
                     je == json_tokener_continue ? "the object is not closed on this line"
                                                 : json_tokener_error_desc(je));
            if (o) json_object_put(o);
            r->records++;
            ai_reject(r, line, why);
            continue;
        }
        size_t used = json_tokener_get_parse_end(tok);
        while (used < n && isspace((unsigned char)s[used])) used++;
        if (used < n) {
            json_object_put(o);
            r->records++;
            ai_reject(r, line, "not valid JSON: text after the object");
            continue;
        }
        ai_record(r, line, o);
    }
    json_tokener_free(tok);
}

/* ---- CSV (RFC 4180) --------------------------------------------------------- */

struct ai_csv {
    char *p, *end;
    int line;
};

/* Reads one record into cells (pointers into the buffer, unescaped in
 * place). Returns the cell count, 0 at the end, -1 on a bad quote. */
static int ai_csv_record(struct ai_csv *c, char **cells, int max, int *start_line, char *why, size_t whylen)
{
    int n = 0;
    if (c->p >= c->end) return 0;
    *start_line = c->line;
    for (;;) {
        char *w = c->p, *cell = c->p;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            cell = w = c->p;
            for (;;) {
                if (c->p >= c->end) {
                    snprintf(why, whylen, "a quoted cell is not closed");
                    return -1;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        *w++ = '"';
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n') c->line++;
                *w++ = *c->p++;
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                snprintf(why, whylen, "text after a closing quote");
                while (c->p < c->end && *c->p != '\n') c->p++;
                if (c->p < c->end) c->p++, c->line++;
                return -1;
            }
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') *w++ = *c->p++;
        }
        char term = c->p < c->end ? *c->p : '\n';
        if (c->p < c->end) c->p++;
        *w = '\0';
        if (n < max) cells[n] = cell;
        n++;
        if (term == ',') continue;
        if (term == '\r' && c->p < c->end && *c->p == '\n') c->p++;
        c->line++;
        return n;
    }
}

static void ai_csv_all(struct ai_run *r, char *buf, size_t len)
{
    enum { MAXC = 64 };
    struct ai_csv c = {buf, buf + len, 1};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) c.p += 3;
    char *cells[MAXC];
    const char *fields[MAXC];
    char why[300];
    int line, hn;
    /* header */
    do {
        hn = ai_csv_record(&c, cells, MAXC, &line, why, sizeof(why));
        if (hn < 0) {
            r->fatal = 1;
            snprintf(r->fatal_msg, sizeof(r->fatal_msg), "the CSV header (line %d): %s", line, why);
            return;
        }
        if (hn == 0) return;
        r->lines = c.line - 1;
    } while (hn == 1 && !cells[0][0]);
    if (hn > MAXC) hn = MAXC;
    int have_sku = 0;
    for (int i = 0; i < hn; i++) {
        char *h = cells[i];
        while (isspace((unsigned char)*h)) h++;
        size_t hl = strlen(h);
        while (hl && isspace((unsigned char)h[hl - 1])) h[--hl] = '\0';
        fields[i] = adm_csv_field(h);
        if (fields[i] && !strcmp(fields[i], "sku")) have_sku = 1;
    }
    if (!have_sku) {
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg),
                 "the CSV header (line 1) has no 'sku' column; it must name the columns "
                 "(sku,title,category,price,...)");
        return;
    }
    while (!r->fatal) {
        int n = ai_csv_record(&c, cells, MAXC, &line, why, sizeof(why));
        r->lines = c.line - 1;
        if (n == 0) break;
        if (n < 0) {
            r->records++;
            ai_reject(r, line, why);
            continue;
        }
        if (n == 1 && !cells[0][0]) continue;   /* empty line */
        if (n != hn) {
            snprintf(why, sizeof(why), "has %d cells, the header has %d", n, hn);
            r->records++;
            ai_reject(r, line, why);
            continue;
        }
        size_t bad;
        int utf_ok = 1;
        for (int i = 0; i < n && utf_ok; i++)
            if (!u8_valid(cells[i], strlen(cells[i]), &bad)) utf_ok = 0;
        if (!utf_ok) {
            r->records++;
            ai_reject(r, line, "not valid UTF-8");
            continue;
        }
        json_object *o = adm_csv_object(fields, (const char *const *)cells, (size_t)n, why, sizeof(why));
        if (!o) {
            r->records++;
            ai_reject(r, line, why);
            continue;
        }
        ai_record(r, line, o);
    }
}

/* ---- command ----------------------------------------------------------------- */

static char *ai_read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

static int ai_has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* --prune: the file is the whole catalog. Products whose sku it does not
 * name are deleted (their sizes, colours and tags go with them: ON DELETE
 * CASCADE), in one transaction, but only after a complete import with no
 * rejected line: a line refused for a typo must not delete its product. */
static void ai_prune(struct ai_run *r)
{
    if (r->fatal) return;
    if (r->nrejects) {
        r->not_pruned = "lines were rejected: fix them and run again to prune";
        return;
    }
    /* the stored skus the file did not name */
    const char **gone = ar_alloc(r->a->ar, (r->stored.n + 1) * sizeof(*gone));
    if (!gone) {
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "pruning: out of memory");
        return;
    }
    size_t ngone = 0;
    for (size_t i = 0; i < r->stored.cap; i++) {
        const struct adm_ent *e = &r->stored.e[i];
        if (e->key && !adm_map_get(&r->seen, e->key)) gone[ngone++] = e->key;
    }
    r->deleted = (long)ngone;
    if (r->dry || !ngone) return;   /* a dry run only counts them */
    enum { K = 500 };
    struct db_param p[K];
    char err[512];
    int rc = db_begin(r->db, err, sizeof(err));
    for (size_t off = 0; rc == DB_OK && off < ngone; off += K) {
        size_t np = ngone - off < K ? ngone - off : K;
        ar_reset(r->batch_ar);
        buf_t sql;
        buf_init(&sql, r->batch_ar, 1 << 16);
        buf_adds(&sql, "DELETE FROM products WHERE sku IN (");
        for (size_t k = 0; k < np; k++) {
            buf_adds(&sql, k ? ",?" : "?");
            p[k] = DB_STR(gone[off + k]);
        }
        buf_addc(&sql, ')');
        rc = db_exec(r->db, sql.p, p, np, NULL, NULL, err, sizeof(err));
    }
    if (rc == DB_OK) rc = db_commit(r->db, err, sizeof(err));
    if (rc != DB_OK) {
        if (rc != DB_ECONN) db_rollback(r->db);
        r->deleted = 0;
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "pruning failed, nothing deleted: %s", err);
    }
}

static void ai_print(const struct ai_run *r, const char *path, const char *fmt, double secs, int as_json)
{
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "file", json_object_new_string(path));
        json_object_object_add(o, "format", json_object_new_string(fmt));
        json_object_object_add(o, "dryRun", json_object_new_boolean(r->dry));
        json_object_object_add(o, "lines", json_object_new_int64(r->lines));
        json_object_object_add(o, "records", json_object_new_int64(r->records));
        json_object_object_add(o, "inserted", json_object_new_int64(r->inserted));
        json_object_object_add(o, "updated", json_object_new_int64(r->updated));
        json_object_object_add(o, "unchanged", json_object_new_int64(r->unchanged));
        json_object_object_add(o, "rejected", json_object_new_int64((int64_t)r->nrejects));
        if (r->prune) json_object_object_add(o, "deleted", json_object_new_int64(r->deleted));
        if (r->not_pruned) json_object_object_add(o, "notPruned", json_object_new_string(r->not_pruned));
        json_object *rj = json_object_new_array();
        for (size_t i = 0; i < r->nrejects; i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "line", json_object_new_int(r->rejects[i].line));
            json_object_object_add(e, "reason", json_object_new_string(r->rejects[i].why));
            json_object_array_add(rj, e);
        }
        json_object_object_add(o, "rejects", rj);
        json_object_object_add(o, "seconds", json_object_new_double(secs));
        if (r->fatal) json_object_object_add(o, "error", json_object_new_string(r->fatal_msg));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return;
    }
    printf("import-products: %s (%s), %ld lines, %ld records%s\n", path, fmt, r->lines, r->records,
           r->dry ? " (dry run: nothing written)" : "");
    printf("  inserted:  %8ld\n  updated:   %8ld\n  unchanged: %8ld\n  rejected:  %8zu\n", r->inserted,
           r->updated, r->unchanged, r->nrejects);
    if (r->prune) printf("  deleted:   %8ld\n", r->deleted);
    if (r->not_pruned) printf("  not pruned: %s\n", r->not_pruned);
    for (size_t i = 0; i < r->nrejects && i < AI_MAX_REJECTS_SHOWN; i++)
        printf("    line %d: %s\n", r->rejects[i].line, r->rejects[i].why);
    if (r->nrejects > AI_MAX_REJECTS_SHOWN)
        printf("    ... and %zu more (use --json for all)\n", r->nrejects - AI_MAX_REJECTS_SHOWN);
    printf("  time: %.2f s\n", secs);
}

void adm_derive(struct adm *a, struct db *db, int changed, const char *who)
{
    char err[512];
    int rebuilt = 0;
    if (ct_sync(db, a->ar, changed, &rebuilt, err, sizeof(err)) != DB_OK)
        fprintf(stderr, "%s: word counts not rebuilt (search works without them, slower): %s\n", who, err);
    else if (rebuilt && !changed)
        printf("%s: rebuilt the word counts (built by another version)\n", who);
    if (cb_sync(db, a->ar, changed, &rebuilt, err, sizeof(err)) != DB_OK)
        fprintf(stderr, "%s: attribute bitmaps not rebuilt (search works without them, slower): %s\n", who, err);
    else if (rebuilt && !changed)
        printf("%s: rebuilt the attribute bitmaps (built by another version)\n", who);
}

int adm_import(struct adm *a, int argc, char **argv)
{
    const char *path = NULL, *fmt = NULL;
    int dry = 0, as_json = 0, prune = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) fmt = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9)) fmt = argv[i] + 9;
        else if (!strcmp(argv[i], "--dry-run")) dry = 1;
        else if (!strcmp(argv[i], "--json")) as_json = 1;
        else if (!strcmp(argv[i], "--prune")) prune = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "import-products: unknown option %s\n", argv[i]);
            return ADM_USAGE;
        } else if (!path) path = argv[i];
        else {
            fprintf(stderr, "import-products: one FILE only\n");
            return ADM_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "Usage: troika-admin import-products FILE [--format jsonl|csv] [--dry-run] [--json] [--prune]\n"
                        "FILE '-' reads standard input. --prune: the file is the whole catalog; products\n"
                        "it does not name are deleted (only when no line was rejected).\n");
        return ADM_USAGE;
    }
    if (fmt && strcmp(fmt, "jsonl") && strcmp(fmt, "csv")) {
        fprintf(stderr, "import-products: --format must be jsonl or csv\n");
        return ADM_USAGE;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "import-products: cannot open %s: %s\n", path, strerror(errno));
        return ADM_FAIL;
    }
    size_t len = 0;
    char *buf = ai_read_all(f, &len);
    if (f != stdin) fclose(f);
    if (!buf) {
        fprintf(stderr, "import-products: cannot read %s\n", path);
        return ADM_FAIL;
    }
    if (!fmt) {
        if (ai_has_suffix(path, ".csv")) fmt = "csv";
        else if (ai_has_suffix(path, ".jsonl") || ai_has_suffix(path, ".ndjson") || ai_has_suffix(path, ".json"))
            fmt = "jsonl";
        else {
            size_t k = 0;
            if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) k = 3;
            while (k < len && isspace((unsigned char)buf[k])) k++;
            fmt = k < len && buf[k] == '{' ? "jsonl" : "csv";
        }
    }

    int rc = ADM_FAIL;
    struct ai_run *r = ar_calloc(a->ar, 1, sizeof(*r));
    if (!r) goto out;
    r->a = a;
    r->dry = dry;
    r->prune = prune;
    r->batch_ar = ar_new(1 << 20);
    double t0 = adm_now();
    if (!r->batch_ar || adm_map_init(&r->seen, a->ar, 1024) < 0) goto out;
    r->db = adm_db(a);
    if (!r->db) goto out;
    if (ai_load_stored(r) < 0) {
        fprintf(stderr, "import-products: %s\n", r->fatal_msg);
        goto out;
    }
    if (!strcmp(fmt, "csv")) ai_csv_all(r, buf, len);
    else ai_jsonl(r, buf, len);
    ai_flush(r);
    if (prune) ai_prune(r);
    if (!r->fatal && !r->dry && r->inserted + r->updated + r->deleted > 0) {
        /* Fresh statistics after a bulk change, so that the optimizer's
         * plans for the search filters do not depend on when InnoDB's
         * background sampling last ran. */
        struct db_rows rows;
        char err[512];
        if (db_query(r->db, a->ar, "ANALYZE TABLE products, product_sizes, product_colors, product_tags", NULL, 0, 0,
                     &rows, err, sizeof(err)) != DB_OK)
            fprintf(stderr, "import-products: ANALYZE TABLE failed (the import itself is complete): %s\n", err);
    }
    if (!r->fatal && !r->dry) adm_derive(a, r->db, r->inserted + r->updated + r->deleted > 0, "import-products");
    ai_print(r, path, !strcmp(fmt, "csv") ? "CSV" : "JSON Lines", adm_now() - t0, as_json);
    if (r->fatal) {
        fprintf(stderr, "import-products: stopped: %s\n", r->fatal_msg);
        rc = ADM_FAIL;
    } else {
        rc = r->nrejects ? ADM_PARTIAL : ADM_OK;
    }
out:
    if (r && r->batch_ar) ar_free(r->batch_ar);
    free(buf);
    return rc;
}
