// minisearch.mjs: the MiniSearch baseline of bench/relevance/run.py, set up as
// a Node shop would: every product of a JSON Lines catalog indexed by title,
// description, designer, category and tags; fuzzy 0.2, prefix search, title,
// designer and category boosted. Not Troika code; a yardstick.
//
//   node minisearch.mjs CATALOG.jsonl QUERIES.json K > RESULTS.json
//
// QUERIES.json is [{"id": ..., "q": ...}]; the answer is {id: [sku, ...]} with
// at most K skus per query, best first (MiniSearch's own order).
import { readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';

const [catalogPath, queriesPath, kArg] = process.argv.slice(2);
const k = Number(kArg || 10);

const docs = [];
for (const line of readFileSync(catalogPath, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const p = JSON.parse(line);
  docs.push({
    id: p.sku,
    title: p.title || '',
    description: p.description || '',
    designer: p.designer || '',
    category: p.category || '',
    tags: (Array.isArray(p.tags) ? p.tags : [p.tags || '']).join(' '),
  });
}

const ms = new MiniSearch({
  fields: ['title', 'description', 'designer', 'category', 'tags'],
  searchOptions: {
    boost: { title: 3, designer: 2, category: 2 },
    fuzzy: 0.2,
    prefix: true,
  },
});
ms.addAll(docs);

const out = {};
for (const { id, q } of JSON.parse(readFileSync(queriesPath, 'utf8'))) {
  out[id] = ms.search(q).slice(0, k).map((r) => r.id);
}
process.stdout.write(JSON.stringify(out));
