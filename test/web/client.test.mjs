// client.test.mjs: web/troika.js on its own, with node's test runner
// (node --test test/web/). The SSE parser against the WHATWG examples, every
// chunk boundary (inside CRLF and inside UTF-8 characters) and, as a peer
// nobody here wrote, eventsource-parser (the parser of the npm `eventsource`
// package) over random streams; then the transports against local HTTP
// servers that misbehave on purpose: a GET stream dropped mid-way (retried
// once, with npm `eventsource` as the EventSource), a POST stream cut (onError
// with what had arrived), HTTP refusals, an `error` event, abort(), the idle
// timeout, and an upload. The real server is tested by test_web_clients.py.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createRequire } from "node:module";
import { createParser } from "eventsource-parser";
import { EventSource } from "eventsource";

const require = createRequire(import.meta.url);
const Troika = require("../../web/troika.js");
const { SSEParser } = Troika;

function parseAll(chunks) {
  const events = [], comments = [];
  const p = new SSEParser((e) => events.push(e), (c) => comments.push(c));
  for (const c of chunks) p.feed(c);
  p.end();
  return { events, comments, retry: p.retry };
}

// Bytes to text as a stream would: one streaming TextDecoder over the pieces.
function decodePieces(bytes, cuts) {
  const dec = new TextDecoder("utf-8");
  const out = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(dec.decode(bytes.subarray(at, c), { stream: true }));
    at = c;
  }
  out.push(dec.decode());
  return out;
}

test("WHATWG examples: multi-line data, comments, id, the space after the colon", () => {
  let r = parseAll(["data: YHOO\ndata: +2\ndata: 10\n\n"]);
  assert.deepEqual(r.events.map((e) => e.data), ["YHOO\n+2\n10"]);
  r = parseAll([": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"]);
  assert.deepEqual(r.events.map((e) => [e.data, e.lastEventId]),
                   [["first event", "1"], ["second event", ""], [" third event", ""]]);
  assert.deepEqual(r.comments, ["test stream"]);
  r = parseAll(["data\n\ndata\ndata\n\ndata:"]);
  assert.deepEqual(r.events.map((e) => e.data), ["", "\n"]);            // the last block never ended
  r = parseAll(["data:test\n\ndata: test\n\n"]);
  assert.deepEqual(r.events.map((e) => e.data), ["test", "test"]);
});

test("event types, ids kept across events, NUL ids ignored, retry digits only, unknown fields", () => {
  const r = parseAll(["event: results\nid: 7\ndata: {}\n\n", "data: x\n\n", "id: a\0b\nevent\ndata: y\n\n",
                      "retry: 12x\nretry: 250\nfoo: bar\ndata: z\n\n", "event: only\n\n"]);
  assert.deepEqual(r.events.map((e) => [e.type, e.data, e.lastEventId]),
                   [["results", "{}", "7"], ["message", "x", "7"], ["message", "y", "7"], ["message", "z", "7"]]);
  assert.equal(r.retry, 250);
});

test("CR, LF and CRLF line ends, a CRLF split across chunks, a leading BOM", () => {
  const want = [["a", "1"], ["b", "2"], ["c", "3"]];
  const text = "\ufeffid: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rid: 3\ndata: c\n\n";
  for (let i = 0; i <= text.length; i++) {
    const r = parseAll([text.slice(0, i), text.slice(i)]);
    assert.deepEqual(r.events.map((e) => [e.data, e.lastEventId]), want, "cut at " + i);
  }
});

test("a chunk boundary anywhere, including inside a UTF-8 character", () => {
  const text = "event: text\r\nid: 1\r\ndata: {\"token\":\"₹40,000 लहंगा 👗\"}\r\n\r\n: ping\r\n\r\n" +
               "event: text\nid: 2\ndata: {\"fullText\":\"naïve — ok\"}\n\n";
  const bytes = new TextEncoder().encode(text);
  const whole = parseAll([text]);
  assert.equal(whole.events.length, 2);
  assert.equal(JSON.parse(whole.events[0].data).token, "₹40,000 लहंगा 👗");
  for (let i = 0; i <= bytes.length; i++) {
    for (const j of [i, Math.min(bytes.length, i + 1), Math.min(bytes.length, i + 3)]) {
      const r = parseAll(decodePieces(bytes, [i, j]));
      assert.deepEqual(r.events, whole.events, "cuts at " + i + ", " + j);
      assert.deepEqual(r.comments, ["ping"]);
    }
  }
});

// Random streams from pieces that exercise every rule, parsed by troika.js
// and by eventsource-parser, fed in random pieces: the same events.
test("random streams: the same events as eventsource-parser", () => {
  let seed = 20261206;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const pieces = ["data: ", "data:", "data", "event: ", "event:", "id: ", "id:", "id", ":", ": ping", "retry: 9",
                  "x", "ab", " ", "₹", "👗", "ह", "{\"k\":1}", "\n", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n"];
  for (let n = 0; n < 400; n++) {
    let text = "";
    const len = 5 + rnd(60);
    for (let i = 0; i < len; i++) text += pieces[rnd(pieces.length)];
    text += "\n\n";
    const bytes = new TextEncoder().encode(text);
    const cuts = [];
    for (let k = rnd(6); k > 0; k--) cuts.push(rnd(bytes.length + 1));
    cuts.sort((a, b) => a - b);
    const chunks = decodePieces(bytes, cuts);

    const ours = parseAll(chunks).events.map((e) => [e.type, e.data, e.lastEventId]);
    const theirs = [];
    let last = "";
    const peer = createParser({
      onEvent: (e) => {
        if (e.id !== undefined) last = e.id;
        theirs.push([e.event || "message", e.data, last]);
      },
    });
    for (const c of chunks) peer.feed(c);
    assert.deepEqual(ours, theirs, JSON.stringify(text));
  }
});

// -- transports against local servers --------------------------------------

function server(handler) {
  return new Promise((resolve) => {
    const conns = { count: 0, closed: 0 };
    const s = http.createServer((req, res) => {
      conns.count++;
      req.on("close", () => { conns.closed++; });
      handler(req, res, conns.count);
    });
    s.listen(0, "127.0.0.1", () => {
      resolve({ base: "http://127.0.0.1:" + s.address().port, conns, close: () => new Promise((r) => { s.closeAllConnections(); s.close(r); }) });
    });
  });
}

const sse = (res) => res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" });
const ev = (id, type, obj) => "id: " + id + "\nevent: " + type + "\ndata: " + JSON.stringify(obj) + "\n\n";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every callback of a handle, in order: [type, data].
function collect(h) {
  const seen = [];
  for (const name of ["onConnected", "onProgress", "onResults", "onText", "onAudio", "onIntent", "onMarket",
                      "onSuggestions", "onComplete", "onError"]) {
    h[name]((d, meta) => seen.push([name, d, meta]));
  }
  return seen;
}

test("POST stream over fetch: every callback, CRLF and UTF-8 split across writes, audio joined per sentence", async () => {
  const mp3a = Buffer.from("first-sentence-audio-").toString("base64");
  const mp3b = Buffer.from("and-its-rest").toString("base64");
  const srv = await server(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(JSON.parse(body).message, "red lehenga");
    sse(res);
    const all = Buffer.from(ev(1, "connected", { message: "Stream started", sessionId: "s1" }) +
      ev(2, "progress", { step: "intent_analysis", message: "…" }) +
      ev(3, "intent", { intent: "product_search", confidence: 0.9, entities: { color: "red" } }) +
      ev(4, "market", { count: 3, price: { min: 1, max: 9, median: 5 } }) +
      ev(5, "results", { stage: "final", products: [{ sku: "A" }], total: 1 }) +
      ": ping\n\n" +
      ev(6, "text", { token: "लाल", fullText: "लाल" }).replace(/\n/g, "\r\n") +
      ev(7, "text", { token: " ₹40,000", fullText: "लाल ₹40,000" }) +
      ev(8, "audio", { chunk: mp3a, sequence: 1, sentence: 1, last: false, text: "लाल" }) +
      ev(9, "audio", { chunk: mp3b, sequence: 2, sentence: 1, last: true, text: "लाल" }) +
      ev(10, "suggestions", { suggestions: ["cheaper"] }) +
      ev(11, "complete", { duration: 5 }) + ev(12, "close", { message: "Stream ended" }));
    // one byte at a time through the multi-byte characters, with pauses
    for (let i = 0; i < all.length;) {
      const n = all[i] >= 0x80 ? 1 : 40;
      res.write(all.subarray(i, i + n));
      i += n;
      if (i % 7 === 0) await sleep(1);
    }
    res.end();
  });
  try {
    const comments = [];
    const h = Troika.client({ baseUrl: srv.base }).agent({ message: "red lehenga" }, { onComment: (c) => comments.push(c) });
    const seen = collect(h);
    const out = await h.finished;
    assert.equal(out.status, "done");
    assert.deepEqual(seen.map((x) => x[0]), ["onConnected", "onProgress", "onIntent", "onMarket", "onResults", "onText",
                                              "onText", "onAudio", "onAudio", "onSuggestions", "onComplete"]);
    assert.deepEqual(seen.map((x) => x[2].id), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    assert.equal(seen[6][1].fullText, "लाल ₹40,000");
    assert.equal(seen[7][1].sentenceAudio, undefined);
    assert.equal(Buffer.from(seen[8][1].sentenceAudio).toString(), "first-sentence-audio-and-its-rest");
    assert.equal(out.received.text, "लाल ₹40,000");
    assert.equal(out.received.lastEventId, "12");
    assert.deepEqual(comments, ["ping"]);
  } finally {
    await srv.close();
  }
});

test("a POST stream cut before close: onError CONNECTION_LOST with what had arrived", async () => {
  const srv = await server((req, res) => {
    sse(res);
    res.write(ev(1, "connected", { message: "Stream started" }) + ev(2, "text", { token: "Unworn", fullText: "Unworn" }) +
              ev(3, "text", { token: " items", fullText: "Unworn items" }));
    setTimeout(() => res.destroy(), 50);
  });
  try {
    const h = Troika.client({ baseUrl: srv.base }).chat({ query: "returns?", chatbotId: "b" });
    const seen = collect(h);
    const out = await h.finished;
    assert.equal(out.status, "error");
    const err = seen.find((x) => x[0] === "onError")[1];
    assert.equal(err.code, "CONNECTION_LOST");
    assert.equal(err.partial, true);
    assert.equal(err.received.text, "Unworn items");
    assert.equal(srv.conns.count, 1, "a chat turn is not sent again");
  } finally {
    await srv.close();
  }
});

test("HTTP refusals before the stream: status, code, field and Retry-After from the JSON body", async () => {
  const srv = await server((req, res) => {
    if (req.url.startsWith("/api/chat")) {
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "7" });
      res.end(JSON.stringify({ status: 429, code: "RATE_LIMIT_EXCEEDED", error: "Streaming rate limit exceeded",
                               message: "Too many requests" }));
    } else {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: "INVALID_PARAMETERS", field: "q", message: "q is required" }));
    }
  });
  try {
    const c = Troika.client({ baseUrl: srv.base, EventSource });
    let h = c.chat({ query: "x", chatbotId: "b" });
    let seen = collect(h);
    await h.finished;
    assert.deepEqual(seen.map((x) => x[0]), ["onError"]);
    assert.equal(seen[0][1].status, 429);
    assert.equal(seen[0][1].code, "RATE_LIMIT_EXCEEDED");
    assert.equal(seen[0][1].retryAfter, 7);
    assert.equal(seen[0][1].partial, false);
    h = c.search("");
    seen = collect(h);
    await h.finished;
    assert.deepEqual(seen.map((x) => [x[0], x[1].status, x[1].code, x[1].field]), [["onError", 400, "INVALID_PARAMETERS", "q"]]);
  } finally {
    await srv.close();
  }
});

test("an error event: onError with the server's code and partial, then nothing more", async () => {
  const srv = await server((req, res) => {
    sse(res);
    res.end(ev(1, "connected", {}) + ev(2, "text", { token: "One", fullText: "One" }) +
            ev(3, "error", { code: "UPSTREAM_ERROR", message: "inference server crashed", partial: true }) +
            ev(4, "close", { message: "Stream ended" }));
  });
  try {
    const h = Troika.client({ baseUrl: srv.base }).chat({ query: "x", chatbotId: "b" });
    const seen = collect(h);
    const out = await h.finished;
    assert.equal(out.status, "error");
    assert.deepEqual(seen.map((x) => x[0]), ["onConnected", "onText", "onError"]);
    assert.equal(seen[2][1].code, "UPSTREAM_ERROR");
    assert.equal(seen[2][1].partial, true);
    assert.equal(seen[2][1].received.text, "One");
  } finally {
    await srv.close();
  }
});

test("abort(): no callback after it, the connection is closed", async () => {
  const srv = await server((req, res) => {
    sse(res);
    res.write(ev(1, "connected", {}));
    const t = setInterval(() => res.write(ev(2, "progress", { step: "x", message: "tick" })), 20);
    res.on("close", () => clearInterval(t));
  });
  try {
    const h = Troika.client({ baseUrl: srv.base }).aza({ query: "x" });
    const seen = collect(h);
    await new Promise((r) => h.onProgress(() => r()));
    h.abort();
    const n = seen.length;
    const out = await h.finished;
    await sleep(150);
    assert.equal(out.status, "aborted");
    assert.equal(seen.length, n);
    assert.equal(srv.conns.closed, 1);
  } finally {
    await srv.close();
  }
});

test("nothing arrives for idleTimeout: CONNECTION_LOST", async () => {
  const srv = await server((req, res) => { sse(res); res.write(ev(1, "connected", {})); });
  try {
    const h = Troika.client({ baseUrl: srv.base, idleTimeout: 300 }).chat({ query: "x", chatbotId: "b" });
    const seen = collect(h);
    const out = await h.finished;
    assert.equal(out.status, "error");
    assert.equal(seen[seen.length - 1][1].code, "CONNECTION_LOST");
  } finally {
    await srv.close();
  }
});

test("GET over EventSource (npm eventsource): a drop is retried once; close is final", async () => {
  let mode = "drop-once";
  const srv = await server((req, res, n) => {
    sse(res);
    // retry: 100 would make a reconnecting EventSource come back quickly
    res.write("retry: 100\n\n" + ev(1, "connected", { attempt: n }) + ev(2, "results", { stage: "text", products: [], total: 0 }));
    if (mode === "drop-once" && n === 1) return setTimeout(() => res.destroy(), 30);
    if (mode === "drop-always") return setTimeout(() => res.destroy(), 30);
    res.end(ev(3, "results", { stage: "final", products: [], total: 0 }) + ev(4, "complete", { duration: 1 }) +
            ev(5, "close", { message: "Stream ended" }));
  });
  try {
    const c = Troika.client({ baseUrl: srv.base, EventSource });
    let h = c.search("lehenga", { limit: 5, filters: { color: "red", inStock: true }, sort: "price_asc" });
    let seen = collect(h);
    let out = await h.finished;
    assert.equal(out.status, "done");
    assert.deepEqual(seen.filter((x) => x[0] === "onConnected").map((x) => [x[1].attempt, x[2].attempt]), [[1, 1], [2, 2]]);
    assert.equal(seen[seen.length - 1][0], "onComplete");
    await sleep(400);
    assert.equal(srv.conns.count, 2, "closed on `close`: no reconnection");

    mode = "drop-always";
    h = c.search("lehenga");
    seen = collect(h);
    out = await h.finished;
    assert.equal(out.status, "error");
    assert.equal(seen[seen.length - 1][1].code, "CONNECTION_LOST");
    await sleep(400);
    assert.equal(srv.conns.count, 4, "one retry, then no more");
  } finally {
    await srv.close();
  }
});

test("the search's options become its query string", async () => {
  let url = null;
  const srv = await server((req, res) => {
    url = new URL(req.url, "http://x");
    sse(res);
    res.end(ev(1, "close", {}));
  });
  try {
    const h = Troika.client({ baseUrl: srv.base + "/shop/", EventSource })
      .search("red lehenga", { limit: 5, offset: 10, filters: { color: "red", inStock: true, size: null }, sort: "newest",
                               params: { cursor: "abc" }, onText() {} });
    await h.finished;
    assert.equal(url.pathname, "/shop/api/products/search/stream");
    assert.deepEqual(Object.fromEntries(url.searchParams),
                     { q: "red lehenga", limit: "5", offset: "10", sort: "newest", color: "red", inStock: "true", cursor: "abc" });
  } finally {
    await srv.close();
  }
});

test("upload over fetch (no XMLHttpRequest in node): multipart with the key, sending, then the server's steps", async () => {
  const srv = await server(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    assert.equal(req.headers.authorization, "Bearer k-123");
    assert.match(req.headers["content-type"], /^multipart\/form-data; boundary=/);
    assert.match(body, /name="chatbotId"\r\n\r\nshop-1\r\n/);
    assert.match(body, /name="title"\r\n\r\nSize guide\r\n/);
    assert.match(body, /name="file"; filename="sizes.md"\r\nContent-Type: text\/markdown\r\n\r\n# Sizes/);
    sse(res);
    res.end(ev(1, "connected", {}) + ev(2, "progress", { step: "upload_validation", message: "ok", percent: 100 }) +
            ev(3, "complete", { fileId: 9, chunks: 1 }) + ev(4, "close", {}));
  });
  try {
    const file = new File(["# Sizes\n\nM fits a 38 inch chest.\n"], "sizes.md", { type: "text/markdown" });
    const h = Troika.client({ baseUrl: srv.base }).upload(file, { chatbotId: "shop-1", title: "Size guide", apiKey: "k-123" });
    const seen = collect(h);
    const out = await h.finished;
    assert.equal(out.status, "done");
    assert.deepEqual(seen.map((x) => [x[0], x[1].step || ""]),
                     [["onProgress", "sending"], ["onConnected", ""], ["onProgress", "upload_validation"], ["onComplete", ""]]);
    assert.equal(seen[0][1].percent, 100);
    assert.equal(seen[0][1].loaded, file.size);
  } finally {
    await srv.close();
  }
});

test("a callback that throws: the error surfaces on its own and the stream goes on", async () => {
  const srv = await server((req, res) => {
    sse(res);
    res.end(ev(1, "connected", {}) + ev(2, "text", { token: "a", fullText: "a" }) + ev(3, "complete", {}) + ev(4, "close", {}));
  });
  const thrown = [];
  const onUncaught = (e) => thrown.push(e.message);
  process.prependListener("uncaughtException", onUncaught);
  const saved = process.listeners("uncaughtException").filter((f) => f !== onUncaught);
  for (const f of saved) process.removeListener("uncaughtException", f);
  try {
    const h = Troika.client({ baseUrl: srv.base }).chat({ query: "x", chatbotId: "b" });
    const seen = collect(h);
    h.onConnected(() => { throw new Error("shop code failed"); });
    const out = await h.finished;
    await sleep(20);
    assert.equal(out.status, "done");
    assert.deepEqual(seen.map((x) => x[0]), ["onText", "onComplete"]);
    assert.deepEqual(thrown, ["shop code failed"]);
  } finally {
    process.removeListener("uncaughtException", onUncaught);
    for (const f of saved) process.on("uncaughtException", f);
    await srv.close();
  }
});
