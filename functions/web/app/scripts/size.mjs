// Gzipped JavaScript each page downloads on its first load: the entry chunk (from
// dist/index.html), the page's chunk (the router's dynamic import) and their static
// imports; the dashboard also loads the chart chunk at once. `scripts/bench` prints it.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url).pathname;
const LIMIT = 60 * 1024;
const read = (f) => readFileSync(join(dist, f), 'utf8');
const entry = /<script type="module"[^>]*src="\/([^"]+)"/.exec(read('index.html'))[1];

function staticDeps(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = read(file);
  const dir = file.slice(0, file.lastIndexOf('/') + 1);
  // Static imports only: `import{…}from"./x.js"` and `import"./x.js"`, not `import("./x.js")`.
  for (const m of src.matchAll(/(?:\bfrom|\bimport)\s*"(\.\/[^"]+\.js)"/g)) staticDeps(dir + m[1].slice(2), seen);
  return seen;
}
function dynamicOf(file, name) {
  const src = read(file);
  const m = new RegExp(`import\\("\\./(${name}-[A-Za-z0-9_-]+\\.js)"\\)`).exec(src);
  return m ? file.slice(0, file.lastIndexOf('/') + 1) + m[1] : null;
}
const gz = (files) => [...files].reduce((n, f) => n + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);

const pages = { '/login': ['auth'], '/ (sites)': ['sites'], '/sites/{id}': ['dashboard', 'chart'], '/share/{token}': ['dashboard', 'chart'], '/sites/{id}/settings': ['settings'], '/account': ['account'] };
let over = false;
const base = staticDeps(entry);
for (const [page, chunks] of Object.entries(pages)) {
  const files = new Set(base);
  let from = entry;
  for (const c of chunks) {
    const f = dynamicOf(from, c) ?? dynamicOf(entry, c);
    if (!f) throw new Error(`no ${c} chunk found`);
    staticDeps(f, files);
    from = f;
  }
  const size = gz(files);
  over ||= size > LIMIT;
  console.log(`${page.padEnd(22)} ${(size / 1024).toFixed(1).padStart(6)} KB gzipped JS (${files.size} files)${size > LIMIT ? '  OVER 60 KB' : ''}`);
}
process.exit(over ? 1 : 0);
