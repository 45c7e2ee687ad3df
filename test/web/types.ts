// types.ts: web/troika.d.ts used as a shop's TypeScript would; compiled with
// --strict --noEmit by test_web_clients.py (a declaration that does not
// type-check, or a payload field typed wrong, fails the build).
import Troika, { client, search, chat, agent, upload, SSEParser } from "troika-client";
import type { Results, StreamError, Outcome, Market, Intent, Audio, Progress } from "troika-client";

const api = client({ baseUrl: "https://api.shop.example", retry: 1, idleTimeout: 30000 });

const s = api.search("red lehenga", { limit: 12, color: "red", inStock: true, sort: "price_asc", filters: { size: "M" } })
  .onResults((d: Results) => { const titles: string[] = d.products.map((p) => p.title); void titles; void d.stage; })
  .onProgress((d: Progress) => { const n: number | undefined = d.percent; void n; })
  .onError((e: StreamError) => { const code: string = e.code; const kept: string = e.received.text; void code; void kept; });
s.abort();
s.finished.then((o: Outcome) => { const st: "done" | "error" | "aborted" = o.status; void st; });

chat({ query: "How long is delivery?", chatbotId: "shop-42", enableTTS: true })
  .onText((d) => { const t: string = d.fullText; void t; })
  .onAudio((d: Audio) => { const bytes: Uint8Array | undefined = d.sentenceAudio; void bytes; })
  .onSuggestions((d) => { const first: string | undefined = d.suggestions[0]; void first; })
  .onComplete((d, meta) => { const ms: number = d.duration; const id: string = meta.id; void ms; void id; });

agent({ message: "sherwani under 40k", customerContext: { budget: { max: 40000 }, preferredSizes: ["40"] } })
  .onIntent((d: Intent) => { const c: number = d.confidence; void c; })
  .onMarket((d: Market) => { const median: number = d.price.median; void median; });

declare const file: File;
upload(file, { chatbotId: "shop-42", apiKey: "k", onProgress: (d) => { void d.loaded; } });
search("kurta");
const p = new SSEParser((e) => { const data: string = e.data; void data; });
p.feed("data: x\n\n");
void Troika.VERSION;
// @ts-expect-error: chat needs a chatbotId
chat({ query: "x" });
