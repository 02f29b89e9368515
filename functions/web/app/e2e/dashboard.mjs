// End to end in Debian's Chromium through playwright-core, against a running local runner
// (scripts/test starts one on a free port and sets BASE_URL). No fixed sleeps: every wait
// polls with a deadline. Screenshots go to SCREENSHOTS (default ../../../.local/screenshots).
import assert from 'node:assert/strict';
import { BASE, DEADLINE, SHOTS, UA, launch, until } from './common.mjs';

const browser = await launch();
const failures = [];
const t0 = Date.now();
function step(name) {
  console.log(`[e2e] ${((Date.now() - t0) / 1000).toFixed(1)}s ${name}`);
}

async function context(opts = {}) {
  const ctx = await browser.newContext({ userAgent: UA, viewport: { width: 1440, height: 900 }, locale: 'en-US', timezoneId: 'Europe/Paris', colorScheme: 'light', ...opts });
  ctx.setDefaultTimeout(DEADLINE);
  return ctx;
}

async function metric(page, name) {
  return page.locator(`[data-metric="${name}"]`).first().getAttribute('data-value');
}

async function expectMetric(page, name, value) {
  await until(`${name} = ${value}`, async () => (await metric(page, name)) === String(value));
}

async function pagesPanel(page) {
  return page.$$eval('[data-panel="url"] [data-key]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-key'), Number(r.getAttribute('data-count'))])));
}

async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

/** The dashboard's figures for the scenario, whatever the language and theme. */
async function checkFigures(page) {
  await expectMetric(page, 'uv', 2);
  await expectMetric(page, 'pv', 3);
  await expectMetric(page, 'event_count', 1);
  await until('pages panel', async () => {
    const p = await pagesPanel(page);
    return p['/shop/a'] === 2 && p['/shop/b'] === 1 ? p : false;
  });
}

const cspViolations = [];
function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
}

try {
  const email = `e2e-${Date.now()}@example.com`;
  const password = 'password123';
  const ctx = await context();
  const page = await ctx.newPage();
  watch(page);

  step('register');
  await page.goto(`${BASE}/register`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('form[data-testid=auth-form] button[type=submit]');
  await page.waitForURL(`${BASE}/`);
  await page.getByTestId('add-site').waitFor();
  await shot(page, 'sites-empty-light-desktop');

  step('add a site (time zone preselected from the browser)');
  await page.getByTestId('add-site').click();
  assert.equal(await page.inputValue('select[name=timezone]'), 'Europe/Paris');
  await page.fill('input[name=name]', 'Shop');
  await page.fill('input[name=domain]', BASE);
  await page.click('form[data-testid=add-site-form] button[type=submit]');
  await page.getByTestId('new-site').waitFor();
  const snippet = await page.getByTestId('snippet').first().textContent();
  const siteId = Number(/site-id="(\d+)"/.exec(snippet)[1]);
  assert.ok(siteId > 0, snippet);
  assert.equal(await page.getByTestId('first-visit').getAttribute('data-seen'), '0');

  step('a test page with the tracker: 3 page views from 2 sessions and a custom event');
  // The test page is served (intercepted) at the API's own origin under /shop/: Chromium's
  // local network access rules block another origin from loading a loopback script, and
  // the tag needs data-allow-localhost there. The site's domain is that origin.
  const tag = snippet.replace('<script ', '<script data-allow-localhost ');
  const shopOrigin = BASE;
  const testPage = (path) => `<!doctype html><html><head><title>Shop ${path}</title>${tag}</head><body><h1>${path}</h1><a id="next" href="/b">b</a></body></html>`;
  for (const [i, paths] of [['/a', '/b'], ['/a']].entries()) {
    const visitor = await context();
    await visitor.route(`${shopOrigin}/shop/**`, (route) => route.fulfill({ contentType: 'text/html', body: testPage(new URL(route.request().url()).pathname.slice(5)) }));
    const vp = await visitor.newPage();
    const sent = [];
    vp.on('response', (r) => r.url().includes('/send') && sent.push(r.status()));
    for (const p of paths) {
      const before = sent.length;
      await vp.goto(`${shopOrigin}/shop${p}`);
      await until(`beacon for ${p}`, () => sent.length > before);
    }
    if (i === 1) {
      const before = sent.length;
      await vp.evaluate(() => window.pingoo.track('signup'));
      await until('custom event beacon', () => sent.length > before);
    }
    assert.ok(sent.every((s) => s >= 200 && s < 300), `beacon answers: ${sent}`);
    await visitor.close();
  }

  step('the new site sees its first visit');
  await until('first visit seen', async () => (await page.getByTestId('first-visit').getAttribute('data-seen')) === '1', 20_000);

  step('dashboard, last 30 days (default), compare on');
  const apiCalls = [];
  page.on('request', (r) => r.url().includes('/api/') && apiCalls.push({ url: r.url(), t: Date.now() }));
  const loadStart = Date.now();
  await page.click(`a[href="/sites/${siteId}"]`);
  await page.waitForURL(`${BASE}/sites/${siteId}`);
  await page.locator('[data-panel="url"] [data-key]').first().waitFor();
  const firstPanelMs = Date.now() - loadStart;
  await checkFigures(page);
  await until('realtime 2', async () => (await metric(page, 'realtime')) === '2');
  const loadCalls = apiCalls.filter((c) => c.t - loadStart < firstPanelMs + 50);
  console.log(`[e2e] 30-day dashboard load: ${loadCalls.length} API requests, first panel rendered after ${firstPanelMs} ms`);
  for (const c of loadCalls) console.log(`[e2e]   ${new URL(c.url).pathname}${new URL(c.url).search}`);
  assert.ok(loadCalls.length <= 4, `at most 4 API requests for a dashboard load, got ${loadCalls.length}`);
  // The change against the previous (empty) period is "—".
  assert.equal(await page.locator('[data-metric="pv"] .change').textContent(), '—');
  await page.locator('[data-testid=chart] canvas').waitFor();
  await shot(page, 'dashboard-light-desktop');

  step('details dialog opens, Esc closes it, the URL keeps it');
  await page.getByTestId('details-url').click();
  await page.waitForURL(/details=url/);
  await page.locator('[data-testid=details-list] [data-key="/shop/a"]').waitFor();
  await page.keyboard.press('Escape');
  await until('dialog closed', async () => (await page.locator('[role=dialog]').count()) === 0);
  assert.ok(!page.url().includes('details='));

  step('last 7 days, Chinese, dark');
  await page.getByTestId('period').selectOption('7d');
  await page.waitForURL(/period=7d/);
  await page.getByTestId('lang').selectOption('zh-CN');
  await page.getByTestId('theme').selectOption('dark');
  await until('dark theme', async () => (await page.getAttribute('html', 'data-theme')) === 'dark');
  await until('Chinese', async () => (await page.locator('[data-panel="url"] h2').textContent()) === '页面');
  await checkFigures(page);
  await shot(page, 'dashboard-dark-desktop-zh');
  step('reload restores the view');
  await page.reload();
  await checkFigures(page);
  assert.equal(await page.getByTestId('period').inputValue(), '7d');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');

  step('phone width');
  await page.setViewportSize({ width: 375, height: 812 });
  await checkFigures(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scroll at 375 px (overflow ${overflow}px)`);
  await shot(page, 'dashboard-dark-phone-zh');
  await page.getByTestId('theme').selectOption('light');
  await shot(page, 'dashboard-light-phone-zh');
  await page.getByTestId('lang').selectOption('en');
  await page.setViewportSize({ width: 1440, height: 900 });

  step('share link: create, open signed out, same figures, revoke → 404');
  await page.goto(`${BASE}/sites/${siteId}/settings`);
  await page.getByTestId('create-share').click();
  const shareUrl = await page.locator('[data-share-url]').first().getAttribute('data-share-url');
  assert.ok(shareUrl.startsWith(`${BASE}/share/`), shareUrl);
  await shot(page, 'settings-light-desktop');
  const anon = await context({ colorScheme: 'dark' });
  const sp = await anon.newPage();
  watch(sp);
  await sp.goto(`${shareUrl}?period=7d`);
  await checkFigures(sp);
  assert.equal(await sp.locator('a[href$="/settings"]').count(), 0, 'no settings link on a share');
  await shot(sp, 'share-dark-desktop');
  await sp.goto(`${shareUrl}?period=7d&embed=1&theme=light`);
  await checkFigures(sp);
  assert.equal(await sp.locator('header.top').count(), 0, 'no chrome when embedded');
  await shot(sp, 'share-embed-light');
  await page.getByTestId('revoke-share').first().click();
  await until('share revoked in the list', async () => (await page.locator('[data-share-url]').count()) === 0);
  await sp.goto(shareUrl);
  await sp.getByTestId('not-found').waitFor();
  await anon.close();

  step('API key: create and use it with fetch');
  await page.goto(`${BASE}/account`);
  await page.fill('form[data-testid=key-form] input[name=name]', 'e2e');
  await page.getByTestId('create-key').click();
  const key = await page.getByTestId('new-key').textContent();
  assert.ok(key.startsWith('pgo_'), 'key shown once');
  const res = await fetch(`${BASE}/api/events/${siteId}/summary`, { headers: { Authorization: `Bearer ${key}` } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.data.pv, 3);
  await shot(page, 'account-light-desktop');

  step('delete the site (typed confirmation)');
  await page.goto(`${BASE}/sites/${siteId}/settings`);
  await page.getByTestId('delete-site').click();
  assert.equal(await page.getByTestId('confirm').isDisabled(), true);
  await page.getByTestId('confirm-name').fill('Shop');
  await page.getByTestId('confirm').click();
  await page.waitForURL(`${BASE}/`);
  await until('site gone', async () => (await page.locator(`[data-site-id="${siteId}"]`).count()) === 0 && (await page.locator('.empty').count()) > 0);

  step('sign out (the server ends the sign-in), then a protected page sends to sign-in');
  const signedIn = await page.evaluate(() => localStorage.getItem('pingoo.token'));
  const me = () => fetch(`${BASE}/api/auth/me`, { headers: { Authorization: `Bearer ${signedIn}` } });
  assert.equal((await me()).status, 200, 'token valid before sign-out');
  await page.getByTestId('sign-out').click();
  await page.waitForURL(/\/login/);
  await until('the signed-out token is revoked', async () => (await me()).status === 401);
  await page.goto(`${BASE}/account`);
  await page.waitForURL(/\/login\?next=/);
  await shot(page, 'login-light-desktop');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('form[data-testid=auth-form] button[type=submit]');
  await page.getByTestId('auth-error').waitFor();

  if (cspViolations.length) failures.push(...cspViolations.map((v) => `CSP: ${v}`));
  await ctx.close();
} catch (e) {
  failures.push(e.stack ?? String(e));
} finally {
  await browser.close();
}

if (failures.length) {
  console.error(`[e2e] FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`[e2e] passed in ${((Date.now() - t0) / 1000).toFixed(1)}s; screenshots in ${SHOTS}`);
