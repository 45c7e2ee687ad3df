/* widget.js: Troika's shop assistant for any page, from one tag:
 *
 *   <script src="https://api.shop.example/widget.js" data-chatbot="shop-42" defer></script>
 *
 * A chat button opens a panel that asks either the chatbot's documents
 * (POST /api/chat/query/stream: the answer grows as `text` events arrive,
 * its [n] marks link to the sources) or the sales agent (POST
 * /api/troika/intelligent-chat/stream: intent chips, the market figures with
 * a price range bar, product cards). Speech plays sentence by sentence as
 * `audio` events arrive (one queued <audio> per sentence; a mute toggle).
 * Suggestions are buttons. Errors are said in words below what had arrived.
 *
 * Attributes of the tag: data-chatbot (required), data-api (where the API
 * is; default: the folder widget.js came from), data-mode ("both", "chat" or
 * "agent"), data-tts ("on": speak from the start), data-voice,
 * data-title, data-images ("off": colour swatches instead of product
 * images), data-open ("true": start open). The panel lives in a shadow root,
 * so the shop's CSS and the widget's do not meet. No framework, no build
 * step; troika.js (the client) is loaded from beside this file unless the
 * page has it already. window.TroikaWidget: open(), close(), ask(text, mode).
 */
(function () {
  "use strict";
  const tag = document.currentScript;
  if (!tag || window.TroikaWidget) return;
  const ds = tag.dataset;
  const scriptBase = new URL(".", tag.src || location.href).href;
  const cfg = {
    chatbot: ds.chatbot || "",
    api: (ds.api || scriptBase).replace(/\/+$/, ""),
    mode: ds.mode === "chat" || ds.mode === "agent" ? ds.mode : "both",
    tts: ds.tts === "on",
    voice: ds.voice || undefined,
    title: ds.title || "Ask the shop",
    images: ds.images !== "off",
    open: ds.open === "true",
  };

  const STYLE = `
:host { all: initial; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; }
* { box-sizing: border-box; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
button, textarea, input { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid #2a6df4; outline-offset: 2px; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex; align-items: center; gap: .45rem;
  border: 0; border-radius: 999px; padding: .7rem 1.1rem; background: var(--troika-accent, #7a1f3d); color: #fff; font-weight: 600;
  box-shadow: 0 6px 20px rgba(0,0,0,.25); }
.launcher[aria-expanded="true"] { display: none; }
.panel { position: fixed; right: 20px; bottom: 20px; z-index: 2147483001; width: 400px; height: min(640px, calc(100vh - 40px));
  display: flex; flex-direction: column; background: #fff; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.3); overflow: hidden; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: .4rem; padding: .6rem .7rem; background: var(--troika-accent, #7a1f3d); color: #fff; flex: none; }
header h2 { font-size: 16px; margin: 0; flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
header button, .launcher .icon { display: inline-flex; align-items: center; justify-content: center; }
header button { border: 0; background: rgba(255,255,255,.15); color: #fff; border-radius: 8px; min-width: 36px; height: 36px; padding: 0 .5rem; }
header button[aria-pressed="false"] { background: rgba(255,255,255,.35); }
.modes { display: flex; gap: 0; margin: 0; padding: .45rem .7rem; border: 0; border-bottom: 1px solid #eee; flex: none; }
.modes legend { float: left; padding: 0 .5rem 0 0; font-size: 13px; color: #555; line-height: 30px; }
.modes label { font-size: 13px; border: 1px solid #c9b3bb; padding: .2rem .7rem; cursor: pointer; line-height: 22px; }
.modes label:first-of-type { border-radius: 8px 0 0 8px; }
.modes label:last-of-type { border-radius: 0 8px 8px 0; border-left: 0; }
.modes input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.modes input:checked + span { font-weight: 700; }
.modes label:has(input:checked) { background: #f6e9ee; border-color: var(--troika-accent, #7a1f3d); }
.modes label:has(input:focus-visible) { outline: 3px solid #2a6df4; outline-offset: 1px; }
.log { flex: 1; overflow-y: auto; padding: .7rem; overscroll-behavior: contain; scroll-behavior: auto; }
.msg { margin: 0 0 .8rem; }
.msg.user { text-align: right; }
.msg.user p { display: inline-block; background: var(--troika-accent, #7a1f3d); color: #fff; border-radius: 12px 12px 2px 12px; padding: .4rem .7rem; margin: 0; max-width: 85%; text-align: left; white-space: pre-wrap; overflow-wrap: anywhere; }
.bot { background: #f4f1f2; border-radius: 12px 12px 12px 2px; padding: .55rem .7rem; }
.bot .text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; min-height: 1.45em; }
.bot .text a { color: var(--troika-accent, #7a1f3d); font-size: 12px; vertical-align: super; text-decoration: none; padding: 0 1px; }
.steps { font-size: 12px; color: #777; margin: 0 0 .3rem; min-height: 1.2em; }
.sources { margin: .4rem 0 0; padding: 0 0 0 1.2rem; font-size: 12px; color: #555; }
.sources li:target, .sources li.hl { background: #fff3c4; }
.sources a { color: var(--troika-accent, #7a1f3d); }
.error { margin: .45rem 0 0; padding: .4rem .55rem; border-left: 3px solid #b3261e; background: #fdecea; color: #7a1410; font-size: 13px; }
.error button { margin-left: .4rem; border: 1px solid #b3261e; background: #fff; color: #7a1410; border-radius: 6px; padding: .05rem .5rem; }
.chips { display: flex; flex-wrap: wrap; gap: .3rem; margin: 0 0 .45rem; padding: 0; list-style: none; }
.chips li { font-size: 12px; background: #fff; border: 1px solid #d8c6cd; border-radius: 999px; padding: .05rem .55rem; }
.chips li.intent { background: var(--troika-accent, #7a1f3d); border-color: var(--troika-accent, #7a1f3d); color: #fff; }
.market { background: #fff; border: 1px solid #e4d8dc; border-radius: 10px; padding: .5rem .6rem; margin: 0 0 .5rem; font-size: 13px; }
.market h3 { font-size: 13px; margin: 0 0 .2rem; }
.market .fig { color: #444; margin: 0 0 .35rem; }
.range { position: relative; height: 10px; background: #eee; border-radius: 5px; margin: .5rem 0 .15rem; }
.range .iqr { position: absolute; top: 0; bottom: 0; background: #d7a6b7; border-radius: 5px; }
.range .med { position: absolute; top: -3px; width: 3px; height: 16px; background: var(--troika-accent, #7a1f3d); margin-left: -1px; }
.range-labels { display: flex; justify-content: space-between; font-size: 11px; color: #555; }
.market .designers { margin: .35rem 0 0; padding: 0; list-style: none; font-size: 12px; color: #444; }
.cards { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .45rem; margin: 0 0 .5rem; padding: 0; list-style: none; }
.cards.prelim { opacity: .55; }
.card { background: #fff; border: 1px solid #e4d8dc; border-radius: 8px; overflow: hidden; font-size: 12px; }
.card .pic { height: 5.5rem; background: #ddd; display: block; width: 100%; object-fit: cover; }
.card .body { padding: .3rem .45rem .4rem; }
.card h4 { font-size: 12px; margin: 0 0 .15rem; line-height: 1.3; height: 2.6em; overflow: hidden; }
.card h4 a { color: inherit; text-decoration: none; }
.card .price { font-weight: 700; }
.card .oos { color: #a33; font-weight: 400; }
.card .by { color: #666; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.suggestions { display: flex; flex-wrap: wrap; gap: .35rem; margin: .5rem 0 0; }
.suggestions button { border: 1px solid #c9b3bb; background: #fff; border-radius: 999px; padding: .2rem .7rem; font-size: 13px; text-align: left; }
.suggestions button:hover { background: #f6e9ee; }
.speaking { font-size: 12px; color: var(--troika-accent, #7a1f3d); margin: 0; padding: .15rem .7rem 0; height: 1.5em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: none; }
form { display: flex; gap: .4rem; padding: .55rem .7rem; border-top: 1px solid #eee; flex: none; }
textarea::placeholder { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
textarea { flex: 1; resize: none; height: 2.6rem; padding: .45rem .6rem; border: 1px solid #bbb; border-radius: 10px; font-size: 16px; line-height: 1.4; }
form button { border: 0; border-radius: 10px; background: var(--troika-accent, #7a1f3d); color: #fff; padding: 0 1rem; font-weight: 600; min-width: 4.5rem; }
form button.stop { background: #555; }
.empty { color: #666; font-size: 13px; margin: .2rem 0 .8rem; }
@media (max-width: 520px) {
  .panel { right: 0; bottom: 0; left: 0; top: 0; width: auto; height: auto; border-radius: 0; }
  .launcher { right: 12px; bottom: 12px; }
}
@media (prefers-reduced-motion: no-preference) { .log { scroll-behavior: smooth; } }
`;

  // Icons as inline SVG: emoji need a font a machine may not have.
  const ICON = {
    chat: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>',
    on: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3z"/><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M15.5 8.5a5 5 0 0 1 0 7M18.5 5.5a9 9 0 0 1 0 13"/></svg>',
    off: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3z"/><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M16 9l6 6M22 9l-6 6"/></svg>',
    close: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>',
  };

  const MODES = { chat: "Shop help", agent: "Products" };
  const STEP_WORDS = {
    session: "Opening the conversation", retrieval: "Reading the shop's documents", generation: "Writing",
    tts: "Speaking", intent_analysis: "Understanding what you want", market_intelligence: "Reading the market",
    product_matching: "Finding products",
  };

  // ---------------------------------------------------------------------
  // small helpers

  function el(tagName, attrs, ...kids) {
    const e = document.createElement(tagName);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  function money(v, cur) {
    const n = Number(v);
    if (!isFinite(n)) return "";
    const s = n.toLocaleString("en-IN", { maximumFractionDigits: 0 });
    return (!cur || cur === "INR" ? "₹" : cur + " ") + s;
  }

  function colourCss(name) {
    const n = String(name || "").toLowerCase().replace(/[^a-z]/g, "");
    return n && window.CSS && CSS.supports("color", n) ? n : "#c8bfc2";
  }

  // An error in words a shopper understands; the server's message when it has one.
  function sayError(e) {
    switch (e.code) {
      case "RATE_LIMIT_EXCEEDED":
        return "Too many questions in a short time. Please wait " + (e.retryAfter || "a few") + " seconds and ask again.";
      case "NETWORK_ERROR":
        return "The shop's assistant could not be reached. Check your connection and try again.";
      case "CONNECTION_LOST":
        return "The connection dropped before the answer was complete.";
      case "UPSTREAM_ERROR":
      case "UPSTREAM_TIMEOUT":
        return "The assistant stopped part-way through the answer. Please try again.";
      case "STREAM_TIMEOUT":
        return "The answer took too long and was cut short.";
      case "BUSY":
      case "STREAMING_DISABLED":
        return "The assistant is busy right now. Please try again in a moment.";
      case "INVALID_PARAMETERS":
        return "That question could not be sent: " + e.message;
      default:
        return e.message || "Something went wrong.";
    }
  }

  function store(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      sessionStorage.setItem(key, value);
    } catch (err) { /* storage blocked: sessions last as long as the page */ }
    return null;
  }

  // ---------------------------------------------------------------------
  // speech: one <audio> per sentence, played in order

  class Speaker {
    constructor(box, status) {
      this.box = box;               // hidden container holding the <audio> elements
      this.status = status;         // the "speaking" line
      this.queue = [];
      this.playing = null;
      this.muted = !cfg.tts;
    }

    add(bytes, text) {
      if (this.muted || !bytes || !bytes.length) return;
      const url = URL.createObjectURL(new Blob([bytes], { type: "audio/mpeg" }));
      const a = el("audio", { preload: "auto", src: url, "data-text": text || "" });
      a.addEventListener("ended", () => this.next());
      a.addEventListener("error", () => this.next());
      this.box.append(a);
      this.queue.push(a);
      if (!this.playing) this.next();
    }

    next() {
      if (this.playing) URL.revokeObjectURL(this.playing.src);
      this.playing = this.queue.shift() || null;
      if (!this.playing || this.muted) {
        this.playing = null;
        this.status.textContent = "";
        return;
      }
      this.status.textContent = "Speaking: " + (this.playing.dataset.text || "").replace(/\s*\[\d+\]|\*\*|\*/g, "");
      const p = this.playing.play();
      if (p && p.catch) {
        p.catch(() => {
          // The browser wants a tap first (autoplay policy): stay quiet, say so.
          this.status.textContent = "Sound is blocked by the browser until you interact with the page.";
          this.queue = [];
          this.playing = null;
        });
      }
    }

    stop() {
      if (this.playing) this.playing.pause();
      for (const a of this.queue) URL.revokeObjectURL(a.src);
      this.queue = [];
      this.playing = null;
      this.status.textContent = "";
    }
  }

  // ---------------------------------------------------------------------
  // the widget

  function build(T) {
    const host = el("div", { id: "troika-widget" });
    const root = host.attachShadow({ mode: "open" });
    root.append(el("style", { text: STYLE }));
    const client = T.client({ baseUrl: cfg.api });
    let mode = cfg.mode === "both" ? (store("troika:mode") === "agent" ? "agent" : "chat") : cfg.mode;
    let current = null;       // the Stream being answered
    let msgSeq = 0;

    const launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false",
                                    "aria-controls": "troika-panel" },
                        el("span", { class: "icon" }), el("span", { text: cfg.title }));
    launcher.firstChild.innerHTML = ICON.chat;
    const title = el("h2", { id: "troika-title", text: cfg.title });
    const mute = el("button", { type: "button", class: "mute", "aria-pressed": String(!cfg.tts),
                                "aria-label": "Mute spoken answers", title: "Spoken answers on or off" });
    const close = el("button", { type: "button", class: "close", "aria-label": "Close the assistant" });
    close.innerHTML = ICON.close;
    const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text",
                            "aria-label": "Conversation", tabindex: "0" });
    const input = el("textarea", { id: "troika-q", rows: "1", maxlength: "4000", autocomplete: "off",
                                   placeholder: "Type your question" });
    const send = el("button", { type: "submit", class: "send", text: "Send" });
    const form = el("form", { "aria-label": "Ask a question" },
                    el("label", { for: "troika-q", class: "sr", text: "Your question" }), input, send);
    const speaking = el("p", { class: "speaking", "aria-hidden": "true" });
    const audioBox = el("div", { class: "audio", hidden: true });
    const speaker = new Speaker(audioBox, speaking);
    let modes = null;
    if (cfg.mode === "both") {
      modes = el("fieldset", { class: "modes" }, el("legend", { text: "Ask about" }));
      for (const [value, label] of Object.entries(MODES)) {
        const r = el("input", { type: "radio", name: "troika-mode", value, checked: value === mode });
        r.addEventListener("change", () => { if (r.checked) setMode(value); });
        modes.append(el("label", null, r, el("span", { text: label })));
      }
    }
    const panel = el("section", { id: "troika-panel", class: "panel", role: "dialog", "aria-modal": "false",
                                  "aria-labelledby": "troika-title", hidden: true },
                     el("header", null, title, mute, close), modes, log, speaking, audioBox, form);
    root.append(launcher, panel);

    function showMute() {
      mute.setAttribute("aria-pressed", String(speaker.muted));
      mute.innerHTML = speaker.muted ? ICON.off : ICON.on;
      mute.setAttribute("aria-label", speaker.muted ? "Spoken answers are off; turn on" : "Spoken answers are on; turn off");
    }
    showMute();

    // The placeholder and the line that says what this mode answers.
    function showMode() {
      input.placeholder = mode === "agent" ? "e.g. red lehenga around 40k" : "e.g. How long is delivery?";
      const old = log.querySelector(".empty");
      if (old) old.remove();
      log.append(el("p", { class: "empty", text: mode === "agent"
        ? "Tell me what you are looking for: the garment, colour, size, budget or occasion."
        : "Ask about sizes, delivery, returns or care; answers come from the shop's own documents." }));
    }
    showMode();

    function setMode(m) {
      if (m === mode) return;
      mode = m;
      store("troika:mode", m);
      if (modes) for (const r of modes.querySelectorAll("input")) r.checked = r.value === m;
      showMode();
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      input.focus();
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      speaker.stop();
      launcher.focus();
    }
    launcher.addEventListener("click", open);
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); shut(); } });
    mute.addEventListener("click", () => {
      speaker.muted = !speaker.muted;
      if (speaker.muted) speaker.stop();
      showMute();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (current) { current.abort(); return; }     // the button reads "Stop" while answering
      const q = input.value.trim();
      if (!q) return;
      input.value = "";
      ask(q, mode);
    });

    // Keeps the newest content in view unless the reader scrolled up.
    function follow(fn) {
      const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      fn();
      if (atEnd) log.scrollTop = log.scrollHeight;
    }

    function busy(on) {
      log.setAttribute("aria-busy", String(on));
      send.textContent = on ? "Stop" : "Send";
      send.classList.toggle("stop", on);
      send.setAttribute("aria-label", on ? "Stop the answer" : "Send");
    }

    function ask(q, m) {
      m = m || mode;
      if (current) current.abort();
      speaker.stop();
      const n = ++msgSeq;
      const empty = log.querySelector(".empty");
      if (empty) empty.remove();
      const user = el("div", { class: "msg user" }, el("p", { text: q }));
      const steps = el("p", { class: "steps", text: "…" });
      // The answer's text comes after the cards and figures, which arrive
      // first: appended at the end as it starts, it moves nothing already shown.
      const text = el("p", { class: "text" });
      const bot = el("div", { class: "bot", "data-mode": m }, steps);
      const msg = el("div", { class: "msg", "data-msg": String(n) }, bot);
      follow(() => log.append(user, msg));
      const sessionKey = "troika:" + cfg.chatbot + ":" + m;
      const sessionId = store(sessionKey) || undefined;
      const body = m === "agent"
        ? { message: q, chatbotId: cfg.chatbot || undefined, sessionId, enableTTS: !speaker.muted, voice: cfg.voice }
        : { query: q, chatbotId: cfg.chatbot, sessionId, enableTTS: !speaker.muted, voice: cfg.voice };
      let chips = null, market = null, cards = null;
      const before = (node) => { if (text.parentNode) bot.insertBefore(node, text); else bot.append(node); };
      busy(true);
      const st = (m === "agent" ? client.agent(body) : client.chat(body))
        .onConnected((d) => { if (d.sessionId) store(sessionKey, d.sessionId); })
        .onProgress((d) => {
          const words = STEP_WORDS[d.step];
          if (words) steps.textContent = words + (d.percent === 100 || d.count !== undefined ? " ✓" : "…");
        })
        .onIntent((d) => {
          chips = chips || el("ul", { class: "chips", "aria-label": "What I understood" });
          chips.textContent = "";
          chips.append(el("li", { class: "intent", text: String(d.intent).replace(/_/g, " ") + " · " +
                                  Math.round(100 * (d.confidence || 0)) + "%" }));
          const en = d.entities || {}, src = d.sources || {};
          const fromWords = { history: "from earlier", customerContext: "from your profile", message: "from your message" };
          for (const [k, v] of Object.entries(en)) {
            if (v === null || v === undefined || k === "colorFamily") continue;
            let shown = v;
            if (k === "budget" && typeof v === "object") {
              shown = v.min && v.max ? money(v.min) + "–" + money(v.max) : v.max ? "up to " + money(v.max) : "from " + money(v.min);
            }
            chips.append(el("li", { title: fromWords[src[k]] || "", text: k + ": " + shown }));
          }
          follow(() => before(chips));
        })
        .onMarket((d) => {
          market = marketCard(d);
          follow(() => before(market));
        })
        .onResults((d) => {
          if (m !== "agent") return;
          const next = productCards(d);
          follow(() => { if (cards) cards.replaceWith(next); else before(next); });
          cards = next;
        })
        .onText((d) => {
          follow(() => {
            if (!text.parentNode) bot.append(text);
            text.textContent = d.fullText;
          });
        })
        .onAudio((d) => { if (d.sentenceAudio) speaker.add(d.sentenceAudio, d.text); })
        .onSuggestions((d) => {
          const box = el("div", { class: "suggestions", role: "group", "aria-label": "Suggested questions" });
          for (const s of (d.suggestions || []).slice(0, 4)) {
            box.append(el("button", { type: "button", text: s, onclick: () => ask(s, m) }));
          }
          follow(() => bot.append(box));
        })
        .onComplete((d) => {
          steps.textContent = "";
          if (text.parentNode) finish(n, text, bot, m === "chat" && Array.isArray(d.sources) ? d.sources : []);
        })
        .onError((e) => {
          steps.textContent = "";
          const kept = e.received && e.received.text;
          const words = (kept ? "The answer was cut short. " : "") + sayError(e);
          const box = el("p", { class: "error", role: "alert" }, el("span", { text: words }));
          if (e.code !== "INVALID_PARAMETERS") {
            box.append(el("button", { type: "button", text: "Try again", onclick: () => ask(q, m) }));
          }
          follow(() => bot.append(box));
        })
        .onClose(() => {
          if (current === st) { current = null; busy(false); }
        });
      current = st;
    }

    // The finished answer: [n] marks become links to the numbered sources
    // below it, **bold** and *emphasis* (which models and documents write)
    // become <strong> and <em>. Built from text nodes only: nothing of the
    // answer is parsed as HTML.
    function finish(n, text, bot, sources) {
      const ids = {};
      let list = null;
      if (sources.length) {
        list = el("ol", { class: "sources", "aria-label": "Sources" });
        for (const s of sources) {
          const id = "troika-src-" + n + "-" + s.ref;
          ids[s.ref] = id;
          list.append(el("li", { id, value: String(s.ref), text: (s.title || "Document") + (s.page ? ", page " + s.page : "") }));
        }
      }
      const full = text.textContent;
      text.textContent = "";
      for (const part of full.split(/(\[\d+\]|\*\*[^*\n]+\*\*|\*[^*\s][^*\n]*\*)/)) {
        if (!part) continue;
        const ref = /^\[(\d+)\]$/.exec(part);
        if (ref && ids[ref[1]]) {
          const id = ids[ref[1]];
          text.append(el("a", { href: "#" + id, "aria-label": "source " + ref[1], text: part,
                                onclick: (e) => {
                                  e.preventDefault();
                                  const li = bot.querySelector("#" + id);
                                  li.classList.add("hl");
                                  li.scrollIntoView({ block: "nearest" });
                                  setTimeout(() => li.classList.remove("hl"), 1500);
                                } }));
        } else if (/^\*\*.+\*\*$/.test(part)) {
          text.append(el("strong", { text: part.slice(2, -2) }));
        } else if (/^\*.+\*$/.test(part)) {
          text.append(el("em", { text: part.slice(1, -1) }));
        } else {
          text.append(part);
        }
      }
      if (list) follow(() => text.after(list));
    }

    function marketCard(d) {
      const p = d.price || {};
      const box = el("section", { class: "market", "aria-label": "Market figures" });
      const seg = (d.segment && d.segment.description) || "this segment";
      box.append(el("h3", { text: (d.relaxed ? "Nearest match: " : "") + seg }));
      box.append(el("p", { class: "fig", text: d.count + " piece" + (d.count === 1 ? "" : "s") + ", " + d.inStock +
                           " in stock, median " + money(p.median, p.currency) }));
      const span = (p.max - p.min) || 1, at = (v) => (100 * (v - p.min) / span).toFixed(1) + "%";
      const bar = el("div", { class: "range", role: "img",
                              "aria-label": "Prices from " + money(p.min, p.currency) + " to " + money(p.max, p.currency) +
                                            ", middle half " + money(p.q1, p.currency) + " to " + money(p.q3, p.currency) +
                                            ", median " + money(p.median, p.currency) });
      const iqr = el("div", { class: "iqr" });
      iqr.style.left = at(p.q1);
      iqr.style.width = ((100 * (p.q3 - p.q1)) / span).toFixed(1) + "%";
      const med = el("div", { class: "med" });
      med.style.left = at(p.median);
      bar.append(iqr, med);
      box.append(bar, el("div", { class: "range-labels", "aria-hidden": "true" },
                         el("span", { text: money(p.min, p.currency) }), el("span", { text: "median " + money(p.median, p.currency) }),
                         el("span", { text: money(p.max, p.currency) })));
      const des = (d.topDesigners || []).slice(0, 3);
      if (des.length) {
        const ul = el("ul", { class: "designers", "aria-label": "Top designers" });
        ul.append(el("li", { text: "Top designers: " + des.map((x) => x.name + " (" + x.count + ")").join(", ") }));
        box.append(ul);
      }
      return box;
    }

    function productCards(d) {
      const list = el("ul", { class: "cards" + (d.stage === "final" ? "" : " prelim"), "data-stage": d.stage,
                              "aria-label": d.stage === "final" ? "Products" : "Products (still refining)" });
      for (const p of (d.products || []).slice(0, 6)) {
        let pic;
        if (cfg.images && p.imageUrl) {
          pic = el("img", { class: "pic", src: p.imageUrl, alt: "", loading: "lazy" });
        } else {
          pic = el("span", { class: "pic", "aria-hidden": "true" });
          const cols = (p.colors && p.colors.length ? p.colors : ["grey"]).map(colourCss);
          pic.style.background = cols.length === 1 ? cols[0] : "linear-gradient(90deg," + cols.join(",") + ")";
        }
        const name = p.url ? el("a", { href: p.url, target: "_blank", rel: "noopener", text: p.title }) : p.title;
        list.append(el("li", { class: "card" }, pic,
                       el("div", { class: "body" }, el("h4", null, name),
                          el("div", { class: "by", text: p.designer || "" }),
                          el("div", { class: "price" }, money(p.price, p.currency),
                             p.inStock ? null : el("span", { class: "oos", text: " · out of stock" })))));
      }
      return list;
    }

    document.body.append(host);
    if (cfg.open) open();
    return {
      open, close: shut,
      ask: (q, m) => { open(); if (m) setMode(m); ask(q, m || mode); },
      // Which chatbot's documents the "Shop help" mode asks (the demo page's upload form sets it).
      setChatbot: (id) => { cfg.chatbot = String(id); },
      get chatbot() { return cfg.chatbot; },
      get mode() { return mode; },
      root,
    };
  }

  function start() {
    if (!cfg.chatbot) {
      console.warn("troika widget: data-chatbot is missing on the script tag");
    }
    const go = () => { window.TroikaWidget = build(window.Troika); };
    if (window.Troika && window.Troika.chat) return go();
    const s = document.createElement("script");
    s.src = new URL("troika.js", scriptBase).href;
    s.onload = go;
    s.onerror = () => console.error("troika widget: could not load " + s.src);
    document.head.append(s);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
