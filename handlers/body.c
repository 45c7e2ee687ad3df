/* body.c: JSON bodies for the POST routes (aza search, chat, troika):
 * strict parsing with depth and UTF-8 checks, then typed fields, each bad
 * one answered with a 400 that names it. */
#include "handlers/body.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/base/u8.h"
#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/sink.h"
#include "handlers/handlers.h"

static void hx_put(void *p)
{
    json_object_put(p);
}

long hx_json_lex(const char *s, size_t n, const char **why)
{
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (in_str) {
            if (ch < 0x20) {
                *why = "a raw control character inside a string (escape it as \\u00XX)";
                return (long)i;
            }
            if (esc) esc = 0;
            else if (ch == '\\') esc = 1;
            else if (ch == '"') in_str = 0;
            continue;
        }
        if (ch == '"') {
            in_str = 1;
        } else if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
            *why = "a control character between tokens";
            return (long)i;
        } else if (ch == '.' && (i + 1 >= n || s[i + 1] < '0' || s[i + 1] > '9')) {
            *why = "a number with a '.' and no digit after it";
            return (long)i;
        } else if (ch >= 0x20 && !strchr(" {}[]:,0123456789-+.eEtruefalsn", ch)) {
            /* outside strings JSON has only true, false, null and numbers:
             * json-c's NaN and Infinity are not among them */
            *why = "a literal JSON does not have (NaN, Infinity, ...)";
            return (long)i;
        }
    }
    return -1;
}

int hx_json_body(struct ctx *c, json_object **out)
{
    const struct req *r = c->req;
    *out = NULL;
    size_t bad;
    if (!r->body || r->body_len == 0)
        return hx_bad_field(c, "body", "The request body is empty; send a JSON object");
    if (!u8_valid(r->body, r->body_len, &bad)) {
        char m[128];
        snprintf(m, sizeof(m), "The body is not valid UTF-8 (first bad byte at offset %zu)", bad);
        return hx_bad_field(c, "body", m);
    }
    const char *why = NULL;
    long at = hx_json_lex(r->body, r->body_len, &why);
    if (at >= 0) {
        char m[200];
        snprintf(m, sizeof(m), "The body is not valid JSON: %s at offset %ld", why, at);
        return hx_bad_field(c, "body", m);
    }
    /* json-c counts values, not containers: HX_JSON_MAX_DEPTH containers
     * with a value inside the innermost is one more. */
    json_tokener *tok = json_tokener_new_ex(HX_JSON_MAX_DEPTH + 1);
    if (!tok) return hx_bad_field(c, "body", "The body could not be parsed");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (o) ar_defer(c->ar, hx_put, o);
    if (e == json_tokener_error_depth)
        return hx_bad_field(c, "body", "The JSON body is nested too deeply");
    if (e == json_tokener_continue)
        return hx_bad_field(c, "body", "The body ends before the JSON value is complete (truncated?)");
    if (!o || e != json_tokener_success) {
        char m[160];
        snprintf(m, sizeof(m), "The body is not valid JSON: %s", json_tokener_error_desc(e));
        return hx_bad_field(c, "body", m);
    }
    while (used < r->body_len && isspace((unsigned char)r->body[used])) used++;
    if (used < r->body_len) return hx_bad_field(c, "body", "The body has data after the JSON object");
    if (!json_object_is_type(o, json_type_object))
        return hx_bad_field(c, "body", "The body must be a JSON object");
    *out = o;
    return 0;
}

static json_object *hx_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v)) return NULL;
    return json_object_is_type(v, json_type_null) ? NULL : v;
}

int hx_field_str(struct ctx *c, json_object *obj, const char *key, int required, size_t max, int trim,
                 const char **out)
{
    char m[192];
    json_object *v = hx_get(obj, key);
    *out = NULL;
    if (!v) {
        if (!required) return 0;
        snprintf(m, sizeof(m), "%s is required", key);
        return hx_bad_field(c, key, m);
    }
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(m, sizeof(m), "%s must be a string", key);
        return hx_bad_field(c, key, m);
    }
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', n) || !u8_valid(s, n, NULL)) {
        snprintf(m, sizeof(m), "%s must be valid UTF-8 text", key);
        return hx_bad_field(c, key, m);
    }
    if (trim) {
        while (n && isspace((unsigned char)*s)) s++, n--;
        while (n && isspace((unsigned char)s[n - 1])) n--;
    }
    if (required && n == 0) {
        snprintf(m, sizeof(m), "%s must not be empty", key);
        return hx_bad_field(c, key, m);
    }
    if (n > max) {
        snprintf(m, sizeof(m), "%s must be at most %zu bytes", key, max);
        return hx_bad_field(c, key, m);
    }
    *out = ar_strndup(c->ar, s, n);
    return *out ? 0 : hx_bad_field(c, key, "out of memory");
}

int hx_field_int(struct ctx *c, json_object *obj, const char *key, long def, long min, long max, long *out)
{
    json_object *v = hx_get(obj, key);
    *out = def;
    if (!v) return 0;
    double d = json_object_is_type(v, json_type_double) ? json_object_get_double(v) : 0;
    int ok = json_object_is_type(v, json_type_int) ||
             (json_object_is_type(v, json_type_double) && isfinite(d) && d == floor(d));
    long long n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : (long long)d;
    if (!ok || n < min || n > max) {
        char m[192];
        snprintf(m, sizeof(m), "%s must be a whole number from %ld to %ld", key, min, max);
        return hx_bad_field(c, key, m);
    }
    *out = (long)n;
    return 0;
}

int hx_field_num(struct ctx *c, json_object *obj, const char *key, double def, double min, double max,
                 double *out)
{
    json_object *v = hx_get(obj, key);
    *out = def;
    if (!v) return 0;
    double d = json_object_get_double(v);
    if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) || !isfinite(d) ||
        d < min || d > max) {
        char m[192];
        snprintf(m, sizeof(m), "%s must be a number from %g to %g", key, min, max);
        return hx_bad_field(c, key, m);
    }
    *out = d;
    return 0;
}

int hx_field_bool(struct ctx *c, json_object *obj, const char *key, int def, int *out)
{
    json_object *v = hx_get(obj, key);
    *out = def;
    if (!v) return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        char m[160];
        snprintf(m, sizeof(m), "%s must be true or false", key);
        return hx_bad_field(c, key, m);
    }
    *out = json_object_get_boolean(v);
    return 0;
}

int hx_field_obj(struct ctx *c, json_object *obj, const char *key, json_object **out)
{
    json_object *v = hx_get(obj, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_object_is_type(v, json_type_object)) {
        char m[160];
        snprintf(m, sizeof(m), "%s must be an object", key);
        return hx_bad_field(c, key, m);
    }
    *out = v;
    return 0;
}
