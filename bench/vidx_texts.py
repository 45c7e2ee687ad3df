#!/usr/bin/python3
"""vidx_texts.py: product texts and queries for bench/vidx_bench --data texts.

Reads `troika-admin gen-catalog` JSON Lines and writes, in OUTDIR:
  texts.txt       the first N products, one text a line, composed the way
                  `troika-admin build-index` composes them ("title. category.
                  designer. colours. tags. description")
  q_products.txt  the texts of the products after the first N (held out)
  q_short.txt     one short shopper-style query per held-out product
                  ("emerald saree", "net lehenga for festive", "<designer>
                  kurta", ...), seeded, so the same catalog gives the same
                  queries

  troika-admin gen-catalog --count 101000 --seed 1 --out cat.jsonl
  bench/vidx_texts.py cat.jsonl 100000 OUTDIR
"""
import json
import os
import random
import sys


def text(p):
    parts = [p.get("title") or "", p.get("category") or "", p.get("designer") or "",
             ", ".join(p.get("colors") or []), json.dumps(p.get("tags") or []),
             p.get("description") or ""]
    return ". ".join(x for x in parts if x)


def short_query(p, rng):
    colour = (p.get("colors") or [""])[0]
    cat = p.get("category") or ""
    tags = p.get("tags") or []
    fabric = tags[2] if len(tags) > 2 else ""
    occasion = tags[0] if tags else "festive"
    pick = rng.randrange(4)
    if pick == 0:
        q = "%s %s" % (colour, cat)
    elif pick == 1:
        q = "%s %s for %s" % (fabric, cat, occasion)
    elif pick == 2:
        q = "%s %s" % (p.get("designer") or "", cat)
    else:
        q = "%s %s %s" % (colour, fabric, cat)
    return " ".join(q.split())


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(src, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if len(rows) <= n:
        sys.exit("%s has %d products: need more than %d" % (src, len(rows), n))
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    held = rows[n:]
    with open(os.path.join(out, "texts.txt"), "w", encoding="utf-8") as f:
        f.writelines(text(p) + "\n" for p in rows[:n])
    with open(os.path.join(out, "q_products.txt"), "w", encoding="utf-8") as f:
        f.writelines(text(p) + "\n" for p in held)
    with open(os.path.join(out, "q_short.txt"), "w", encoding="utf-8") as f:
        f.writelines(short_query(p, rng) + "\n" for p in held)
    print("%d texts, %d held-out queries in %s" % (n, len(held), out))


if __name__ == "__main__":
    main()
