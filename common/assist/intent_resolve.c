/* intent_resolve.c: the conversation side of intent analysis (see
 * intent.h): filling what a message left out from the previous turn and
 * the customer's context, follow-up cues, and the JSON shapes of the
 * `intent` event and of messages.entities. Pure functions over
 * caller-owned structs. */
#include "common/assist/intent.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/qparse.h"
#include "common/text/inr.h"

static void it_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- conversation ------------------------------------------------------------ */

static void it_take(struct it_entities *e, const struct it_entities *from, enum it_field f, enum it_src src)
{
    switch (f) {
    case IT_F_CATEGORY:
        if (!from->category[0]) return;
        it_copy(e->category, sizeof(e->category), from->category);
        break;
    case IT_F_COLOR:
        if (!from->color[0]) return;
        it_copy(e->color, sizeof(e->color), from->color);
        it_copy(e->color_family, sizeof(e->color_family), from->color_family);
        break;
    case IT_F_SIZE:
        if (!from->size[0]) return;
        it_copy(e->size, sizeof(e->size), from->size);
        break;
    case IT_F_BUDGET:
        if (from->budget_min <= 0 && from->budget_max <= 0) return;
        e->budget_min = from->budget_min;
        e->budget_max = from->budget_max;
        e->budget_around = from->budget_around;
        e->budget_target = from->budget_target;
        break;
    case IT_F_OCCASION:
        if (!from->occasion[0]) return;
        it_copy(e->occasion, sizeof(e->occasion), from->occasion);
        break;
    case IT_F_DESIGNER:
        if (!from->designer[0]) return;
        it_copy(e->designer, sizeof(e->designer), from->designer);
        break;
    case IT_F_FABRIC:
        if (!from->fabric[0]) return;
        it_copy(e->fabric, sizeof(e->fabric), from->fabric);
        break;
    default:
        return;
    }
    e->src[f] = src;
}

static void it_clear_budget(struct it_entities *e)
{
    e->budget_min = e->budget_max = e->budget_target = 0;
    e->budget_around = 0;
}

void it_resolve(struct it_result *r, const struct it_entities *prev, double prev_ref,
                const struct it_context *cx)
{
    struct it_entities *e = &r->e;
    unsigned follow = r->cues & (IT_CUE_INSTEAD | IT_CUE_CHEAPER | IT_CUE_PRICIER | IT_CUE_MORE |
                                 IT_CUE_ANY_COLOR | IT_CUE_ANY_SIZE | IT_CUE_NO_BUDGET);
    /* a new garment with no follow-up cue is a new request */
    if (prev && e->category[0] && prev->category[0] && strcmp(e->category, prev->category) != 0 && !follow)
        prev = NULL;
    if (prev && !it_wants_products(r)) prev = NULL;

    if (prev) {
        for (int f = 0; f < IT_F_COUNT; f++) {
            if (e->src[f] != IT_SRC_NONE) continue;
            if (f == IT_F_COLOR && (r->cues & IT_CUE_ANY_COLOR)) continue;
            if (f == IT_F_SIZE && (r->cues & IT_CUE_ANY_SIZE)) continue;
            if (f == IT_F_BUDGET && (r->cues & (IT_CUE_NO_BUDGET | IT_CUE_CHEAPER | IT_CUE_PRICIER)))
                continue;
            it_take(e, prev, (enum it_field)f, IT_SRC_HISTORY);
        }
        /* cheaper / pricier move the budget relative to the last turn */
        if (e->src[IT_F_BUDGET] == IT_SRC_NONE && (r->cues & (IT_CUE_CHEAPER | IT_CUE_PRICIER))) {
            double lo = prev->budget_min, hi = prev->budget_max;
            if (r->cues & IT_CUE_CHEAPER) {
                double cap = lo > 0 ? lo : hi > 0 ? round(hi * 0.8) : prev_ref;
                if (cap > 0) {
                    it_clear_budget(e);
                    e->budget_max = cap;
                    e->src[IT_F_BUDGET] = IT_SRC_MESSAGE;
                }
            } else {
                double floor_ = hi > 0 ? hi : prev_ref;
                if (floor_ > 0) {
                    it_clear_budget(e);
                    e->budget_min = floor_;
                    e->src[IT_F_BUDGET] = IT_SRC_MESSAGE;
                }
            }
        }
    } else if (e->src[IT_F_BUDGET] == IT_SRC_NONE && (r->cues & IT_CUE_CHEAPER) && prev_ref > 0) {
        e->budget_max = prev_ref;
        e->src[IT_F_BUDGET] = IT_SRC_MESSAGE;
    }

    if (!cx || !it_wants_products(r)) return;
    if (e->src[IT_F_BUDGET] == IT_SRC_NONE && !(r->cues & IT_CUE_NO_BUDGET) &&
        (cx->budget_min > 0 || cx->budget_max > 0)) {
        e->budget_min = cx->budget_min;
        e->budget_max = cx->budget_max;
        e->src[IT_F_BUDGET] = IT_SRC_CONTEXT;
    }
    if (e->src[IT_F_SIZE] == IT_SRC_NONE && !(r->cues & IT_CUE_ANY_SIZE) && cx->sizes[0]) {
        const char *s = qp_size_canon(cx->sizes[0]);
        it_copy(e->size, sizeof(e->size), s ? s : cx->sizes[0]);
        e->src[IT_F_SIZE] = IT_SRC_CONTEXT;
    }
    if (e->src[IT_F_COLOR] == IT_SRC_NONE && !(r->cues & IT_CUE_ANY_COLOR) && cx->colors[0]) {
        const char *name = NULL, *fam = NULL;
        if (qp_color_lookup(cx->colors[0], &name, &fam) == 0) {
            it_copy(e->color, sizeof(e->color), name);
            it_copy(e->color_family, sizeof(e->color_family), fam);
            e->src[IT_F_COLOR] = IT_SRC_CONTEXT;
        }
    }
}

/* ---- JSON -------------------------------------------------------------------- */

static json_object *it_str_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

json_object *it_entities_json(const struct it_entities *e)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "category", it_str_or_null(e->category));
    json_object_object_add(o, "color", it_str_or_null(e->color));
    json_object_object_add(o, "colorFamily", it_str_or_null(e->color_family));
    json_object_object_add(o, "size", it_str_or_null(e->size));
    json_object *b = NULL;
    if (e->budget_min > 0 || e->budget_max > 0) {
        b = json_object_new_object();
        json_object_object_add(b, "min", e->budget_min > 0 ? inr_json(e->budget_min) : NULL);
        json_object_object_add(b, "max", e->budget_max > 0 ? inr_json(e->budget_max) : NULL);
        if (e->budget_around) json_object_object_add(b, "around", inr_json(e->budget_target));
    }
    json_object_object_add(o, "budget", b);
    json_object_object_add(o, "occasion", it_str_or_null(e->occasion));
    json_object_object_add(o, "designer", it_str_or_null(e->designer));
    json_object_object_add(o, "fabric", it_str_or_null(e->fabric));
    return o;
}

json_object *it_to_json(const struct it_result *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "intent", json_object_new_string(it_kind_name(r->intent)));
    char conf[16];
    snprintf(conf, sizeof(conf), "%.2f", r->confidence);
    json_object_object_add(o, "confidence", json_object_new_double_s(r->confidence, conf));
    json_object_object_add(o, "entities", it_entities_json(&r->e));
    json_object *src = json_object_new_object();
    for (int f = 0; f < IT_F_COUNT; f++)
        if (r->e.src[f] != IT_SRC_NONE)
            json_object_object_add(src, it_field_name((enum it_field)f), json_object_new_string(it_src_name(r->e.src[f])));
    json_object_object_add(o, "sources", src);
    static const struct { unsigned bit; const char *name; } cue_names[] = {
        {IT_CUE_INSTEAD, "instead"},     {IT_CUE_CHEAPER, "cheaper"},   {IT_CUE_PRICIER, "pricier"},
        {IT_CUE_MORE, "more"},           {IT_CUE_ANY_COLOR, "anyColor"}, {IT_CUE_ANY_SIZE, "anySize"},
        {IT_CUE_NO_BUDGET, "noBudget"},
    };
    json_object *cues = json_object_new_array();
    for (size_t i = 0; i < sizeof(cue_names) / sizeof(cue_names[0]); i++)
        if (r->cues & cue_names[i].bit) json_object_array_add(cues, json_object_new_string(cue_names[i].name));
    json_object_object_add(o, "followUp", cues);
    return o;
}

static void it_get_str(json_object *o, const char *key, char *dst, size_t cap)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        it_copy(dst, cap, json_object_get_string(v));
}

static double it_get_num(json_object *o, const char *key)
{
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) return 0;
    double d = json_object_get_double(v);
    return d > 0 && isfinite(d) ? d : 0;
}

int it_entities_parse(json_object *o, struct it_entities *e)
{
    memset(e, 0, sizeof(*e));
    if (!o || !json_object_is_type(o, json_type_object)) return -1;
    it_get_str(o, "category", e->category, sizeof(e->category));
    it_get_str(o, "color", e->color, sizeof(e->color));
    it_get_str(o, "colorFamily", e->color_family, sizeof(e->color_family));
    it_get_str(o, "size", e->size, sizeof(e->size));
    it_get_str(o, "occasion", e->occasion, sizeof(e->occasion));
    it_get_str(o, "designer", e->designer, sizeof(e->designer));
    it_get_str(o, "fabric", e->fabric, sizeof(e->fabric));
    json_object *b;
    if (json_object_object_get_ex(o, "budget", &b) && json_object_is_type(b, json_type_object)) {
        e->budget_min = it_get_num(b, "min");
        e->budget_max = it_get_num(b, "max");
        e->budget_target = it_get_num(b, "around");
        e->budget_around = e->budget_target > 0;
    }
    if (e->category[0]) e->src[IT_F_CATEGORY] = IT_SRC_HISTORY;
    if (e->color[0]) e->src[IT_F_COLOR] = IT_SRC_HISTORY;
    if (e->size[0]) e->src[IT_F_SIZE] = IT_SRC_HISTORY;
    if (e->budget_min > 0 || e->budget_max > 0) e->src[IT_F_BUDGET] = IT_SRC_HISTORY;
    if (e->occasion[0]) e->src[IT_F_OCCASION] = IT_SRC_HISTORY;
    if (e->designer[0]) e->src[IT_F_DESIGNER] = IT_SRC_HISTORY;
    if (e->fabric[0]) e->src[IT_F_FABRIC] = IT_SRC_HISTORY;
    return 0;
}
