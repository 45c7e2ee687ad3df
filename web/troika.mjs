// troika.mjs: troika.js as an ES module with named exports.
//   import { search, chat } from "troika-client";        (npm, bundlers)
//   import { search } from "https://api.example/troika.mjs";
// troika.js does the work; importing it also sets globalThis.Troika.
import "./troika.js";

const T = globalThis.Troika;
export const { VERSION, client, search, selftest, aza, chat, agent, upload, SSEParser } = T;
export default T;
