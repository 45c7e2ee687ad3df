// search.js: the product search box of the demo page. Streams
// api/products/search/stream through troika.js (EventSource; closed on
// `close`, retried once when the connection drops) and shows the steps as they
// run, the cards of each stage (text, semantic, final) and the facets of the
// final results. A facet click adds it as an explicit filter parameter.
// With no results, the ways to widen the search the server found.
// Plain browser JavaScript, no build step; paths are relative (base_path).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("search-form"), qIn = $("q"), steps = $("search-steps"), chips = $("search-filters"),
        cards = $("search-cards"), facets = $("search-facets"), stageEl = $("search-stage");
  const extra = {};           // explicit filters chosen from the facets

  const FAMILY_CSS = {
    red: "#a3162d", pink: "#d6487e", orange: "#e07a3c", yellow: "#d9b632", gold: "#b8912f",
    green: "#2f7d4f", blue: "#23508f", purple: "#6f3f8f", white: "#e9e4d8", beige: "#cdb89a",
    brown: "#7a5236", grey: "#7c7f85", silver: "#b5b8bd", black: "#222", multicolour: "#8a6fb0",
  };
  const COLOR_FAMILY = {
    maroon: "red", crimson: "red", wine: "red", ruby: "red", red: "red", "rani pink": "pink",
    "blush pink": "pink", fuchsia: "pink", pink: "pink", peach: "orange", coral: "orange", rust: "orange",
    saffron: "orange", orange: "orange", mustard: "yellow", yellow: "yellow", gold: "gold",
    "antique gold": "gold", ivory: "white", "off-white": "white", cream: "white", white: "white",
    champagne: "beige", beige: "beige", emerald: "green", "bottle green": "green", sage: "green",
    mint: "green", "mehendi green": "green", teal: "green", green: "green", navy: "blue",
    "royal blue": "blue", "powder blue": "blue", "sky blue": "blue", turquoise: "blue", blue: "blue",
    lavender: "purple", lilac: "purple", purple: "purple", plum: "purple", black: "black",
    charcoal: "grey", grey: "grey", silver: "silver", multicolour: "multicolour",
  };

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const inr = (v, cur) => (cur === "INR" ? "₹" : (cur || "") + " ") +
    Number(v).toLocaleString("en-IN", { maximumFractionDigits: 2 });

  function stepRow(name) {
    let row = steps.querySelector('[data-step="' + name + '"]');
    if (!row) {
      row = el("li");
      row.dataset.step = name;
      row.append(el("span", "step-name", name), el("span", "step-msg"));
      steps.append(row);
    }
    return row;
  }

  function onProgress(d) {
    const row = stepRow(d.step);
    const done = d.count !== undefined;
    row.className = d.code ? "warn" : done ? "done" : "running";
    row.querySelector(".step-msg").textContent = (d.code ? d.code + ": " : "") + d.message;
  }

  function onConnected(d) {
    chips.textContent = "";
    const f = d.filters || {};
    for (const [k, v] of Object.entries(f)) chips.append(el("span", "chip", k + ": " + v));
    if (d.residual) chips.append(el("span", "chip text", "text: " + d.residual));
    if (!Object.keys(f).length && !d.residual) chips.append(el("span", "chip", "no filters"));
  }

  function card(p) {
    const c = el("article", "card");
    // one stripe per colour, by family (the catalog's image URLs are examples)
    const cols = (p.colors && p.colors.length ? p.colors : ["multicolour"])
      .map((x) => FAMILY_CSS[COLOR_FAMILY[x] || "multicolour"]);
    const sw = el("div", "swatch");
    sw.style.background = cols.length === 1 ? cols[0] : "linear-gradient(90deg, " +
      cols.map((x, i) => x + " " + (100 * i / cols.length) + "% " + (100 * (i + 1) / cols.length) + "%").join(", ") + ")";
    sw.append(el("span", "cat", p.category));
    c.append(sw);
    const body = el("div", "body");
    body.append(el("h3", null, p.title));
    body.append(el("div", "designer", p.designer || ""));
    const price = el("div", "price", inr(p.price, p.currency));
    if (!p.inStock) price.append(el("span", "oos", " out of stock"));
    body.append(price);
    body.append(el("div", "meta", (p.colors || []).join(", ")));
    body.append(el("div", "meta", "Sizes: " + (p.sizes || []).join(" ")));
    const r = p.ranks || {};
    body.append(el("div", "score", "score " + p.score + " · text #" + (r.text ?? "–") +
                                   " · vector #" + (r.vector ?? "–")));
    c.append(body);
    return c;
  }

  function onResults(d) {
    const names = { text: "Text matches", semantic: "Semantic matches", final: "Results" };
    cards.dataset.stage = d.stage;
    stageEl.textContent = names[d.stage] + " · " + d.total + " product" + (d.total === 1 ? "" : "s") +
      (d.capped ? "+" : "") + (d.stage === "final" ? "" : " (refining…)");
    cards.textContent = "";
    cards.classList.toggle("prelim", d.stage !== "final");
    for (const p of d.products) cards.append(card(p));
    if (d.stage === "final") showFacets(d.facets || {});
    if (d.stage === "final" && !d.total && d.relaxations) showRelaxations(d.relaxations);
    if (d.stage === "final") showPager(d);
  }

  // Paging: by `cursor` when the server gives one with the final results
  // (SPEC §8), else by `offset`. cursors[n] opens page n (page 0 needs none).
  const pager = $("search-pager"), sortSel = $("sort");
  let page = 0;
  const cursors = [];

  function showPager(d) {
    const limit = Number($("limit").value);
    if (d.cursor) cursors[page + 1] = d.cursor;
    const more = d.cursor ? true : (page + 1) * limit < d.total;
    pager.hidden = page === 0 && !more;
    $("search-prev").disabled = page === 0;
    $("search-next").disabled = !more;
    // the page count when the total is exact (totalExact; older servers: no cursor, not capped)
    const exact = d.totalExact !== undefined ? d.totalExact : !d.cursor && !d.capped;
    $("search-page").textContent = "Page " + (page + 1) +
      (exact ? " of " + Math.max(1, Math.ceil(d.total / limit)) : "");
  }
  $("search-prev").addEventListener("click", () => { if (page > 0) { page--; run(true); } });
  $("search-next").addEventListener("click", () => { page++; run(true); });
  // Sorting shows once the server says it sorts (it echoes `sort` in connected).
  sortSel.addEventListener("change", () => run());

  // No product passes every filter: the server tried without each one.
  // A click runs that search (its query says every filter it kept).
  function showRelaxations(list) {
    const box = el("div", "relax");
    box.append(el("p", null, list.length ? "Nothing matches every filter. Widen the search:"
                                         : "Nothing matches, even without any one of the filters."));
    for (const r of list) {
      const b = el("button", null, r.message);
      b.type = "button";
      b.title = r.query;
      b.append(el("span", "relax-q", " “" + r.query + "”"));
      b.addEventListener("click", () => {
        qIn.value = r.query;
        for (const k of Object.keys(extra)) delete extra[k];
        $("instock").checked = !!(r.filters && r.filters.inStock === true);
        run();
      });
      box.append(b);
    }
    cards.append(box);
  }

  function showFacets(f) {
    facets.textContent = "";
    const groups = [["sizes", "size", "Size"], ["colors", "color", "Colour"],
                    ["categories", "category", "Category"], ["designers", "designer", "Designer"]];
    for (const [key, param, label] of groups) {
      const list = f[key] || [];
      if (!list.length) continue;
      const box = el("div", "facet");
      box.append(el("h4", null, label));
      for (const v of list) {
        const b = el("button", extra[param] === v.value ? "on" : "", v.value + " (" + v.count + ")");
        b.type = "button";
        b.addEventListener("click", () => {
          if (extra[param] === v.value) delete extra[param];
          else extra[param] = v.value;
          run();
        });
        box.append(b);
      }
      facets.append(box);
    }
    if (f.price && f.price.min !== null && f.price.min !== undefined) {
      const box = el("div", "facet");
      box.append(el("h4", null, "Price"), el("div", null, inr(f.price.min, "INR") + " – " + inr(f.price.max, "INR")));
      facets.append(box);
    }
  }

  let shown = null;           // the search whose results are on the page

  // keepPage: the pager's own buttons; any other search starts at page 1.
  function run(keepPage) {
    if (shown) shown.abort();
    const q = qIn.value.trim();
    if (!q) return;
    if (keepPage !== true) {
      page = 0;
      cursors.length = 0;
    }
    const opts = Object.assign({ limit: $("limit").value }, extra);
    if ($("instock").checked) opts.inStock = true;
    if (sortSel.value !== "relevance") opts.sort = sortSel.value;
    if (page > 0) {
      if (cursors[page]) opts.cursor = cursors[page];
      else opts.offset = page * Number($("limit").value);
    }
    steps.textContent = "";
    cards.textContent = "";
    cards.dataset.stage = "";
    facets.textContent = "";
    stageEl.textContent = "Searching…";
    $("search-time").textContent = "";
    const t0 = performance.now();
    shown = Troika.search(q, opts)
      .onConnected((d, meta) => {
        if (meta.attempt > 1) steps.textContent = "";   // the connection dropped: searched again
        onConnected(d);
        if (d.sort !== undefined) $("sort-label").hidden = false;
      })
      .onProgress(onProgress)
      .onResults(onResults)
      .onComplete((d) => {
        $("search-time").textContent = d.duration + " ms on the server, " +
          (performance.now() - t0).toFixed(0) + " ms here";
      })
      .onError((e) => {
        stageEl.textContent = (e.received.results ? "Stopped early (results so far below): " : "") +
          e.code + ": " + e.message;
      });
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const k of Object.keys(extra)) delete extra[k];
    run();
  });
  for (const a of document.querySelectorAll("[data-example]")) {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      qIn.value = a.dataset.example;
      for (const k of Object.keys(extra)) delete extra[k];
      run();
    });
  }
  // ?q=... in the page address runs that search at once (handy for links).
  const start = new URLSearchParams(location.search).get("q");
  if (start) {
    qIn.value = start;
    run();
  }
})();
