// Turns isbot's pattern list (npm `isbot`, pinned in package.json / package-lock.json)
// into shared/src/enrich/user_agent/isbot_list.rs, which is committed. Deterministic:
// same isbot version, same bytes. scripts/test reruns it and fails when the committed
// file is stale.
//
// isbot's patterns are JavaScript regexes, matched case-insensitively; the Rust side
// compiles them into one `regex::bytes::RegexSet` with Unicode off, so `\w`, `\d`, `\s`
// and `\b` are ASCII as in JavaScript. Rust's `regex` has no lookaround: a negative
// lookbehind or lookahead over literal alternatives (`(?<!lib)http`, `java(?!;)`) is
// rewritten into the equivalent context the match must (not) sit in, built from a trie
// of the forbidden words: `(?<!lib)http` → `(?:^|[^bB]|(?:^|[^iI]|(?:^|[^lL])i)b)http`.
// Matching stays exact for "does it match anywhere", which is all the set is asked.
// Any other construct the translation does not know makes this script fail, so a new
// isbot release cannot slip in a pattern that means something else in Rust.
//
// Each pattern is also tagged `shape` when it names nothing: no literal word of two or
// more letters and digits with a letter in it (besides `mozilla` and `compatible`): those flag agents by their form (a bare
// `product/version`, 50 characters without a space, `Mozilla/5.0 Foo`) rather than by a
// crawler's or tool's name. The authenticated API, whose callers report agents that may
// be truncated, ignores them (see user_agent.rs).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { list } from "isbot";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../shared/src/enrich/user_agent/isbot_list.rs");
const version = JSON.parse(
  readFileSync(join(here, "node_modules/isbot/package.json"), "utf8"),
).version;

// Our own amendments, each with a reason and a test in user_agent.rs. Keyed by isbot's
// exact pattern: when isbot changes that pattern, the amendment no longer applies and
// this script fails until it is reviewed.
const AMENDMENTS = {
  // Motorola phones carry their codename `java` in the platform: `…; moto g20 …; java)`.
  "java(?!;)": { use: "java(?!;|\\))", why: "not Motorola phones' `; java)` platform token" },
  // The Sogou mobile browser (`SogouMobileBrowser/5.37`, `SogouMSE`) is a browser.
  sogou: { use: "sogou(?!mobilebrowser|mse)", why: "not the Sogou mobile browser" },
};

const META = new Set([..."\\.+*?()|[]{}^$#&-~"]);
const esc = (c) => (META.has(c) ? "\\" + c : c);
/** A negated class of these characters, both cases of letters. */
const notIn = (chars) => {
  const all = new Set();
  for (const c of chars) {
    all.add(c.toLowerCase());
    all.add(c.toUpperCase());
  }
  return "[^" + [...all].sort().map(esc).join("") + "]";
};

/** What may follow a position so that none of `words` starts there. */
function ahead(words) {
  if (words.includes("")) return null;
  const firsts = [...new Set(words.map((w) => w[0].toLowerCase()))].sort();
  const alts = ["$", notIn(firsts)];
  for (const c of firsts) {
    const rest = ahead(words.filter((w) => w[0].toLowerCase() === c).map((w) => w.slice(1)));
    if (rest !== null) alts.push(esc(c) + rest);
  }
  return "(?:" + alts.join("|") + ")";
}

/** What may precede a position so that none of `words` ends there. */
function behind(words) {
  if (words.includes("")) return null;
  const lasts = [...new Set(words.map((w) => w.at(-1).toLowerCase()))].sort();
  const alts = ["^", notIn(lasts)];
  for (const c of lasts) {
    const rest = behind(
      words.filter((w) => w.at(-1).toLowerCase() === c).map((w) => w.slice(0, -1)),
    );
    if (rest !== null) alts.push(rest + esc(c));
  }
  return "(?:" + alts.join("|") + ")";
}

/** `(?:a|b)` or `a|b` → ["a", "b"]: literal alternatives only. */
function literals(body, pattern) {
  const inner = body.startsWith("(?:") && body.endsWith(")") ? body.slice(3, -1) : body;
  const words = inner.split("|");
  for (const w of words) {
    if (w === "" || /[.+*?()[\]{}^$\\]/.test(w.replace(/\\[^A-Za-z0-9]/g, ""))) {
      throw new Error(`unsupported lookaround in ${JSON.stringify(pattern)}: ${body}`);
    }
  }
  return words.map((w) => w.replace(/\\([^A-Za-z0-9])/g, "$1"));
}

/** The end of the group opening at `start` (index of its `)`). */
function groupEnd(p, start) {
  let depth = 0;
  let inClass = false;
  for (let i = start; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(") {
      depth++;
    } else if (c === ")" && --depth === 0) {
      return i;
    }
  }
  throw new Error(`unbalanced group in ${JSON.stringify(p)}`);
}

/** Lookarounds replaced; `-` after a class escape inside a class escaped for Rust. */
function translate(pattern) {
  let p = AMENDMENTS[pattern]?.use ?? pattern;
  for (;;) {
    const at = p.search(/\(\?<?[!=]/);
    if (at < 0) break;
    const end = groupEnd(p, at);
    const behindGroup = p[at + 2] === "<";
    const negative = p[behindGroup ? at + 3 : at + 2] === "!";
    if (!negative) throw new Error(`positive lookaround in ${JSON.stringify(pattern)}`);
    const body = p.slice(at + (behindGroup ? 4 : 3), end);
    const words = literals(body, pattern);
    const context = behindGroup ? behind(words) : ahead(words);
    if (context === null) throw new Error(`empty lookaround in ${JSON.stringify(pattern)}`);
    p = p.slice(0, at) + context + p.slice(end + 1);
  }
  // Inside classes, JavaScript reads `[\w-.]` as `\w`, `-`, `.`; Rust needs `\-`.
  let result = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      result += c + p[i + 1];
      i++;
      continue;
    }
    if (inClass && c === "-" && /\\[wdsWDS]$/.test(result)) {
      result += "\\-";
      continue;
    }
    if (!inClass && c === "[") inClass = true;
    else if (inClass && c === "]") inClass = false;
    result += c;
  }
  if (/\\[pPkuxc0-9]|\(\?[<P]|\(\?[a-z]/.test(result)) {
    throw new Error(`unsupported construct in ${JSON.stringify(pattern)} → ${result}`);
  }
  return result;
}

/** True when the pattern names nothing (see the top of this file). */
function isShape(pattern) {
  const literal = pattern
    .replace(/\\./g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\(\?<?[:!=]/g, " ")
    .toLowerCase();
  const words = (literal.match(/[a-z0-9]{2,}/g) ?? []).filter((w) => /[a-z]/.test(w));
  return words.every((w) => w === "mozilla" || w === "compatible");
}

const rust = (s) => JSON.stringify(s);
const unused = Object.keys(AMENDMENTS).filter((p) => !list.includes(p));
if (unused.length) {
  throw new Error(`amendments for patterns isbot ${version} no longer has: ${unused.join(", ")}`);
}

let body = "";
for (const pattern of list) {
  const regex = translate(pattern);
  const amendment = AMENDMENTS[pattern];
  if (amendment) body += `    // Amended: ${amendment.why}.\n`;
  body += `    IsbotPattern {\n        regex: ${rust(regex)},\n        source: ${rust(pattern)},\n        shape: ${isShape(pattern)},\n    },\n`;
}

const text = `//! Generated by infra/isbot/generate.mjs from isbot ${version}: do not edit by hand.
//! Rerun \`node infra/isbot/generate.mjs\` after changing the pinned isbot version.

use super::IsbotPattern;

/// The isbot release these patterns come from.
pub const ISBOT_VERSION: &str = ${rust(version)};

/// isbot's patterns, in its order, translated for Rust's \`regex\` (see generate.mjs).
pub(super) const PATTERNS: &[IsbotPattern] = &[
${body}];
`;
writeFileSync(out, text);
console.error(`isbot ${version}: ${list.length} patterns → ${out}`);
