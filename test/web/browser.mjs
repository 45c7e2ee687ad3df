// browser.mjs: the demo page and the widget in Debian's Chromium, driven by
// playwright-core (no browser download: executablePath /usr/bin/chromium).
// Reads its settings as JSON on stdin, prints what it saw as JSON on stdout;
// test/integration/test_web_browser.py starts the stacks and asserts.
//
// settings: {base, errorBase, key, chatbot, question, agentMessage, doc,
//            shots (folder), chromium}
// Each scenario records what a person would see, sampled by a
// MutationObserver inside the page (so every intermediate state counts,
// however fast the stream), and a screenshot.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const cfg = JSON.parse(await new Promise((res) => {
  let s = "";
  process.stdin.on("data", (d) => { s += d; }).on("end", () => res(s));
}));
mkdirSync(cfg.shots, { recursive: true });

const out = { console: [], scenarios: {}, timings: {} };
const t0 = Date.now();
const browser = await chromium.launch({
  executablePath: cfg.chromium || "/usr/bin/chromium",
  headless: true,
  // Flags from the machine notes: without the background-networking ones
  // Chromium keeps trying hosts this closed network refuses.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
out.timings.launchMs = Date.now() - t0;

function watch(page, name) {
  page.on("console", (m) => { if (m.type() === "error") out.console.push({ page: name, text: m.text() }); });
  page.on("pageerror", (e) => out.console.push({ page: name, text: "pageerror: " + e.message }));
  page.on("requestfailed", (r) => {
    // an aborted stream (our own abort()) is not a failure of the page
    const f = r.failure();
    if (f && /ERR_ABORTED/.test(f.errorText)) return;
    out.console.push({ page: name, text: "request failed: " + r.url() + " " + (f && f.errorText) });
  });
}

async function newPage(name, options) {
  const ctx = await browser.newContext(Object.assign({ viewport: { width: 1280, height: 900 } }, options || {}));
  const page = await ctx.newPage();
  watch(page, name);
  // Layout shifts the page makes by itself (not right after input), summed.
  await page.addInitScript(() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__shifts.push({ value: e.value, input: e.hadRecentInput, t: e.startTime });
    }).observe({ type: "layout-shift", buffered: true });
  });
  return { ctx, page };
}

// Records, in the page, every change of the things a scenario watches.
async function record(page) {
  await page.evaluate(() => {
    window.__log = [];
    const t0 = performance.now();
    const push = (x) => window.__log.push(Object.assign({ t: Math.round(performance.now() - t0) }, x));
    const steps = document.getElementById("search-steps");
    const cards = document.getElementById("search-cards");
    const ups = document.getElementById("upload-steps");
    new MutationObserver(() => {
      push({ k: "steps", list: [...steps.querySelectorAll("li")].map((li) => li.dataset.step + ":" + li.className).join(" ") });
    }).observe(steps, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    new MutationObserver((recs) => {
      for (const r of recs) if (r.attributeName === "data-stage") push({ k: "stage", stage: cards.dataset.stage, n: cards.querySelectorAll(".card").length });
    }).observe(cards, { attributes: true, attributeFilter: ["data-stage"] });
    new MutationObserver(() => {
      for (const li of ups.querySelectorAll("li")) {
        push({ k: "upload", step: li.dataset.step, done: li.classList.contains("done"), value: li.querySelector("progress").value });
      }
    }).observe(ups, { childList: true, subtree: true, attributes: true, attributeFilter: ["class", "value"] });
  });
}

// Inside the widget's shadow root, from the mutation records (so states set
// and replaced within one task still count): each text the answer showed,
// with the time it was seen, and each stage of product cards put in.
async function recordWidget(page) {
  await page.evaluate(() => {
    window.__w = [];
    const t0 = performance.now();
    const root = document.getElementById("troika-widget").shadowRoot;
    const log = root.querySelector(".log");
    new MutationObserver((recs) => {
      const t = Math.round(performance.now() - t0);
      for (const r of recs) {
        for (const n of r.addedNodes) {
          if (n.nodeType === 3 && r.target.classList && r.target.classList.contains("text")) {
            window.__w.push({ t, len: n.data.length });
          } else if (n.nodeType === 1 && n.classList.contains("cards")) {
            window.__w.push({ t, stage: n.dataset.stage });
          }
        }
      }
    }).observe(log, { childList: true, subtree: true });
  });
}

const control = (knobs) => fetch(cfg.fakeUrl + "/_control", { method: "POST", headers: { "Content-Type": "application/json" },
                                                             body: JSON.stringify(knobs) }).then((r) => {
  if (!r.ok) throw new Error("fake upstream /_control: " + r.status);
});

const dedupe = (xs) => xs.filter((x, i) => i === 0 || JSON.stringify(x) !== JSON.stringify(xs[i - 1]));

async function scenario(name, fn) {
  const t = Date.now();
  try {
    out.scenarios[name] = await fn();
  } catch (e) {
    out.scenarios[name] = { failed: String(e && e.stack || e) };
  }
  out.timings[name + "Ms"] = Date.now() - t;
}

const shot = (page, file) => page.screenshot({ path: join(cfg.shots, file) }).then(() => join(cfg.shots, file));

// -- desktop: the demo page, start to end ------------------------------------
const { page } = await newPage("desktop");
await page.goto(cfg.base + "/", { waitUntil: "load" });
await page.waitForFunction(() => window.TroikaWidget && window.Troika);
await record(page);

await scenario("search", async () => {
  await page.fill("#q", cfg.searchQuery);
  await page.press("#q", "Enter");
  await page.waitForSelector("#search-cards[data-stage=final]", { timeout: 20000 });
  await page.waitForFunction(() => /ms on the server/.test(document.getElementById("search-time").textContent));
  const log = await page.evaluate(() => window.__log);
  const res = {
    steps: dedupe(log.filter((x) => x.k === "steps").map((x) => x.list)),
    stages: dedupe(log.filter((x) => x.k === "stage").map((x) => [x.stage, x.n])),
    cards: await page.locator("#search-cards .card").count(),
    stageText: await page.textContent("#search-stage"),
    time: await page.textContent("#search-time"),
    shot: await shot(page, "search-desktop.png"),
  };
  // the stream is over: EventSource must not connect again (the test counts
  // the server's requests after this pause)
  await page.waitForTimeout(3500);
  // paging: the next page's cards are other products
  res.page1 = await page.textContent("#search-page");
  const first = await page.$$eval("#search-cards .card h3", (xs) => xs.map((x) => x.textContent));
  await page.click("#search-next");
  await page.waitForFunction(() => /^Page 2/.test(document.getElementById("search-page").textContent) &&
                             document.getElementById("search-cards").dataset.stage === "final", null, { timeout: 20000 });
  const second = await page.$$eval("#search-cards .card h3", (xs) => xs.map((x) => x.textContent));
  res.page2 = await page.textContent("#search-page");
  res.pageOverlap = second.filter((t) => first.includes(t)).length;
  res.page2Cards = second.length;
  res.prevDisabled = await page.locator("#search-prev").isDisabled();
  return res;
});

await scenario("aza", async () => {
  await page.fill("#aza-q", cfg.azaQuery);
  await page.press("#aza-q", "Enter");
  await page.waitForSelector("#aza-results[data-stage=final]", { timeout: 20000 });
  await page.waitForFunction(() => / ms$/.test(document.getElementById("aza-status").textContent));
  return {
    scores: await page.$$eval("#aza-results .score", (xs) => xs.map((x) => x.textContent)),
    sources: await page.$$eval("#aza-results .source", (xs) => xs.map((x) => x.textContent)),
    status: await page.textContent("#aza-status"),
  };
});

await scenario("upload", async () => {
  await page.fill("#up-bot", cfg.chatbot);
  await page.fill("#up-title", cfg.doc.title);
  await page.fill("#up-key", cfg.key);
  await page.setInputFiles("#up-file", { name: cfg.doc.name, mimeType: "text/markdown", buffer: Buffer.from(cfg.doc.text) });
  await page.click("#up-send");
  await page.waitForFunction(() => /Stored|Already|failed/.test(document.getElementById("upload-result").textContent), null, { timeout: 30000 });
  const log = await page.evaluate(() => window.__log);
  const upl = log.filter((x) => x.k === "upload");
  const doneOrder = [];
  for (const x of upl) if (x.done && !doneOrder.includes(x.step)) doneOrder.push(x.step);
  const sendingValues = dedupe(upl.filter((x) => x.step === "sending").map((x) => x.value));
  return {
    doneOrder, sendingValues,
    result: await page.textContent("#upload-result"),
    rows: await page.$$eval("#upload-steps li", (xs) => xs.map((x) => [x.dataset.step, x.className, x.querySelector(".msg").textContent])),
    widgetBot: await page.evaluate(() => window.TroikaWidget.chatbot),
    shot: await shot(page.locator("#upload"), "upload.png").catch(() => null),
  };
});

await scenario("widget_chat", async () => {
  // by keyboard: focus the launcher, Enter opens the panel with the question box focused
  const launcher = page.locator("#troika-widget .launcher");
  await launcher.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("#troika-widget .panel:not([hidden])");
  const focused = await page.evaluate(() => {
    const a = document.getElementById("troika-widget").shadowRoot.activeElement;
    return a ? a.tagName + "#" + a.id : null;
  });
  const expanded = await launcher.getAttribute("aria-expanded");
  const roles = {
    dialog: await page.getByRole("dialog", { name: "Ask Troika" }).count(),
    log: await page.getByRole("log", { name: "Conversation" }).count(),
    textbox: await page.getByRole("textbox", { name: "Your question" }).count(),
    send: await page.getByRole("button", { name: "Send" }).count(),
    mute: await page.locator("#troika-widget .mute").getAttribute("aria-label"),
    live: await page.locator("#troika-widget .log").getAttribute("aria-live"),
  };
  await page.getByRole("radio", { name: "Shop help" }).check();
  await recordWidget(page);
  await page.keyboard.type(cfg.question);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#troika-widget .bot .suggestions button", { timeout: 30000 });
  await page.waitForFunction(() => document.getElementById("troika-widget").shadowRoot.querySelector(".send").textContent === "Send");
  // audio: some sentence's <audio> plays (its time advances) or has played to its end
  const audio = await page.waitForFunction(() => {
    const as = [...document.getElementById("troika-widget").shadowRoot.querySelectorAll("audio")];
    const best = as.find((a) => a.currentTime > 0.2 || a.ended);
    return best ? { count: as.length, currentTime: best.currentTime, ended: best.ended, duration: best.duration } : null;
  }, null, { timeout: 20000, polling: 100 }).then((h) => h.jsonValue()).catch((e) => ({ failed: String(e) }));
  const lens = (await page.evaluate(() => window.__w)).filter((x) => x.len !== undefined).map((x) => x.len);
  const bot = page.locator("#troika-widget .bot").last();
  const res = {
    focused, expanded, roles, audio,
    lengths: dedupe(lens),
    text: await bot.locator(".text").textContent(),
    sourceLinks: await bot.locator(".text a").count(),
    strong: await bot.locator(".text strong").allTextContents(),
    sources: await bot.locator(".sources li").allTextContents(),
    suggestions: await bot.locator(".suggestions button").allTextContents(),
    error: await bot.locator(".error").count(),
    shot: await shot(page, "widget-chat-desktop.png"),
  };
  return res;
});

await scenario("widget_agent", async () => {
  await page.getByRole("radio", { name: "Products" }).check();
  await page.evaluate(() => { window.__w.length = 0; });
  await page.getByRole("textbox", { name: "Your question" }).fill(cfg.agentMessage);
  await page.getByRole("button", { name: "Send" }).click();
  await page.waitForFunction(() => {
    const r = document.getElementById("troika-widget").shadowRoot;
    return r.querySelector(".send").textContent === "Send" && r.querySelectorAll(".bot").length >= 2;
  }, null, { timeout: 30000 });
  const bot = page.locator("#troika-widget .bot").last();
  const w = await page.evaluate(() => window.__w);
  const res = {
    chips: await bot.locator(".chips li").allTextContents(),
    market: await bot.locator(".market").count() ? {
      title: await bot.locator(".market h3").textContent(),
      figures: await bot.locator(".market .fig").textContent(),
      rangeLabel: await bot.locator(".market .range").getAttribute("aria-label"),
      iqrWidth: await bot.locator(".market .iqr").evaluate((e) => e.style.width),
      medianLeft: await bot.locator(".market .med").evaluate((e) => e.style.left),
      designers: await bot.locator(".market .designers").textContent().catch(() => ""),
    } : null,
    cards: await bot.locator(".cards .card").count(),
    cardTitles: await bot.locator(".cards .card h4").allTextContents(),
    stages: dedupe(w.filter((x) => x.stage).map((x) => x.stage)),
    text: await bot.locator(".text").textContent().catch(() => ""),
    suggestions: await bot.locator(".suggestions button").allTextContents(),
    shifts: await page.evaluate(() => window.__shifts.filter((s) => !s.input).reduce((a, s) => a + s.value, 0)),
    // the picture for docs/client.md: the search results beside the assistant
    shot: await page.evaluate(() => document.getElementById("search").scrollIntoView())
      .then(() => shot(page, "desktop.png")),
  };
  // Escape closes the panel and gives the focus back to the launcher
  await page.keyboard.press("Escape");
  res.afterEscape = await page.evaluate(() => {
    const r = document.getElementById("troika-widget").shadowRoot;
    return { hidden: r.querySelector(".panel").hidden, focus: r.activeElement && r.activeElement.className };
  });
  return res;
});

// -- a shop's own page with nothing but the widget's tag ----------------------
// (served as if from the API's origin: the widget loads troika.js by itself)
await scenario("bare_page", async () => {
  const { ctx, page: p } = await newPage("bare");
  await p.route(cfg.base + "/shop-page.html", (route) => route.fulfill({
    contentType: "text/html; charset=utf-8",
    body: "<!doctype html><html lang=en><meta charset=utf-8><link rel=icon href='data:,'><title>A shop</title>" +
          "<h1>Lehengas</h1><p>Our collection.</p>" +
          "<script src='widget.js' data-chatbot='" + cfg.chatbot + "' data-mode='chat' data-open='true' defer></script>",
  }));
  await p.goto(cfg.base + "/shop-page.html", { waitUntil: "load" });
  await p.waitForFunction(() => window.TroikaWidget && window.Troika);
  const res = {
    open: await p.locator("#troika-widget .panel").isVisible(),
    modes: await p.locator("#troika-widget .modes").count(),
    title: await p.locator("#troika-widget h2").textContent(),
    scripts: await p.$$eval("script", (xs) => xs.map((x) => x.getAttribute("src"))),
  };
  await p.evaluate((q) => window.TroikaWidget.ask(q), cfg.question);
  await p.waitForSelector("#troika-widget .bot .suggestions button", { timeout: 30000 });
  res.text = await p.locator("#troika-widget .bot .text").last().textContent();
  await ctx.close();
  return res;
});

// -- the fake upstream fails after its first token ---------------------------
await scenario("widget_error", async () => {
  const { ctx, page: p } = await newPage("error");
  await p.goto(cfg.errorBase + "/", { waitUntil: "load" });
  await p.waitForFunction(() => window.TroikaWidget);
  await p.evaluate((bot) => window.TroikaWidget.setChatbot(bot), cfg.errorChatbot);
  await p.click("#troika-widget .launcher");
  await p.getByRole("radio", { name: "Shop help" }).check();
  await recordWidget(p);
  // an answer paced at 20 tokens a second: the text grows while one watches
  await control({ answer: cfg.fakeAnswer, tokens_per_s: 20, fail_after_tokens: -1 });
  await p.getByRole("textbox", { name: "Your question" }).fill(cfg.question);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#troika-widget .bot .suggestions button", { timeout: 30000 });
  const growth = (await p.evaluate(() => window.__w)).filter((x) => x.len !== undefined);
  const paced = await p.locator("#troika-widget .bot").last().locator(".text").textContent();
  // then the upstream fails after its first token
  await control({ answer: cfg.fakeAnswer, tokens_per_s: 0, fail_after_tokens: 1, fail_mode: "error",
                  error_message: "inference server crashed" });
  await p.getByRole("textbox", { name: "Your question" }).fill(cfg.question);
  await p.keyboard.press("Enter");
  await p.waitForSelector("#troika-widget .bot .error", { timeout: 30000 });
  const bot = p.locator("#troika-widget .bot").last();
  const res = {
    growth, paced,
    text: await bot.locator(".text").textContent().catch(() => ""),
    error: await bot.locator(".error").textContent(),
    role: await bot.locator(".error").getAttribute("role"),
    retry: await bot.locator(".error button").count(),
    shot: await shot(p, "widget-error.png"),
  };
  await ctx.close();
  return res;
});

// -- a phone ---------------------------------------------------------------
await scenario("phone", async () => {
  const { ctx, page: p } = await newPage("phone", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
                                                    deviceScaleFactor: 2 });
  await p.goto(cfg.base + "/?q=" + encodeURIComponent(cfg.phoneQuery), { waitUntil: "load" });
  await p.waitForSelector("#search-cards[data-stage=final]", { timeout: 20000 });
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await p.tap("#troika-widget .launcher");
  await p.getByRole("radio", { name: "Products" }).check();
  await p.getByRole("textbox", { name: "Your question" }).fill(cfg.agentMessage);
  await p.getByRole("button", { name: "Send" }).tap();
  await p.waitForFunction(() => {
    const r = document.getElementById("troika-widget").shadowRoot;
    return r.querySelector(".send").textContent === "Send" && r.querySelector(".bot .suggestions");
  }, null, { timeout: 30000 });
  const box = await p.locator("#troika-widget .panel").boundingBox();
  const res = {
    overflow, panel: box,
    cards: await p.locator("#troika-widget .bot .cards .card").count(),
    market: await p.locator("#troika-widget .bot .market").count(),
    inputFont: await p.locator("#troika-widget textarea").evaluate((e) => getComputedStyle(e).fontSize),
    shot: await shot(p, "phone.png"),
  };
  await ctx.close();
  return res;
});

await browser.close();
out.timings.totalMs = Date.now() - t0;
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
