// cors.mjs: docs/client.md followed as written, from another origin: the
// shop's page (served by a plain HTTP server on another port) loads
// troika.js and widget.js from the Troika origin, searches, and asks the
// widget; a page on an origin the API does not list must get no answer.
// Settings on stdin: {shop, refused, question, searchQuery, chromium}.
// Run by test/integration/pending_web_cors.py (pending CORS in the server).
import { chromium } from "playwright-core";

const cfg = JSON.parse(await new Promise((res) => {
  let s = "";
  process.stdin.on("data", (d) => { s += d; }).on("end", () => res(s));
}));
const out = { allowed: {}, refused: {} };
const browser = await chromium.launch({
  executablePath: cfg.chromium || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

async function visit(base, which) {
  const t0 = Date.now();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  const lap = {};
  await page.goto(base + "/index.html", { waitUntil: "load" });
  lap.load = Date.now() - t0;
  await page.waitForFunction(() => window.Troika && window.TroikaWidget);
  await page.fill("#q", cfg.searchQuery);
  await page.press("#q", "Enter");
  await page.waitForFunction(() => /products in|failed/.test(document.getElementById("status").textContent),
                             null, { timeout: 20000 });
  lap.search = Date.now() - t0;
  const r = {
    status: await page.textContent("#status"),
    results: await page.locator("#results li").count(),
  };
  await page.click("#troika-widget .launcher");
  await page.getByRole("radio", { name: "Shop help" }).check();
  await page.getByRole("textbox", { name: "Your question" }).fill(cfg.question);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => {
    const s = document.getElementById("troika-widget").shadowRoot;
    return s.querySelector(".bot .suggestions") || s.querySelector(".bot .error");
  }, null, { timeout: 30000 });
  lap.widget = Date.now() - t0;
  Object.assign(r, await page.evaluate(() => {
    const bots = document.getElementById("troika-widget").shadowRoot.querySelectorAll(".bot");
    const bot = bots[bots.length - 1];
    const text = (sel) => (bot.querySelector(sel) || { textContent: "" }).textContent;
    return { answer: text(".text"), error: text(".error") };
  }));
  r.console = errors;
  r.ms = Date.now() - t0;
  r.lap = lap;
  out[which] = r;
  await ctx.close();
}

await visit(cfg.shop, "allowed");
await visit(cfg.refused, "refused");
await browser.close();
process.stdout.write(JSON.stringify(out) + "\n");
