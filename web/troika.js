/* troika.js: the client for Troika's streams, for browsers and Node (20+).
 *
 * One file, no dependencies, no build step. Loaded by a classic <script>
 * tag it defines `window.Troika`; imported as a module (`import
 * "./troika.js"`, or troika.mjs for named exports) or required by CommonJS
 * it gives the same object. Each call returns a Stream handle:
 *
 *   Troika.search("red lehenga under 5k", { limit: 12 })
 *     .onResults((d) => show(d.products))
 *     .onError((e) => say(e.message));
 *
 * GET streams (product search, the self-test) go through EventSource, which
 * is closed on the server's `close` event so the browser does not reconnect
 * and run the search again; a connection dropped before `close` is retried
 * once. POST streams (chat, the sales agent, Aza search) and upload go
 * through fetch (XMLHttpRequest for upload in a browser, for the progress of
 * the bytes sent) and SSEParser below, which follows the WHATWG rules for
 * the event-stream format. A POST stream cut before `close` is reported to
 * onError with what had arrived (`received`); it is not sent again, since a
 * chat turn is not idempotent (the server stores it).
 */
(function (root, factory) {
  "use strict";
  const api = factory(root);
  if (typeof module === "object" && module && module.exports) module.exports = api;
  if (root) root.Troika = api;
})(typeof globalThis !== "undefined" ? globalThis : this, function (root) {
  "use strict";

  const VERSION = "0.1.0";

  // ---------------------------------------------------------------------
  // SSEParser: text in, events out (the WHATWG "event stream interpretation").
  // Lines end in CRLF, LF or CR, also when a CRLF is split across chunks;
  // `data` lines are joined with LF; comments (`:`) are reported apart; `id`
  // without NUL sets lastEventId (kept across events); `retry` takes digits
  // only; a block with no data dispatches nothing; an unfinished block at
  // the end of the stream is dropped. Bytes must already be decoded: feed it
  // the output of a streaming TextDecoder, which holds back a UTF-8
  // character split across chunks until its rest arrives.
  class SSEParser {
    constructor(onEvent, onComment) {
      this.onEvent = onEvent;
      this.onComment = onComment || null;
      this.buf = "";
      this.skipLF = false;        // the previous chunk ended in CR
      this.started = false;       // the leading BOM is stripped once
      this.data = [];
      this.type = "";
      this.lastEventId = "";
      this.retry = null;
      this.hasData = false;
    }

    feed(text) {
      if (!text) return;
      if (!this.started) {
        this.started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      let s = this.buf + text;
      let pos = 0;
      if (this.skipLF) {
        this.skipLF = false;
        if (s.charCodeAt(0) === 10) pos = 1;
      }
      for (;;) {
        let cr = s.indexOf("\r", pos), lf = s.indexOf("\n", pos);
        let end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
        if (end < 0) break;
        const line = s.slice(pos, end);
        if (s.charCodeAt(end) === 13) {
          if (end + 1 === s.length) this.skipLF = true;      // maybe CRLF across chunks
          else if (s.charCodeAt(end + 1) === 10) end++;
        }
        pos = end + 1;
        this.line(line);
      }
      this.buf = s.slice(pos);
    }

    line(line) {
      if (line === "") return this.dispatch();
      if (line.charCodeAt(0) === 58) {                        // ':' comment
        if (this.onComment) this.onComment(line.slice(1).replace(/^ /, ""));
        return;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") { this.data.push(value); this.hasData = true; }
      else if (field === "event") this.type = value;
      else if (field === "id") { if (value.indexOf("\0") < 0) this.lastEventId = value; }
      else if (field === "retry") { if (/^[0-9]+$/.test(value)) this.retry = Number(value); }
    }

    dispatch() {
      const type = this.type || "message", had = this.hasData, data = this.data.join("\n");
      this.data = [];
      this.type = "";
      this.hasData = false;
      if (!had) return;
      this.onEvent({ type, data, lastEventId: this.lastEventId });
    }

    // The stream ended: an unfinished line is a line, an unfinished block is dropped.
    end() {
      this.buf = "";
      this.data = [];
      this.type = "";
      this.hasData = false;
    }
  }

  // ---------------------------------------------------------------------
  // Stream: the handle every call returns.

  const CALLBACKS = {
    onConnected: "connected", onProgress: "progress", onResults: "results", onText: "text",
    onAudio: "audio", onIntent: "intent", onMarket: "market", onSuggestions: "suggestions",
    onComplete: "complete", onError: "error",
  };

  // Calls a user's callback; an exception in it is thrown again on its own
  // (the console shows it, as for any event handler) and the stream goes on.
  function call(fn, a, b) {
    if (!fn) return;
    try {
      fn(a, b);
    } catch (e) {
      setTimeout(() => { throw e; }, 0);
    }
  }

  function b64bytes(s) {
    if (typeof atob === "function") {
      const bin = atob(s), out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(s, "base64"));
  }

  class Stream {
    constructor(route, opts) {
      this.route = route;
      this.handlers = {};
      this.extra = {};                  // onEvent, onClose, onComment
      this.state = "open";              // open | done | error | aborted
      this.attempt = 1;
      this.received = {
        events: 0, lastEventId: "", connected: null, progress: [], results: null, text: "",
        intent: null, market: null, suggestions: null, audioChunks: 0, complete: null,
      };
      this._audio = [];                 // the current sentence's decoded pieces
      this._cancel = null;              // stops the transport
      this.finished = new Promise((resolve) => { this._resolve = resolve; });
      for (const name of Object.keys(CALLBACKS)) if (typeof opts[name] === "function") this.handlers[CALLBACKS[name]] = opts[name];
      for (const name of ["onEvent", "onClose", "onComment"]) if (typeof opts[name] === "function") this.extra[name] = opts[name];
    }

    on(type, fn) { this.handlers[type] = fn; return this; }
    onConnected(fn) { return this.on("connected", fn); }
    onProgress(fn) { return this.on("progress", fn); }
    onResults(fn) { return this.on("results", fn); }
    onText(fn) { return this.on("text", fn); }
    onAudio(fn) { return this.on("audio", fn); }
    onIntent(fn) { return this.on("intent", fn); }
    onMarket(fn) { return this.on("market", fn); }
    onSuggestions(fn) { return this.on("suggestions", fn); }
    onComplete(fn) { return this.on("complete", fn); }
    onError(fn) { return this.on("error", fn); }
    onClose(fn) { this.extra.onClose = fn; return this; }

    get open() { return this.state === "open"; }

    // Stops the stream; no callback runs after it (finished resolves "aborted").
    abort() {
      if (this.state !== "open") return;
      this.state = "aborted";
      if (this._cancel) this._cancel();
      this._finish();
    }

    // One event from the server (type, JSON text, id).
    _event(type, text, id) {
      if (this._done || (this.state !== "open" && type !== "close")) return;
      let d;
      try {
        d = JSON.parse(text);
      } catch (e) {
        return this._fail({ code: "BAD_RESPONSE", message: "An event's data is not JSON (" + type + ")" });
      }
      const r = this.received, meta = { type, id: id || "", attempt: this.attempt };
      r.events++;
      if (id) r.lastEventId = id;
      call(this.extra.onEvent, d, meta);
      switch (type) {
        case "connected": r.connected = d; break;
        case "progress": r.progress.push(d); break;
        case "results": r.results = d; break;
        case "text": r.text = typeof d.fullText === "string" ? d.fullText : r.text + (d.token || ""); break;
        case "intent": r.intent = d; break;
        case "market": r.market = d; break;
        case "suggestions": r.suggestions = d.suggestions || []; break;
        case "complete": r.complete = d; break;
        case "audio":
          r.audioChunks++;
          // A sentence's pieces joined: its whole MP3, on the piece marked last.
          if (typeof d.chunk === "string") this._audio.push(b64bytes(d.chunk));
          if (d.last !== false) {
            let n = 0;
            for (const p of this._audio) n += p.length;
            const all = new Uint8Array(n);
            n = 0;
            for (const p of this._audio) { all.set(p, n); n += p.length; }
            this._audio = [];
            Object.defineProperty(d, "sentenceAudio", { value: all, enumerable: false });
          }
          break;
        case "error":
          this.state = "error";
          call(this.handlers.error, Object.assign({ partial: false }, d, { received: r }), meta);
          return;
        case "close":
          this.state = this.state === "open" ? "done" : this.state;
          if (this._cancel) this._cancel();
          this._finish();
          return;
        default: break;
      }
      call(this.handlers[type], d, meta);
    }

    // A failure on our side of the stream (network, HTTP status, a cut).
    _fail(err) {
      if (this.state !== "open") return;
      this.state = "error";
      if (this._cancel) this._cancel();
      const r = this.received;
      const e = Object.assign({ partial: r.text !== "" || r.results !== null }, err, { received: r });
      call(this.handlers.error, e, { type: "error", id: "", attempt: this.attempt });
      this._finish();
    }

    // The transport ended: after `close` nothing is left to do; an `error`
    // event without `close` has been reported; anything else was cut.
    _ended() {
      if (this.state === "open") {
        if (this.received.complete) {
          this.state = "done";
        } else {
          return this._fail({
            code: this.received.events ? "CONNECTION_LOST" : "NETWORK_ERROR",
            message: this.received.events ? "The connection was lost before the answer was complete"
                                          : "The server closed the connection without answering",
          });
        }
      }
      this._finish();
    }

    _finish() {
      if (this._done) return;
      this._done = true;
      this._cancel = null;
      const out = { status: this.state, received: this.received };
      call(this.extra.onClose, out);
      this._resolve(out);
    }
  }

  // ---------------------------------------------------------------------
  // transports

  const CONFIG_KEYS = new Set(["baseUrl", "apiKey", "headers", "EventSource", "fetch", "XMLHttpRequest",
                               "retry", "idleTimeout", "signal", "filters", "params", "credentials"]);

  function joinUrl(base, path) {
    if (!base) return path;
    return base.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
  }

  // An HTTP answer that is not a stream: SPEC §2.2's JSON error, or a guess.
  async function httpError(status, text, headers) {
    let body = null;
    try { body = JSON.parse(text); } catch (e) { /* not JSON: a proxy's page */ }
    const err = {
      status, code: (body && body.code) || "HTTP_" + status,
      message: (body && (body.message || body.error)) || "The server answered " + status,
    };
    if (body && body.field) err.field = body.field;
    const ra = headers && headers("Retry-After");
    if (ra) err.retryAfter = Number(ra);
    return err;
  }

  function openEventSource(st, url, cfg) {
    const ES = cfg.EventSource || root.EventSource;
    if (!ES) {
      st._fail({ code: "UNSUPPORTED", message: "No EventSource here: pass one as the EventSource option" });
      return;
    }
    const retries = cfg.retry === undefined ? 1 : cfg.retry;
    let es = null;
    const start = () => {
      es = new ES(url, cfg.credentials === "include" ? { withCredentials: true } : undefined);
      st._cancel = () => { es.close(); };
      const types = ["connected", "progress", "results", "text", "audio", "intent", "market",
                     "suggestions", "complete", "close"];
      for (const t of types) es.addEventListener(t, (e) => st._event(t, e.data, e.lastEventId));
      es.addEventListener("error", (e) => {
        if (e.data !== undefined) { st._event("error", e.data, e.lastEventId); return; }
        // A connection error (no data): never let the browser reconnect by itself.
        const closed = es.readyState === 2;
        es.close();
        if (st.state === "error") return st._ended();    // an error event, then no close
        if (st.state !== "open") return;
        if (st.received.events === 0 && closed) {
          // Refused before the stream opened (HTTP 4xx/5xx, or not a stream):
          // EventSource hides the answer, so ask once more for its body.
          const f = cfg.fetch || root.fetch;
          if (!f) return st._fail({ code: "NETWORK_ERROR", message: "Could not open the stream" });
          f(url, { headers: { Accept: "application/json" }, credentials: cfg.credentials || "same-origin" })
            .then(async (res) => {
              if (res.ok && /event-stream/.test(res.headers.get("content-type") || "")) {
                if (res.body && res.body.cancel) res.body.cancel();
                throw new Error("the stream opened this time");
              }
              st._fail(await httpError(res.status, await res.text(), (h) => res.headers.get(h)));
            })
            .catch(() => st._fail({ code: "NETWORK_ERROR", message: "Could not reach the server" }));
          return;
        }
        if (!st.received.complete && st.attempt <= retries) {
          st.attempt++;
          st.received.events = 0;
          start();
          return;
        }
        st._ended();
      });
    };
    start();
  }

  async function readBody(st, res, cfg) {
    const reader = res.body.getReader();
    const dec = new TextDecoder("utf-8");
    const parser = new SSEParser((e) => st._event(e.type, e.data, e.lastEventId),
                                 (c) => call(st.extra.onComment, c));
    const idle = cfg.idleTimeout === undefined ? 45000 : cfg.idleTimeout;
    let timer = null, idleHit = false;
    const arm = () => {
      if (!idle) return;
      clearTimeout(timer);
      timer = setTimeout(() => { idleHit = true; reader.cancel().catch(() => {}); }, idle);
    };
    st._cancel = () => { clearTimeout(timer); reader.cancel().catch(() => {}); };
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          parser.feed(dec.decode());
          parser.end();
          break;
        }
        arm();
        parser.feed(dec.decode(value, { stream: true }));
        if (st._done) break;
      }
    } catch (e) {
      /* the connection broke: what arrived was handled */
    }
    clearTimeout(timer);
    if (st._done) reader.cancel().catch(() => {});
    if (idleHit && st.state === "open") {
      return st._fail({ code: "CONNECTION_LOST", message: "Nothing arrived for " + idle / 1000 + " s" });
    }
    st._ended();
  }

  function openFetch(st, url, init, cfg, onResponse) {
    const f = cfg.fetch || root.fetch;
    if (!f) {
      st._fail({ code: "UNSUPPORTED", message: "No fetch here: pass one as the fetch option" });
      return;
    }
    const ctl = typeof AbortController === "function" ? new AbortController() : null;
    if (ctl) st._cancel = () => ctl.abort();
    f(url, Object.assign({ signal: ctl ? ctl.signal : undefined, credentials: cfg.credentials || "same-origin" }, init))
      .then(async (res) => {
        if (st.state !== "open") return;
        const ctype = res.headers.get("content-type") || "";
        if (!res.ok || !/^text\/event-stream/i.test(ctype)) {
          return st._fail(await httpError(res.status, await res.text(), (h) => res.headers.get(h)));
        }
        if (onResponse) onResponse(res);
        return readBody(st, res, cfg);
      })
      .catch(() => st._fail({ code: "NETWORK_ERROR", message: "Could not reach the server" }));
  }

  // Upload through XMLHttpRequest: upload.onprogress counts the bytes as they
  // leave, as progress {step: "sending"}; the answer is read as it arrives.
  function sending(st, loaded, total, done) {
    const percent = total ? Math.min(100, Math.round(100 * loaded / total)) : null;
    const d = {
      step: "sending", client: true, loaded, total, percent: done ? 100 : percent,
      message: done ? "File sent" : "Sending the file" + (percent !== null ? " (" + percent + "%)" : ""),
    };
    if (done) d.count = loaded;
    call(st.handlers.progress, d, { type: "progress", id: "", attempt: 1 });
  }

  function openXhr(st, url, form, size, headers, cfg) {
    const X = cfg.XMLHttpRequest || root.XMLHttpRequest;
    const xhr = new X();
    const dec = new SSEParser((e) => st._event(e.type, e.data, e.lastEventId),
                              (c) => call(st.extra.onComment, c));
    let seen = 0, sent = false;
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (cfg.credentials === "include") xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => {
      if (st.state === "open" && !sent) sending(st, e.loaded, e.lengthComputable ? e.total : 0, false);
    };
    xhr.upload.onload = () => {
      if (st.state !== "open" || sent) return;
      sent = true;
      sending(st, size, size, true);
    };
    const pump = () => {
      if (xhr.status !== 200 || !/^text\/event-stream/i.test(xhr.getResponseHeader("Content-Type") || "")) return;
      const t = xhr.responseText;
      if (t.length > seen) {
        dec.feed(t.slice(seen));
        seen = t.length;
      }
    };
    xhr.onprogress = pump;
    xhr.onload = async () => {
      if (st.state !== "open") return;
      if (xhr.status !== 200 || !/^text\/event-stream/i.test(xhr.getResponseHeader("Content-Type") || "")) {
        return st._fail(await httpError(xhr.status, xhr.responseText, (h) => xhr.getResponseHeader(h)));
      }
      pump();
      dec.end();
      st._ended();
    };
    xhr.onerror = () => {
      if (st.state !== "open") return;
      if (st.received.events) return st._ended();
      st._fail({ code: "NETWORK_ERROR", message: "The upload did not reach the server (or it closed the connection)" });
    };
    st._cancel = () => xhr.abort();
    xhr.send(form);
  }

  // ---------------------------------------------------------------------
  // the client

  function client(defaults) {
    const base = Object.assign({}, defaults || {});

    function config(opts) {
      return Object.assign({}, base, opts || {}, { headers: Object.assign({}, base.headers, opts && opts.headers) });
    }

    function start(route, opts, fn) {
      const cfg = config(opts);
      const st = new Stream(route, cfg);
      if (cfg.signal) {
        if (cfg.signal.aborted) { st.abort(); return st; }
        cfg.signal.addEventListener("abort", () => st.abort());
      }
      // Callbacks set on the handle right after the call must see every
      // event: the transport starts after this turn of the event loop.
      Promise.resolve().then(() => { if (st.state === "open") fn(st, cfg); });
      return st;
    }

    // Query parameters: the options that are neither callbacks nor settings,
    // plus `filters` and `params` flattened.
    function params(q, cfg) {
      const p = new URLSearchParams();
      if (q !== undefined && q !== null) p.set("q", String(q));
      const put = (k, v) => { if (v !== undefined && v !== null && v !== "") p.set(k, String(v)); };
      for (const [k, v] of Object.entries(cfg)) {
        if (CONFIG_KEYS.has(k) || /^on[A-Z]/.test(k) || typeof v === "function" || typeof v === "object") continue;
        put(k, v);
      }
      for (const src of [cfg.filters, cfg.params]) if (src) for (const [k, v] of Object.entries(src)) put(k, v);
      return p.toString();
    }

    function get(path, q, opts) {
      return start(path, opts, (st, cfg) => {
        const qs = params(q, cfg);
        openEventSource(st, joinUrl(cfg.baseUrl, path) + (qs ? "?" + qs : ""), cfg);
      });
    }

    function post(path, body, opts) {
      return start(path, opts, (st, cfg) => {
        const headers = Object.assign({ "Content-Type": "application/json", Accept: "text/event-stream" }, cfg.headers);
        openFetch(st, joinUrl(cfg.baseUrl, path), { method: "POST", headers, body: JSON.stringify(body || {}) }, cfg);
      });
    }

    return {
      VERSION,
      client: (more) => client(Object.assign({}, base, more)),
      // GET /api/products/search/stream: q plus limit, offset, sort, cursor,
      // filters {size, color, category, designer, occasion, fabric, work,
      // minPrice, maxPrice, inStock} as options.
      search: (query, opts) => get("api/products/search/stream", query, opts),
      // GET /api/stream/selftest: {n, interval_ms}.
      selftest: (opts) => get("api/stream/selftest", undefined, opts),
      // POST /aza/search/stream: {query, limit, minScore, filters}.
      aza: (body, opts) => post("aza/search/stream", body, opts),
      // POST /api/chat/query/stream: {query, chatbotId, sessionId, enableTTS, voice}.
      chat: (body, opts) => post("api/chat/query/stream", body, opts),
      // POST /api/troika/intelligent-chat/stream: {message, sessionId, chatbotId,
      // enableTTS, voice, customerContext}.
      agent: (body, opts) => post("api/troika/intelligent-chat/stream", body, opts),
      // POST /api/context/upload-file/stream (multipart): file, {chatbotId, title, apiKey}.
      upload: (file, opts) => start("api/context/upload-file/stream", opts, (st, cfg) => {
        const form = new FormData();
        form.append("chatbotId", cfg.chatbotId === undefined ? "" : String(cfg.chatbotId));
        if (cfg.title) form.append("title", String(cfg.title));
        form.append("file", file, file && file.name ? file.name : "upload");
        const size = (file && file.size) || 0;
        const headers = Object.assign({ Accept: "text/event-stream" }, cfg.headers);
        if (cfg.apiKey) headers.Authorization = "Bearer " + cfg.apiKey;
        const url = joinUrl(cfg.baseUrl, "api/context/upload-file/stream");
        if (cfg.XMLHttpRequest || (root.XMLHttpRequest && !cfg.fetch)) {
          openXhr(st, url, form, size, headers, cfg);
        } else {
          // fetch cannot count the bytes it sends (a streamed request body
          // needs HTTP/2 in browsers): one progress event once they are sent.
          openFetch(st, url, { method: "POST", headers, body: form }, cfg, () => sending(st, size, size, true));
        }
      }),
      SSEParser,
    };
  }

  return client({});
});
