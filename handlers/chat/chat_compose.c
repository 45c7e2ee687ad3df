/* chat_compose.c: the builtin chat answer composed from retrieved
 * sentences, the LLM prompt, and citation marks; see chat.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/assist/llm.h"
#include "common/text/sentence.h"
#include "common/store/session.h"
#include "handlers/chat/chat.h"

enum { CMP_MAX_SENTENCES = 4, CMP_MAX_WORDS = 90, CMP_MIN_WORDS = 3, CMP_MAX_TERMS = 48 };

/* Words that say nothing about what is asked (lower case). */
static const char *const chat_stop[] = {
    "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "get", "give", "had", "has", "have", "he", "her", "here", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "let", "like", "me", "more", "my",
    "no", "not", "of", "on", "or", "our", "please", "she", "should", "so", "some", "tell", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was", "we", "were",
    "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
    "hai", "kya", "ka", "ki", "ke", "ko", "se", "mein", "hain", "aur", "bhi",
};

static int chat_is_stop(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(chat_stop) / sizeof(chat_stop[0]); i++)
        if (strlen(chat_stop[i]) == n && memcmp(chat_stop[i], w, n) == 0) return 1;
    return 0;
}

static int chat_wordc(unsigned char c) { return isalnum(c) || c >= 0x80; }

size_t chat_terms(arena_t *ar, const char *s, size_t n, const char **words, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        while (i < n && !chat_wordc((unsigned char)s[i])) i++;
        size_t b = i;
        while (i < n && chat_wordc((unsigned char)s[i])) i++;
        size_t wl = i - b;
        if (wl == 0) break;
        char w[64];
        if (wl >= sizeof(w)) continue;
        for (size_t j = 0; j < wl; j++) w[j] = (char)tolower((unsigned char)s[b + j]);
        w[wl] = '\0';
        if ((wl < 2 && isalpha((unsigned char)w[0])) || chat_is_stop(w, wl)) continue;
        /* light stemming, so "returns" meets "return" and "sizes" "size" */
        if (wl > 4 && !strcmp(w + wl - 3, "ies")) strcpy(w + wl - 3, "y"), wl -= 2;
        else if (wl > 5 && !strcmp(w + wl - 3, "ing")) w[wl -= 3] = '\0';
        else if (wl > 4 && !strcmp(w + wl - 2, "ed")) w[wl -= 2] = '\0';
        if (wl > 3 && w[wl - 1] == w[wl - 2] && !strchr("aeiouslz", w[wl - 1])) w[--wl] = '\0';   /* shipp -> ship */
        else if (wl > 3 && w[wl - 1] == 's' && w[wl - 2] != 's' && w[wl - 2] != 'u') w[--wl] = '\0';
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = strcmp(words[j], w) == 0;
        if (dup) continue;
        if (!(words[k] = ar_strndup(ar, w, wl))) break;
        k++;
    }
    return k;
}

/* ---- sentences of the chunks ----------------------------------------------------- */

struct cmp_sent {
    const char *s;       /* whitespace collapsed, NUL-terminated */
    size_t len;
    size_t chunk;        /* index in the chunk list (rank order) */
    size_t pos;          /* position in the chunk */
    int words;
    int matched;         /* distinct query terms in it */
    int source;
    int picked;
};

struct cmp_collect {
    arena_t *ar;
    struct cmp_sent *v;
    size_t n, cap;
    size_t chunk;
    size_t pos;
    int source;
};

static int cmp_on_sentence(void *arg, const char *s, size_t n)
{
    struct cmp_collect *cc = arg;
    if (cc->n == cc->cap) {
        size_t ncap = cc->cap ? cc->cap * 2 : 64;
        struct cmp_sent *nv = ar_calloc(cc->ar, ncap, sizeof(*nv));
        if (!nv) return -1;
        if (cc->n) memcpy(nv, cc->v, cc->n * sizeof(*nv));
        cc->v = nv;
        cc->cap = ncap;
    }
    if (n > 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ') s += 2, n -= 2;   /* a bullet */
    char *out = ar_alloc(cc->ar, n + 1);
    if (!out) return -1;
    size_t o = 0;
    int words = 0, inword = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
            inword = 0;
            continue;
        }
        if (!inword) words++;
        inword = 1;
        out[o++] = (char)ch;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
    struct cmp_sent *e = &cc->v[cc->n++];
    memset(e, 0, sizeof(*e));
    e->s = out;
    e->len = o;
    e->chunk = cc->chunk;
    e->pos = cc->pos++;
    e->words = words;
    e->source = cc->source;
    return 0;
}

/* A heading or label line rather than a sentence: "# Returns", "Shipping:". */
static int cmp_heading(const struct cmp_sent *e)
{
    if (e->len && (e->s[0] == '#' || e->s[e->len - 1] == ':')) return 1;
    return e->words < 6 && e->len && !strchr(".!?)\"'", e->s[e->len - 1]);
}

static int cmp_better(const struct cmp_sent *a, const struct cmp_sent *b)
{
    if (a->matched != b->matched) return a->matched > b->matched;
    if (a->chunk != b->chunk) return a->chunk < b->chunk;
    return a->pos < b->pos;
}

static int cmp_same_text(const struct cmp_sent *a, const struct cmp_sent *b)
{
    return a->len == b->len && strncasecmp(a->s, b->s, a->len) == 0;
}

/* Appends sentence s with its mark: "... days [1]." */
static void cmp_append(buf_t *b, const struct cmp_sent *s)
{
    size_t end = s->len;
    while (end > 0 && strchr("\"')]*", s->s[end - 1])) end--;
    size_t term = end;
    while (term > 0 && strchr(".!?", s->s[term - 1])) term--;
    if (b->len) buf_addc(b, ' ');
    if (term < end) {
        buf_add(b, s->s, term);
        buf_printf(b, " [%d]", s->source);
        buf_add(b, s->s + term, s->len - term);
    } else {
        buf_add(b, s->s, s->len);
        buf_printf(b, " [%d].", s->source);
    }
}

const char *chat_compose(arena_t *ar, const char *query, const struct chat_chunk *ch, size_t n, int nsources,
                         unsigned char *cited)
{
    const char *qt[CMP_MAX_TERMS];
    size_t nq = chat_terms(ar, query, strlen(query), qt, CMP_MAX_TERMS);
    if (cited && nsources > 0) memset(cited, 0, (size_t)nsources);
    if (nq == 0 || n == 0) return CHAT_NO_ANSWER;

    struct cmp_collect cc = {.ar = ar};
    for (size_t i = 0; i < n; i++) {
        struct sent sp;
        sent_init(&sp, ar, 2000);
        cc.chunk = i;
        cc.pos = 0;
        cc.source = ch[i].source;
        if (sent_feed(&sp, ch[i].text, ch[i].len, cmp_on_sentence, &cc) || sent_flush(&sp, cmp_on_sentence, &cc))
            return CHAT_NO_ANSWER;
    }
    for (size_t i = 0; i < cc.n; i++) {
        struct cmp_sent *e = &cc.v[i];
        if (e->words < CMP_MIN_WORDS || e->words > 80 || cmp_heading(e)) continue;
        const char *st[CMP_MAX_TERMS * 2];
        size_t ns = chat_terms(ar, e->s, e->len, st, sizeof(st) / sizeof(st[0]));
        for (size_t a = 0; a < nq; a++)
            for (size_t b = 0; b < ns; b++)
                if (strcmp(qt[a], st[b]) == 0) {
                    e->matched++;
                    break;
                }
    }
    /* pick the best, skipping repeats from overlapping chunks; a sentence
     * must match at least half as many query words as the best one */
    int picked = 0, words = 0, top = 0;
    for (size_t i = 0; i < cc.n; i++)
        if (cc.v[i].matched > top) top = cc.v[i].matched;
    int floor_matched = (top + 1) / 2;
    while (picked < CMP_MAX_SENTENCES && (picked == 0 || words < CMP_MAX_WORDS)) {
        struct cmp_sent *best = NULL;
        for (size_t i = 0; i < cc.n; i++) {
            struct cmp_sent *e = &cc.v[i];
            if (e->picked || e->matched == 0 || e->matched < floor_matched) continue;
            if (!best || cmp_better(e, best)) best = e;
        }
        if (!best) break;
        best->picked = 1;
        int dup = 0;
        for (size_t i = 0; i < cc.n && !dup; i++)
            dup = &cc.v[i] != best && cc.v[i].picked == 2 && cmp_same_text(&cc.v[i], best);
        if (dup) continue;
        if (picked > 0 && words + best->words > CMP_MAX_WORDS + 20) continue;
        best->picked = 2;
        picked++;
        words += best->words;
    }
    if (!picked) return CHAT_NO_ANSWER;
    buf_t out;
    buf_init(&out, ar, 64 * 1024);
    for (size_t i = 0; i < cc.n; i++) {   /* document order: chunk rank, then position */
        if (cc.v[i].picked != 2) continue;
        cmp_append(&out, &cc.v[i]);
        if (cited && cc.v[i].source >= 1 && cc.v[i].source <= nsources) cited[cc.v[i].source - 1] = 1;
    }
    return out.p ? out.p : CHAT_NO_ANSWER;
}

void chat_mark_cited(const char *text, size_t len, int nsources, unsigned char *cited)
{
    for (size_t i = 0; i + 2 < len; i++) {
        if (text[i] != '[') continue;
        size_t j = i + 1;
        int v = 0;
        while (j < len && isdigit((unsigned char)text[j]) && v < 100000) v = v * 10 + (text[j++] - '0');
        if (j > i + 1 && j < len && text[j] == ']' && v >= 1 && v <= nsources) cited[v - 1] = 1;
    }
}

/* ---- the LLM prompt ----------------------------------------------------------------- */

static const char chat_system[] =
    "You are the shopping assistant of an online shop. Answer the customer's question using only the "
    "numbered passages from the shop's documents below. After each statement, cite the passage it comes "
    "from with its number in square brackets, like [1]. If the passages do not contain the answer, say "
    "exactly: \"" CHAT_NO_ANSWER "\" and nothing else. Do not invent prices, policies or products. Be "
    "brief (at most four sentences) and answer in the customer's language.";

struct llm_msg *chat_prompt(arena_t *ar, const char *query, const struct chat_chunk *ch, size_t nch,
                            const struct sess_msg *hist, size_t nhist, size_t *n)
{
    buf_t sys;
    buf_init(&sys, ar, 4u << 20);
    buf_adds(&sys, chat_system);
    if (nch == 0) {
        buf_adds(&sys, "\n\nPassages: none were found for this question.");
    } else {
        buf_adds(&sys, "\n\nPassages:");
        for (size_t i = 0; i < nch; i++) {
            buf_printf(&sys, "\n\n[%d] %s", ch[i].source, ch[i].title ? ch[i].title : "document");
            if (ch[i].page > 0) buf_printf(&sys, ", page %d", ch[i].page);
            buf_adds(&sys, ":\n");
            buf_add(&sys, ch[i].text, ch[i].len);
        }
    }
    struct llm_msg *m = ar_calloc(ar, nhist + 2, sizeof(*m));
    if (!m || !sys.p) return NULL;
    size_t k = 0;
    m[k].role = "system";
    m[k++].content = sys.p;
    for (size_t i = 0; i < nhist; i++) {
        if (!hist[i].content || !hist[i].len) continue;
        m[k].role = strcmp(hist[i].role, "assistant") == 0 ? "assistant" : "user";
        m[k++].content = hist[i].content;
    }
    m[k].role = "user";
    m[k++].content = query;
    *n = k;
    return m;
}
