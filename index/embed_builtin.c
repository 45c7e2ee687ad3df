/* embed_builtin.c: the builtin embedder ("builtin-v1"): signed feature
 * hashing of words, word bigrams and character 3-5-grams into `dim`
 * dimensions, with a fashion lexicon (spellings, Hinglish, synonyms, colour
 * families), L2-normalised. Deterministic, in-process, no model files and no
 * allocation per call. Anything that changes a vector must bump
 * BI_NAME: index metadata records it and a mismatch is refused. */
#include "common/base/hash.h"
#include "index/embed.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "index/embed_provider.h"

#define BI_NAME "builtin-v1"

/* Feature weights (before normalisation). Each word's character n-grams
 * share BI_W_CHARS of L2 mass, so a long word does not outweigh a short one. */
#define BI_W_WORD 1.0f
#define BI_W_SYNONYM 1.0f
#define BI_W_FAMILY 1.0f
#define BI_W_BIGRAM 0.5f
#define BI_W_CHARS 1.2f

enum { BI_TOK_CP = 40, BI_TOK_BYTES = 160 };

enum lx_kind {
    LX_VARIANT, /* another spelling or language: replaced by `to` */
    LX_SYNONYM, /* kept, and `to` added as a second word */
    LX_FAMILY   /* kept, and the family feature `to` added (colours) */
};

struct lx_entry {
    const char *from;
    const char *to;
    enum lx_kind kind;
};

/* Sorted by strcmp of `from` (test_embed checks); one hop of VARIANT, then
 * one SYNONYM or FAMILY lookup of the result. */
static const struct lx_entry lx_table[] = {
    {"aari", "embroidery", LX_SYNONYM},
    {"achkan", "sherwani", LX_SYNONYM},
    {"anaarkali", "anarkali", LX_VARIANT},
    {"anarkalli", "anarkali", LX_VARIANT},
    {"aqua", "blue", LX_FAMILY},
    {"ash", "gray", LX_FAMILY},
    {"aubergine", "purple", LX_FAMILY},
    {"baingani", "purple", LX_VARIANT},
    {"banarasi", "silk", LX_SYNONYM},
    {"banarsi", "banarasi", LX_VARIANT},
    {"bandgala", "bandhgala", LX_VARIANT},
    {"bandhej", "bandhani", LX_VARIANT},
    {"bandhgalla", "bandhgala", LX_VARIANT},
    {"bandhini", "bandhani", LX_VARIANT},
    {"bangle", "jewellery", LX_SYNONYM},
    {"baraat", "wedding", LX_SYNONYM},
    {"beige", "brown", LX_FAMILY},
    {"benarasi", "banarasi", LX_VARIANT},
    {"benarsi", "banarasi", LX_VARIANT},
    {"bhura", "brown", LX_VARIANT},
    {"birthday", "party", LX_SYNONYM},
    {"black", "black", LX_FAMILY},
    {"blue", "blue", LX_FAMILY},
    {"blush", "pink", LX_FAMILY},
    {"bridal", "wedding", LX_SYNONYM},
    {"bride", "wedding", LX_SYNONYM},
    {"bronze", "metallic", LX_FAMILY},
    {"brown", "brown", LX_FAMILY},
    {"burgundy", "red", LX_FAMILY},
    {"byah", "wedding", LX_VARIANT},
    {"camel", "brown", LX_FAMILY},
    {"champagne", "metallic", LX_FAMILY},
    {"chaniya", "lehenga", LX_SYNONYM},
    {"chappal", "footwear", LX_SYNONYM},
    {"charcoal", "gray", LX_FAMILY},
    {"cherry", "red", LX_FAMILY},
    {"chiffion", "chiffon", LX_VARIANT},
    {"chifon", "chiffon", LX_VARIANT},
    {"chikan", "chikankari", LX_VARIANT},
    {"chikankari", "embroidery", LX_SYNONYM},
    {"chocolate", "brown", LX_FAMILY},
    {"choker", "jewellery", LX_SYNONYM},
    {"cholee", "choli", LX_VARIANT},
    {"cholli", "choli", LX_VARIANT},
    {"chudidar", "churidar", LX_VARIANT},
    {"chunari", "dupatta", LX_SYNONYM},
    {"chunni", "dupatta", LX_SYNONYM},
    {"chunri", "dupatta", LX_SYNONYM},
    {"churidaar", "churidar", LX_VARIANT},
    {"club", "party", LX_SYNONYM},
    {"clutch", "bag", LX_SYNONYM},
    {"cobalt", "blue", LX_FAMILY},
    {"cocktail", "party", LX_SYNONYM},
    {"coffee", "brown", LX_FAMILY},
    {"colors", "color", LX_VARIANT},
    {"colour", "color", LX_VARIANT},
    {"colours", "color", LX_VARIANT},
    {"copper", "metallic", LX_FAMILY},
    {"coral", "orange", LX_FAMILY},
    {"cream", "white", LX_FAMILY},
    {"crimson", "red", LX_FAMILY},
    {"daily", "casual", LX_SYNONYM},
    {"deepavali", "diwali", LX_VARIANT},
    {"desi", "traditional", LX_SYNONYM},
    {"dhothi", "dhoti", LX_VARIANT},
    {"divali", "diwali", LX_VARIANT},
    {"diwali", "festive", LX_SYNONYM},
    {"dulha", "groom", LX_VARIANT},
    {"dulhan", "bridal", LX_VARIANT},
    {"dulhe", "groom", LX_VARIANT},
    {"dupata", "dupatta", LX_VARIANT},
    {"duppatta", "dupatta", LX_VARIANT},
    {"dupptta", "dupatta", LX_VARIANT},
    {"durga", "festive", LX_SYNONYM},
    {"earring", "jewellery", LX_SYNONYM},
    {"eid", "festive", LX_SYNONYM},
    {"embroidary", "embroidery", LX_VARIANT},
    {"embroiderd", "embroidery", LX_VARIANT},
    {"embroidered", "embroidery", LX_VARIANT},
    {"emerald", "green", LX_FAMILY},
    {"engagement", "wedding", LX_SYNONYM},
    {"ethnic", "traditional", LX_SYNONYM},
    {"everyday", "casual", LX_SYNONYM},
    {"female", "women", LX_SYNONYM},
    {"ferozi", "turquoise", LX_VARIANT},
    {"festival", "festive", LX_VARIANT},
    {"firozi", "turquoise", LX_VARIANT},
    {"fuchsia", "pink", LX_FAMILY},
    {"fuschia", "fuchsia", LX_VARIANT},
    {"gagra", "ghagra", LX_VARIANT},
    {"gent", "men", LX_SYNONYM},
    {"gents", "men", LX_SYNONYM},
    {"georgete", "georgette", LX_VARIANT},
    {"georgett", "georgette", LX_VARIANT},
    {"ghagara", "ghagra", LX_VARIANT},
    {"ghaghara", "ghagra", LX_VARIANT},
    {"ghaghra", "ghagra", LX_VARIANT},
    {"ghagra", "lehenga", LX_SYNONYM},
    {"girl", "women", LX_SYNONYM},
    {"gold", "metallic", LX_FAMILY},
    {"golden", "gold", LX_VARIANT},
    {"gota", "embroidery", LX_SYNONYM},
    {"gotta", "gota", LX_VARIANT},
    {"gray", "gray", LX_FAMILY},
    {"green", "green", LX_FAMILY},
    {"grey", "gray", LX_VARIANT},
    {"groom", "wedding", LX_SYNONYM},
    {"gulabi", "pink", LX_VARIANT},
    {"haldi", "wedding", LX_SYNONYM},
    {"handbag", "bag", LX_SYNONYM},
    {"hara", "green", LX_VARIANT},
    {"heel", "footwear", LX_SYNONYM},
    {"holi", "festive", LX_SYNONYM},
    {"indigo", "blue", LX_FAMILY},
    {"ivory", "white", LX_FAMILY},
    {"jamuni", "purple", LX_VARIANT},
    {"jari", "zari", LX_VARIANT},
    {"jewelery", "jewellery", LX_VARIANT},
    {"jewellry", "jewellery", LX_VARIANT},
    {"jewelries", "jewellery", LX_VARIANT},
    {"jewelry", "jewellery", LX_VARIANT},
    {"jhumka", "jewellery", LX_SYNONYM},
    {"jhumki", "jhumka", LX_VARIANT},
    {"jodhpuri", "bandhgala", LX_SYNONYM},
    {"jooti", "jutti", LX_VARIANT},
    {"juti", "jutti", LX_VARIANT},
    {"jutti", "footwear", LX_SYNONYM},
    {"juttis", "jutti", LX_VARIANT},
    {"kaala", "black", LX_VARIANT},
    {"kada", "jewellery", LX_SYNONYM},
    {"kala", "black", LX_VARIANT},
    {"kameej", "kameez", LX_VARIANT},
    {"kamiz", "kameez", LX_VARIANT},
    {"kancheepuram", "kanjivaram", LX_VARIANT},
    {"kanchipuram", "kanjivaram", LX_VARIANT},
    {"kanjeevaram", "kanjivaram", LX_VARIANT},
    {"kanjivaram", "silk", LX_SYNONYM},
    {"kanjivaramm", "kanjivaram", LX_VARIANT},
    {"karva", "festive", LX_SYNONYM},
    {"kesari", "saffron", LX_VARIANT},
    {"kesariya", "saffron", LX_VARIANT},
    {"khaddar", "khadi", LX_VARIANT},
    {"khadi", "cotton", LX_SYNONYM},
    {"khaki", "brown", LX_FAMILY},
    {"kolhapuri", "footwear", LX_SYNONYM},
    {"kundan", "jewellery", LX_SYNONYM},
    {"kurtha", "kurta", LX_VARIANT},
    {"kurti", "kurta", LX_SYNONYM},
    {"laal", "red", LX_VARIANT},
    {"ladies", "women", LX_SYNONYM},
    {"lady", "women", LX_SYNONYM},
    {"lahanga", "lehenga", LX_VARIANT},
    {"lahenga", "lehenga", LX_VARIANT},
    {"lal", "red", LX_VARIANT},
    {"lavender", "purple", LX_FAMILY},
    {"lehanga", "lehenga", LX_VARIANT},
    {"lehangha", "lehenga", LX_VARIANT},
    {"lehariya", "leheriya", LX_VARIANT},
    {"leheria", "leheriya", LX_VARIANT},
    {"lehnga", "lehenga", LX_VARIANT},
    {"lemon", "yellow", LX_FAMILY},
    {"lenga", "lehenga", LX_VARIANT},
    {"lengha", "lehenga", LX_VARIANT},
    {"lilac", "purple", LX_FAMILY},
    {"magenta", "pink", LX_FAMILY},
    {"makhmal", "velvet", LX_SYNONYM},
    {"male", "men", LX_SYNONYM},
    {"man", "men", LX_VARIANT},
    {"mangni", "engagement", LX_VARIANT},
    {"maroon", "red", LX_FAMILY},
    {"marriage", "wedding", LX_VARIANT},
    {"mauve", "purple", LX_FAMILY},
    {"mehandi", "mehndi", LX_VARIANT},
    {"mehdi", "mehndi", LX_VARIANT},
    {"mehendi", "mehndi", LX_VARIANT},
    {"mehndi", "wedding", LX_SYNONYM},
    {"mens", "men", LX_VARIANT},
    {"mint", "green", LX_FAMILY},
    {"mojari", "footwear", LX_SYNONYM},
    {"mojri", "mojari", LX_VARIANT},
    {"mulmul", "cotton", LX_SYNONYM},
    {"mustard", "yellow", LX_FAMILY},
    {"narangi", "orange", LX_VARIANT},
    {"navaratri", "navratri", LX_VARIANT},
    {"navrathri", "navratri", LX_VARIANT},
    {"navratri", "festive", LX_SYNONYM},
    {"navy", "blue", LX_FAMILY},
    {"necklace", "jewellery", LX_SYNONYM},
    {"neela", "blue", LX_VARIANT},
    {"nila", "blue", LX_VARIANT},
    {"nude", "brown", LX_FAMILY},
    {"odhni", "dupatta", LX_SYNONYM},
    {"office", "formal", LX_SYNONYM},
    {"offwhite", "white", LX_FAMILY},
    {"olive", "green", LX_FAMILY},
    {"onam", "festive", LX_SYNONYM},
    {"onyx", "black", LX_FAMILY},
    {"orange", "orange", LX_FAMILY},
    {"oxblood", "red", LX_FAMILY},
    {"paijama", "pajama", LX_VARIANT},
    {"paithani", "silk", LX_SYNONYM},
    {"parrot", "green", LX_FAMILY},
    {"partywear", "party", LX_VARIANT},
    {"patola", "silk", LX_SYNONYM},
    {"payjama", "pajama", LX_VARIANT},
    {"peach", "pink", LX_FAMILY},
    {"peela", "yellow", LX_VARIANT},
    {"phulkari", "embroidery", LX_SYNONYM},
    {"pila", "yellow", LX_VARIANT},
    {"pink", "pink", LX_FAMILY},
    {"pista", "green", LX_FAMILY},
    {"pistachio", "green", LX_FAMILY},
    {"plum", "purple", LX_FAMILY},
    {"polki", "jewellery", LX_SYNONYM},
    {"pongal", "festive", LX_SYNONYM},
    {"pooja", "festive", LX_SYNONYM},
    {"potli", "bag", LX_SYNONYM},
    {"puja", "festive", LX_SYNONYM},
    {"purple", "purple", LX_FAMILY},
    {"purse", "bag", LX_SYNONYM},
    {"pyjama", "pajama", LX_VARIANT},
    {"pyjamas", "pajama", LX_VARIANT},
    {"qameez", "kameez", LX_VARIANT},
    {"rakhi", "festive", LX_SYNONYM},
    {"rani", "pink", LX_FAMILY},
    {"reception", "wedding", LX_SYNONYM},
    {"red", "red", LX_FAMILY},
    {"resham", "silk", LX_SYNONYM},
    {"reshmi", "resham", LX_VARIANT},
    {"rose", "pink", LX_FAMILY},
    {"ruby", "red", LX_FAMILY},
    {"rust", "orange", LX_FAMILY},
    {"saaree", "saree", LX_VARIANT},
    {"sadi", "saree", LX_VARIANT},
    {"safaid", "white", LX_VARIANT},
    {"safed", "white", LX_VARIANT},
    {"saffron", "orange", LX_FAMILY},
    {"sagai", "engagement", LX_VARIANT},
    {"sage", "green", LX_FAMILY},
    {"salmon", "pink", LX_FAMILY},
    {"salwaar", "salwar", LX_VARIANT},
    {"sandal", "footwear", LX_SYNONYM},
    {"sangeet", "wedding", LX_SYNONYM},
    {"sangit", "sangeet", LX_VARIANT},
    {"sari", "saree", LX_VARIANT},
    {"scarlet", "red", LX_FAMILY},
    {"sequin", "embellished", LX_SYNONYM},
    {"shaadi", "wedding", LX_VARIANT},
    {"shadi", "wedding", LX_VARIANT},
    {"shalwaar", "salwar", LX_VARIANT},
    {"shalwar", "salwar", LX_VARIANT},
    {"sherwaani", "sherwani", LX_VARIANT},
    {"sherwanni", "sherwani", LX_VARIANT},
    {"shoe", "footwear", LX_SYNONYM},
    {"silken", "silk", LX_SYNONYM},
    {"silver", "metallic", LX_FAMILY},
    {"sindoori", "red", LX_FAMILY},
    {"sitara", "embellished", LX_SYNONYM},
    {"slate", "gray", LX_FAMILY},
    {"sooti", "cotton", LX_SYNONYM},
    {"stonework", "embellished", LX_SYNONYM},
    {"sunehra", "gold", LX_VARIANT},
    {"sunehri", "gold", LX_VARIANT},
    {"tan", "brown", LX_FAMILY},
    {"tangerine", "orange", LX_FAMILY},
    {"tasar", "tussar", LX_VARIANT},
    {"taupe", "brown", LX_FAMILY},
    {"teal", "blue", LX_FAMILY},
    {"teej", "festive", LX_SYNONYM},
    {"teeka", "tikka", LX_VARIANT},
    {"tika", "tikka", LX_VARIANT},
    {"tikka", "jewellery", LX_SYNONYM},
    {"tote", "bag", LX_SYNONYM},
    {"turquoise", "blue", LX_FAMILY},
    {"tussar", "silk", LX_SYNONYM},
    {"tussore", "tussar", LX_VARIANT},
    {"tyohaar", "festive", LX_VARIANT},
    {"tyohar", "festive", LX_VARIANT},
    {"velevet", "velvet", LX_VARIANT},
    {"velvette", "velvet", LX_VARIANT},
    {"vermilion", "red", LX_FAMILY},
    {"violet", "purple", LX_FAMILY},
    {"vivaah", "wedding", LX_VARIANT},
    {"vivah", "wedding", LX_VARIANT},
    {"white", "white", LX_FAMILY},
    {"wine", "red", LX_FAMILY},
    {"woman", "women", LX_VARIANT},
    {"womens", "women", LX_VARIANT},
    {"yellow", "yellow", LX_FAMILY},
    {"zardoshi", "zardozi", LX_VARIANT},
    {"zardosi", "zardozi", LX_VARIANT},
    {"zardozi", "embroidery", LX_SYNONYM},
    {"zari", "embroidery", LX_SYNONYM},
    {"कुर्ता", "kurta", LX_VARIANT},
    {"लहंगा", "lehenga", LX_VARIANT},
    {"लाल", "red", LX_VARIANT},
    {"शादी", "wedding", LX_VARIANT},
    {"साड़ी", "saree", LX_VARIANT},
    {"साडी", "saree", LX_VARIANT},
};

/* Glue words that carry no product meaning (sorted by strcmp). */
static const char *const bi_stopwords[] = {
    "a", "about", "above", "all", "an", "and", "any", "are", "as", "at", "aur", "be", "below",
    "between", "buy", "by", "chahiye", "dikhao", "for", "from", "get", "has", "have", "her",
    "his", "i", "in", "inr", "is", "it", "its", "ka", "ke", "ki", "ko", "less", "liye",
    "looking", "me", "mein", "my", "need", "of", "on", "or", "our", "rs", "show", "some",
    "something", "than", "that", "the", "their", "this", "to", "under", "upto",
    "wala", "wale", "wali", "want", "with", "you", "your",
};

struct bi_tok {
    char b[BI_TOK_BYTES + 1];
    size_t len;
    int ncp;
    unsigned char cpoff[BI_TOK_CP + 1]; /* byte offset of each code point, and the end */
    int numeric;
};

static int bi_cmp_lx(const void *key, const void *ent)
{
    return strcmp((const char *)key, ((const struct lx_entry *)ent)->from);
}

static int bi_cmp_str(const void *key, const void *ent)
{
    return strcmp((const char *)key, *(const char *const *)ent);
}

static const struct lx_entry *bi_lookup(const char *w)
{
    return bsearch(w, lx_table, sizeof(lx_table) / sizeof(lx_table[0]), sizeof(lx_table[0]),
                   bi_cmp_lx);
}

static int bi_stopword(const char *w)
{
    return bsearch(w, bi_stopwords, sizeof(bi_stopwords) / sizeof(bi_stopwords[0]),
                   sizeof(bi_stopwords[0]), bi_cmp_str) != NULL;
}

/* ---- hashing ------------------------------------------------------------ */

/* builtin-v1's seed: FNV's offset basis with its last digit lost when it
 * was first typed. Every vector depends on it (an index built before would
 * silently stop matching), so it stays as it is. */
#define BI_SEED 1469598103934665603ULL

static uint64_t bi_fnv_start(char kind)
{
    return hash_fnv1a(BI_SEED, &kind, 1);
}

/* Adds ±w at the hashed position (splitmix64 finaliser over FNV-1a). */
static void bi_add(float *out, int dim, uint64_t h, float w)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    uint32_t pos = (uint32_t)(h >> 32) % (uint32_t)dim;
    out[pos] += (h & 1) ? -w : w;
}

static void bi_add_str(float *out, int dim, char kind, const char *s, size_t n, float w)
{
    bi_add(out, dim, hash_fnv1a(bi_fnv_start(kind), s, n), w);
}

/* ---- tokens ------------------------------------------------------------- */

static int bi_is_apostrophe(utf8proc_int32_t cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0x0060;
}

static int bi_is_word_cp(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static void bi_tok_push(struct bi_tok *t, utf8proc_int32_t cp)
{
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t n = utf8proc_encode_char(utf8proc_tolower(cp), enc);
    if (n <= 0 || t->ncp >= BI_TOK_CP || t->len + (size_t)n > BI_TOK_BYTES) return; /* truncated */
    t->cpoff[t->ncp++] = (unsigned char)t->len;
    memcpy(t->b + t->len, enc, (size_t)n);
    t->len += (size_t)n;
    if (cp < '0' || cp > '9') t->numeric = 0;
}

/* Next lower-cased word of [*p, end); 0 at the end. Apostrophes vanish
 * ("men's" is "mens"); bytes that are not UTF-8 separate words. */
static int bi_next(const char **p, const char *end, struct bi_tok *t)
{
    t->len = 0;
    t->ncp = 0;
    t->numeric = 1;
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)*p;
    const utf8proc_uint8_t *e = (const utf8proc_uint8_t *)end;
    while (s < e) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s, e - s, &cp);
        if (n <= 0) {
            s++;
            if (t->ncp) break;
            continue;
        }
        s += n;
        if (bi_is_word_cp(cp)) bi_tok_push(t, cp);
        else if (bi_is_apostrophe(cp)) continue;
        else if (t->ncp) break;
    }
    *p = (const char *)s;
    t->cpoff[t->ncp] = (unsigned char)t->len;
    t->b[t->len] = '\0';
    return t->ncp > 0;
}

/* Light English plural stripping on ASCII words: "sarees" -> "saree",
 * "dresses" -> "dress"; leaves "dress", "status", short words and numbers. */
static void bi_stem(struct bi_tok *t)
{
    if (t->numeric || t->len != (size_t)t->ncp || t->len < 4) return;
    char *b = t->b;
    size_t n = t->len;
    if (b[n - 1] != 's' || b[n - 2] == 's' || b[n - 2] == 'u') return;
    if (n >= 5 && b[n - 2] == 'e' && b[n - 3] == 's' && b[n - 4] == 's') n -= 2; /* -sses */
    else n -= 1;
    b[n] = '\0';
    t->len = n;
    t->ncp = (int)n;
    t->cpoff[n] = (unsigned char)n;
}

/* Replaces the token's text with an ASCII lexicon word. */
static void bi_tok_set(struct bi_tok *t, const char *w)
{
    size_t n = strlen(w);
    if (n > BI_TOK_CP) n = BI_TOK_CP;
    memcpy(t->b, w, n);
    t->b[n] = '\0';
    t->len = n;
    t->ncp = (int)n;
    for (size_t i = 0; i <= n; i++) t->cpoff[i] = (unsigned char)i;
    t->numeric = 0;
}

/* Character 3..5-grams of "<word>", sharing BI_W_CHARS of L2 mass. */
static void bi_add_chargrams(float *out, int dim, const struct bi_tok *t)
{
    int L = t->ncp + 2; /* with the two boundary markers */
    int count = 0;
    for (int n = 3; n <= 5; n++)
        if (L >= n) count += L - n + 1;
    if (!count) return;
    float w = BI_W_CHARS / sqrtf((float)count);
    for (int n = 3; n <= 5; n++) {
        for (int i = 0; i + n <= L; i++) {
            /* positions i..i+n-1 over [<] cp0 .. cp(ncp-1) [>] */
            uint64_t h = bi_fnv_start('c');
            int a = i, z = i + n; /* half-open, in marker coordinates */
            if (a == 0) {
                h = hash_fnv1a(h, "<", 1);
                a = 1;
            }
            int zz = z == L ? L - 1 : z;
            if (zz > a) h = hash_fnv1a(h, t->b + t->cpoff[a - 1], (size_t)(t->cpoff[zz - 1] - t->cpoff[a - 1]));
            if (z == L) h = hash_fnv1a(h, ">", 1);
            bi_add(out, dim, h, w);
        }
    }
}

/* One word: its canonical form, a synonym or colour family, its character
 * n-grams, and the bigram with the previous word. prev/prevlen carry the
 * previous canonical word across calls. */
static void bi_add_word(float *out, int dim, struct bi_tok *t, char *prev, size_t *prevlen)
{
    const struct lx_entry *e = bi_lookup(t->b);
    if (!e && !t->numeric) {
        bi_stem(t);
        e = bi_lookup(t->b);
    }
    if (e && e->kind == LX_VARIANT) {
        bi_tok_set(t, e->to);
        e = bi_lookup(t->b);
    }
    bi_add_str(out, dim, 'w', t->b, t->len, BI_W_WORD);
    if (e && e->kind == LX_SYNONYM) bi_add_str(out, dim, 'w', e->to, strlen(e->to), BI_W_SYNONYM);
    if (e && e->kind == LX_FAMILY) bi_add_str(out, dim, 'f', e->to, strlen(e->to), BI_W_FAMILY);
    if (!t->numeric) bi_add_chargrams(out, dim, t);
    if (*prevlen) {
        uint64_t h = hash_fnv1a(bi_fnv_start('b'), prev, *prevlen);
        h = hash_fnv1a(h, "\x1f", 1);
        bi_add(out, dim, hash_fnv1a(h, t->b, t->len), BI_W_BIGRAM);
    }
    memcpy(prev, t->b, t->len);
    *prevlen = t->len;
}

static void bi_embed_one(const char *text, int dim, float *out)
{
    memset(out, 0, sizeof(float) * (size_t)dim);
    struct bi_tok t;
    char prev[BI_TOK_BYTES + 1];
    size_t prevlen = 0;
    int words = 0;
    const char *p = text ? text : "", *end = p + strlen(p);
    while (bi_next(&p, end, &t)) {
        if (bi_stopword(t.b)) continue;
        bi_add_word(out, dim, &t, prev, &prevlen);
        words++;
    }
    /* No words: a fixed direction, so the vector is still unit length. */
    if (!words) bi_add_str(out, dim, 'e', "", 0, 1.0f);
    if (emb_normalize(out, dim) == 0) out[0] = 1.0f; /* every feature cancelled out */
}

static int bi_embed(struct embedder *e, const char *const *texts, size_t n, float *out,
                    int *timeout, char *err, size_t errlen)
{
    if (timeout) *timeout = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i & 255) == 255 && e->cancel && e->cancel(e->cancel_arg)) {
            snprintf(err, errlen, "embedding cancelled");
            return -1;
        }
        bi_embed_one(texts[i], e->dim, out + i * (size_t)e->dim);
    }
    return 0;
}

static void bi_close(struct embedder *e)
{
    (void)e;
}

int emb_builtin_init(struct embedder *e, int dim, char *err, size_t errlen)
{
    if (dim < 8 || dim > 8192) {
        snprintf(err, errlen, "embedding_dim: %d is out of range (8..8192)", dim);
        return -1;
    }
    snprintf(e->name, sizeof(e->name), "%s", BI_NAME);
    e->dim = dim;
    e->embed = bi_embed;
    e->close = bi_close;
    e->impl = NULL;
    return 0;
}

int emb_builtin_lexicon_sorted(void)
{
    for (size_t i = 1; i < sizeof(lx_table) / sizeof(lx_table[0]); i++)
        if (strcmp(lx_table[i - 1].from, lx_table[i].from) >= 0) return 0;
    for (size_t i = 1; i < sizeof(bi_stopwords) / sizeof(bi_stopwords[0]); i++)
        if (strcmp(bi_stopwords[i - 1], bi_stopwords[i]) >= 0) return 0;
    return 1;
}
