// clients.mjs: the real server's streams read by clients nobody here wrote,
// and by web/troika.js: npm `eventsource` (a WHATWG EventSource for node)
// on the GET routes, `@microsoft/fetch-event-source` on the POST routes, and
// troika.js (with node's fetch and npm `eventsource`) on every route.
// Settings as JSON on stdin: {base, key, chatbot, question, agentMessage,
// azaBody, searchQuery}; prints what each client received as JSON;
// test/integration/test_web_clients.py starts the stack and asserts.
import { EventSource } from "eventsource";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// fetch-event-source is a browser library: it clears its retry timer through
// `window` and always unhooks a `document` visibility listener when done.
globalThis.window = globalThis;
globalThis.document = { hidden: false, addEventListener() {}, removeEventListener() {} };
const { fetchEventSource } = await import("@microsoft/fetch-event-source");

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const Troika = require("../../web/troika.js");
const cfg = JSON.parse(await new Promise((res) => {
  let s = "";
  process.stdin.on("data", (d) => { s += d; }).on("end", () => res(s));
}));
const fixtures = join(here, "..", "fixtures", "upload");
const out = { eventsource: {}, fes: {}, troika: {} };

// -- npm eventsource on the GET routes ------------------------------------------
function viaEventSource(path) {
  return new Promise((resolve) => {
    const got = [];
    const es = new EventSource(cfg.base + path);
    const types = ["connected", "progress", "results", "complete", "error", "close", "suggestions"];
    for (const t of types) {
      es.addEventListener(t, (e) => {
        if (e.data === undefined) return;
        got.push({ type: t, id: e.lastEventId, data: JSON.parse(e.data) });
        if (t === "close") { es.close(); resolve(got); }
      });
    }
    es.onerror = (e) => {
      if (e && e.data !== undefined) return;   // a server `error` event, handled above
      es.close();
      got.push({ type: "transport-error", message: String(e && e.message) });
      resolve(got);
    };
  });
}

out.eventsource.search = await viaEventSource("/api/products/search/stream?q=" + encodeURIComponent(cfg.searchQuery) + "&limit=5");
out.eventsource.selftest = await viaEventSource("/api/stream/selftest?n=3&interval_ms=50");

// -- @microsoft/fetch-event-source on the POST routes ---------------------------
async function viaFes(path, init) {
  const got = [];
  const ctl = new AbortController();
  try {
    await fetchEventSource(cfg.base + path, Object.assign({
      signal: ctl.signal,
      openWhenHidden: true,
      async onopen(res) {
        if (!res.ok || !(res.headers.get("content-type") || "").startsWith("text/event-stream")) {
          throw new Error("not a stream: " + res.status);
        }
      },
      onmessage(m) {
        got.push({ type: m.event, id: m.id, data: JSON.parse(m.data) });
      },
      onerror(err) { throw err; },                 // no retry: a POST is not sent twice
    }, init));
  } catch (e) {
    got.push({ type: "transport-error", message: String(e && e.message) });
  }
  return got;
}

const json = (body) => ({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const chatBody = { query: cfg.question, chatbotId: cfg.chatbot, enableTTS: true };
const agentBody = { message: cfg.agentMessage, enableTTS: false };

out.fes.chat = await viaFes("/api/chat/query/stream", json(chatBody));
out.fes.agent = await viaFes("/api/troika/intelligent-chat/stream", json(agentBody));
out.fes.aza = await viaFes("/aza/search/stream", json(cfg.azaBody));
{
  const form = new FormData();
  form.append("chatbotId", cfg.chatbot + "-fes");
  form.append("file", new File([readFileSync(join(fixtures, "guide.md"))], "guide.md", { type: "text/markdown" }));
  out.fes.upload = await viaFes("/api/context/upload-file/stream",
                                { method: "POST", headers: { Authorization: "Bearer " + cfg.key }, body: form });
}

// -- troika.js: every callback, on every route -------------------------------------
const client = Troika.client({ baseUrl: cfg.base, EventSource });
async function viaTroika(h) {
  const calls = [];
  for (const name of ["onConnected", "onProgress", "onResults", "onText", "onAudio", "onIntent", "onMarket",
                      "onSuggestions", "onComplete", "onError"]) {
    h[name]((d, meta) => {
      const rec = { cb: name, id: meta.id, step: d.step, stage: d.stage, code: d.code, status: d.status, partial: d.partial };
      if (name === "onAudio" && d.sentenceAudio) rec.sentenceAudio = Buffer.from(d.sentenceAudio.subarray(0, 3)).toString("hex") + ":" + d.sentenceAudio.length;
      if (name === "onResults") rec.scores = d.products.map((p) => p.score);
      if (name === "onText") rec.fullText = d.fullText;
      if (name === "onError") rec.receivedEvents = d.received.events;
      calls.push(rec);
    });
  }
  const o = await h.finished;
  return { status: o.status, calls, text: o.received.text, lastEventId: o.received.lastEventId };
}

out.troika.search = await viaTroika(client.search(cfg.searchQuery, { limit: 5 }));
out.troika.chat = await viaTroika(client.chat(chatBody));
out.troika.agent = await viaTroika(client.agent(agentBody));
out.troika.aza = await viaTroika(client.aza(cfg.azaBody));
out.troika.upload = await viaTroika(client.upload(new File([readFileSync(join(fixtures, "guide.md"))], "guide.md",
                                                          { type: "text/markdown" }),
                                                  { chatbotId: cfg.chatbot + "-troika", apiKey: cfg.key, title: "Guide" }));
// errors: an `error` event after the stream opened (Latin-1 text), and refusals before it
out.troika.uploadLatin1 = await viaTroika(client.upload(new File([readFileSync(join(fixtures, "latin1.txt"))], "latin1.txt",
                                                                { type: "text/plain" }),
                                                        { chatbotId: cfg.chatbot + "-l1", apiKey: cfg.key }));
out.troika.uploadNoKey = await viaTroika(client.upload(new File(["x"], "x.txt", { type: "text/plain" }), { chatbotId: "x" }));
out.troika.chatBad = await viaTroika(client.chat({ query: "", chatbotId: cfg.chatbot }));
out.troika.searchBad = await viaTroika(client.search("x", { limit: 500 }));

// The GET streams are over: a reconnecting EventSource would come back
// within its 3 s reconnection delay; the test counts the server's requests.
await new Promise((r) => setTimeout(r, 3500));
process.stdout.write(JSON.stringify(out) + "\n");
