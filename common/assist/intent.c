/* intent.c: builtin intent analysis; see intent.h.
 *
 * The message is cut into lower-case words; const cue tables (English and
 * Latin-script Hinglish) vote for an intent, name follow-up cues and
 * filler words; sizes, colours, prices, categories, occasions and fabrics
 * come from qp_parse() (the lexicon product search filters with). Everything lives on the stack; tables are const. */
#include "common/assist/intent.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/search/qparse.h"

enum { IT_MAX_TOKENS = 160, IT_TOK_MAX = 32 };

struct it_toks {
    char w[IT_MAX_TOKENS][IT_TOK_MAX];
    unsigned char used[IT_MAX_TOKENS];   /* recognised by one of our tables */
    size_t n;
};

/* ---- tables ------------------------------------------------------------ */

/* A phrase is words separated by single spaces; a trailing '*' on its last
 * word matches any word with that prefix. */
struct it_cue {
    const char *phrase;
    enum it_kind kind;
    int weight;
};

static const struct it_cue it_cues[] = {
    /* support: orders, returns, shipping (a polite pointer) */
    /* "order" alone may mean buying ("I want to order a lehenga") */
    {"my order", IT_SUPPORT, 6}, {"my orders", IT_SUPPORT, 6}, {"order status", IT_SUPPORT, 6},
    {"order id", IT_SUPPORT, 6}, {"order number", IT_SUPPORT, 6}, {"mera order", IT_SUPPORT, 6},
    {"meri order", IT_SUPPORT, 6}, {"the order", IT_SUPPORT, 4}, {"placed an order", IT_SUPPORT, 6},
    {"an order", IT_SUPPORT, 3}, {"order a", IT_PRODUCT_SEARCH, 3}, {"to order", IT_PRODUCT_SEARCH, 3},
    {"track*", IT_SUPPORT, 5}, {"return", IT_SUPPORT, 5}, {"returns", IT_SUPPORT, 5},
    {"return policy", IT_SUPPORT, 6}, {"refund*", IT_SUPPORT, 5}, {"exchange", IT_SUPPORT, 5},
    {"shipping", IT_SUPPORT, 5}, {"shipment", IT_SUPPORT, 5}, {"ship", IT_SUPPORT, 4},
    {"delivery", IT_SUPPORT, 5}, {"deliver*", IT_SUPPORT, 4}, {"courier", IT_SUPPORT, 5},
    {"cancel*", IT_SUPPORT, 5}, {"invoice", IT_SUPPORT, 5}, {"payment", IT_SUPPORT, 5},
    {"dispatch*", IT_SUPPORT, 5}, {"where is my", IT_SUPPORT, 6}, {"kab aayega", IT_SUPPORT, 6},
    {"kab aayegi", IT_SUPPORT, 6}, {"kab milega", IT_SUPPORT, 4}, {"wapas", IT_SUPPORT, 5},
    {"complaint", IT_SUPPORT, 5}, {"customer care", IT_SUPPORT, 6},
    {"customer service", IT_SUPPORT, 6}, {"damaged", IT_SUPPORT, 5}, {"wrong item", IT_SUPPORT, 6},
    {"my account", IT_SUPPORT, 5}, {"cod", IT_SUPPORT, 4}, {"cash on delivery", IT_SUPPORT, 6},

    /* greeting and thanks */
    {"hi", IT_GREETING, 3}, {"hii", IT_GREETING, 3}, {"hiii", IT_GREETING, 3},
    {"hello", IT_GREETING, 3}, {"hey", IT_GREETING, 3}, {"hola", IT_GREETING, 3},
    {"namaste", IT_GREETING, 3}, {"namaskar", IT_GREETING, 3}, {"good morning", IT_GREETING, 3},
    {"good afternoon", IT_GREETING, 3}, {"good evening", IT_GREETING, 3},
    {"greetings", IT_GREETING, 3}, {"sat sri akal", IT_GREETING, 3}, {"salaam", IT_GREETING, 3},
    {"kaise ho", IT_GREETING, 3}, {"how are you", IT_GREETING, 3}, {"thanks", IT_GREETING, 3},
    {"thank you", IT_GREETING, 3}, {"shukriya", IT_GREETING, 3}, {"dhanyavad", IT_GREETING, 3},

    /* comparison */
    {"compare*", IT_COMPARISON, 5}, {"comparison", IT_COMPARISON, 5}, {"vs", IT_COMPARISON, 5},
    {"versus", IT_COMPARISON, 5}, {"difference", IT_COMPARISON, 4},
    {"which is better", IT_COMPARISON, 5}, {"better than", IT_COMPARISON, 4},
    {"which one", IT_COMPARISON, 3}, {"kaunsa", IT_COMPARISON, 3}, {"konsa", IT_COMPARISON, 3},
    {"kaun sa", IT_COMPARISON, 3}, {"behtar", IT_COMPARISON, 4}, {"farak", IT_COMPARISON, 4},
    {"fark", IT_COMPARISON, 4}, {"or", IT_COMPARISON, 1},

    /* price inquiry */
    {"how much", IT_PRICE_INQUIRY, 5}, {"price range", IT_PRICE_INQUIRY, 5},
    {"price of", IT_PRICE_INQUIRY, 4}, {"prices of", IT_PRICE_INQUIRY, 4},
    {"what is the price", IT_PRICE_INQUIRY, 5}, {"whats the price", IT_PRICE_INQUIRY, 5},
    {"cost", IT_PRICE_INQUIRY, 3}, {"costs", IT_PRICE_INQUIRY, 3}, {"how expensive", IT_PRICE_INQUIRY, 5},
    {"average price", IT_PRICE_INQUIRY, 5}, {"typical price", IT_PRICE_INQUIRY, 5},
    {"kitne", IT_PRICE_INQUIRY, 4}, {"kitna", IT_PRICE_INQUIRY, 4}, {"kitni", IT_PRICE_INQUIRY, 4},
    {"keemat", IT_PRICE_INQUIRY, 4}, {"kimat", IT_PRICE_INQUIRY, 4}, {"daam", IT_PRICE_INQUIRY, 4},
    {"rate", IT_PRICE_INQUIRY, 2}, {"price", IT_PRICE_INQUIRY, 1}, {"prices", IT_PRICE_INQUIRY, 2},
    {"pricing", IT_PRICE_INQUIRY, 3},

    /* availability */
    {"in stock", IT_AVAILABILITY, 5}, {"available", IT_AVAILABILITY, 4},
    {"availability", IT_AVAILABILITY, 5}, {"stock", IT_AVAILABILITY, 4},
    {"sold out", IT_AVAILABILITY, 5}, {"out of stock", IT_AVAILABILITY, 5},
    {"restock*", IT_AVAILABILITY, 5}, {"milega", IT_AVAILABILITY, 3}, {"milegi", IT_AVAILABILITY, 3},
    {"milenge", IT_AVAILABILITY, 3}, {"hai kya", IT_AVAILABILITY, 2}, {"do you have", IT_AVAILABILITY, 2},
    {"do you carry", IT_AVAILABILITY, 2}, {"in my size", IT_AVAILABILITY, 3},

    /* occasion advice */
    {"what should i wear", IT_OCCASION_ADVICE, 6}, {"what to wear", IT_OCCASION_ADVICE, 6},
    {"what do i wear", IT_OCCASION_ADVICE, 6}, {"what can i wear", IT_OCCASION_ADVICE, 6},
    {"what shall i wear", IT_OCCASION_ADVICE, 6}, {"kya pehnu", IT_OCCASION_ADVICE, 6},
    {"kya pehnun", IT_OCCASION_ADVICE, 6}, {"kya pehne", IT_OCCASION_ADVICE, 6},
    {"kya pahnu", IT_OCCASION_ADVICE, 6}, {"kya pehenu", IT_OCCASION_ADVICE, 6},
    {"outfit ideas", IT_OCCASION_ADVICE, 5}, {"outfit idea", IT_OCCASION_ADVICE, 5},
    {"wear to", IT_OCCASION_ADVICE, 4}, {"wear for", IT_OCCASION_ADVICE, 4},
    {"wear at", IT_OCCASION_ADVICE, 4}, {"style tips", IT_OCCASION_ADVICE, 5},
    {"styling", IT_OCCASION_ADVICE, 4}, {"how to style", IT_OCCASION_ADVICE, 5},
    {"dress code", IT_OCCASION_ADVICE, 5}, {"advice", IT_OCCASION_ADVICE, 4},
    {"tips", IT_OCCASION_ADVICE, 3}, {"what goes with", IT_OCCASION_ADVICE, 5},

    /* recommendation */
    {"recommend*", IT_RECOMMENDATION, 4}, {"suggest*", IT_RECOMMENDATION, 4},
    {"best", IT_RECOMMENDATION, 3}, {"top", IT_RECOMMENDATION, 2}, {"trending", IT_RECOMMENDATION, 4},
    {"popular", IT_RECOMMENDATION, 4}, {"bestseller*", IT_RECOMMENDATION, 4},
    {"best seller*", IT_RECOMMENDATION, 4}, {"must have", IT_RECOMMENDATION, 3},
    {"sujhao", IT_RECOMMENDATION, 4}, {"sujhav", IT_RECOMMENDATION, 4}, {"batao", IT_RECOMMENDATION, 3},
    {"bataiye", IT_RECOMMENDATION, 3}, {"whats good", IT_RECOMMENDATION, 4},
    {"new arrivals", IT_RECOMMENDATION, 4}, {"latest", IT_RECOMMENDATION, 3},
    {"in fashion", IT_RECOMMENDATION, 3}, {"your pick", IT_RECOMMENDATION, 4},
    {"ideas", IT_RECOMMENDATION, 2},

    /* product search */
    {"show", IT_PRODUCT_SEARCH, 2}, {"find", IT_PRODUCT_SEARCH, 2},
    {"looking for", IT_PRODUCT_SEARCH, 3}, {"look for", IT_PRODUCT_SEARCH, 2},
    {"need", IT_PRODUCT_SEARCH, 2}, {"want", IT_PRODUCT_SEARCH, 2}, {"search*", IT_PRODUCT_SEARCH, 2},
    {"buy", IT_PRODUCT_SEARCH, 2}, {"shop", IT_PRODUCT_SEARCH, 1}, {"shopping", IT_PRODUCT_SEARCH, 1},
    {"chahiye", IT_PRODUCT_SEARCH, 3}, {"chahie", IT_PRODUCT_SEARCH, 3}, {"dikhao", IT_PRODUCT_SEARCH, 3},
    {"dikha", IT_PRODUCT_SEARCH, 3}, {"dikhaiye", IT_PRODUCT_SEARCH, 3}, {"dhundh*", IT_PRODUCT_SEARCH, 3},
    {"kharid*", IT_PRODUCT_SEARCH, 3}, {"khareed*", IT_PRODUCT_SEARCH, 3}, {"lena", IT_PRODUCT_SEARCH, 2},
    {"lena hai", IT_PRODUCT_SEARCH, 3}, {"get me", IT_PRODUCT_SEARCH, 2},
};

struct it_follow {
    const char *phrase;
    unsigned cue;
};

static const struct it_follow it_follows[] = {
    {"instead", IT_CUE_INSTEAD}, {"what about", IT_CUE_INSTEAD}, {"how about", IT_CUE_INSTEAD},
    {"rather", IT_CUE_INSTEAD}, {"same in", IT_CUE_INSTEAD}, {"same but", IT_CUE_INSTEAD},
    {"same one", IT_CUE_INSTEAD}, {"also in", IT_CUE_INSTEAD}, {"in that", IT_CUE_INSTEAD},
    {"the same", IT_CUE_INSTEAD}, {"ke bajaye", IT_CUE_INSTEAD}, {"ki jagah", IT_CUE_INSTEAD},
    {"wala", IT_CUE_INSTEAD}, {"wali", IT_CUE_INSTEAD}, {"wale", IT_CUE_INSTEAD},
    {"cheaper", IT_CUE_CHEAPER}, {"cheap", IT_CUE_CHEAPER}, {"less expensive", IT_CUE_CHEAPER},
    {"lower price", IT_CUE_CHEAPER}, {"lower budget", IT_CUE_CHEAPER}, {"low budget", IT_CUE_CHEAPER},
    {"affordable", IT_CUE_CHEAPER}, {"more affordable", IT_CUE_CHEAPER},
    {"budget friendly", IT_CUE_CHEAPER}, {"inexpensive", IT_CUE_CHEAPER},
    {"economical", IT_CUE_CHEAPER}, {"sasta", IT_CUE_CHEAPER}, {"saste", IT_CUE_CHEAPER},
    {"sasti", IT_CUE_CHEAPER}, {"kam daam", IT_CUE_CHEAPER}, {"kam price", IT_CUE_CHEAPER},
    {"more expensive", IT_CUE_PRICIER}, {"premium", IT_CUE_PRICIER}, {"pricier", IT_CUE_PRICIER},
    {"costlier", IT_CUE_PRICIER}, {"luxury", IT_CUE_PRICIER}, {"high end", IT_CUE_PRICIER},
    {"mehenga", IT_CUE_PRICIER}, {"mehnga", IT_CUE_PRICIER}, {"mehengi", IT_CUE_PRICIER},
    {"more options", IT_CUE_MORE}, {"show more", IT_CUE_MORE}, {"more like", IT_CUE_MORE},
    {"others", IT_CUE_MORE}, {"other options", IT_CUE_MORE}, {"anything else", IT_CUE_MORE},
    {"something else", IT_CUE_MORE}, {"aur dikhao", IT_CUE_MORE},
    {"any colour", IT_CUE_ANY_COLOR}, {"any color", IT_CUE_ANY_COLOR}, {"any shade", IT_CUE_ANY_COLOR},
    {"koi bhi rang", IT_CUE_ANY_COLOR}, {"all colours", IT_CUE_ANY_COLOR}, {"all colors", IT_CUE_ANY_COLOR},
    {"any size", IT_CUE_ANY_SIZE}, {"all sizes", IT_CUE_ANY_SIZE}, {"koi bhi size", IT_CUE_ANY_SIZE},
    {"no budget", IT_CUE_NO_BUDGET}, {"any budget", IT_CUE_NO_BUDGET},
    {"budget no bar", IT_CUE_NO_BUDGET}, {"any price", IT_CUE_NO_BUDGET},
};

/* Words that are understood but carry no entity: people, shopping nouns,
 * budget words, Hinglish glue. They raise confidence, nothing else. */
static const char *const it_fillers[] = {
    "sister", "sisters", "brother", "brothers", "bhai", "behen", "didi", "bhabhi", "mom", "mother",
    "mummy", "maa", "dad", "father", "papa", "friend", "friends", "dost", "cousin", "cousins",
    "bride", "groom", "husband", "wife", "daughter", "son", "beti", "beta", "myself", "me",
    "budget", "size", "colour", "color", "rang", "price", "rs", "inr", "rupees", "rupee",
    "outfit", "outfits", "dress", "something", "anything", "options", "option", "collection",
    "designer", "piece", "pieces", "look", "wear", "wearing", "pehnna", "please", "pls", "plz",
    "mujhe", "mere", "meri", "mera", "liye", "ke", "ki", "ka", "hai", "hain", "koi", "kuch",
    "bhi", "se", "mein", "ko", "ek", "aur", "ya", "na", "toh", "to", "kya", "sirf", "bas", "yaar", "ji", "main", "hum", "humein",
    "chahta", "chahti", "dikhana", "upcoming", "next", "week", "month", "day", "occasion",
    "function", "event", "this", "that", "these", "those", "one", "ones", "some", "any",
    "can", "could", "would", "will", "you", "your", "do", "does", "is", "are", "am", "it",
    "for", "my", "the", "a", "an", "of", "in", "on", "with", "and", "i", "what", "which",
    "have", "has", "there", "get", "give", "tell", "about", "around", "under", "below", "above",
    "between", "upto", "up", "less", "than", "more", "within", "max", "maximum", "k", "lakh",
    "lakhs", "lac", "thousand", "hazaar", "hazar", "also", "too", "only", "just", "like",
    "love", "good", "nice", "beautiful", "pretty", "elegant", "gorgeous", "stunning", "go",
    "going", "attend", "attending", "mine", "her", "his", "their", "our", "we", "us",
};

/* Words that after a price word mean the price is a filter, not a question. */
static const char *const it_price_qualifiers[] = {
    "under", "below", "upto", "up", "less", "within", "between", "above", "over", "around",
    "max", "maximum", "min", "minimum", "limit", "is", "rs", "inr",
};

static const char *const it_kind_names[IT_KIND_COUNT] = {
    "product_search", "recommendation", "comparison", "price_inquiry", "availability",
    "occasion_advice", "greeting", "support", "other",
};

static const char *const it_field_names[IT_F_COUNT] = {
    "category", "color", "size", "budget", "occasion", "designer", "fabric",
};

static const char *const it_src_names[] = {"none", "message", "history", "customerContext"};

#define IT_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *it_kind_name(enum it_kind k)
{
    return (unsigned)k < IT_KIND_COUNT ? it_kind_names[k] : "other";
}

const char *it_field_name(enum it_field f)
{
    return (unsigned)f < IT_F_COUNT ? it_field_names[f] : "";
}

const char *it_src_name(enum it_src s)
{
    return (unsigned)s < IT_LEN(it_src_names) ? it_src_names[s] : "none";
}

/* ---- words --------------------------------------------------------------- */

static void it_push(struct it_toks *t, const char *w, size_t n)
{
    if (!n || t->n >= IT_MAX_TOKENS) return;
    if (n >= IT_TOK_MAX) n = IT_TOK_MAX - 1;
    memcpy(t->w[t->n], w, n);
    t->w[t->n][n] = '\0';
    t->used[t->n] = 0;
    t->n++;
}

/* Lower-case ASCII words. "sister's" -> "sisters", "40,000" -> "40000",
 * "1.5" stays, "₹" -> "rs", "~" -> "around", "2000-4000" -> "2000 to 4000".
 * Anything else (punctuation, other scripts) separates words. */
static void it_tokenize(const char *s, struct it_toks *t)
{
    char cur[IT_TOK_MAX];
    size_t n = 0;
    t->n = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p && t->n < IT_MAX_TOKENS; p++) {
        unsigned char ch = *p;
        int digit_before = n > 0 && cur[n - 1] >= '0' && cur[n - 1] <= '9';
        int digit_after = p[1] >= '0' && p[1] <= '9';
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (n < IT_TOK_MAX - 1) cur[n++] = (char)ch;
        } else if (ch >= 'A' && ch <= 'Z') {
            if (n < IT_TOK_MAX - 1) cur[n++] = (char)(ch + 32);
        } else if ((ch == '.' || ch == ',') && digit_before && digit_after) {
            if (ch == '.' && n < IT_TOK_MAX - 1) cur[n++] = '.';
        } else if (ch == '\'' && n > 0) {
            /* sister's -> sisters */
        } else if (ch == 0xE2 && p[1] == 0x80 && p[2] == 0x99 && n > 0) {
            p += 2;   /* ’ */
        } else if (ch == 0xE2 && p[1] == 0x82 && p[2] == 0xB9) {
            it_push(t, cur, n);
            n = 0;
            it_push(t, "rs", 2);
            p += 2;
        } else if (ch == '~') {
            it_push(t, cur, n);
            n = 0;
            it_push(t, "around", 6);
        } else if (ch == '-' && digit_before && digit_after) {
            it_push(t, cur, n);
            n = 0;
            it_push(t, "to", 2);
        } else {
            it_push(t, cur, n);
            n = 0;
        }
    }
    it_push(t, cur, n);
}

/* Does phrase match the words at position i? Returns the number of words
 * matched (0: no match). */
static size_t it_match_at(const struct it_toks *t, size_t i, const char *phrase)
{
    size_t k = 0;
    const char *p = phrase;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (i + k >= t->n) return 0;
        const char *w = t->w[i + k];
        if (len && p[len - 1] == '*') {
            if (strncmp(w, p, len - 1) != 0) return 0;
        } else if (strlen(w) != len || strncmp(w, p, len) != 0) {
            return 0;
        }
        k++;
        p += len;
        if (*p == ' ') p++;
    }
    return k;
}

/* Counts the matches of phrase, marking the words used. */
static int it_find(struct it_toks *t, const char *phrase)
{
    int hits = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = it_match_at(t, i, phrase);
        if (!k) continue;
        hits++;
        for (size_t j = 0; j < k; j++) t->used[i + j] = 1;
        i += k - 1;
    }
    return hits;
}

static int it_in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0) return 1;
    return 0;
}

/* "price" followed by under/below/...: a filter, not a question. */
static int it_price_word_is_filter(const struct it_toks *t, size_t i)
{
    return i + 1 < t->n && it_in_list(t->w[i + 1], it_price_qualifiers, IT_LEN(it_price_qualifiers));
}

static void it_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- designers ------------------------------------------------------------ */

/* Lower-case words of a designer name, for matching. */
static void it_name_words(const char *name, struct it_toks *out)
{
    it_tokenize(name, out);
}

/* A single name word is enough when it is long, names no other designer
 * and is not a word of another lexicon. */
static int it_word_distinct(const char *w, const struct it_lexicon *lx, size_t self)
{
    if (strlen(w) < 5) return 0;
    if (qp_filter_word_known(w)) return 0;
    struct it_toks o;
    for (size_t d = 0; d < lx->ndesigners; d++) {
        if (d == self || !lx->designers[d]) continue;
        it_name_words(lx->designers[d], &o);
        for (size_t j = 0; j < o.n; j++)
            if (strcmp(o.w[j], w) == 0) return 0;
    }
    return 1;
}

static void it_find_designer(struct it_toks *t, const struct it_lexicon *lx, struct it_entities *e)
{
    if (!lx || !lx->ndesigners) return;
    size_t best = (size_t)-1, best_words = 0, at = 0;
    struct it_toks nw;
    for (size_t d = 0; d < lx->ndesigners; d++) {
        if (!lx->designers[d] || !*lx->designers[d]) continue;
        it_name_words(lx->designers[d], &nw);
        if (!nw.n) continue;
        /* the whole name, as consecutive words */
        for (size_t i = 0; i + nw.n <= t->n; i++) {
            size_t k = 0;
            while (k < nw.n && strcmp(t->w[i + k], nw.w[k]) == 0) k++;
            /* the first name in the message wins; at one place, the longer */
            if (k == nw.n && (best == (size_t)-1 || i < at || (i == at && nw.n > best_words))) {
                best = d;
                best_words = nw.n;
                at = i;
            }
        }
    }
    if (best == (size_t)-1) {
        /* one distinctive word of a name ("sabyasachi") */
        for (size_t d = 0; d < lx->ndesigners && best == (size_t)-1; d++) {
            if (!lx->designers[d] || !*lx->designers[d]) continue;
            it_name_words(lx->designers[d], &nw);
            if (nw.n < 2) continue;
            for (size_t j = 0; j < nw.n && best == (size_t)-1; j++) {
                for (size_t i = 0; i < t->n; i++) {
                    if (strcmp(t->w[i], nw.w[j]) == 0 && it_word_distinct(nw.w[j], lx, d)) {
                        best = d;
                        best_words = 1;
                        at = i;
                        break;
                    }
                }
            }
        }
    }
    if (best == (size_t)-1) return;
    it_copy(e->designer, sizeof(e->designer), lx->designers[best]);
    e->src[IT_F_DESIGNER] = IT_SRC_MESSAGE;
    for (size_t k = 0; k < best_words; k++) t->used[at + k] = 1;
}

/* ---- analysis -------------------------------------------------------------- */

static void it_from_qparse(const struct qp_result *q, struct it_entities *e, int *nent)
{
    const struct qp_filters *f = &q->f;
    if (f->category[0]) {
        it_copy(e->category, sizeof(e->category), f->category);
        e->src[IT_F_CATEGORY] = IT_SRC_MESSAGE;
        (*nent)++;
    }
    if (f->color[0] || f->color_family[0]) {
        it_copy(e->color, sizeof(e->color), f->color[0] ? f->color : f->color_family);
        it_copy(e->color_family, sizeof(e->color_family), f->color_family);
        e->src[IT_F_COLOR] = IT_SRC_MESSAGE;
        (*nent)++;
    }
    if (f->size[0]) {
        it_copy(e->size, sizeof(e->size), f->size);
        e->src[IT_F_SIZE] = IT_SRC_MESSAGE;
        (*nent)++;
    }
    if (f->occasion[0]) {
        it_copy(e->occasion, sizeof(e->occasion), f->occasion);
        e->src[IT_F_OCCASION] = IT_SRC_MESSAGE;
        (*nent)++;
    }
    if (f->fabric[0]) {   /* the same lexicon as the search filter */
        it_copy(e->fabric, sizeof(e->fabric), f->fabric);
        e->src[IT_F_FABRIC] = IT_SRC_MESSAGE;
        (*nent)++;
    }
    if (f->min_price >= 0 || f->max_price >= 0) {
        e->budget_min = f->min_price > 0 ? f->min_price : 0;
        e->budget_max = f->max_price > 0 ? f->max_price : 0;
        if (e->budget_min > 0 || e->budget_max > 0) {
            e->src[IT_F_BUDGET] = IT_SRC_MESSAGE;
            (*nent)++;
            /* "around X" is the band [X(1-a), X(1+a)] */
            if (e->budget_min > 0 && e->budget_max > 0) {
                double x = e->budget_min / (1.0 - QP_AROUND);
                if (fabs(x * (1.0 + QP_AROUND) - e->budget_max) < 1.0) {
                    e->budget_around = 1;
                    e->budget_target = round(x);
                }
            }
        }
    }
}

/* Intent cues score their kind and mark their words used; a price word
 * before "under"/"below" is a filter, not a question about price. */
static void it_score_cues(struct it_toks *t, int score[IT_KIND_COUNT])
{
    for (size_t c = 0; c < IT_LEN(it_cues); c++) {
        for (size_t i = 0; i < t->n; i++) {
            size_t k = it_match_at(t, i, it_cues[c].phrase);
            if (!k) continue;
            if (it_cues[c].kind == IT_PRICE_INQUIRY && k == 1 &&
                (!strcmp(t->w[i], "price") || !strcmp(t->w[i], "prices")) && it_price_word_is_filter(t, i))
                continue;
            score[it_cues[c].kind] += it_cues[c].weight;
            for (size_t j = 0; j < k; j++) t->used[i + j] = 1;
            i += k - 1;
        }
    }
}

/* The intent from the cues' scores and what the message names; *from_cue
 * says whether a cue decided it (it counts toward the confidence). */
static enum it_kind it_choose(const int score[IT_KIND_COUNT], const struct it_result *out, int *from_cue)
{
    const struct it_entities *e = &out->e;
    int products = e->category[0] || e->color[0] || e->size[0] || e->src[IT_F_BUDGET] || e->designer[0] ||
                   e->fabric[0];
    *from_cue = 1;
    if (score[IT_SUPPORT] > 0) return IT_SUPPORT;
    /* priority on ties: the order of this list */
    static const enum it_kind order[] = {IT_COMPARISON, IT_PRICE_INQUIRY, IT_AVAILABILITY,
                                         IT_OCCASION_ADVICE, IT_RECOMMENDATION, IT_PRODUCT_SEARCH};
    enum it_kind kind = IT_OTHER;
    int best = 0;
    for (size_t i = 0; i < IT_LEN(order); i++) {
        if (score[order[i]] > best) {
            best = score[order[i]];
            kind = order[i];
        }
    }
    /* a lone "or" compares only when two things are named */
    if (kind == IT_COMPARISON && best <= 1 && !products) kind = IT_OTHER;
    *from_cue = kind != IT_OTHER;
    if (kind == IT_OTHER) {
        if (products || (out->cues & (IT_CUE_INSTEAD | IT_CUE_CHEAPER | IT_CUE_PRICIER | IT_CUE_MORE |
                                      IT_CUE_ANY_COLOR | IT_CUE_ANY_SIZE)))
            kind = IT_PRODUCT_SEARCH;
        else if (e->occasion[0])
            kind = IT_OCCASION_ADVICE;
        else if (score[IT_GREETING] > 0) {
            kind = IT_GREETING;
            *from_cue = 1;
        }
    }
    /* an occasion with no garment named asks for advice */
    if ((kind == IT_RECOMMENDATION || kind == IT_PRODUCT_SEARCH) && e->occasion[0] && !e->category[0] &&
        !e->color[0] && !e->designer[0] && !e->fabric[0] &&
        !(out->cues & (IT_CUE_INSTEAD | IT_CUE_CHEAPER | IT_CUE_PRICIER | IT_CUE_MORE)))
        kind = IT_OCCASION_ADVICE;
    return kind;
}

/* Words of the parser's residual that no cue, filler or entity explained. */
static int it_unexplained(const struct it_toks *t, const char *residual)
{
    int unrec = 0;
    const char *r = residual;
    while (*r) {
        const char *e = strchr(r, ' ');
        size_t len = e ? (size_t)(e - r) : strlen(r);
        int known = 0;
        for (size_t i = 0; i < t->n && !known; i++)
            known = t->used[i] && strlen(t->w[i]) == len && strncmp(t->w[i], r, len) == 0;
        if (len && !known) unrec++;
        r += len;
        while (*r == ' ') r++;
    }
    return unrec;
}

/* Confidence: recognised words against words left unexplained; product
 * intents are sure when they name what they want, greetings and support
 * pointers need no entities. Two decimals, at most 0.97. */
static double it_confidence(const struct it_toks *t, const char *residual, int nent, enum it_kind kind,
                            int from_cue)
{
    int rec = nent, unrec = it_unexplained(t, residual);
    for (size_t i = 0; i < t->n; i++)
        if (t->used[i]) rec++;
    double ratio = rec + unrec > 0 ? (double)rec / (rec + unrec) : 0.0;
    double named = kind == IT_GREETING || kind == IT_SUPPORT ? 1.0 : (nent >= 3 ? 1.0 : nent / 3.0);
    double conf;
    if (kind == IT_OTHER)
        conf = 0.1 + 0.2 * ratio;
    else
        conf = 0.15 + 0.35 * ratio + (from_cue ? 0.15 : 0.08) + 0.3 * named;
    if (conf > 0.97) conf = 0.97;
    if (conf < 0.0) conf = 0.0;
    return round(conf * 100.0) / 100.0;
}

int it_analyze(const char *msg, const struct it_lexicon *lx, struct it_result *out)
{
    struct it_toks t;
    struct qp_result q;
    int score[IT_KIND_COUNT] = {0};
    int nent = 0, from_cue = 0;

    memset(out, 0, sizeof(*out));
    it_tokenize(msg ? msg : "", &t);
    qp_parse(msg ? msg : "", &q);
    it_from_qparse(&q, &out->e, &nent);
    it_score_cues(&t, score);
    for (size_t c = 0; c < IT_LEN(it_follows); c++)
        if (it_find(&t, it_follows[c].phrase)) out->cues |= it_follows[c].cue;
    it_find_designer(&t, lx, &out->e);
    if (out->e.designer[0]) nent++;
    for (size_t i = 0; i < t.n; i++)
        if (it_in_list(t.w[i], it_fillers, IT_LEN(it_fillers))) t.used[i] = 1;
    out->intent = it_choose(score, out, &from_cue);
    out->confidence = it_confidence(&t, q.residual, nent, out->intent, from_cue);
    return 0;
}

int it_wants_products(const struct it_result *r)
{
    return r->intent != IT_GREETING && r->intent != IT_SUPPORT && r->intent != IT_OTHER;
}
