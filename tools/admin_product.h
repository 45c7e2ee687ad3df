/* admin_product.h: one catalog record checked and normalised for import
 * (SPEC 1.2), from a JSON object or a CSV row. Strings live in the arena
 * given; a record that fails a check is rejected with a one-line reason. */
#ifndef TROIKA_ADMIN_PRODUCT_H
#define TROIKA_ADMIN_PRODUCT_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"

struct cfg;
struct json_object;

enum { ADM_MAX_COLORS = 16, ADM_MAX_SIZES = 24, ADM_MAX_TAGS = 32 };

struct adm_prod {
    int line;                       /* where the record starts in the file */
    const char *sku, *title, *description, *category, *designer, *currency;
    const char *image_url, *url;    /* NULL when absent (also description, designer) */
    const char *colors[ADM_MAX_COLORS], *families[ADM_MAX_COLORS];
    int ncolors;
    const char *sizes[ADM_MAX_SIZES];
    int nsizes;
    const char *tags[ADM_MAX_TAGS];
    int ntags;
    char price[32];                 /* decimal text with two places, e.g. "24999.00" */
    int in_stock;
    long long stock_count;          /* -1 when absent */
    double popularity;
    const char *colors_json, *sizes_json, *tags_text;
    uint64_t hash;                  /* of the normalised record */
};

/* Checks and normalises one product object. 0, or -1 with why filled. */
int adm_prod_from_json(arena_t *ar, struct json_object *o, const struct cfg *c, struct adm_prod *p,
                       char *why, size_t whylen);

/* CSV: the header's column names (camelCase or snake_case) to the JSON field
 * names; NULL for a column the importer does not know (ignored). */
const char *adm_csv_field(const char *column);

/* Converts one CSV row (cells[i] for fields[i], "" = absent) into a typed
 * JSON object (numbers, booleans, arrays). Returns a new object (caller
 * owns it), or NULL with why filled when a cell has the wrong type. */
struct json_object *adm_csv_object(const char *const *fields, const char *const *cells, size_t n, char *why,
                                   size_t whylen);

#endif
