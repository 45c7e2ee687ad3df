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

#include "common/base/clock.h"
#include "common/base/u8.h"
#include "common/store/products.h"
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
    struct store *st;
    arena_t *batch_ar;
    int dry, prune;
    struct adm_map stored;     /* sku -> content hash in the database */
    struct adm_map seen;       /* sku -> first line in this file */
    struct pr_product *pending[ADM_BATCH];
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
    struct pr_hash *h;
    size_t n;
    char err[512];
    if (pr_hashes(r->st, r->a->ar, &h, &n, err, sizeof(err)) != ST_OK) {
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "cannot read the products table: %s", err);
        return -1;
    }
    if (adm_map_init(&r->stored, r->a->ar, n) < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (adm_map_put(&r->stored, r->a->ar, h[i].sku, h[i].hash) < 0) return -1;
    return 0;
}

/* ---- writing ----------------------------------------------------------------- */

/* Writes v[0..n) in one transaction. ST_OK or ST_E* (rolled back). */
static int ai_write(struct ai_run *r, struct pr_product **v, int n, char *err, size_t errlen)
{
    return pr_upsert(r->st, r->batch_ar, v, n, err, errlen);
}

static void ai_count(struct ai_run *r, const struct pr_product *d)
{
    if (adm_map_get(&r->stored, d->sku)) r->updated++;
    else r->inserted++;
}

static void ai_flush(struct ai_run *r)
{
    if (r->fatal || !r->npending) goto done;
    char err[512];
    int rc = r->dry ? ST_OK : ai_write(r, r->pending, r->npending, err, sizeof(err));
    if (rc == ST_OK) {
        for (int i = 0; i < r->npending; i++) ai_count(r, r->pending[i]);
    } else if (rc == ST_ECONN) {
        r->fatal = 1;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "lost the database connection: %s", err);
    } else {
        /* Find the record(s) the database refuses: one at a time. */
        for (int i = 0; i < r->npending && !r->fatal; i++) {
            rc = ai_write(r, &r->pending[i], 1, err, sizeof(err));
            if (rc == ST_OK) {
                ai_count(r, r->pending[i]);
            } else if (rc == ST_ECONN) {
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
    struct pr_product *d = ar_calloc(r->batch_ar, 1, sizeof(*d));
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
    char err[512];
    ar_reset(r->batch_ar);
    if (pr_delete_skus(r->st, r->batch_ar, gone, ngone, err, sizeof(err)) != ST_OK) {
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

void adm_derive(struct adm *a, struct store *st, int changed, const char *who)
{
    char err[512];
    int rebuilt = 0, any = changed;
    if (pr_sync_terms(st, a->ar, changed, &rebuilt, err, sizeof(err)) != ST_OK)
        fprintf(stderr, "%s: word counts not rebuilt (search works without them, slower): %s\n", who, err);
    else if (rebuilt && !changed)
        printf("%s: rebuilt the word counts (built by another version)\n", who);
    any |= rebuilt;
    if (pr_sync_bits(st, a->ar, changed, &rebuilt, err, sizeof(err)) != ST_OK)
        fprintf(stderr, "%s: attribute bitmaps not rebuilt (search works without them, slower): %s\n", who, err);
    else if (rebuilt && !changed)
        printf("%s: rebuilt the attribute bitmaps (built by another version)\n", who);
    any |= rebuilt;
    /* Last, once everything is committed: the workers drop what they
     * derived from the old catalog at their next request. */
    if (any && pr_bump_version(st, a->ar, err, sizeof(err)) != ST_OK)
        fprintf(stderr, "%s: the catalog version was not bumped (workers keep their designer list for up to "
                        "troika_designer_refresh_ms): %s\n", who, err);
}

/* ---- the command, in steps ---------------------------------------------------- */

struct ai_args {
    const char *path, *fmt;
    int dry, as_json, prune;
};

static int ai_parse_args(int argc, char **argv, struct ai_args *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) o->fmt = argv[++i];
        else if (!strncmp(argv[i], "--format=", 9)) o->fmt = argv[i] + 9;
        else if (!strcmp(argv[i], "--dry-run")) o->dry = 1;
        else if (!strcmp(argv[i], "--json")) o->as_json = 1;
        else if (!strcmp(argv[i], "--prune")) o->prune = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "import-products: unknown option %s\n", argv[i]);
            return -1;
        } else if (!o->path) o->path = argv[i];
        else {
            fprintf(stderr, "import-products: one FILE only\n");
            return -1;
        }
    }
    if (!o->path) {
        fprintf(stderr, "Usage: troika-admin import-products FILE [--format jsonl|csv] [--dry-run] [--json] [--prune]\n"
                        "FILE '-' reads standard input. --prune: the file is the whole catalog; products\n"
                        "it does not name are deleted (only when no line was rejected).\n");
        return -1;
    }
    if (o->fmt && strcmp(o->fmt, "jsonl") && strcmp(o->fmt, "csv")) {
        fprintf(stderr, "import-products: --format must be jsonl or csv\n");
        return -1;
    }
    return 0;
}

/* The whole file (malloc'd) and its format: --format, else the name's
 * extension, else a '{' first means JSON Lines. NULL after printing why. */
static char *ai_load(struct ai_args *o, size_t *len)
{
    FILE *f = strcmp(o->path, "-") ? fopen(o->path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "import-products: cannot open %s: %s\n", o->path, strerror(errno));
        return NULL;
    }
    char *buf = ai_read_all(f, len);
    if (f != stdin) fclose(f);
    if (!buf) {
        fprintf(stderr, "import-products: cannot read %s\n", o->path);
        return NULL;
    }
    if (o->fmt) return buf;
    if (ai_has_suffix(o->path, ".csv")) o->fmt = "csv";
    else if (ai_has_suffix(o->path, ".jsonl") || ai_has_suffix(o->path, ".ndjson") || ai_has_suffix(o->path, ".json"))
        o->fmt = "jsonl";
    else {
        size_t k = 0;
        if (*len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) k = 3;
        while (k < *len && isspace((unsigned char)buf[k])) k++;
        o->fmt = k < *len && buf[k] == '{' ? "jsonl" : "csv";
    }
    return buf;
}

/* After the records: --prune, fresh statistics, the derived tables. */
static void ai_finish(struct ai_run *r, const struct ai_args *o)
{
    if (o->prune) ai_prune(r);
    if (r->fatal || r->dry) return;
    int changed = r->inserted + r->updated + r->deleted > 0;
    char err[512];
    if (changed && pr_analyze(r->st, r->a->ar, err, sizeof(err)) != ST_OK)
        fprintf(stderr, "import-products: ANALYZE TABLE failed (the import itself is complete): %s\n", err);
    adm_derive(r->a, r->st, changed, "import-products");
}

int adm_import(struct adm *a, int argc, char **argv)
{
    struct ai_args o;
    if (ai_parse_args(argc, argv, &o) < 0) return ADM_USAGE;
    size_t len = 0;
    char *buf = ai_load(&o, &len);
    if (!buf) return ADM_FAIL;
    int rc = ADM_FAIL;
    double t0 = ((double)clk_mono_us() / 1e6);
    struct ai_run *r = ar_calloc(a->ar, 1, sizeof(*r));
    if (!r) goto out;
    *r = (struct ai_run){.a = a, .dry = o.dry, .prune = o.prune, .batch_ar = ar_new(1 << 20)};
    if (!r->batch_ar || adm_map_init(&r->seen, a->ar, 1024) < 0 || !(r->st = adm_store(a))) goto out;
    if (ai_load_stored(r) < 0) {
        fprintf(stderr, "import-products: %s\n", r->fatal_msg);
        goto out;
    }
    if (!strcmp(o.fmt, "csv")) ai_csv_all(r, buf, len);
    else ai_jsonl(r, buf, len);
    ai_flush(r);
    ai_finish(r, &o);
    ai_print(r, o.path, !strcmp(o.fmt, "csv") ? "CSV" : "JSON Lines", ((double)clk_mono_us() / 1e6) - t0, o.as_json);
    if (r->fatal) fprintf(stderr, "import-products: stopped: %s\n", r->fatal_msg);
    rc = r->fatal ? ADM_FAIL : r->nrejects ? ADM_PARTIAL : ADM_OK;
out:
    if (r && r->batch_ar) ar_free(r->batch_ar);
    free(buf);
    return rc;
}
