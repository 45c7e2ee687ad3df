// troika.d.ts: types of troika.js (the Troika streaming client).
// Event payloads follow docs/search.md, docs/chat.md, docs/troika-agent.md
// and docs/upload.md; fields not listed here arrive as well.

export interface EventBase {
  requestId: string;
  timestamp: string;
  [field: string]: unknown;
}

export interface Connected extends EventBase {
  message: string;
  query?: string;
  sessionId?: string;
  filters?: Record<string, string | number | boolean>;
}

export interface Progress extends EventBase {
  /** A server step, or "sending" for the bytes of an upload (client: true). */
  step: string;
  message: string;
  count?: number;
  percent?: number;
  code?: string;
  /** Only on the client's own "sending" step. */
  client?: true;
  loaded?: number;
  total?: number;
}

export interface ProductCard {
  sku: string;
  title: string;
  price: number;
  currency: string;
  category: string;
  designer: string | null;
  colors: string[];
  sizes: string[];
  inStock: boolean;
  imageUrl: string | null;
  url: string | null;
  score: number;
  source?: "semantic" | "text";
  ranks?: { text?: number | null; vector?: number | null };
  [field: string]: unknown;
}

export interface Results extends EventBase {
  type: "product_cards";
  stage: "text" | "semantic" | "final";
  products: ProductCard[];
  total: number;
  capped?: boolean;
  facets?: Record<string, unknown>;
  cursor?: string | null;
}

export interface Text extends EventBase {
  token: string;
  fullText: string;
}

export interface Audio extends EventBase {
  chunk: string;
  format: string;
  sequence: number;
  sentence?: number;
  last?: boolean;
  text: string;
  /** On a sentence's last piece: the sentence's whole audio (its pieces decoded and joined). */
  readonly sentenceAudio?: Uint8Array;
}

export interface Intent extends EventBase {
  intent: string;
  confidence: number;
  entities: Record<string, unknown>;
  sources?: Record<string, "message" | "history" | "customerContext">;
}

export interface Market extends EventBase {
  count: number;
  inStock: number;
  price: { min: number; max: number; q1: number; median: number; q3: number };
  topDesigners: { name: string; count: number }[];
  topColors?: { name: string; count: number }[];
  trending?: ProductCard[];
}

export interface Suggestions extends EventBase {
  suggestions: string[];
}

export interface Complete extends EventBase {
  duration: number;
  total?: number;
}

export interface Received {
  events: number;
  lastEventId: string;
  connected: Connected | null;
  progress: Progress[];
  results: Results | null;
  /** The answer's text so far (the last fullText). */
  text: string;
  intent: Intent | null;
  market: Market | null;
  suggestions: string[] | null;
  audioChunks: number;
  complete: Complete | null;
}

/**
 * A server `error` event (code from the server: UPSTREAM_ERROR, DB_QUERY_ERROR, ...),
 * an HTTP refusal before the stream (status set: INVALID_PARAMETERS, UNAUTHORIZED,
 * RATE_LIMIT_EXCEEDED, ...), or the client's own: NETWORK_ERROR, CONNECTION_LOST,
 * BAD_RESPONSE, UNSUPPORTED. `received` is what arrived before it.
 */
export interface StreamError {
  code: string;
  message: string;
  partial: boolean;
  status?: number;
  field?: string;
  retryAfter?: number;
  received: Received;
  [field: string]: unknown;
}

export interface Meta {
  type: string;
  /** The event's SSE id ("" for the client's own events). */
  id: string;
  /** 2 when a GET stream was opened again after a dropped connection. */
  attempt: number;
}

export interface Outcome {
  status: "done" | "error" | "aborted";
  received: Received;
}

type Cb<T> = (data: T, meta: Meta) => void;

export interface Callbacks {
  onConnected?: Cb<Connected>;
  onProgress?: Cb<Progress>;
  onResults?: Cb<Results>;
  onText?: Cb<Text>;
  onAudio?: Cb<Audio>;
  onIntent?: Cb<Intent>;
  onMarket?: Cb<Market>;
  onSuggestions?: Cb<Suggestions>;
  onComplete?: Cb<Complete>;
  onError?: Cb<StreamError>;
  /** Every server event, before its own callback. */
  onEvent?: Cb<EventBase>;
  /** SSE comments (the server's `: ping` heartbeats), fetch streams only. */
  onComment?: (text: string) => void;
  /** Once, when the stream is over for any reason. */
  onClose?: (outcome: Outcome) => void;
}

export interface Settings {
  /** Where the API is mounted, e.g. "https://api.shop.example" or "/shop"; "" = relative to the page. */
  baseUrl?: string;
  headers?: Record<string, string>;
  /** fetch's credentials mode (default "same-origin"); "include" also sets withCredentials. */
  credentials?: "omit" | "same-origin" | "include";
  /** Replaces the global EventSource (Node: the `eventsource` package). */
  EventSource?: unknown;
  fetch?: typeof fetch;
  XMLHttpRequest?: unknown;
  /** How often a dropped GET stream is opened again (default 1). */
  retry?: number;
  /** ms without a byte before a fetch stream counts as lost (default 45000; 0 = never). */
  idleTimeout?: number;
  signal?: AbortSignal;
}

export type Options = Settings & Callbacks;

export interface Stream {
  readonly route: string;
  readonly state: "open" | "done" | "error" | "aborted";
  readonly open: boolean;
  readonly received: Received;
  /** Resolves once the stream is over; never rejects. */
  readonly finished: Promise<Outcome>;
  onConnected(fn: Cb<Connected>): this;
  onProgress(fn: Cb<Progress>): this;
  onResults(fn: Cb<Results>): this;
  onText(fn: Cb<Text>): this;
  onAudio(fn: Cb<Audio>): this;
  onIntent(fn: Cb<Intent>): this;
  onMarket(fn: Cb<Market>): this;
  onSuggestions(fn: Cb<Suggestions>): this;
  onComplete(fn: Cb<Complete>): this;
  onError(fn: Cb<StreamError>): this;
  onClose(fn: (outcome: Outcome) => void): this;
  on(type: string, fn: Cb<any>): this;
  /** Stops the stream; no callback runs after it. */
  abort(): void;
}

export interface Filters {
  size?: string;
  color?: string;
  category?: string;
  designer?: string;
  occasion?: string;
  fabric?: string;
  work?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
}

export interface SearchOptions extends Options, Filters {
  limit?: number;
  offset?: number;
  sort?: "relevance" | "price_asc" | "price_desc" | "newest" | "popularity";
  cursor?: string;
  filters?: Filters;
  /** Further query parameters, sent as they are. */
  params?: Record<string, string | number | boolean>;
}

export interface AzaBody {
  query: string;
  limit?: number;
  minScore?: number;
  filters?: Filters;
}

export interface ChatBody {
  query: string;
  chatbotId: string;
  sessionId?: string;
  enableTTS?: boolean;
  voice?: string;
}

export interface AgentBody {
  message: string;
  chatbotId?: string;
  sessionId?: string;
  enableTTS?: boolean;
  voice?: string;
  customerContext?: {
    budget?: number | string | { min?: number; max?: number };
    preferredSizes?: string[] | string;
    preferredColors?: string[] | string;
    location?: string;
  };
}

export interface UploadOptions extends Options {
  chatbotId: string;
  title?: string;
  /** An upload key (Authorization: Bearer). */
  apiKey?: string;
}

export interface SSEEvent {
  type: string;
  data: string;
  lastEventId: string;
}

/** The WHATWG event-stream parser the POST streams use; feed it decoded text. */
export class SSEParser {
  constructor(onEvent: (e: SSEEvent) => void, onComment?: (text: string) => void);
  lastEventId: string;
  retry: number | null;
  feed(text: string): void;
  end(): void;
}

export interface Client {
  readonly VERSION: string;
  /** A client with these settings as defaults (baseUrl, headers, ...). */
  client(defaults: Settings): Client;
  search(query: string, opts?: SearchOptions): Stream;
  selftest(opts?: Options & { n?: number; interval_ms?: number }): Stream;
  aza(body: AzaBody, opts?: Options): Stream;
  chat(body: ChatBody, opts?: Options): Stream;
  agent(body: AgentBody, opts?: Options): Stream;
  upload(file: Blob & { name?: string }, opts: UploadOptions): Stream;
  SSEParser: typeof SSEParser;
}

export const VERSION: string;
export function client(defaults: Settings): Client;
export function search(query: string, opts?: SearchOptions): Stream;
export function selftest(opts?: Options & { n?: number; interval_ms?: number }): Stream;
export function aza(body: AzaBody, opts?: Options): Stream;
export function chat(body: ChatBody, opts?: Options): Stream;
export function agent(body: AgentBody, opts?: Options): Stream;
export function upload(file: Blob & { name?: string }, opts: UploadOptions): Stream;

declare const Troika: Client;
export default Troika;

declare global {
  interface Window {
    Troika: Client;
  }
}
