// The API reference at /api/docs in Debian's Chromium through playwright-core, against a
// running local runner (BASE_URL, as for dashboard.mjs): reached from the dashboard's
// footer, it renders the operations of the document the API serves at /api/openapi.json,
// with no CSP violation, no script error and no request to another host, at desktop and
// phone widths. No fixed sleeps: every wait polls with a deadline. Screenshots go to
// SCREENSHOTS (default ../../../.local/screenshots).
import assert from 'node:assert/strict';
import { BASE, DEADLINE, SHOTS, UA, launch, until } from './common.mjs';

const browser = await launch();
const failures = [];
const t0 = Date.now();
function step(name) {
  console.log(`[e2e docs] ${((Date.now() - t0) / 1000).toFixed(1)}s ${name}`);
}

async function context(opts = {}) {
  const ctx = await browser.newContext({ userAgent: UA, viewport: { width: 1440, height: 900 }, locale: 'en-US', colorScheme: 'light', ...opts });
  ctx.setDefaultTimeout(DEADLINE);
  // Violation events too, not only Chromium's console lines (whose wording changes).
  await ctx.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`)),
  );
  return ctx;
}

/** Every CSP report, script error, failed load and request that leaves this origin. */
function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) failures.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${BASE}/`) && !url.startsWith('data:')) failures.push(`request to another origin: ${url}`);
  });
  page.on('requestfailed', (r) => failures.push(`failed request: ${r.url()} ${r.failure()?.errorText ?? ''}`));
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

/** The operations Swagger UI rendered, as "METHOD /path". */
async function operations(page) {
  return page.$$eval('.opblock', (blocks) =>
    blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
  );
}

try {
  const ctx = await context();
  const page = await ctx.newPage();
  watch(page);

  step("the dashboard's footer links the reference");
  await page.goto(`${BASE}/login`);
  const link = page.getByTestId('api-docs');
  assert.equal((await link.textContent())?.trim(), 'API');
  const documentAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/openapi.json');
  await link.click();
  await page.waitForURL(`${BASE}/api/docs`);
  const served = await documentAnswer;
  assert.equal(served.status(), 200, 'GET /api/openapi.json');
  // The same document, read here (not through the browser's copy of the answer).
  const doc = await (await fetch(`${BASE}/api/openapi.json`)).json();

  step('the reference renders the served document');
  await until('operations rendered', async () => (await page.locator('.opblock').count()) > 0);
  const shown = await operations(page);
  const described = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
  assert.ok(described.length > 0, 'the document describes operations');
  assert.deepEqual([...shown].sort(), [...described].sort(), 'every operation of the document, once');
  assert.ok(shown.includes('POST /api/auth/login'), `POST /api/auth/login among ${shown.join(', ')}`);
  assert.equal(await page.locator('.swagger-ui .info .title').count(), 1, 'the document title');
  assert.equal(await page.locator('.swagger-ui .errors-wrapper').count(), 0, 'no errors block');
  await shot(page, 'api-docs-light-desktop');

  step('an operation expands');
  const login = page.locator('.opblock:has(.opblock-summary-path[data-path="/api/auth/login"])').first();
  await login.locator('.opblock-summary-control').click();
  await login.locator('.opblock-body').waitFor();
  await login.locator('.responses-table').first().waitFor();
  await shot(page, 'api-docs-login-light-desktop');

  step('phone width');
  await page.setViewportSize({ width: 375, height: 812 });
  // Without the deep link (#/auth/post_api_auth_login) the opened operation left above.
  await page.goto(`${BASE}/api/docs`);
  await until('operations rendered again', async () => (await page.locator('.opblock').count()) === described.length);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scroll at 375 px (overflow ${overflow}px)`);
  await shot(page, 'api-docs-light-phone');
  const phoneLogin = page.locator('.opblock:has(.opblock-summary-path[data-path="/api/auth/login"])').first();
  await phoneLogin.locator('.opblock-summary-control').click();
  await phoneLogin.locator('.responses-table').first().waitFor();
  await phoneLogin.scrollIntoViewIfNeeded();
  const expandedOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(expandedOverflow <= 0, `no horizontal scroll with an operation open at 375 px (overflow ${expandedOverflow}px)`);
  await shot(page, 'api-docs-login-light-phone');
  await ctx.close();

  step('the footer link in Chinese');
  const zh = await context({ locale: 'zh-CN' });
  const zhPage = await zh.newPage();
  watch(zhPage);
  await zhPage.goto(`${BASE}/login`);
  assert.equal((await zhPage.getByTestId('api-docs').textContent())?.trim(), 'API 文档');
  await zh.close();
} catch (e) {
  failures.push(e.stack ?? String(e));
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`[e2e docs] FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`[e2e docs] ok in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
