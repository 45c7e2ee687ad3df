/* admin_product.h: one catalog record checked and normalised for import
 * (SPEC 1.2), from a JSON object or a CSV row. Strings live in the arena
 * given; a record that fails a check is rejected with a one-line reason. */
#ifndef TROIKA_ADMIN_PRODUCT_H
#define TROIKA_ADMIN_PRODUCT_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/arena.h"
#include "common/store/products.h"

struct cfg;
struct json_object;

/* Checks and normalises one product object into the products store's
 * record (common/store/products.h). 0, or -1 with why filled. */
int adm_prod_from_json(arena_t *ar, struct json_object *o, const struct cfg *c, struct pr_product *p,
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
