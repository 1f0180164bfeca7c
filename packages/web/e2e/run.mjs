#!/usr/bin/env node
// End-to-end tests of the practice room: playwright-core driving Debian's chromium against a
// real `riffroom serve` (dsp engine). Screenshots land in test-results/.
//   npm run e2e                 (E2E_SKIP_BUILD=1 to reuse dist/, E2E_HEADED=1 to watch)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PreviewServer, RiffroomServer, ensureBuilt, serverServesApp, webDir } from './harness.mjs';
import { makeSong } from './make-song.mjs';
import { tests } from './practice-room.mjs';

const results = join(webDir, 'test-results');
mkdirSync(results, { recursive: true });
const started = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

ensureBuilt();
const server = new RiffroomServer();
let preview = null;
let browser = null;
let passed = 0;
let failed = 0;
try {
  await server.start();
  log(`riffroom serve on ${server.url} (data in ${server.dataDir})`);
  let appUrl = server.url;
  if (!(await serverServesApp(server.url))) {
    preview = new PreviewServer();
    await preview.start(server.url);
    appUrl = preview.url;
    log(`the server does not serve dist/ yet: app served by vite preview on ${appUrl}, proxying /api`);
  }
  const songPath = join(server.dataDir, 'e2e-song.wav');
  writeFileSync(songPath, makeSong(8));

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: !process.env.E2E_HEADED,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const env = { page, context, server, appUrl, songPath, results, log, consoleErrors, shot: (name) => page.screenshot({ path: join(results, `${name}.png`), fullPage: true }) };

  for (const t of tests) {
    const t0 = Date.now();
    try {
      await t.run(env);
      passed += 1;
      log(`PASS ${t.name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed += 1;
      log(`FAIL ${t.name} (${Date.now() - t0} ms)\n${err?.stack ?? err}`);
      await env.shot(`FAILED-${t.name.replace(/\W+/g, '-')}`).catch(() => {});
      log(`server log tail:\n${(server.proc?.logs() ?? '').slice(-3000)}`);
      if (t.critical) {
        log('a critical step failed; skipping the rest');
        break;
      }
    }
  }
  if (consoleErrors.length) log(`browser console errors:\n  ${consoleErrors.join('\n  ')}`);
} catch (err) {
  failed += 1;
  log(`setup failed: ${err?.stack ?? err}`);
} finally {
  await browser?.close().catch(() => {});
  await preview?.dispose();
  await server.dispose();
}
log(`screenshots in ${results}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
