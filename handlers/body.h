/* body.h: JSON request bodies: parsing with limits and typed field access.
 *
 * Every failure answers 400 INVALID_PARAMETERS naming the field (or the
 * body) through sink_reject and returns -1; the handler then returns 0.
 * Parsed objects belong to the request arena (released when it resets). */
#ifndef TROIKA_BODY_H
#define TROIKA_BODY_H

#include <stddef.h>

struct ctx;
struct json_object;

enum { HX_JSON_MAX_DEPTH = 32 };

/* Parses the request body as one JSON object: strict JSON, valid UTF-8,
 * nothing json-c lets through that JSON has not (hx_json_lex), nesting at
 * most HX_JSON_MAX_DEPTH containers,
 * nothing after it. Borrowed result. */
int hx_json_body(struct ctx *c, struct json_object **out);

/* The offset of the first byte of s[0..n) that RFC 8259 does not allow
 * where it stands, or -1; *why says what it is. json-c's strict mode lets
 * these through: a raw control character inside a string (only space,
 * tab, LF and CR between tokens), NaN and Infinity, a fraction without
 * digits ("1."). A lexical check only; the parser does the rest. */
long hx_json_lex(const char *s, size_t n, const char **why);

/* Optional/required typed fields of `obj`. Absent (or null) optional fields
 * leave the default / NULL. Strings must be valid UTF-8 of at most max
 * bytes (after trimming surrounding whitespace when trim is set); a
 * required string must not be empty. */
int hx_field_str(struct ctx *c, struct json_object *obj, const char *key, int required, size_t max,
                 int trim, const char **out);
int hx_field_int(struct ctx *c, struct json_object *obj, const char *key, long def, long min, long max,
                 long *out);
int hx_field_num(struct ctx *c, struct json_object *obj, const char *key, double def, double min,
                 double max, double *out);
int hx_field_bool(struct ctx *c, struct json_object *obj, const char *key, int def, int *out);
/* An object field, or NULL when absent. */
int hx_field_obj(struct ctx *c, struct json_object *obj, const char *key, struct json_object **out);

#endif
