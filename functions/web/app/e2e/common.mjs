// What the end-to-end scripts share: where they run, the browser, and the one poll.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const BASE = process.env.BASE_URL ?? 'http://localhost:5004';
export const SHOTS = resolve(process.env.SCREENSHOTS ?? new URL('../../../../.local/screenshots', import.meta.url).pathname);
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
export const DEADLINE = 30_000;

/** Debian's Chromium, headless; SHOTS exists. */
export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits until fn() resolves truthy (polls; fails with the last value at the deadline). */
export async function until(what, fn, deadline = DEADLINE) {
  const end = Date.now() + deadline;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
