/* suggest.c: follow-up prompts from the context or the LLM; see suggest.h. */
#include "common/assist/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

static const char *const sug_general[] = {
    "What else can you tell me?",
    "What products do you offer?",
    "How can I contact the shop?",
};

/* Words too common to tell topics apart. */
static const char *const sug_stop[] = {
    "the", "and", "for", "you", "your", "our", "are", "with", "what", "how", "about", "tell", "this", "that",
    "from", "can", "does", "have", "has", "any", "all", "more", "its", "into", "when", "where", "which",
};

static int sug_is_stop(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(sug_stop) / sizeof(sug_stop[0]); i++)
        if (strlen(sug_stop[i]) == n && strncasecmp(sug_stop[i], w, n) == 0) return 1;
    return 0;
}

static int sug_wordc(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* 1 when the word s[0..n) (case-insensitive, a prefix of 5+ bytes is
 * enough: "returns" ~ "return") occurs in text. */
static int sug_word_in(const char *w, size_t n, const char *text)
{
    size_t cmp = n > 5 ? n - (n > 6 ? 2 : 1) : n;
    for (const char *p = text; *p;) {
        while (*p && !sug_wordc((unsigned char)*p)) p++;
        const char *b = p;
        while (*p && sug_wordc((unsigned char)*p)) p++;
        size_t wl = (size_t)(p - b);
        if (wl >= cmp && strncasecmp(b, w, cmp) == 0 && (cmp < n || wl == n)) return 1;
    }
    return 0;
}

/* 1 when at least half of the topic's words were already asked about. */
static int sug_asked(const struct sug_in *in, const char *topic)
{
    int words = 0, seen = 0;
    for (const char *p = topic; *p;) {
        while (*p && !sug_wordc((unsigned char)*p)) p++;
        const char *b = p;
        while (*p && sug_wordc((unsigned char)*p)) p++;
        size_t wl = (size_t)(p - b);
        if (wl < 3 || sug_is_stop(b, wl)) continue;
        words++;
        int hit = in->query && sug_word_in(b, wl, in->query);
        for (size_t i = 0; !hit && i < in->nasked; i++) hit = in->asked[i] && sug_word_in(b, wl, in->asked[i]);
        seen += hit;
    }
    return words > 0 && seen * 2 >= words;
}

static int sug_has(const char *const *out, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(out[i], s) == 0) return 1;
    return 0;
}

/* ---- headings --------------------------------------------------------------------- */

static int sug_titlelike(const char *s, size_t n)
{
    if (n < 3 || n > 60 || !isupper((unsigned char)s[0])) return 0;
    if (strchr(".,;)", s[n - 1])) return 0;
    int words = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') words++;
        if (i + 1 < n && strchr(".!?", s[i]) && s[i + 1] == ' ') return 0;   /* a sentence inside */
    }
    return words <= 8;
}

void sug_headings(arena_t *ar, const char *text, size_t len, const char **out, size_t *n, size_t max)
{
    const char *p = text, *end = text + len;
    while (p < end && *n < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *b = p, *e = le;
        p = nl ? nl + 1 : end;
        while (b < e && isspace((unsigned char)*b)) b++;
        while (e > b && isspace((unsigned char)e[-1])) e--;
        int md = 0;
        while (b < e && *b == '#') b++, md = 1;
        while (b < e && (*b == ' ' || *b == '*')) b++;
        while (e > b && (e[-1] == '*' || e[-1] == ':' || e[-1] == ' ')) e--;
        size_t hl = (size_t)(e - b);
        if (hl < 3 || hl > 60) continue;
        if (!md) {
            /* a title-like line followed by a longer line of text */
            const char *q = p;
            while (q < end && isspace((unsigned char)*q)) q++;
            size_t left = q < end ? (size_t)(end - q) : 0;
            const char *qe = left ? memchr(q, '\n', left) : NULL;
            size_t next = qe ? (size_t)(qe - q) : left;
            if (!sug_titlelike(b, hl) || next <= hl) continue;
        }
        char *h = ar_strndup(ar, b, hl);
        if (h && !sug_has(out, *n, h)) out[(*n)++] = h;
    }
}

/* ---- from the context ---------------------------------------------------------------- */

static const char *sug_phrase(arena_t *ar, const char *topic)
{
    size_t n = strlen(topic);
    if (n && topic[n - 1] == '?') return topic;
    return ar_printf(ar, "Tell me about %s", topic);
}

size_t sug_from_context(arena_t *ar, const struct sug_in *in, const char **out, size_t max)
{
    size_t n = 0;
    if (max > SUG_MAX) max = SUG_MAX;
    for (size_t i = 0; i < in->ntopics && n < max; i++) {
        const char *t = in->topics[i];
        if (!t || !*t || sug_asked(in, t)) continue;
        const char *s = sug_phrase(ar, t);
        if (s && strlen(s) <= SUG_MAX_LEN && !sug_has(out, n, s)) out[n++] = s;
    }
    for (size_t i = 0; n < SUG_MIN && n < max && i < sizeof(sug_general) / sizeof(sug_general[0]); i++)
        if (!sug_has(out, n, sug_general[i]) && !(in->query && !strcasecmp(in->query, sug_general[i])))
            out[n++] = sug_general[i];
    return n;
}

/* ---- from the LLM ----------------------------------------------------------------------- */

size_t sug_parse(arena_t *ar, const char *json, size_t len, const char **out, size_t max)
{
    size_t n = 0;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL, *arr = NULL;
    if (o && json_object_is_type(o, json_type_object)) {
        if (!json_object_object_get_ex(o, "suggestions", &arr)) {
            json_object_object_foreach(o, k, v) {   /* any array member will do */
                (void)k;
                if (json_object_is_type(v, json_type_array)) {
                    arr = v;
                    break;
                }
            }
        }
    } else if (o && json_object_is_type(o, json_type_array)) {
        arr = o;
    }
    for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr) &&
                       n < max;
         i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string)) continue;
        const char *s = json_object_get_string(v);
        while (isspace((unsigned char)*s)) s++;
        size_t sl = strlen(s);
        while (sl && isspace((unsigned char)s[sl - 1])) sl--;
        if (sl == 0 || sl > SUG_MAX_LEN) continue;
        char *c = ar_strndup(ar, s, sl);
        if (c && !sug_has(out, n, c)) out[n++] = c;
    }
    if (o) json_object_put(o);
    if (tok) json_tokener_free(tok);
    return n;
}

static const char sug_system[] =
    "Suggest three short follow-up questions (at most eight words each) that the customer could ask next, about "
    "topics of the shop's documents they have not asked about yet. Reply with JSON only: {\"suggestions\": "
    "[\"...\", \"...\", \"...\"]}.";

/* The JSON-mode messages, built only when a model will read them. */
static int sug_messages(void *arg, arena_t *ar, const struct llm_msg **msgs, size_t *n)
{
    const struct sug_in *in = arg;
    buf_t user;
    buf_init(&user, ar, 64 * 1024);
    buf_adds(&user, "Topics of the shop's documents:");
    for (size_t i = 0; i < in->ntopics && i < 20; i++) buf_printf(&user, "%s %s", i ? ";" : "", in->topics[i]);
    if (!in->ntopics) buf_adds(&user, " (none)");
    for (size_t i = 0; i < in->nasked; i++) buf_printf(&user, "\nEarlier question: %s", in->asked[i]);
    buf_printf(&user, "\nQuestion: %s\nAnswer: %s", in->query ? in->query : "", in->answer ? in->answer : "");
    struct llm_msg *m = ar_calloc(ar, 2, sizeof(*m));
    if (!m || !user.p) return -1;
    m[0] = (struct llm_msg){"system", sug_system};
    m[1] = (struct llm_msg){"user", user.p};
    *msgs = m;
    *n = 2;
    return 0;
}

size_t sug_make(struct llm *l, arena_t *ar, const struct sug_in *in, const char **out, size_t max, llm_tick_fn tick,
                void *arg, int *from_llm, struct llm_result *res)
{
    if (max > SUG_MAX) max = SUG_MAX;
    *from_llm = 0;
    struct llm_task t = {.messages = sug_messages, .arg = (void *)in, .max_tokens = 120, .temperature = 0.3};
    char *js = NULL;
    size_t jl = 0, n = 0;
    if (llm_json(l, ar, &t, tick, arg, &js, &jl, res) == LLM_OK && js) n = sug_parse(ar, js, jl, out, max);
    if (n >= SUG_MIN) {
        *from_llm = 1;
        return n;
    }
    if (res->rc == LLM_OK) {
        res->rc = LLM_EUPSTREAM;
        snprintf(res->err, sizeof(res->err), "the LLM gave %zu usable suggestions", n);
    }
    if (llm_aborted(res->rc)) return 0;
    return sug_from_context(ar, in, out, max);
}
