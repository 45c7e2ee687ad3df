// tiktoken-peer.js: the real tiktoken (npm package, WASM build of OpenAI's
// Rust core) as a peer for Troika's C tokenizer (common/text/tok.c).
//
//   node tiktoken-peer.js generate FILE     writes the committed table of
//                                           strings and their counts
//   node tiktoken-peer.js check FILE        recounts a table; exit 1 on a
//                                           difference (the table is stale)
//   node tiktoken-peer.js random N SEED     prints N random strings with
//                                           their counts, as a table
//
// The package comes from tools/fetch-tokenizer.sh's cache (TIKTOKEN_PKG
// overrides the folder). Counts are encode_ordinary's: special-token text
// such as "<|endoftext|>" counts as plain text, as the app counts it.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");

function pkgDir() {
  if (process.env.TIKTOKEN_PKG) return process.env.TIKTOKEN_PKG;
  const cache = process.env.TROIKA_CACHE_DIR ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "troika");
  return path.join(cache, "tiktoken-1.0.22", "package");
}

const { get_encoding } = require(pkgDir());
const enc = get_encoding("cl100k_base");
const count = (s) => enc.encode_ordinary(s).length;

// The committed table: every class of text the split pattern treats
// differently, plus scripts and symbols seen in shop documents.
const CASES = [
  "", "a", " ", "hello", "hello world", "Hello, World!", "  leading spaces", "trailing spaces   ",
  "tabs\tand\ttabs", "line one\nline two", "windows\r\nline\r\nends", "\n\n\nthree newlines",
  "a  \n\n  b", "spaces    before word", "   \n", "\t\t\n\t", "x \u00a0 y", "nbsp\u00a0word",
  "next\u0085line", "a\u0085\u0085 b", "\u2028line separator\u2029para", "ideographic\u3000space",
  "I'm", "you're", "we've", "they'll", "he'd", "it's", "don't", "DON'T", "I'M", "You'Re", "'s", "'S",
  "O'Neil's", "rock'n'roll", "quote' s", "''", "'ll've're",
  "1", "12", "123", "1234", "12345", "123456789", "3.14159", "1,000,000", "2024-05-17", "₹4,999",
  "Rs. 12,500/-", "size 32-34", "50%", "v1.2.3", "0x1F", "١٢٣٤٥", "一二三", "Ⅻ roman", "½ cup",
  "Size M (chest 38-40\")", "Dry clean only. Do not bleach!", "Free shipping over ₹5000.",
  "email: shop@example.com", "https://example.com/path?q=1&r=2", "#hashtag @mention",
  "C++ & C# -> ==> !== ...", "(((nested)))", "[]{}<>", "~~~***___", "!!!???", "--- *** ---",
  "<|endoftext|>", "<|fim_prefix|>x",
  "naïve café résumé", "Straße", "ÅÄÖ åäö", "ſ long s", "'ſ", "İstanbul", "Ωmega", "Ελληνικά κείμενα",
  "Русский текст для проверки", "עברית", "العربية نص", "ภาษาไทย", "한국어 텍스트",
  "日本語のテキスト", "中文文本测试。", "混合 mixed テキスト text", "全角　スペース",
  "नमस्ते दुनिया", "लहंगा और साड़ी", "हिन्दी में १२३४ अंक", "தமிழ்", "বাংলা",
  "😀", "🎉🎉 emoji 👍🏽", "👨‍👩‍👧‍👦 family", "🇮🇳 flag", "❤️ love", "a😀b", "😀😀😀😀😀😀😀😀",
  "e\u0301 combining", "\u200bzero\u200bwidth", "\ufeffBOM text", "tab\tseparated\tvalues\n1\t2\t3",
  "# Heading\n\n- item one\n- item two\n\n**bold** _it_ `code`",
  "name,price,size\nLehenga,4999,M\n\"Saree, silk\",2999,Free",
  "{\"sku\": \"A-1\", \"price\": 4999, \"tags\": [\"red\", \"silk\"]}",
  "<p>Hello <b>world</b></p>",
  "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.",
  "    def f(x):\n        return x * 2\n",
  "a".repeat(300), "ab".repeat(200), " ".repeat(50), "\n".repeat(20), "1".repeat(40),
  "aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQgZW5jb2RlZCB0ZXh0".repeat(8),
  "Our return policy: items can be returned within 14 days of delivery. Custom-tailored " +
  "pieces (blouses stitched to measure) are final sale.\n\nSize guide:\n  XS  32\n  S   34\n  M   36",
];

function table(strings) {
  return strings.map((text) => ({ text, count: count(text) }));
}

// A small deterministic generator (mulberry32), so a seed names a run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  "the", "The", "silk", "lehenga", "Saree", "kurta", " ", "  ", "   ", "\n", "\r\n", "\n\n", "\t", " \n",
  ".", ",", "!", "?", "'", "'s", "'ll", "'RE", "\"", "-", "--", "...", "(", ")", "/", "#", "*", "₹",
  "0", "7", "42", "1234", "99999", "3.5", "é", "ß", "ſ", "Ω", "ж", "日本", "語", "中文", "。", "、",
  "नम", "स्ते", "हिं", "१२", "😀", "🎉", "👍🏽", "‍", "\u00a0", "\u0085", "\u3000", "\u2028", "\u200b",
  "a", "b", "xyz", "Q", "ab".repeat(5), "\u0301", "ﬁ", "𝔘𝔫𝔦", "\ufffd",
];

function randomStrings(n, seed) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const parts = 1 + Math.floor(r() * 40);
    let s = "";
    for (let j = 0; j < parts; j++) s += ATOMS[Math.floor(r() * ATOMS.length)];
    if (r() < 0.05) s += "z".repeat(200 + Math.floor(r() * 800));   // long pieces: heap merge
    out.push(s);
  }
  return out;
}

function main() {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === "generate" && a) {
    fs.writeFileSync(a, JSON.stringify(table(CASES), null, 1) + "\n");
  } else if (cmd === "check" && a) {
    const rows = JSON.parse(fs.readFileSync(a, "utf8"));
    let bad = 0;
    for (const row of rows) {
      const c = count(row.text);
      if (c !== row.count) {
        bad++;
        console.error("stale: %j has %d tokens, the table says %d", row.text, c, row.count);
      }
    }
    console.log("tiktoken-peer: %d rows, %d stale", rows.length, bad);
    process.exit(bad ? 1 : 0);
  } else if (cmd === "random" && a) {
    process.stdout.write(JSON.stringify(table(randomStrings(Number(a), Number(b || 1)))) + "\n");
  } else {
    console.error("usage: tiktoken-peer.js generate FILE | check FILE | random N SEED");
    process.exit(2);
  }
}

main();
