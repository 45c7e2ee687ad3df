/* admin_product.c: checks and normalisation of one catalog record; see
 * admin_product.h. Categories, sizes and colours are brought to the same
 * canonical forms the search filters use (common/search/qparse.h), so that a
 * filter is an exact, indexed match. */
#include "tools/admin_product.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/base/config.h"
#include "common/base/hash.h"
#include "common/search/qparse.h"
#include "common/base/u8.h"
#include "tools/admin.h"

/* Trimmed copy in the arena. */
static char *ap_trim(arena_t *ar, const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return ar_strndup(ar, s, n);
}

static void ap_lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* Control characters other than tab; multi-line text may hold newlines. */
static int ap_has_ctl(const char *s, int multiline)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 && c != '\t' && !(multiline && (c == '\n' || c == '\r'))) return 1;
    }
    return 0;
}

/* A string field: absent (NULL, 0), or a checked trimmed copy. -1 on error. */
static int ap_str(arena_t *ar, json_object *o, const char *key, size_t maxchars, int required, const char **out,
                  char *why, size_t whylen)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) == json_type_null) {
        if (required) {
            snprintf(why, whylen, "missing required field \"%s\"", key);
            return -1;
        }
        return 0;
    }
    if (json_object_get_type(v) != json_type_string) {
        snprintf(why, whylen, "%s must be a string", key);
        return -1;
    }
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (strlen(s) != len) {
        snprintf(why, whylen, "%s contains a NUL character", key);
        return -1;
    }
    if (!u8_valid(s, len, NULL)) {
        snprintf(why, whylen, "%s is not valid UTF-8", key);
        return -1;
    }
    char *t = ap_trim(ar, s);
    if (!*t) {
        if (required) {
            snprintf(why, whylen, "%s must not be empty", key);
            return -1;
        }
        return 0;
    }
    if (ap_has_ctl(t, !strcmp(key, "description"))) {
        snprintf(why, whylen, "%s contains control characters (a line break?)", key);
        return -1;
    }
    if (u8_chars(t, strlen(t)) > maxchars) {
        snprintf(why, whylen, "%s is longer than %zu characters", key, maxchars);
        return -1;
    }
    *out = t;
    return 0;
}

static int ap_number(json_object *o, const char *key, int *present, double *out, char *why, size_t whylen)
{
    json_object *v;
    *present = 0;
    if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) == json_type_null) return 0;
    enum json_type t = json_object_get_type(v);
    if (t != json_type_int && t != json_type_double) {
        snprintf(why, whylen, "%s must be a number", key);
        return -1;
    }
    double d = json_object_get_double(v);
    if (!isfinite(d)) {
        snprintf(why, whylen, "%s must be a finite number", key);
        return -1;
    }
    *present = 1;
    *out = d;
    return 0;
}

/* An array of strings (a single string counts as a one-element array). */
static int ap_list(arena_t *ar, json_object *o, const char *key, size_t maxn, size_t maxchars, int allow_num,
                   const char **out, int *n, char *why, size_t whylen)
{
    json_object *v;
    *n = 0;
    if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) == json_type_null) return 0;
    size_t len;
    json_object *one = NULL;
    if (json_object_get_type(v) == json_type_array) {
        len = json_object_array_length(v);
    } else if (json_object_get_type(v) == json_type_string) {
        one = v;
        len = 1;
    } else {
        snprintf(why, whylen, "%s must be an array of strings", key);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        json_object *e = one ? one : json_object_array_get_idx(v, i);
        enum json_type t = json_object_get_type(e);
        const char *s;
        char num[32];
        if (t == json_type_string) {
            s = json_object_get_string(e);
            if (!u8_valid(s, strlen(s), NULL)) {
                snprintf(why, whylen, "%s[%zu] is not valid UTF-8", key, i);
                return -1;
            }
        } else if (allow_num && t == json_type_int) {
            snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(e));
            s = num;
        } else {
            snprintf(why, whylen, "%s[%zu] must be a string", key, i);
            return -1;
        }
        char *t2 = ap_trim(ar, s);
        if (!*t2) continue;
        if (ap_has_ctl(t2, 0) || u8_chars(t2, strlen(t2)) > maxchars) {
            snprintf(why, whylen, "%s[%zu] is longer than %zu characters or has control characters", key, i,
                     maxchars);
            return -1;
        }
        if ((size_t)*n >= maxn) {
            snprintf(why, whylen, "%s has more than %zu entries", key, maxn);
            return -1;
        }
        out[(*n)++] = t2;
    }
    return 0;
}

static void ap_dedupe(const char **v, const char **w, int *n)
{
    int o = 0;
    for (int i = 0; i < *n; i++) {
        int dup = 0;
        for (int j = 0; j < o; j++)
            if (!strcmp(v[j], v[i])) dup = 1;
        if (dup) continue;
        if (w) w[o] = w[i];
        v[o++] = v[i];
    }
    *n = o;
}

static const char *ap_json_array(arena_t *ar, const char *const *v, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++) json_object_array_add(a, json_object_new_string(v[i]));
    const char *s = ar_strdup(ar, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
                                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(a);
    return s;
}

static int ap_url(arena_t *ar, json_object *o, const char *key, const char **out, char *why, size_t whylen)
{
    if (ap_str(ar, o, key, 1024, 0, out, why, whylen) < 0) return -1;
    if (*out && strncasecmp(*out, "https://", 8) && strncasecmp(*out, "http://", 7) && (*out)[0] != '/') {
        snprintf(why, whylen, "%s must be an http(s) URL or a path starting with /", key);
        return -1;
    }
    if (*out && strpbrk(*out, " \t")) {
        snprintf(why, whylen, "%s must not contain spaces", key);
        return -1;
    }
    return 0;
}

static uint64_t ap_hash_str(uint64_t h, const char *s)
{
    static const char sep = '\x1f';
    if (s) h = hash_fnv1a(h, s, strlen(s));
    else h = hash_fnv1a(h, "\x1e", 1);   /* absent differs from empty */
    return hash_fnv1a(h, &sep, 1);
}

/* The record's steps: each checks and normalises its fields into p; 0,
 * or -1 with why filled. */

/* sku (no spaces), title, description, category (canonical or lower
 * case), designer. */
static int ap_texts(arena_t *ar, json_object *o, struct pr_product *p, char *why, size_t whylen)
{
    const char *cat;
    if (ap_str(ar, o, "sku", 64, 1, &p->sku, why, whylen) < 0) return -1;
    for (const char *s = p->sku; *s; s++)
        if (isspace((unsigned char)*s)) {
            snprintf(why, whylen, "sku must not contain spaces");
            return -1;
        }
    if (ap_str(ar, o, "title", 255, 1, &p->title, why, whylen) < 0) return -1;
    if (ap_str(ar, o, "description", 20000, 0, &p->description, why, whylen) < 0) return -1;
    if (ap_str(ar, o, "category", 64, 1, &cat, why, whylen) < 0) return -1;
    const char *canon = qp_category_canon(cat);
    if (canon) {
        p->category = qp_category_stored(canon);
    } else {
        char *lc = ar_strdup(ar, cat);
        ap_lower(lc);
        p->category = lc;
    }
    return ap_str(ar, o, "designer", 128, 0, &p->designer, why, whylen);
}

/* colours (canonical names where known, lower case otherwise, each with
 * its family), sizes (canonical), tags (lower case); duplicates dropped. */
static int ap_lists(arena_t *ar, json_object *o, struct pr_product *p, char *why, size_t whylen)
{
    const char *raw[PR_MAX_COLORS];
    int n;
    if (ap_list(ar, o, "colors", PR_MAX_COLORS, 64, 0, raw, &n, why, whylen) < 0) return -1;
    for (int i = 0; i < n; i++) {
        const char *name, *fam;
        if (qp_color_lookup(raw[i], &name, &fam) == 0) {
            p->colors[i] = name;
            p->families[i] = fam;
        } else {
            char *lc = ar_strdup(ar, raw[i]);
            ap_lower(lc);
            p->colors[i] = lc;
            /* "mustard yellow", "teal blue": the family its words name */
            const char *guess = qp_color_guess(raw[i]);
            p->families[i] = guess ? guess : "other";
        }
    }
    p->ncolors = n;
    ap_dedupe(p->colors, p->families, &p->ncolors);

    const char *rs[PR_MAX_SIZES];
    if (ap_list(ar, o, "sizes", PR_MAX_SIZES, 32, 1, rs, &n, why, whylen) < 0) return -1;
    for (int i = 0; i < n; i++) {
        const char *sc = qp_size_canon(rs[i]);
        p->sizes[i] = sc ? sc : rs[i];
    }
    p->nsizes = n;
    ap_dedupe(p->sizes, NULL, &p->nsizes);

    const char *rt[PR_MAX_TAGS];
    if (ap_list(ar, o, "tags", PR_MAX_TAGS, 64, 0, rt, &n, why, whylen) < 0) return -1;
    for (int i = 0; i < n; i++) {
        char *lc = ar_strdup(ar, rt[i]);
        ap_lower(lc);
        p->tags[i] = lc;
    }
    p->ntags = n;
    ap_dedupe(p->tags, NULL, &p->ntags);
    return 0;
}

/* price (required, two places) and currency (3 letters, else the
 * config's). */
static int ap_price(arena_t *ar, json_object *o, const struct cfg *c, struct pr_product *p, char *why,
                    size_t whylen)
{
    int have;
    double d;
    if (ap_number(o, "price", &have, &d, why, whylen) < 0) return -1;
    if (!have) {
        snprintf(why, whylen, "missing required field \"price\"");
        return -1;
    }
    if (d < 0 || d >= 1e10) {
        snprintf(why, whylen, "price must be from 0 to 9999999999.99");
        return -1;
    }
    snprintf(p->price, sizeof(p->price), "%.2f", round(d * 100.0) / 100.0);

    const char *cur;
    if (ap_str(ar, o, "currency", 3, 0, &cur, why, whylen) < 0) return -1;
    if (!cur) {
        p->currency = c->currency;
        return 0;
    }
    char *u = ar_strdup(ar, cur);
    for (char *s = u; *s; s++) *s = (char)toupper((unsigned char)*s);
    if (strlen(u) != 3 || !isalpha((unsigned char)u[0]) || !isalpha((unsigned char)u[1]) ||
        !isalpha((unsigned char)u[2])) {
        snprintf(why, whylen, "currency must be a 3-letter code such as INR");
        return -1;
    }
    p->currency = u;
    return 0;
}

/* stockCount (whole, >= 0) and inStock (default: true unless stockCount
 * says 0). */
static int ap_stock(json_object *o, struct pr_product *p, char *why, size_t whylen)
{
    int have;
    double d;
    p->stock_count = -1;
    if (ap_number(o, "stockCount", &have, &d, why, whylen) < 0) return -1;
    if (have) {
        if (d < 0 || d != floor(d) || d > 2147483647.0) {
            snprintf(why, whylen, "stockCount must be a whole number >= 0");
            return -1;
        }
        p->stock_count = (long long)d;
    }
    json_object *v;
    if (json_object_object_get_ex(o, "inStock", &v) && json_object_get_type(v) != json_type_null) {
        if (json_object_get_type(v) != json_type_boolean) {
            snprintf(why, whylen, "inStock must be true or false");
            return -1;
        }
        p->in_stock = json_object_get_boolean(v);
    } else {
        p->in_stock = p->stock_count != 0;
    }
    return 0;
}

/* imageUrl, url, popularity (>= 0, six places). */
static int ap_links(arena_t *ar, json_object *o, struct pr_product *p, char *why, size_t whylen)
{
    int have;
    double d;
    if (ap_url(ar, o, "imageUrl", &p->image_url, why, whylen) < 0) return -1;
    if (ap_url(ar, o, "url", &p->url, why, whylen) < 0) return -1;
    if (ap_number(o, "popularity", &have, &d, why, whylen) < 0) return -1;
    if (have && (d < 0 || d > 1e15)) {
        snprintf(why, whylen, "popularity must be a number >= 0");
        return -1;
    }
    p->popularity = have ? round(d * 1e6) / 1e6 : 0;
    return 0;
}

/* The stored texts of the lists (colors and sizes as JSON arrays, tags
 * comma-separated), within their columns. */
static int ap_columns(arena_t *ar, struct pr_product *p, char *why, size_t whylen)
{
    p->colors_json = ap_json_array(ar, p->colors, p->ncolors);
    p->sizes_json = ap_json_array(ar, p->sizes, p->nsizes);
    buf_t tb;
    buf_init(&tb, ar, 1024);
    for (int i = 0; i < p->ntags; i++) {
        if (i) buf_adds(&tb, ", ");
        buf_adds(&tb, p->tags[i]);
    }
    if (tb.toobig) {
        snprintf(why, whylen, "tags are longer than 1024 bytes in all");
        return -1;
    }
    p->tags_text = tb.p ? tb.p : "";
    if (strlen(p->colors_json) > 1024 || strlen(p->sizes_json) > 512) {
        snprintf(why, whylen, "colors or sizes are too long in all");
        return -1;
    }
    return 0;
}

/* The content hash of the normalised record (what the import compares). */
static uint64_t ap_hash(const struct pr_product *p)
{
    uint64_t h = HASH_FNV_BASIS;
    const char *fields[] = {p->sku, p->title, p->description, p->category, p->designer, p->colors_json,
                            p->sizes_json, p->price, p->currency, p->tags_text, p->image_url, p->url};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) h = ap_hash_str(h, fields[i]);
    char nums[96];
    snprintf(nums, sizeof(nums), "%d|%lld|%.6f", p->in_stock, p->stock_count, p->popularity);
    h = ap_hash_str(h, nums);
    for (int i = 0; i < p->ncolors; i++) h = ap_hash_str(h, p->families[i]);
    return h & 0x7fffffffffffffffULL;   /* fits a signed BIGINT bind */
}

int adm_prod_from_json(arena_t *ar, json_object *o, const struct cfg *c, struct pr_product *p, char *why,
                       size_t whylen)
{
    int line = p->line;
    memset(p, 0, sizeof(*p));
    p->line = line;
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(why, whylen, "a product must be a JSON object");
        return -1;
    }
    if (ap_texts(ar, o, p, why, whylen) < 0 || ap_lists(ar, o, p, why, whylen) < 0 ||
        ap_price(ar, o, c, p, why, whylen) < 0 || ap_stock(o, p, why, whylen) < 0 ||
        ap_links(ar, o, p, why, whylen) < 0 || ap_columns(ar, p, why, whylen) < 0)
        return -1;
    p->hash = ap_hash(p);
    return 0;
}

/* ---- CSV rows --------------------------------------------------------------- */

struct ap_col {
    const char *column;
    const char *field;
};

static const struct ap_col ap_cols[] = {
    {"sku", "sku"}, {"title", "title"}, {"description", "description"}, {"category", "category"},
    {"designer", "designer"}, {"colors", "colors"}, {"colours", "colors"}, {"sizes", "sizes"},
    {"price", "price"}, {"currency", "currency"}, {"inStock", "inStock"}, {"in_stock", "inStock"},
    {"stockCount", "stockCount"}, {"stock_count", "stockCount"}, {"tags", "tags"},
    {"imageUrl", "imageUrl"}, {"image_url", "imageUrl"}, {"url", "url"}, {"popularity", "popularity"},
};

const char *adm_csv_field(const char *column)
{
    for (size_t i = 0; i < sizeof(ap_cols) / sizeof(ap_cols[0]); i++)
        if (!strcasecmp(ap_cols[i].column, column)) return ap_cols[i].field;
    return NULL;
}

static json_object *ap_csv_array(const char *cell, char *why, size_t whylen, const char *field)
{
    while (isspace((unsigned char)*cell)) cell++;
    if (*cell == '[') {
        json_object *a = json_tokener_parse(cell);
        if (!a || !json_object_is_type(a, json_type_array)) {
            if (a) json_object_put(a);
            snprintf(why, whylen, "%s: not a JSON array", field);
            return NULL;
        }
        return a;
    }
    json_object *a = json_object_new_array();
    const char *p = cell;
    while (*p) {
        size_t n = strcspn(p, "|,;");
        json_object_array_add(a, json_object_new_string_len(p, (int)n));
        p += n;
        if (*p) p++;
    }
    return a;
}

json_object *adm_csv_object(const char *const *fields, const char *const *cells, size_t n, char *why,
                            size_t whylen)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        const char *f = fields[i], *v = cells[i];
        if (!f || !v || !*v) continue;
        json_object *val = NULL;
        if (!strcmp(f, "price") || !strcmp(f, "popularity") || !strcmp(f, "stockCount")) {
            char *end;
            errno = 0;
            double d = strtod(v, &end);
            while (isspace((unsigned char)*end)) end++;
            if (errno || end == v || *end) {
                snprintf(why, whylen, "%s: '%.40s' is not a number", f, v);
                goto fail;
            }
            val = !strcmp(f, "stockCount") && d == floor(d) && fabs(d) < 9e15
                      ? json_object_new_int64((int64_t)d)
                      : json_object_new_double(d);
        } else if (!strcmp(f, "inStock")) {
            if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
                val = json_object_new_boolean(1);
            } else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
                val = json_object_new_boolean(0);
            } else {
                snprintf(why, whylen, "inStock: '%.40s' is not true or false", v);
                goto fail;
            }
        } else if (!strcmp(f, "colors") || !strcmp(f, "sizes") || !strcmp(f, "tags")) {
            val = ap_csv_array(v, why, whylen, f);
            if (!val) goto fail;
        } else {
            val = json_object_new_string(v);
        }
        json_object_object_add(o, f, val);
    }
    return o;
fail:
    json_object_put(o);
    return NULL;
}
