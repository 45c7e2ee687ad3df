/* qparse_lex.c: the word lists of query understanding (colours and their
 * families, categories, occasions and their tags, fabrics, handwork, sizes,
 * stopwords, with their Hinglish spellings) and the lookups over them; see
 * qparse_lex.h. */
#include "common/search/qparse_lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lexicons -------------------------------------------------------------- */

static const char *const qp_families[] = {
    "red", "pink", "orange", "yellow", "gold", "green", "blue", "purple",
    "white", "beige", "brown", "grey", "silver", "black", "multicolour", NULL,
};

static const struct qp_color qp_colors[] = {
    /* red */
    {"red", "red", "red"}, {"maroon", "maroon", "red"}, {"crimson", "crimson", "red"},
    {"wine", "wine", "red"}, {"wine red", "wine", "red"}, {"burgundy", "burgundy", "red"},
    {"ruby", "ruby", "red"}, {"ruby red", "ruby", "red"}, {"scarlet", "scarlet", "red"},
    {"cherry", "cherry", "red"}, {"cherry red", "cherry", "red"}, {"vermilion", "vermilion", "red"},
    {"sindoori", "vermilion", "red"}, {"marsala", "marsala", "red"}, {"oxblood", "oxblood", "red"},
    {"blood red", "red", "red"}, {"brick red", "brick red", "red"},
    {"laal", "red", "red"}, {"lal", "red", "red"}, {"laali", "red", "red"},
    /* pink */
    {"pink", "pink", "pink"}, {"rani pink", "rani pink", "pink"}, {"rani", "rani pink", "pink"},
    {"hot pink", "hot pink", "pink"}, {"baby pink", "baby pink", "pink"}, {"blush", "blush pink", "pink"},
    {"blush pink", "blush pink", "pink"}, {"dusty pink", "dusty pink", "pink"},
    {"dusty rose", "dusty pink", "pink"}, {"rose", "rose pink", "pink"}, {"rose pink", "rose pink", "pink"},
    {"onion pink", "onion pink", "pink"}, {"fuchsia", "fuchsia", "pink"}, {"fuschia", "fuchsia", "pink"},
    {"magenta", "magenta", "pink"}, {"gulabi", "pink", "pink"},
    /* orange */
    {"orange", "orange", "orange"}, {"peach", "peach", "orange"}, {"coral", "coral", "orange"},
    {"rust", "rust", "orange"}, {"burnt orange", "rust", "orange"}, {"saffron", "saffron", "orange"},
    {"tangerine", "tangerine", "orange"}, {"apricot", "apricot", "orange"},
    {"narangi", "orange", "orange"}, {"kesari", "saffron", "orange"}, {"kesariya", "saffron", "orange"},
    /* yellow */
    {"yellow", "yellow", "yellow"}, {"mustard", "mustard", "yellow"}, {"lemon", "lemon yellow", "yellow"},
    {"lemon yellow", "lemon yellow", "yellow"}, {"canary", "canary yellow", "yellow"},
    {"turmeric yellow", "mustard", "yellow"}, {"peela", "yellow", "yellow"}, {"peeli", "yellow", "yellow"},
    {"pila", "yellow", "yellow"}, {"basanti", "yellow", "yellow"},
    /* gold */
    {"gold", "gold", "gold"}, {"golden", "gold", "gold"}, {"antique gold", "antique gold", "gold"},
    {"rose gold", "rose gold", "gold"}, {"sunehra", "gold", "gold"}, {"sunehri", "gold", "gold"},
    /* green */
    {"green", "green", "green"}, {"emerald", "emerald", "green"}, {"emerald green", "emerald", "green"},
    {"bottle green", "bottle green", "green"}, {"olive", "olive", "green"}, {"olive green", "olive", "green"},
    {"sage", "sage", "green"}, {"sage green", "sage", "green"}, {"mint", "mint", "green"},
    {"mint green", "mint", "green"}, {"parrot green", "parrot green", "green"},
    {"sea green", "sea green", "green"}, {"pista", "pista green", "green"},
    {"pista green", "pista green", "green"}, {"pistachio", "pista green", "green"},
    {"mehendi green", "mehendi green", "green"}, {"mehndi green", "mehendi green", "green"},
    {"teal", "teal", "green"}, {"lime", "lime", "green"}, {"jade", "jade", "green"},
    {"forest green", "forest green", "green"}, {"hara", "green", "green"}, {"hari", "green", "green"},
    {"hare", "green", "green"},
    /* blue */
    {"blue", "blue", "blue"}, {"navy", "navy", "blue"}, {"navy blue", "navy", "blue"},
    {"royal blue", "royal blue", "blue"}, {"powder blue", "powder blue", "blue"},
    {"sky blue", "sky blue", "blue"}, {"ice blue", "ice blue", "blue"}, {"cobalt", "cobalt", "blue"},
    {"cobalt blue", "cobalt", "blue"}, {"indigo", "indigo", "blue"}, {"turquoise", "turquoise", "blue"},
    {"aqua", "aqua", "blue"}, {"firozi", "turquoise", "blue"}, {"peacock blue", "peacock blue", "blue"},
    {"midnight blue", "midnight blue", "blue"}, {"denim", "denim blue", "blue"},
    {"neela", "blue", "blue"}, {"neeli", "blue", "blue"}, {"nila", "blue", "blue"},
    {"nili", "blue", "blue"}, {"aasmani", "sky blue", "blue"},
    /* purple */
    {"purple", "purple", "purple"}, {"lavender", "lavender", "purple"}, {"lilac", "lilac", "purple"},
    {"violet", "violet", "purple"}, {"plum", "plum", "purple"}, {"mauve", "mauve", "purple"},
    {"aubergine", "aubergine", "purple"}, {"orchid", "orchid", "purple"},
    {"baingani", "purple", "purple"}, {"jamuni", "purple", "purple"},
    /* white */
    {"white", "white", "white"}, {"ivory", "ivory", "white"}, {"off white", "off-white", "white"},
    {"offwhite", "off-white", "white"}, {"cream", "cream", "white"}, {"pearl", "pearl white", "white"},
    {"pearl white", "pearl white", "white"}, {"safed", "white", "white"}, {"safaid", "white", "white"},
    /* beige */
    {"beige", "beige", "beige"}, {"champagne", "champagne", "beige"}, {"nude", "nude", "beige"},
    {"sand", "sand", "beige"}, {"taupe", "taupe", "beige"}, {"khaki", "khaki", "beige"},
    /* brown */
    {"brown", "brown", "brown"}, {"chocolate", "chocolate", "brown"}, {"coffee", "coffee", "brown"},
    {"tan", "tan", "brown"}, {"copper", "copper", "brown"}, {"bronze", "bronze", "brown"},
    {"camel", "camel", "brown"}, {"bhura", "brown", "brown"},
    /* grey */
    {"grey", "grey", "grey"}, {"gray", "grey", "grey"}, {"charcoal", "charcoal", "grey"},
    {"slate", "slate grey", "grey"}, {"steel grey", "steel grey", "grey"}, {"ash", "ash grey", "grey"},
    /* silver */
    {"silver", "silver", "silver"}, {"chandi", "silver", "silver"}, {"chaandi", "silver", "silver"},
    {"rupehla", "silver", "silver"},
    /* black */
    {"black", "black", "black"}, {"jet black", "black", "black"}, {"onyx", "black", "black"},
    {"kala", "black", "black"}, {"kaala", "black", "black"}, {"kaali", "black", "black"},
    {"kali", "black", "black"},
    /* several */
    {"multicolour", "multicolour", "multicolour"}, {"multicolor", "multicolour", "multicolour"},
    {"multi colour", "multicolour", "multicolour"}, {"multi color", "multicolour", "multicolour"},
    {"rainbow", "multicolour", "multicolour"},
    /* shades shops name, beyond the families' own words */
    {"ochre", "ochre", "yellow"}, {"brick", "brick red", "red"}, {"terracotta", "terracotta", "orange"},
    {"cyan", "cyan", "blue"}, {"aquamarine", "aquamarine", "blue"}, {"mulberry", "mulberry", "purple"},
    {"ecru", "ecru", "beige"}, {"fawn", "fawn", "beige"}, {"mocha", "mocha", "brown"}, {"walnut", "walnut", "brown"},
    {"gunmetal", "gunmetal", "grey"}, {"salmon", "salmon", "pink"}, {"berry", "berry", "pink"},
};

/* Words that shade a colour ("dark green", "pastel pink"): the phrase is
 * the colour's family. */
static const char *const qp_shade_words[] = {
    "dark", "light", "deep", "pale", "bright", "pastel", "neon", "royal", "soft", "muted", "rich", "ink",
    "fluorescent", "dull", "medium", NULL,
};

struct qp_word {
    const char *word;
    const char *canon;
};

static const struct qp_word qp_categories[] = {
    {"lehenga", "lehenga"}, {"lehengas", "lehenga"}, {"lehnga", "lehenga"}, {"lehngas", "lehenga"},
    {"lengha", "lehenga"}, {"lenghas", "lehenga"}, {"lahenga", "lehenga"}, {"lahengas", "lehenga"},
    {"lehanga", "lehenga"}, {"lehangas", "lehenga"}, {"ghagra", "lehenga"}, {"ghagras", "lehenga"},
    {"ghaghra", "lehenga"}, {"lehenga choli", "lehenga"}, {"chaniya choli", "lehenga"},
    {"saree", "saree"}, {"sarees", "saree"}, {"sari", "saree"}, {"saris", "saree"}, {"saaree", "saree"},
    {"saarees", "saree"},
    {"kurta", "kurta"}, {"kurtas", "kurta"}, {"kurti", "kurta"}, {"kurtis", "kurta"},
    {"kurta set", "kurta set"}, {"kurta sets", "kurta set"}, {"kurta pyjama", "kurta"}, {"kurta pajama", "kurta"},
    {"sherwani", "sherwani"}, {"sherwanis", "sherwani"}, {"sherwaani", "sherwani"},
    {"achkan", "sherwani"}, {"achkans", "sherwani"},
    {"gown", "gown"}, {"gowns", "gown"},
    {"anarkali", "anarkali"}, {"anarkalis", "anarkali"}, {"anarkali suit", "anarkali"},
    {"anarkali suits", "anarkali"},
    {"sharara", "sharara"}, {"shararas", "sharara"}, {"sharara set", "sharara"}, {"sharara sets", "sharara"},
    {"gharara", "gharara"}, {"ghararas", "gharara"},
    {"dupatta", "dupatta"}, {"dupattas", "dupatta"}, {"chunni", "dupatta"}, {"chunri", "dupatta"},
    {"chunari", "dupatta"}, {"odhni", "dupatta"},
    {"salwar suit", "salwar suit"}, {"salwar suits", "salwar suit"}, {"salwar kameez", "salwar suit"},
    {"salwar", "salwar suit"}, {"churidar", "salwar suit"}, {"churidar suit", "salwar suit"},
    {"bandhgala", "bandhgala"}, {"bandhgalas", "bandhgala"}, {"bandh gala", "bandhgala"},
    {"jodhpuri", "bandhgala"}, {"jodhpuri suit", "bandhgala"},
    {"nehru jacket", "nehru jacket"}, {"nehru jackets", "nehru jacket"}, {"modi jacket", "nehru jacket"},
    {"indo western", "indo-western"}, {"indowestern", "indo-western"}, {"fusion", "indo-western"},
    {"kaftan", "kaftan"}, {"kaftans", "kaftan"}, {"caftan", "kaftan"}, {"caftans", "kaftan"},
    {"blouse", "blouse"}, {"blouses", "blouse"},
    {"co ord", "co-ord set"}, {"coord", "co-ord set"}, {"coords", "co-ord set"},
    {"co ords", "co-ord set"}, {"coord set", "co-ord set"}, {"co ord set", "co-ord set"},
    {"suit", "salwar suit"}, {"suits", "salwar suit"}, {"kameez", "salwar suit"},
};

/* What a garment is called in a product's text, for a category matched by
 * its words (qp_category_text): FULLTEXT boolean expressions, any term
 * enough. The single-word spellings above (a unit test checks), phrases
 * only where no single word says it, and what shops call the garment
 * without its name: a kurta sold with a bottom or a dupatta is a suit
 * (a "kurta set"). Words under three letters are not indexed: left out. */
static const struct qp_word qp_category_texts[] = {
    {"lehenga", "lehenga lehengas lehnga lehngas lengha lenghas lahenga lahengas lehanga lehangas ghagra ghagras "
                "ghaghra \"chaniya choli\""},
    {"saree", "saree sarees sari saris saaree saarees"},
    {"kurta", "kurta kurtas kurti kurtis"},
    {"kurta set", "\"kurta set\" \"kurta sets\" "
                  "(+kurta +(salwar churidar trousers palazzo palazzos pants pyjama pyjamas sharara dupatta))"},
    {"sherwani", "sherwani sherwanis sherwaani achkan achkans"},
    {"gown", "gown gowns"},
    {"anarkali", "anarkali anarkalis"},
    {"sharara", "sharara shararas"},
    {"gharara", "gharara ghararas"},
    {"dupatta", "dupatta dupattas chunni chunri chunari odhni"},
    {"salwar suit", "salwar churidar suit suits kameez "
                    "(+kurta +(salwar churidar trousers palazzo palazzos pants pyjama pyjamas sharara dupatta))"},
    {"bandhgala", "bandhgala bandhgalas \"bandh gala\" jodhpuri"},
    {"nehru jacket", "\"nehru jacket\" \"nehru jackets\" \"modi jacket\""},
    {"indo-western", "indowestern fusion \"indo western\""},
    {"kaftan", "kaftan kaftans caftan caftans"},
    {"blouse", "blouse blouses"},
    {"co-ord set", "coord coords"},
};

static const struct qp_word qp_occasions[] = {
    {"wedding", "wedding"}, {"weddings", "wedding"}, {"bridal", "wedding"}, {"bride", "wedding"},
    {"brides", "wedding"}, {"groom", "wedding"}, {"shaadi", "wedding"}, {"shadi", "wedding"},
    {"vivah", "wedding"}, {"vivaah", "wedding"}, {"byah", "wedding"}, {"biyah", "wedding"},
    {"dulhan", "wedding"}, {"dulha", "wedding"},
    {"reception", "reception"}, {"sangeet", "sangeet"},
    {"mehendi", "mehendi"}, {"mehndi", "mehendi"}, {"mehandi", "mehendi"},
    {"haldi", "haldi"},
    {"engagement", "engagement"}, {"sagai", "engagement"}, {"roka", "engagement"},
    {"ring ceremony", "engagement"},
    {"festive", "festive"}, {"festival", "festive"}, {"festivals", "festive"}, {"tyohar", "festive"},
    {"tyohaar", "festive"}, {"pooja", "festive"}, {"puja", "festive"},
    {"diwali", "diwali"}, {"deepavali", "diwali"}, {"eid", "eid"},
    {"navratri", "navratri"}, {"garba", "navratri"}, {"dandiya", "navratri"},
    {"party", "party"}, {"partywear", "party"}, {"party wear", "party"},
    {"cocktail", "cocktail"},
    {"casual", "casual"}, {"everyday", "casual"}, {"vacation", "casual"}, {"holiday", "casual"},
    {"holidays", "casual"}, {"beach", "casual"}, {"travel", "casual"}, {"college", "casual"},
    {"office", "office"}, {"workwear", "office"},
};

struct qp_occ_tags {
    const char *occasion;   /* (or fabric) */
    const char *tags[6];
};

static const struct qp_occ_tags qp_occ_tags_tab[] = {
    {"wedding", {"wedding", "bridal", NULL}},
    {"reception", {"reception", NULL}},
    {"sangeet", {"sangeet", NULL}},
    {"mehendi", {"mehendi", NULL}},
    {"haldi", {"haldi", NULL}},
    {"engagement", {"engagement", NULL}},
    {"festive", {"festive", "diwali", "eid", "navratri", NULL}},
    {"diwali", {"diwali", "festive", NULL}},
    {"eid", {"eid", "festive", NULL}},
    {"navratri", {"navratri", "festive", NULL}},
    {"party", {"party", "cocktail", NULL}},
    {"cocktail", {"cocktail", "party", NULL}},
    {"casual", {"casual", NULL}},
    {"office", {"office", NULL}},
};

/* Fabrics: canonical names are the catalog's tags, as tools/admin_gen.c
 * writes them; then common spellings. */
static const struct qp_word qp_fabrics[] = {
    {"silk", "silk"}, {"silks", "silk"}, {"pure silk", "silk"}, {"silk blend", "silk"},
    {"raw silk", "raw silk"}, {"rawsilk", "raw silk"},
    {"banarasi silk", "banarasi silk"}, {"banarasi", "banarasi silk"}, {"banarsi", "banarasi silk"},
    {"banarsi silk", "banarasi silk"}, {"benarasi", "banarasi silk"}, {"benarasi silk", "banarasi silk"},
    {"benarsi", "banarasi silk"}, {"banaras silk", "banarasi silk"},
    {"kanjeevaram silk", "kanjeevaram silk"}, {"kanjeevaram", "kanjeevaram silk"},
    {"kanjivaram", "kanjeevaram silk"}, {"kanjivaram silk", "kanjeevaram silk"},
    {"kanjiveeram", "kanjeevaram silk"}, {"kanchipuram", "kanjeevaram silk"},
    {"kanchipuram silk", "kanjeevaram silk"}, {"kanchi silk", "kanjeevaram silk"},
    {"tussar silk", "tussar silk"}, {"tussar", "tussar silk"}, {"tussore", "tussar silk"},
    {"tussah", "tussar silk"}, {"tassar", "tussar silk"}, {"tassar silk", "tussar silk"},
    {"cotton", "cotton"}, {"cottons", "cotton"}, {"pure cotton", "cotton"}, {"sooti", "cotton"},
    {"suti", "cotton"},
    {"mul cotton", "mul cotton"}, {"mulmul", "mul cotton"}, {"mul mul", "mul cotton"},
    {"mulmul cotton", "mul cotton"},
    {"linen", "linen"}, {"linens", "linen"}, {"chanderi", "chanderi"}, {"chanderi silk", "chanderi"},
    {"georgette", "georgette"}, {"georgettes", "georgette"}, {"organza", "organza"}, {"organzas", "organza"},
    {"net", "net"}, {"chiffon", "chiffon"}, {"chiffons", "chiffon"}, {"crepe", "crepe"}, {"crepes", "crepe"},
    {"satin", "satin"}, {"velvet", "velvet"}, {"velvets", "velvet"}, {"brocade", "brocade"},
    {"brocades", "brocade"}, {"tulle", "tulle"}, {"jacquard", "jacquard"}, {"modal", "modal"},
    {"khadi", "khadi"}, {"wool blend", "wool blend"}, {"wool", "wool blend"}, {"woollen", "wool blend"},
    {"muslin", "muslin"}, {"rayon", "rayon"}, {"chinon", "chinon"},
};

/* Categories that accept a neighbour: a kurta set is first of all a kurta
 * (shops file the one under the other); the others only themselves. */
static const struct qp_occ_tags qp_cat_accepts_tab[] = {
    {"kurta set", {"kurta set", "kurta", NULL}},
};

const char *qp_category_stored(const char *canon)
{
    /* filed under the first neighbour it accepts after itself */
    const char *const *acc = qp_category_accepts(canon);
    return acc && acc[0] && acc[1] ? acc[1] : canon;
}

const char *const *qp_category_accepts(const char *category)
{
    for (size_t i = 0; i < sizeof(qp_cat_accepts_tab) / sizeof(qp_cat_accepts_tab[0]); i++)
        if (strcmp(qp_cat_accepts_tab[i].occasion, category) == 0) return qp_cat_accepts_tab[i].tags;
    return NULL;
}

/* Fabrics that stand for a family of tags; the others only for themselves. */
static const struct qp_occ_tags qp_fab_tags_tab[] = {
    {"silk", {"silk", "raw silk", "banarasi silk", "kanjeevaram silk", "tussar silk", NULL}},
    {"cotton", {"cotton", "mul cotton", NULL}},
};

/* Handwork and embroidery: canonical names are the catalog's tags
 * (tools/admin_gen.c), then spellings. A following "work", "embroidery"
 * or "embroidered" belongs to the phrase (qp_lexicon). */
static const struct qp_word qp_works[] = {
    {"zardozi", "zardozi"}, {"zardosi", "zardozi"}, {"zardoshi", "zardozi"},
    {"gota patti", "gota patti"}, {"gota", "gota patti"}, {"gotta patti", "gota patti"},
    {"gotta", "gota patti"}, {"gotapatti", "gota patti"}, {"gota pati", "gota patti"},
    {"mirror work", "mirror work"}, {"mirror", "mirror work"}, {"mirrorwork", "mirror work"},
    {"shisha", "mirror work"}, {"sheesha", "mirror work"},
    {"chikankari", "chikankari"}, {"chikan", "chikankari"}, {"chikan kari", "chikankari"},
    {"chikankaari", "chikankari"}, {"chickenkari", "chikankari"},
    {"sequin", "sequin"}, {"sequins", "sequin"}, {"sequinned", "sequin"}, {"sequined", "sequin"},
    {"sequence", "sequin"},
    {"thread embroidery", "thread embroidery"}, {"thread", "thread embroidery"},
    {"threadwork", "thread embroidery"},
    {"resham", "resham"}, {"aari", "aari"}, {"ari work", "aari"}, {"dabka", "dabka"}, {"dapka", "dabka"},
    {"bandhani", "bandhani"}, {"bandhej", "bandhani"}, {"bandini", "bandhani"}, {"bandhini", "bandhani"},
    {"block print", "block print"}, {"block printed", "block print"}, {"block prints", "block print"},
    {"blockprint", "block print"},
    {"leheriya", "leheriya"}, {"lehariya", "leheriya"}, {"leheria", "leheriya"}, {"laheriya", "leheriya"},
    {"kalamkari", "kalamkari"}, {"ikat", "ikat"}, {"phulkari", "phulkari"}, {"zari", "zari"},
    {"kantha", "kantha"}, {"pearl embellished", "pearl embellished"}, {"pearl work", "pearl embellished"},
    {"cutdana", "cutdana"}, {"cut dana", "cutdana"}, {"marori", "marori"}, {"marodi", "marori"},
    {"hand painted", "hand painted"}, {"handpainted", "hand painted"}, {"hand paint", "hand painted"},
    {"floral print", "floral print"}, {"floral printed", "floral print"}, {"floral prints", "floral print"},
    {"applique", "applique"}, {"appliqu\xC3\xA9", "applique"},
};

static const struct qp_word qp_sizes[] = {
    {"xs", "XS"}, {"extra small", "XS"}, {"s", "S"}, {"small", "S"}, {"m", "M"}, {"medium", "M"},
    {"l", "L"}, {"large", "L"}, {"xl", "XL"}, {"extra large", "XL"}, {"xxl", "XXL"}, {"2xl", "XXL"},
    {"xxxl", "XXXL"}, {"3xl", "XXXL"}, {"free size", "Free Size"}, {"freesize", "Free Size"},
    {"free", "Free Size"}, {"one size", "Free Size"}, {"onesize", "Free Size"},
};

/* InnoDB's default FULLTEXT stopwords (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). */
static const char *const qp_ft_stopwords[] = {
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how", "i",
    "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when",
    "where", "who", "will", "with", "und", "www", NULL,
};

/* Filler words of shopping queries (English and Hinglish) that would
 * otherwise become required terms. */
static const char *const qp_stopwords[] = {
    "and", "also", "any", "all", "can", "do", "does", "me", "my", "show", "find", "search", "want",
    "need", "looking", "look", "buy", "get", "give", "please", "pls", "some", "something", "good",
    "nice", "best", "latest", "new", "wear", "wears", "outfit", "outfits", "dress", "dresses",
    "like", "which", "have", "has", "you", "your", "our", "only", "item", "items", "product",
    "products", "collection", "options", "option", "color", "colour", "colors", "colours",
    "colored", "coloured", "size", "sizes", "sized", "price", "priced", "prices", "cost", "costs",
    "budget", "rs", "inr", "rupees", "rupee", "stock", "available", "under", "below", "above",
    "over", "between", "around", "less", "more", "than", "upto", "within", "cheap", "cheaper",
    "women", "womens", "woman", "ladies", "lady", "girls", "men", "mens", "man", "gents", "boys",
    "ka", "ki", "ke", "mein", "wala", "wali", "wale", "chahiye", "dikhao", "liye", "aur", "bhi",
    "koi", "kuch", "sasta", "saste", "sasti", "accha", "acha", "set", "sets",
    "should", "would", "could", "might", "must", "shall", "may", "suggest", "recommend", "wearing",
    "attend", "attending", "going", "wanted", "anything", "clothes", "clothing", "attire",
    NULL,
};

/* ---- what ranks first among equals (qp_boosts) ------------------------------ */

/* Who a garment is for, as shops title it; the query words that ask. */
struct qp_audience {
    const char *const asked[12];
    const char *const titled[8];
};

static const struct qp_audience qp_audiences[] = {
    {{"men", "mens", "man", "gents", "male", "groom", "mard", "aadmi", NULL},
     {"men", "mens", "man", "gents", "menswear", NULL}},
    {{"women", "womens", "woman", "ladies", "lady", "female", "bride", "mahila", "aurat", NULL},
     {"women", "womens", "woman", "ladies", "womenswear", NULL}},
    {{"boys", "boy", "ladka", "ladke", "ladko", "ladkon", "son", NULL}, {"boys", "boy", NULL}},
    {{"girls", "girl", "ladki", "ladkiyan", "ladkiyon", "daughter", NULL}, {"girls", "girl", NULL}},
    {{"kids", "kid", "children", "child", "bacche", "bachche", "bacchon", "bachchon", "baccho", "bachon", NULL},
     {"kids", "kid", "boys", "girls", "children", NULL}},
};

/* What an occasion a catalog rarely tags looks like in the products'
 * text: the garments worn to it, the work and fabrics that make a piece
 * fit it, the colours it calls for (haldi: yellow, mehendi: green); and
 * the FULLTEXT expression that finds them, for an occasion matched by its
 * words (qp_occasion_text): the occasion named, or one of its garments
 * with one of its works or colours. */
struct qp_occ_sense {
    const char *occasion;
    const char *text;
    const char *const garments[12];
    const char *const work[14];
    const char *const colours[4];
};

#define QP_FESTIVE_WORK "zari", "sequin", "sequinned", "sequined", "embroidered", "embellished", "silk", "woven", \
                        "banarasi", "gota", "mirror", "brocade", "jacquard", NULL
#define QP_ETHNIC "kurta", "kurti", "saree", "lehenga", "anarkali", "sharara", "gharara", "salwar", "dupatta", \
                  "sherwani", "ethnic", NULL

static const struct qp_occ_sense qp_occ_senses[] = {
    {"wedding", "wedding bridal (+(lehenga lehengas saree sarees sherwani sherwanis anarkali gown) +(zari zardozi banarasi kanjeevaram silk velvet embroidered embellished))",
     {"lehenga", "saree", "sherwani", "anarkali", "gown", "sharara", "bandhgala", NULL},
     {"zari", "zardozi", "banarasi", "kanjeevaram", "silk", "velvet", "embroidered", "embellished", "sequinned",
      "woven", "brocade", NULL}, {NULL}},
    {"reception", "reception (+(gown gowns lehenga saree sherwani bandhgala) +(sequinned sequin embellished velvet silk satin))",
     {"gown", "lehenga", "saree", "sherwani", "bandhgala", NULL},
     {"sequinned", "sequin", "embellished", "velvet", "silk", "satin", "zari", NULL}, {NULL}},
    {"sangeet", "sangeet (+(lehenga sharara anarkali gharara saree gown) +(sequinned sequin embroidered mirror zari gota))",
     {"lehenga", "sharara", "anarkali", "gharara", "saree", "gown", NULL},
     {"sequin", "sequinned", "sequined", "embroidered", "mirror", "zari", "gota", "embellished", NULL}, {NULL}},
    {"mehendi", "mehendi mehndi (+(sharara lehenga anarkali gharara kurta kurti) +(green mirror gota leheriya bandhani))",
     {"sharara", "lehenga", "anarkali", "gharara", "kurta", "kurti", NULL},
     {"mirror", "gota", "embroidered", "leheriya", "bandhani", NULL}, {"green", "olive", "mehendi", NULL}},
    {"haldi", "haldi (+(kurta kurti sharara anarkali lehenga saree gharara) +(yellow mustard gota))",
     {"kurta", "kurti", "sharara", "anarkali", "lehenga", "saree", "gharara", NULL},
     {"gota", "mirror", "embroidered", "floral", NULL}, {"yellow", "mustard", "haldi", NULL}},
    {"engagement", "engagement (+(lehenga saree gown anarkali sherwani) +(embellished sequinned sequin zari embroidered))",
     {"lehenga", "saree", "gown", "anarkali", "sherwani", NULL},
     {"embellished", "sequinned", "sequin", "zari", "embroidered", "silk", NULL}, {NULL}},
    {"festive", "festive (+(kurta kurti saree lehenga anarkali sharara gharara ethnic) +(silk zari sequinned sequin embroidered woven embellished))",
     {QP_ETHNIC}, {QP_FESTIVE_WORK}, {NULL}},
    {"diwali", "diwali festive (+(kurta kurti saree lehenga anarkali sharara gharara ethnic) +(silk zari sequinned sequin embroidered woven embellished))",
     {QP_ETHNIC}, {QP_FESTIVE_WORK}, {NULL}},
    {"eid", "eid festive (+(kurta sharara anarkali pathani gharara salwar) +(silk zari embroidered embellished))",
     {"kurta", "sharara", "anarkali", "gharara", "pathani", "salwar", "kurti", NULL}, {QP_FESTIVE_WORK}, {NULL}},
    {"navratri", "navratri garba dandiya chaniya (+(lehenga choli ghagra) +(mirror bandhani gota leheriya embroidered))",
     {"lehenga", "choli", "chaniya", "ghagra", "kediyu", NULL},
     {"mirror", "bandhani", "gota", "leheriya", "embroidered", NULL}, {NULL}},
    {"party", "party (+(dress dresses gown jumpsuit saree top) +(sequinned sequin embellished satin))",
     {"dress", "gown", "jumpsuit", "saree", "top", NULL}, {"sequinned", "sequin", "embellished", "satin", NULL},
     {NULL}},
    {"cocktail", "cocktail (+(dress dresses gown jumpsuit saree) +(sequinned sequin embellished satin))",
     {"dress", "gown", "jumpsuit", "saree", NULL}, {"sequinned", "sequin", "embellished", "satin", NULL}, {NULL}},
    {"casual", "casual (+(top tops kurta kurti dress shirt) +(cotton printed linen rayon floral))",
     {"top", "kurta", "kurti", "dress", "shirt", NULL},
     {"cotton", "printed", "solid", "linen", "rayon", "floral", "casual", NULL}, {NULL}},
    {"office", "office formal (+(kurta kurti shirt saree trousers) +(cotton solid straight linen))",
     {"kurta", "kurti", "shirt", "saree", "trousers", NULL},
     {"cotton", "solid", "straight", "linen", "formal", "printed", NULL}, {NULL}},
};

static const struct qp_occ_sense *qp_occ_sense(const char *occasion)
{
    for (size_t i = 0; occasion && i < sizeof(qp_occ_senses) / sizeof(qp_occ_senses[0]); i++)
        if (!strcmp(qp_occ_senses[i].occasion, occasion)) return &qp_occ_senses[i];
    return NULL;
}

const char *qp_occasion_text(const char *occasion)
{
    const struct qp_occ_sense *o = qp_occ_sense(occasion);
    return o ? o->text : NULL;
}

static const char *const qp_set_words[] = {
    "set", "sets", "trousers", "palazzo", "palazzos", "pyjama", "pyjamas", "dupatta", "churidar", "salwar",
    "sharara", "pants", "skirt", "dhoti", NULL,
};

int qp_audience_word(const char *w)
{
    for (size_t k = 0; k < sizeof(qp_audiences) / sizeof(qp_audiences[0]); k++)
        if (qp_in(w, qp_audiences[k].asked)) return 1;
    return 0;
}

int qp_boosts(const char *const *words, size_t nwords, const char *category, const char *occasion,
              const char *shade, const char *family, struct qp_boost *out, int max)
{
    int n = 0;
    memset(out, 0, (size_t)max * sizeof(*out));
    /* a kurta set: the kurta sold with its bottom or dupatta first; a
     * kurta: one sold alone first */
    if (category && !strcmp(category, "kurta set") && n < max) {
        out[n].weight = 1;
        out[n++].words = qp_set_words;
    }
    int asks_set = 0;   /* "kurta with palazzo" asks for the set */
    for (size_t i = 0; i < nwords; i++) asks_set |= qp_in(words[i], qp_set_words);
    if (category && !strcmp(category, "kurta") && !asks_set && n < max) {
        out[n].words = qp_set_words;
        out[n].weight = 1;
        out[n++].negate = 1;
    }
    /* a colour: the pieces mainly of it first ("Navy & White" is navy) */
    if (family && family[0] && n < max) {
        out[n].weight = 2;
        out[n++].family = family;
    }
    /* who for: the first audience word asked */
    for (size_t i = 0; i < nwords && n < max; i++) {
        const struct qp_audience *a = NULL;
        for (size_t k = 0; k < sizeof(qp_audiences) / sizeof(qp_audiences[0]) && !a; k++)
            if (qp_in(words[i], qp_audiences[k].asked)) a = &qp_audiences[k];
        if (a) {
            out[n].weight = 3;   /* who it is for, said: above the rest */
            out[n++].words = a->titled;
            break;
        }
    }
    /* the shade asked, when finer than its family ("teal" among greens) */
    if (shade && shade[0] && !qp_is_family(shade) && n < max) {
        out[n].one[0] = shade;
        out[n].one[1] = NULL;
        out[n].words = out[n].one;
        out[n++].weight = 2;
    }
    /* the occasion: its garments, its work, its colours */
    const struct qp_occ_sense *o = qp_occ_sense(occasion);
    if (o && n < max) {
        out[n].weight = 1;
        out[n++].words = o->garments;
    }
    if (o && n < max) {
        out[n].weight = 1;
        out[n++].words = o->work;
    }
    if (o && o->colours[0] && n < max) {
        out[n].weight = 1;
        out[n++].words = o->colours;
    }
    /* the garment asked, in every level: once given up, its pieces still
     * come first among what is left ("libas anarkali": Libas pieces, then
     * other brands' anarkalis before anything else) */
    if (category && category[0] && n < max) {
        int k = qp_category_spellings(category, out[n].garment, QP_BOOST_WORDS - 2);
        out[n].garment[k++] = category;
        out[n].garment[k] = NULL;
        out[n].words = out[n].garment;
        out[n++].weight = 2;
    }
    return n;
}

/* ---- lookups for the parser ----------------------------------------------- */

int qp_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

static const char *qp_lookup(const struct qp_word *tab, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].word, w) == 0) return tab[i].canon;
    return NULL;
}

const struct qp_color *qp_color_find(const char *w)
{
    for (size_t i = 0; i < sizeof(qp_colors) / sizeof(qp_colors[0]); i++)
        if (strcmp(qp_colors[i].word, w) == 0) return &qp_colors[i];
    return NULL;
}

const char *qp_category_find(const char *w)
{
    return qp_lookup(qp_categories, sizeof(qp_categories) / sizeof(qp_categories[0]), w);
}

const char *qp_occasion_find(const char *w)
{
    return qp_lookup(qp_occasions, sizeof(qp_occasions) / sizeof(qp_occasions[0]), w);
}

const char *qp_fabric_find(const char *w)
{
    return qp_lookup(qp_fabrics, sizeof(qp_fabrics) / sizeof(qp_fabrics[0]), w);
}

const char *qp_work_find(const char *w)
{
    return qp_lookup(qp_works, sizeof(qp_works) / sizeof(qp_works[0]), w);
}

int qp_filler(const char *w)
{
    return qp_in(w, qp_stopwords);
}

/* ---- lexicon access for other modules -------------------------------------- */

const char *qp_size_canon(const char *s)
{
    char w[32];
    size_t o = 0;
    int space = 0;
    for (const char *p = s; *p && o + 1 < sizeof(w); p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c) || c == '-' || c == '_') {
            space = o > 0;
            continue;
        }
        if (space) {
            w[o++] = ' ';
            space = 0;
            if (o + 1 >= sizeof(w)) break;
        }
        w[o++] = (char)tolower(c);
    }
    w[o] = '\0';
    if (!o) return NULL;
    const char *c = qp_lookup(qp_sizes, sizeof(qp_sizes) / sizeof(qp_sizes[0]), w);
    if (c) return c;
    /* Numeric sizes (chest/waist in inches, EU shoe-like numbers): 20..60. */
    char *end;
    long n = strtol(w, &end, 10);
    if (*end == '\0' && end != w && n >= 20 && n <= 60) {
        static const char *const nums[] = {
            "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33",
            "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
            "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60",
        };
        return nums[n - 20];
    }
    return NULL;
}

static void qp_norm(const char *s, char *w, size_t cap)
{
    size_t o = 0;
    int space = 0;
    for (const char *p = s; *p && o + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c) || c == '-' || c == '_') {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap) w[o++] = ' ';
        space = 0;
        w[o++] = (char)tolower(c);
    }
    w[o] = '\0';
}

int qp_color_lookup(const char *s, const char **name, const char **family)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    const struct qp_color *c = qp_color_find(w);
    if (!c) return -1;
    if (name) *name = c->name;
    if (family) *family = c->family;
    return 0;
}

const char *qp_color_guess(const char *s)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    /* the last word that is a colour names the family: "teal blue" is
     * blue, "rust orange" orange, "grey melange" grey */
    const char *fam = NULL;
    for (char *p = w; *p;) {
        char *e = strchr(p, ' ');
        if (e) *e = '\0';
        const struct qp_color *c = qp_color_find(p);
        if (c) fam = c->family;
        if (!e) break;
        p = e + 1;
    }
    return fam;
}

const char *qp_color_pair(const char *first, const char *second, const char **name)
{
    const struct qp_color *b = qp_color_find(second), *a;
    *name = NULL;
    if (!b || qp_is_family(first)) return NULL;
    if (qp_in(first, qp_shade_words)) {
        *name = b->name;   /* "pastel pink" is pink */
        return b->family;
    }
    if ((a = qp_color_find(first)) && !strchr(first, ' ')) return b->family;
    return NULL;
}

const char *qp_color_family(const char *s)
{
    const char *fam;
    return qp_color_lookup(s, NULL, &fam) == 0 ? fam : NULL;
}

int qp_ft_stopword(const char *w)
{
    return qp_in(w, qp_ft_stopwords);
}

int qp_is_family(const char *s)
{
    return qp_in(s, qp_families);
}

const char *qp_category_canon(const char *s)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    const char *c = qp_lookup(qp_categories, sizeof(qp_categories) / sizeof(qp_categories[0]), w);
    if (c) return c;
    /* The canonical names themselves (e.g. "co-ord set", "indo-western"). */
    for (size_t i = 0; i < sizeof(qp_categories) / sizeof(qp_categories[0]); i++)
        if (strcasecmp(qp_categories[i].canon, s) == 0) return qp_categories[i].canon;
    return NULL;
}

const char *qp_category_text(const char *canon)
{
    return qp_lookup(qp_category_texts, sizeof(qp_category_texts) / sizeof(qp_category_texts[0]), canon);
}

int qp_category_spellings(const char *canon, const char **out, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof(qp_categories) / sizeof(qp_categories[0]) && n < max; i++)
        if (!strcmp(qp_categories[i].canon, canon)) out[n++] = qp_categories[i].word;
    return n;
}

const char *qp_occasion_canon(const char *s)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    return qp_lookup(qp_occasions, sizeof(qp_occasions) / sizeof(qp_occasions[0]), w);
}

const char *const *qp_occasion_tags(const char *occasion)
{
    for (size_t i = 0; i < sizeof(qp_occ_tags_tab) / sizeof(qp_occ_tags_tab[0]); i++)
        if (strcmp(qp_occ_tags_tab[i].occasion, occasion) == 0) return qp_occ_tags_tab[i].tags;
    return NULL;
}

const char *qp_fabric_canon(const char *s)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    return qp_lookup(qp_fabrics, sizeof(qp_fabrics) / sizeof(qp_fabrics[0]), w);
}

const char *const *qp_fabric_tags(const char *fabric)
{
    for (size_t i = 0; i < sizeof(qp_fab_tags_tab) / sizeof(qp_fab_tags_tab[0]); i++)
        if (strcmp(qp_fab_tags_tab[i].occasion, fabric) == 0) return qp_fab_tags_tab[i].tags;
    return NULL;
}

const char *qp_work_canon(const char *s)
{
    char w[80];
    qp_norm(s, w, sizeof(w));
    return qp_lookup(qp_works, sizeof(qp_works) / sizeof(qp_works[0]), w);
}
