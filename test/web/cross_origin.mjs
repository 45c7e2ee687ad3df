// cross_origin.mjs: a shop's page on another origin than the API, in
// Debian's Chromium (playwright-core), as docs/client.md sets it up: the
// page loads troika.js and widget.js from the API and calls it across
// origins (CORS, issue 15). Two pages, served by the test on two ports (two
// origins): one listed in cors_allowed_origins, one not.
//
// settings (JSON on stdin): {api, allowed, refused (page URLs), chatbot,
//   key (a manage key of chatbot), question, chromium}
// Prints what each page saw as JSON; test/integration/test_web_cors.py
// starts the stack and the page servers and asserts.
import { chromium } from "playwright-core";

const cfg = JSON.parse(await new Promise((res) => {
  let s = "";
  process.stdin.on("data", (d) => { s += d; }).on("end", () => res(s));
}));

const out = { pages: {}, console: {} };
const browser = await chromium.launch({
  executablePath: cfg.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

// Everything the page does through the API, run inside the page; each
// part records its outcome instead of throwing, so one failure does not
// hide the others.
async function exercise(page, c) {
  return page.evaluate(async (c) => {
    const api = Troika.client({ baseUrl: c.api });
    const keyed = Troika.client({ baseUrl: c.api, apiKey: c.key });
    const res = {};
    const settle = (h) => h.finished;
    const errorOf = (h) => new Promise((ok) => { h.onError((e) => ok({ code: e.code, status: e.status || null })); });

    // a GET stream (EventSource)
    {
      const h = api.search("red lehenga", { limit: 4 });
      const err = errorOf(h);
      const done = await settle(h);
      const r = done.received || {};
      res.search = { status: done.status, products: r.results && r.results.products ? r.results.products.length : 0,
                     error: done.status === "error" ? await err : null };
    }
    // a POST stream with a JSON body (preflighted)
    {
      const h = api.chat({ query: c.question, chatbotId: c.chatbot });
      let sessionId = null;
      h.onConnected((d) => { sessionId = d.sessionId; });
      const err = errorOf(h);
      const done = await settle(h);
      res.chat = { status: done.status, text: (done.received || {}).text || "", sessionId,
                   error: done.status === "error" ? await err : null };
    }
    // an upload with a key (Authorization: preflighted), byte progress over XHR
    {
      const file = new File(["# Care\n\nDry clean zari work only, and air it every 3 months.\n"], "care.md",
                            { type: "text/markdown" });
      const h = keyed.upload(file, { chatbotId: c.chatbot, title: "Care guide" });
      let complete = null;
      h.onComplete((d) => { complete = d; });
      const err = errorOf(h);
      const done = await settle(h);
      res.upload = { status: done.status, fileId: complete && complete.fileId,
                     error: done.status === "error" ? await err : null };
    }
    // the management API with fetch, and the headers a page may read
    try {
      const r = await fetch(c.api + "/api/context/files?chatbotId=" + encodeURIComponent(c.chatbot),
                            { headers: { Authorization: "Bearer " + c.key } });
      const body = await r.json();
      res.files = { status: r.status, count: body.files ? body.files.length : -1,
                    requestId: r.headers.get("X-Request-Id") };
      if (res.upload.fileId) {
        const d = await fetch(c.api + "/api/context/files/" + res.upload.fileId,
                              { method: "DELETE", headers: { Authorization: "Bearer " + c.key } });
        res.files.deleted = d.status;
      }
    } catch (e) {
      res.files = { error: String(e) };
    }
    try {
      const ctl = new AbortController();
      const r = await fetch(c.api + "/api/chat/query/stream", {
        method: "POST", signal: ctl.signal, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ query: c.question, chatbotId: c.chatbot }) });
      res.headers = { status: r.status, limit: r.headers.get("X-RateLimit-Limit"),
                      remaining: r.headers.get("X-RateLimit-Remaining"), requestId: r.headers.get("X-Request-Id") };
      await r.text();
    } catch (e) {
      res.headers = { error: String(e) };
    }
    return res;
  }, c);
}

// The widget on the page answers (POST stream from inside its shadow root).
async function widget(page, question) {
  await page.waitForFunction(() => window.TroikaWidget, null, { timeout: 10000 });
  await page.click("#troika-widget .launcher");
  await page.getByRole("radio", { name: "Shop help" }).check();
  await page.getByRole("textbox", { name: "Your question" }).fill(question);
  await page.getByRole("button", { name: "Send" }).click();
  await page.waitForFunction(() => {
    const r = document.getElementById("troika-widget").shadowRoot;
    return r.querySelector(".send").textContent === "Send" &&
           (r.querySelector(".bot .suggestions") || r.querySelector(".bot .error"));
  }, null, { timeout: 30000 });
  return page.evaluate(() => {
    const r = document.getElementById("troika-widget").shadowRoot;
    const bot = [...r.querySelectorAll(".bot")].pop();
    return { text: (bot.querySelector(".text") || {}).textContent || "",
             error: bot.querySelector(".error") ? bot.querySelector(".error").textContent : null };
  });
}

for (const [name, url] of [["allowed", cfg.allowed], ["refused", cfg.refused]]) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  out.console[name] = [];
  page.on("console", (m) => { if (m.type() === "error") out.console[name].push(m.text()); });
  page.on("pageerror", (e) => out.console[name].push("pageerror: " + e.message));
  try {
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => window.Troika && window.Troika.client, null, { timeout: 10000 });
    const res = await exercise(page, cfg);
    res.origin = await page.evaluate(() => location.origin);
    res.widget = await widget(page, cfg.question);
    out.pages[name] = res;
  } catch (e) {
    out.pages[name] = { failed: String(e && e.stack || e) };
  }
  await ctx.close();
}

await browser.close();
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
