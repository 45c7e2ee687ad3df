#!/usr/bin/python3
"""Judgments of the generated catalog, written as rules, and the file they make.

The generated catalog (`troika-admin gen-catalog --count 2000 --seed 11`) is
structured: every product's category, colours (first = main), tags (occasions,
fabric, handwork, style, menswear/womenswear), designer, price and stock say
what it is, and its title and description are made from them. So a judge can
write down what a query asks for as a rule over those facts and apply it to
every product, which makes the judgments complete. Each rule below was
written by reading the query as a shopper means it and checked against the
pooled results of the three systems (bench/relevance/pool.py); the colour
families are this judge's own reading of the colour names, not Troika's
lexicon.

    bench/relevance/judge_generated.py        rewrites judgments-generated.json

Run it (from the build folder, it needs troika-admin) after a change to the
generator, then review the diff: test_relevance fails while the file was
judged on another catalog (the fingerprint of every product's facts).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

COUNT, SEED = 2000, 11
OUT = os.path.join(HERE, "judgments-generated.json")

QUERIES = [
    ('g-kw01', 'keyword', 'velvet lehenga',
     "2 velvet lehengas; 1 other velvet women's ethnic sets"),
    ('g-kw02', 'keyword', 'banarasi silk saree',
     '2 banarasi silk sarees; 1 sarees of another silk'),
    ('g-kw03', 'keyword', 'chikankari kurta',
     '2 chikankari kurtas; 1 other chikankari suits and sets'),
    ('g-kw04', 'keyword', 'nehru jacket',
     '2 nehru jackets; 1 bandhgalas'),
    ('g-kw05', 'keyword', 'sharara set',
     '2 sharara sets; 1 ghararas'),
    ('g-kw06', 'keyword', 'mirror work lehenga',
     "2 mirror-work lehengas; 1 other mirror-work women's festive pieces"),
    ('g-kw07', 'keyword', 'organza saree',
     '2 organza sarees; 1 organza dupattas and lehengas'),
    ('g-kw08', 'keyword', 'jodhpuri bandhgala',
     '2 bandhgalas (jodhpuri); 1 nehru jackets'),
    ('g-kw09', 'keyword', 'kaftan',
     '2 kaftans'),
    ('g-kw10', 'keyword', 'gota patti anarkali',
     '2 gota patti anarkalis; 1 anarkalis with zari/dabka/mirror, gota patti suits'),
    ('g-fw01', 'filters', 'red lehenga under 50000',
     '2 lehengas mainly red-family up to 50000; 1 red second colour, or up to 57500'),
    ('g-fw02', 'filters', 'silk saree between 10000 and 30000',
     '2 silk sarees 10000-30000; 1 within 15% of the range'),
    ('g-fw03', 'filters', "men's kurta size XL",
     "2 men's kurtas offered in XL"),
    ('g-fw04', 'filters', 'pastel anarkali for sangeet',
     '2 pastel anarkalis for sangeet; 1 pastel, or for sangeet'),
    ('g-fw05', 'filters', 'emerald gown',
     '2 emerald gowns; 1 emerald second colour, other greens'),
    ('g-fw06', 'filters', 'ivory sherwani for wedding',
     '2 ivory/white sherwanis for weddings; 1 ivory for another occasion, ivory second colour at weddings'),
    ('g-fw07', 'filters', 'blue kurta under 3000',
     '2 kurtas mainly blue up to 3000; 1 blue second colour, or up to 3450'),
    ('g-fw08', 'filters', 'black saree',
     'black sarees: 2 main colour, 1 second colour'),
    ('g-fw09', 'filters', 'georgette dupatta under 5000',
     '2 georgette dupattas up to 5000; 1 up to 5750'),
    ('g-fw10', 'filters', 'pink lehenga in stock',
     '2 lehengas mainly pink, in stock; 1 out of stock, or pink second colour'),
    ('g-ty01', 'typo', 'lehnga choli',
     '2 lehengas'),
    ('g-ty02', 'typo', 'sherwaani',
     '2 sherwanis; 1 bandhgalas'),
    ('g-ty03', 'typo', 'anarkalli suit',
     '2 anarkalis'),
    ('g-ty04', 'typo', 'banarsi saree',
     '2 banarasi silk sarees; 1 other banarasi silk pieces'),
    ('g-ty05', 'typo', 'chikenkari kurta',
     "as 'chikankari kurta'"),
    ('g-ty06', 'typo', 'zardosi lehenga',
     '2 zardozi lehengas; 1 other zardozi pieces'),
    ('g-ty07', 'typo', 'shrara set',
     '2 sharara sets; 1 ghararas'),
    ('g-ty08', 'typo', 'velevt sherwani',
     "2 velvet sherwanis; 1 other sherwanis, men's velvet"),
    ('g-ty09', 'typo', 'organja saree',
     "as 'organza saree'"),
    ('g-ty10', 'typo', 'kanjivaram saree',
     '2 kanjeevaram silk sarees; 1 other silk sarees'),
    ('g-hi01', 'hinglish', 'laal lehenga shaadi ke liye',
     'red lehenga for a wedding: 2 mainly red for weddings; 1 red for another occasion, red second colour at weddings'),
    ('g-hi02', 'hinglish', 'peeli saree haldi ke liye',
     'yellow saree for haldi: 2 mainly yellow/mustard; 1 yellow second colour, gold for haldi'),
    ('g-hi03', 'hinglish', 'hara kurta mehendi ke liye',
     'green kurta for mehendi: 2 mainly green for mehendi; 1 green otherwise, green second colour for mehendi'),
    ('g-hi04', 'hinglish', 'neeli sherwani',
     'blue sherwani: 2 main colour, 1 second colour'),
    ('g-hi05', 'hinglish', 'gulabi gharara',
     'pink gharara: 2 main colour, 1 second colour, pink shararas'),
    ('g-hi06', 'hinglish', 'safed kurta',
     'white kurta: 2 main colour (ivory, off-white, cream), 1 second colour'),
    ('g-hi07', 'hinglish', 'dulhan ka lehenga',
     "bride's lehenga: 2 bridal/wedding lehengas, 1 other lehengas"),
    ('g-hi08', 'hinglish', 'kaala bandhgala',
     'black bandhgala: 2 main colour, 1 second colour'),
    ('g-hi09', 'hinglish', 'sasti saree',
     'cheap saree: 2 up to 5000, 1 up to 8000'),
    ('g-hi10', 'hinglish', 'diwali ke liye kurta',
     'kurta for Diwali: 2 Diwali/festive kurtas, 1 other kurtas'),
    ('g-br01', 'brand', 'anaya mehrotra lehenga',
     '2 Anaya Mehrotra lehengas; 1 other Anaya Mehrotra'),
    ('g-br02', 'brand', 'kesariya house',
     '2 Kesariya House'),
    ('g-br03', 'brand', 'rangrez & co saree',
     '2 Rangrez & Co sarees; 1 other Rangrez & Co'),
    ('g-br04', 'brand', 'studio kesar gown',
     '2 Studio Kesar gowns; 1 other Studio Kesar'),
    ('g-br05', 'brand', 'banaras karigar saree',
     '2 Banaras Karigar sarees; 1 other Banaras Karigar'),
    ('g-br06', 'brand', 'veer pratap singh sherwani',
     '2 Veer Pratap Singh sherwanis; 1 other Veer Pratap Singh'),
    ('g-br07', 'brand', 'noor mahal couture anarkali',
     '2 Noor Mahal Couture anarkalis; 1 other Noor Mahal Couture'),
    ('g-br08', 'brand', 'amrapali weaves',
     '2 Amrapali Weaves'),
    ('g-br09', 'brand', 'purani dilli heritage kurta',
     '2 Purani Dilli Heritage kurtas; 1 other Purani Dilli Heritage'),
    ('g-br10', 'brand', 'the loom house kurta',
     '2 The Loom House kurtas; 1 other The Loom House'),
    ('g-nl01', 'natural', 'I need something festive in green for diwali',
     '2 mainly green for festive/Diwali/Eid; 1 green otherwise, or green second colour for festivals'),
    ('g-nl02', 'natural', "what should I wear to my sister's haldi",
     '2 haldi pieces in yellow/gold/mustard/saffron; 1 haldi pieces in other colours, yellow pieces for other occasions'),
    ('g-nl03', 'natural', "men's outfit for a sangeet",
     '2 menswear for sangeet, or festive/party kurtas, nehru jackets, indo-western; 1 other menswear of those kinds'),
    ('g-nl04', 'natural', 'something light for a summer mehendi',
     '2 light fabrics tagged mehendi; 1 other mehendi pieces, light haldi pieces'),
    ('g-nl05', 'natural', 'a silk saree for my mother',
     '2 silk sarees'),
    ('g-nl06', 'natural', 'something elegant for a cocktail party',
     '2 cocktail gowns, indo-western, sarees, lehengas, shararas, bandhgalas; 1 other cocktail/party pieces'),
    ('g-nl07', 'natural', 'cotton kurta for the office',
     '2 cotton office kurtas; 1 cotton, linen, khadi or office kurtas'),
    ('g-nl08', 'natural', 'bridal lehenga for my wedding',
     '2 bridal lehengas; 1 wedding/reception lehengas'),
    ('g-nl09', 'natural', 'outfit for eid under 10000',
     '2 Eid pieces up to 10000; 1 up to 11500, festive suits and kurtas up to 10000'),
    ('g-nl10', 'natural', "groom's outfit for the reception",
     '2 menswear sherwanis, bandhgalas, indo-western for receptions; 1 other sherwanis/bandhgalas, menswear for weddings'),
    ('g-na01', 'noanswer', 'bomkai saree',
     'no bomkai; 2 handloom/ikat/tussar sarees, 1 other silk sarees'),
    ('g-na02', 'noanswer', 'leather jacket',
     'nothing (no leather): an empty page'),
    ('g-na03', 'noanswer', 'kids lehenga',
     'nothing for children: an empty page'),
    ('g-na04', 'noanswer', 'denim jeans',
     'nothing (no denim): an empty page'),
    ('g-na05', 'noanswer', 'sherwani under 5000',
     'sherwanis start at 24999: 2 up to 30000, 1 the others'),
    ('g-na06', 'noanswer', 'pashmina shawl',
     'nothing (no shawls): an empty page'),
    ('g-na07', 'noanswer', 'velvet saree',
     'no velvet sarees; 1 brocade/banarasi/raw silk sarees, velvet lehengas and blouses'),
    ('g-na08', 'noanswer', 'mojari for men',
     'nothing (no footwear): an empty page'),
    ('g-na09', 'noanswer', 'paithani saree',
     'no paithani; 2 zari/handloom silk sarees, 1 other silk sarees'),
    ('g-na10', 'noanswer', 'linen lehenga',
     "no linen lehenga; 1 lehengas, women's linen sets"),
]

# ---------------------------------------------------------------------------
# facts

FAM = {
    'red': {'maroon', 'red', 'crimson', 'wine', 'ruby'},
    'pink': {'rani pink', 'blush pink', 'fuchsia'},
    'orange': {'peach', 'coral', 'rust', 'orange', 'saffron'},
    'yellow': {'mustard', 'yellow'},
    'gold': {'gold', 'antique gold'},
    'white': {'ivory', 'off-white', 'cream'},
    'beige': {'champagne', 'beige'},
    'green': {'emerald', 'bottle green', 'sage', 'mint', 'mehendi green', 'teal'},
    'blue': {'navy', 'royal blue', 'powder blue', 'sky blue', 'turquoise', 'teal'},
    'purple': {'lavender', 'lilac', 'purple', 'plum'},
    'black': {'black'}, 'grey': {'charcoal', 'grey'}, 'silver': {'silver'},
}
PASTEL = {'blush pink', 'peach', 'mint', 'sage', 'powder blue', 'sky blue', 'lavender', 'lilac', 'ivory',
          'cream', 'champagne', 'beige', 'off-white'}
SILKS = {'silk', 'raw silk', 'banarasi silk', 'kanjeevaram silk', 'tussar silk'}


def tags(p): return set(p['tags'])
def cat(p, *c): return p['category'] in c
def prim(p, fam): return p['colors'][0] in FAM[fam]
def anyc(p, fam): return any(c in FAM[fam] for c in p['colors'])
def colg(p, fam): return 2 if prim(p, fam) else (1 if anyc(p, fam) else 0)
def men(p): return 'menswear' in tags(p)
def women(p): return 'womenswear' in tags(p)
def price(p, lo=0, hi=1e12): return lo <= p['price'] <= hi
def g(c2, c1=False): return 2 if c2 else (1 if c1 else 0)
def occ(p, *o): return bool(tags(p) & set(o))
def festive_occ(p): return occ(p, 'festive', 'diwali', 'eid')


R = {}


def rule(q):
    def d(f):
        R[q] = f
        return f
    return d


# keyword
@rule('g-kw01')
def _(p): return g(cat(p,'lehenga') and 'velvet' in tags(p), 'velvet' in tags(p) and cat(p,'sharara','gharara','anarkali','blouse'))
@rule('g-kw02')
def _(p): return g(cat(p,'saree') and 'banarasi silk' in tags(p), cat(p,'saree') and tags(p) & SILKS)
@rule('g-kw03')
def _(p): return g(cat(p,'kurta') and 'chikankari' in tags(p), 'chikankari' in tags(p) and cat(p,'salwar suit','anarkali','co-ord set','sharara'))
@rule('g-kw04')
def _(p): return g(cat(p,'nehru jacket'), cat(p,'bandhgala'))
@rule('g-kw05')
def _(p): return g(cat(p,'sharara'), cat(p,'gharara'))
@rule('g-kw06')
def _(p): return g(cat(p,'lehenga') and 'mirror work' in tags(p), 'mirror work' in tags(p) and cat(p,'sharara','gharara','anarkali','blouse','dupatta') or (cat(p,'lehenga') and False))
@rule('g-kw07')
def _(p): return g(cat(p,'saree') and 'organza' in tags(p), 'organza' in tags(p) and cat(p,'dupatta','lehenga'))
@rule('g-kw08')
def _(p): return g(cat(p,'bandhgala'), cat(p,'nehru jacket'))
@rule('g-kw09')
def _(p): return g(cat(p,'kaftan'))
@rule('g-kw10')
def _(p): return g(cat(p,'anarkali') and 'gota patti' in tags(p), cat(p,'anarkali') and tags(p) & {'zari','dabka','mirror work'} or ('gota patti' in tags(p) and cat(p,'sharara','gharara','salwar suit','kurta')))

# filters in words
@rule('g-fw01')
def _(p):
    if not cat(p,'lehenga'): return 0
    if prim(p,'red') and price(p,0,50000): return 2
    if (anyc(p,'red') and price(p,0,50000)) or (prim(p,'red') and price(p,0,57500)): return 1
    return 0
@rule('g-fw02')
def _(p):
    if not (cat(p,'saree') and tags(p) & SILKS): return 0
    return g(price(p,10000,30000), price(p,8500,34500))
@rule('g-fw03')
def _(p):
    if not (cat(p,'kurta') and men(p)): return 0
    return g('XL' in p['sizes'], False)
@rule('g-fw04')
def _(p):
    if not cat(p,'anarkali'): return 0
    pastel = 'pastel' in tags(p) or p['colors'][0] in PASTEL
    if pastel and occ(p,'sangeet'): return 2
    if pastel or occ(p,'sangeet'): return 1
    return 0
@rule('g-fw05')
def _(p):
    if not cat(p,'gown'): return 0
    if p['colors'][0] == 'emerald': return 2
    if 'emerald' in p['colors'] or prim(p,'green'): return 1
    return 0
@rule('g-fw06')
def _(p):
    if not cat(p,'sherwani'): return 0
    w = occ(p,'wedding','bridal')
    if p['colors'][0] in FAM['white'] and w: return 2
    if p['colors'][0] in FAM['white'] or (anyc(p,'white') and w): return 1
    return 0
@rule('g-fw07')
def _(p):
    if not cat(p,'kurta'): return 0
    if prim(p,'blue') and price(p,0,3000): return 2
    if (anyc(p,'blue') and price(p,0,3000)) or (prim(p,'blue') and price(p,0,3450)): return 1
    return 0
@rule('g-fw08')
def _(p): return colg(p,'black') if cat(p,'saree') else 0
@rule('g-fw09')
def _(p):
    if not (cat(p,'dupatta') and 'georgette' in tags(p)): return 0
    return g(price(p,0,5000), price(p,0,5750))
@rule('g-fw10')
def _(p):
    if not cat(p,'lehenga'): return 0
    c = colg(p,'pink')
    if c == 2 and p['inStock']: return 2
    if c >= 1: return 1
    return 0

# typo
@rule('g-ty01')
def _(p): return g(cat(p,'lehenga'))
@rule('g-ty02')
def _(p): return g(cat(p,'sherwani'), cat(p,'bandhgala'))
@rule('g-ty03')
def _(p): return g(cat(p,'anarkali'))
@rule('g-ty04')
def _(p): return g(cat(p,'saree') and 'banarasi silk' in tags(p), 'banarasi silk' in tags(p))
R['g-ty05'] = R['g-kw03']
@rule('g-ty06')
def _(p): return g(cat(p,'lehenga') and 'zardozi' in tags(p), 'zardozi' in tags(p) and not cat(p,'lehenga'))
@rule('g-ty07')
def _(p): return g(cat(p,'sharara'), cat(p,'gharara'))
@rule('g-ty08')
def _(p): return g(cat(p,'sherwani') and 'velvet' in tags(p), cat(p,'sherwani') or (men(p) and 'velvet' in tags(p)))
R['g-ty09'] = R['g-kw07']
@rule('g-ty10')
def _(p): return g(cat(p,'saree') and 'kanjeevaram silk' in tags(p), cat(p,'saree') and tags(p) & SILKS)

# Hinglish
@rule('g-hi01')
def _(p):
    if not cat(p,'lehenga'): return 0
    w = occ(p,'wedding','bridal')
    if prim(p,'red') and w: return 2
    if prim(p,'red') or (anyc(p,'red') and w): return 1
    return 0
@rule('g-hi02')
def _(p):
    if not cat(p,'saree'): return 0
    if prim(p,'yellow'): return 2
    if anyc(p,'yellow') or (occ(p,'haldi') and prim(p,'gold')): return 1
    return 0
@rule('g-hi03')
def _(p):
    if not cat(p,'kurta'): return 0
    if prim(p,'green') and occ(p,'mehendi'): return 2
    if prim(p,'green') or (anyc(p,'green') and occ(p,'mehendi')): return 1
    return 0
@rule('g-hi04')
def _(p): return colg(p,'blue') if cat(p,'sherwani') else 0
@rule('g-hi05')
def _(p):
    if cat(p,'gharara'): return colg(p,'pink')
    if cat(p,'sharara') and prim(p,'pink'): return 1
    return 0
@rule('g-hi06')
def _(p): return colg(p,'white') if cat(p,'kurta') else 0
@rule('g-hi07')
def _(p):
    if not cat(p,'lehenga'): return 0
    return g(occ(p,'bridal','wedding'), True)
@rule('g-hi08')
def _(p): return colg(p,'black') if cat(p,'bandhgala') else 0
@rule('g-hi09')
def _(p):
    if not cat(p,'saree'): return 0
    return g(price(p,0,5000), price(p,0,8000))
@rule('g-hi10')
def _(p):
    if not cat(p,'kurta'): return 0
    return g(occ(p,'diwali','festive'), True)

# brand
def des(p, name): return p['designer'] == name
@rule('g-br01')
def _(p): return g(des(p,'Anaya Mehrotra') and cat(p,'lehenga'), des(p,'Anaya Mehrotra'))
@rule('g-br02')
def _(p): return g(des(p,'Kesariya House'))
@rule('g-br03')
def _(p): return g(des(p,'Rangrez & Co') and cat(p,'saree'), des(p,'Rangrez & Co'))
@rule('g-br04')
def _(p): return g(des(p,'Studio Kesar') and cat(p,'gown'), des(p,'Studio Kesar'))
@rule('g-br05')
def _(p): return g(des(p,'Banaras Karigar') and cat(p,'saree'), des(p,'Banaras Karigar'))
@rule('g-br06')
def _(p): return g(des(p,'Veer Pratap Singh') and cat(p,'sherwani'), des(p,'Veer Pratap Singh'))
@rule('g-br07')
def _(p): return g(des(p,'Noor Mahal Couture') and cat(p,'anarkali'), des(p,'Noor Mahal Couture'))
@rule('g-br08')
def _(p): return g(des(p,'Amrapali Weaves'))
@rule('g-br09')
def _(p): return g(des(p,'Purani Dilli Heritage') and cat(p,'kurta'), des(p,'Purani Dilli Heritage'))
@rule('g-br10')
def _(p): return g(des(p,'The Loom House') and cat(p,'kurta'), des(p,'The Loom House'))

# natural language
@rule('g-nl01')
def _(p):
    c = colg(p,'green')
    f = festive_occ(p)
    if c == 2 and f: return 2
    if (c == 2) or (c == 1 and f): return 1
    return 0
@rule('g-nl02')
def _(p):
    if cat(p,'blouse'): return 0
    h = occ(p,'haldi')
    y = prim(p,'yellow') or p['colors'][0] in {'gold','mustard','saffron'}
    if h and y: return 2
    if h or y: return 1
    return 0
@rule('g-nl03')
def _(p):
    if not men(p): return 0
    return g(occ(p,'sangeet') or (cat(p,'kurta','nehru jacket','indo-western') and occ(p,'festive','party')), cat(p,'kurta','nehru jacket','indo-western','bandhgala','sherwani'))
@rule('g-nl04')
def _(p):
    light = bool(tags(p) & {'lightweight','cotton','mul cotton','linen','chanderi','georgette','chiffon','modal'})
    if occ(p,'mehendi') and light: return 2
    if occ(p,'mehendi') or (light and occ(p,'haldi')): return 1
    return 0
@rule('g-nl05')
def _(p):
    if not cat(p,'saree'): return 0
    return g(bool(tags(p) & SILKS), False)
@rule('g-nl06')
def _(p):
    if occ(p,'cocktail') and cat(p,'gown','indo-western','saree','lehenga','sharara','bandhgala'): return 2
    if occ(p,'cocktail','party'): return 1
    return 0
@rule('g-nl07')
def _(p):
    if not cat(p,'kurta'): return 0
    cot = bool(tags(p) & {'cotton','mul cotton'})
    if cot and occ(p,'office'): return 2
    if cot or occ(p,'office') or 'linen' in tags(p) or 'khadi' in tags(p): return 1
    return 0
@rule('g-nl08')
def _(p):
    if not cat(p,'lehenga'): return 0
    if 'bridal' in tags(p) or 'Bridal' in p['title']: return 2
    return 1 if occ(p,'wedding','reception') else 0
@rule('g-nl09')
def _(p):
    if occ(p,'eid') and price(p,0,10000): return 2
    if occ(p,'eid') and price(p,0,11500): return 1
    if occ(p,'festive') and price(p,0,10000) and cat(p,'kurta','anarkali','sharara','gharara','salwar suit'): return 1
    return 0
@rule('g-nl10')
def _(p):
    if not men(p): return 0
    if occ(p,'reception') and cat(p,'sherwani','bandhgala','indo-western'): return 2
    if cat(p,'sherwani','bandhgala') or (occ(p,'reception','wedding')): return 1
    return 0

# no right answer (grades rank substitutes)
@rule('g-na01')
def _(p):
    if not cat(p,'saree'): return 0
    if 'handloom' in tags(p) or 'Handloom' in p['title'] or tags(p) & {'ikat','tussar silk'}: return 2
    return 1 if tags(p) & SILKS else 0
for q in ('g-na02','g-na04','g-na06','g-na08'):
    R[q] = lambda p: 0
@rule('g-na03')
def _(p): return 0
@rule('g-na05')
def _(p):
    if cat(p,'sherwani'): return 2 if price(p,0,30000) else 1
    return 0
@rule('g-na07')
def _(p):
    if cat(p,'saree'): return 1 if tags(p) & {'brocade','banarasi silk','raw silk'} else 0
    if 'velvet' in tags(p) and cat(p,'lehenga','blouse'): return 1
    return 0
@rule('g-na09')
def _(p):
    if not cat(p,'saree'): return 0
    if tags(p) & SILKS and tags(p) & {'zari','handloom'}: return 2
    return 1 if tags(p) & SILKS else 0
@rule('g-na10')
def _(p):
    if cat(p,'lehenga'): return 1
    if 'linen' in tags(p) and cat(p,'co-ord set','salwar suit','kurta') and women(p): return 1
    return 0


# ---------------------------------------------------------------------------

def fingerprint(products):
    """A hash of the facts the rules read, for every product in order."""
    h = hashlib.sha256()
    for p in products:
        h.update(json.dumps([p['sku'], p['title'], p['category'], p['designer'], p['colors'], p['tags'],
                             p['price'], p['sizes'], p['inStock']], ensure_ascii=False).encode('utf-8'))
    return h.hexdigest()


def generate(path):
    subprocess.run([run.admin_binary(), "gen-catalog", "--count", str(COUNT), "--seed", str(SEED),
                    "--format", "jsonl", "--out", path], check=True, stdin=subprocess.DEVNULL)
    return run.read_catalog(path)


def judge(products):
    out = []
    for qid, kind, q, want in QUERIES:
        f = R[qid]
        grades = {p['sku']: f(p) for p in products}
        out.append({'id': qid, 'kind': kind, 'q': q, 'want': want,
                    'grades': {k: int(v) for k, v in sorted(grades.items()) if v}})
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        products = generate(os.path.join(tmp, "catalog.jsonl"))
    doc = {
        'catalog': {'kind': 'generated', 'count': COUNT, 'seed': SEED, 'fingerprint': fingerprint(products)},
        'keys': 'sku',
        'scale': '2 what the shopper asked for; 1 partly (a close substitute or the right thing with one '
                 'detail off); 0 or absent: not relevant',
        'queries': judge(products),
    }
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write('{\n')
        for k in ('catalog', 'keys', 'scale'):
            f.write(' %s: %s,\n' % (json.dumps(k), json.dumps(doc[k], ensure_ascii=False)))
        f.write(' "queries": [\n')
        f.write(',\n'.join('  ' + json.dumps(q, ensure_ascii=False) for q in doc['queries']))
        f.write('\n ]\n}\n')
    print("wrote %s: %d queries, %d graded products" % (OUT, len(doc['queries']),
                                                         sum(len(q['grades']) for q in doc['queries'])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
