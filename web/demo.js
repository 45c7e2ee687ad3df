// demo.js: the demo page's Aza search, upload form, self-test and health
// line, each through troika.js (window.Troika). Plain browser JavaScript, no
// build step; paths are relative (base_path).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const inr = (v) => "₹" + Number(v).toLocaleString("en-IN", { maximumFractionDigits: 0 });

  fetch("api/health").then(async (r) => {
    const body = await r.json().catch(() => ({}));
    $("health").textContent = r.status + " " + (body.status || "");
  }).catch((e) => { $("health").textContent = "unreachable (" + e + ")"; });

  // -- Aza search: semantic results with their cosine, text fill-ins below --
  let aza = null;
  $("aza-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const query = $("aza-q").value.trim();
    if (!query) return;
    if (aza) aza.abort();
    const box = $("aza-results"), status = $("aza-status");
    box.textContent = "";
    status.textContent = "Searching…";
    const minScore = Number($("aza-min").value);
    aza = Troika.aza({ query, limit: 12, minScore })
      .onProgress((d) => { status.textContent = d.message; })
      .onResults((d) => {
        box.textContent = "";
        box.dataset.stage = d.stage;
        for (const p of d.products) {
          const src = p.source || "semantic";
          const c = el("article", "card " + src);
          const body = el("div", "body");
          body.append(el("div", "source", src === "text" ? "text match" : "semantic"));
          body.append(el("h3", null, p.title));
          body.append(el("div", "designer", p.designer || ""));
          body.append(el("div", "price", inr(p.price)));
          body.append(el("div", "score", "score " + Number(p.score).toFixed(4)));
          const bar = el("div", "scorebar");
          const fill = el("span");
          fill.style.width = Math.max(0, Math.min(100, 100 * p.score)).toFixed(1) + "%";
          bar.append(fill);
          body.append(bar);
          c.append(body);
          box.append(c);
        }
      })
      .onComplete((d) => {
        status.textContent = d.total + " found: " + d.semanticCount + " semantic (score ≥ " + d.minScore + "), " +
          d.textCount + " from text search · " + d.duration + " ms";
      })
      .onError((e) => { status.textContent = e.code + ": " + e.message; });
  });

  // -- the widget's chatbot follows the upload form's ----------------------
  const widgetBot = (id) => {
    $("widget-bot").textContent = id;
    if (window.TroikaWidget && window.TroikaWidget.setChatbot) window.TroikaWidget.setChatbot(id);
  };
  $("open-widget").addEventListener("click", () => { if (window.TroikaWidget) window.TroikaWidget.open(); });

  // -- upload: the bytes sent, then each step of the server's ------------------
  const STEPS = [["sending", "Sending"], ["upload_validation", "Validation"], ["extraction", "Extraction"],
                 ["chunking", "Chunking"], ["token_counting", "Token counting"], ["embedding", "Embedding"],
                 ["storing", "Storing"]];
  let up = null;
  $("upload-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = $("up-file").files[0];
    if (!file) return;
    if (up) up.abort();
    const list = $("upload-steps"), result = $("upload-result");
    list.textContent = "";
    result.textContent = "";
    result.className = "";
    const rows = {};
    for (const [step, label] of STEPS) {
      const li = el("li");
      li.dataset.step = step;
      const bar = el("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", label);
      li.append(el("span", "name", label), bar, el("span", "msg"));
      list.append(li);
      rows[step] = li;
    }
    let last = null;
    const bot = $("up-bot").value.trim();
    $("up-send").disabled = true;
    up = Troika.upload(file, { chatbotId: bot, title: $("up-title").value.trim(), apiKey: $("up-key").value })
      .onProgress((d) => {
        const li = rows[d.step];
        if (!li) return;
        // a new step means the one before it is complete
        if (last && last !== li && !last.classList.contains("done")) {
          last.classList.add("done");
          last.querySelector("progress").value = 100;
        }
        last = li;
        if (d.percent !== undefined && d.percent !== null) li.querySelector("progress").value = d.percent;
        li.querySelector(".msg").textContent = d.message;
        if (d.percent === 100) li.classList.add("done");
      })
      .onComplete((d) => {
        for (const li of Object.values(rows)) {
          li.classList.add("done");
          li.querySelector("progress").value = 100;
        }
        result.textContent = (d.duplicate ? "Already uploaded: " : "Stored ") + "“" + d.title + "” for chatbot " +
          d.chatbotId + ": " + d.chunks + " chunk" + (d.chunks === 1 ? "" : "s") + ", " + d.tokens + " tokens (" +
          d.tokenizer + ")" + (d.pages ? ", " + d.pages + " pages" : "") + ", " + d.duration + " ms. Ask about it in the assistant.";
        widgetBot(bot);
      })
      .onError((e) => {
        if (last) last.classList.add("failed");
        result.className = "error";
        result.textContent = "Upload failed: " + e.code + ": " + e.message;
      })
      .onClose(() => { $("up-send").disabled = false; });
  });

  // -- the self-test stream ---------------------------------------------------
  const out = $("out");
  let st = null;
  $("f").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (st) st.abort();
    out.textContent = "";
    const t0 = performance.now();
    const line = (type, d) => {
      out.textContent += (performance.now() - t0).toFixed(0).padStart(6) + " ms  " + type.padEnd(9) + " " +
        JSON.stringify(d) + "\n";
    };
    st = Troika.selftest({ n: $("n").value, interval_ms: $("iv").value, onEvent: (d, meta) => line(meta.type, d) })
      .onError((e) => line("error", { code: e.code, message: e.message }))
      .onClose(() => { out.textContent += "stream closed\n"; });
  });
})();
