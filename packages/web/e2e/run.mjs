#!/usr/bin/env node
// End-to-end tests of the practice room: playwright-core driving Debian's chromium against a
// real `riffroom serve` (dsp engine). Screenshots land in test-results/.
//   npm run e2e                 (E2E_SKIP_BUILD=1 to reuse dist/, E2E_HEADED=1 to watch)
// Two servers, one after the other: the practice room without accounts (e2e/practice-room.mjs),
// then accounts (e2e/accounts.mjs) on a server of its own with its own data dir, where
// `riffroom users add` made a user before it started; then the music of a song (e2e/practice-music.mjs:
// chord lane, click, count-in, bar-snapped loops) on a third server.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { exposeEngine } from './engineHook.mjs';
import { PreviewServer, RiffroomServer, ensureBuilt, serverServesApp, webDir } from './harness.mjs';
import { makeSong } from './make-song.mjs';
import { tests } from './practice-room.mjs';
import { PASSWORD, USER, tests as accountTests } from './accounts.mjs';
import { tests as musicTests } from './practice-music.mjs';
import { tests as workspaceTests } from './workspace.mjs';
import { MEMBERS, tests as bandTests } from './band-room.mjs';
import { SERVER_ENV as PROGRESSIVE_ENV, tests as progressiveTests } from './progressive.mjs';
import { prepareServer as prepareDemucsServer, tests as demucsProgressiveTests } from './progressiveDemucs.mjs';
import { SERVER_ENV as RELIABILITY_ENV, tests as reliabilityTests } from './reliability.mjs';

const results = join(webDir, 'test-results');
const SCENARIO_TIMEOUT_MS = 180_000; // the slowest scenario takes ~6 s here
rmSync(results, { recursive: true, force: true }); // no stale screenshots from an earlier run
mkdirSync(results, { recursive: true });
const started = Date.now();
const log = (msg) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

let passed = 0;
let failed = 0;

/** Start a server (after `prepare(server)`), open a fresh browser, run `suite` in order. */
async function runSuite(title, suite, prepare = () => {}) {
  // E2E_ONLY="band room,practice workspace" runs only the suites named.
  if (process.env.E2E_ONLY && !process.env.E2E_ONLY.split(',').includes(title)) return;
  const server = new RiffroomServer();
  let preview = null;
  let browser = null;
  try {
    prepare(server);
    await server.start();
    log(`${title}: riffroom serve on ${server.url} (data in ${server.dataDir})`);
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
    await exposeEngine(context);
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (m) => {
      // "Failed to load resource" names no URL in its text: its location does.
      if (m.type() === 'error') consoleErrors.push(m.location()?.url ? `${m.text()} (${m.location().url})` : m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    /** Every WebSocket the page opened, with the frames it received. */
    const sockets = [];
    page.on('websocket', (ws) => {
      const entry = { ws, frames: [] };
      sockets.push(entry);
      ws.on('framereceived', (f) => entry.frames.push(String(f.payload)));
    });
    const env = { page, context, server, appUrl, songPath, results, log, consoleErrors, sockets, shot: (name) => page.screenshot({ path: join(results, `${name}.png`), fullPage: true }) };

    for (const t of suite) {
      const t0 = Date.now();
      let timer;
      try {
        // A scenario that hangs (an evaluate that never settles) fails instead of stalling CI.
        const limit = new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${SCENARIO_TIMEOUT_MS / 1000} s`)), SCENARIO_TIMEOUT_MS);
        });
        const running = t.run(env);
        running.catch(() => {}); // if it loses the race, its late failure is already counted
        await Promise.race([running, limit]);
        passed += 1;
        log(`PASS ${t.name} (${Date.now() - t0} ms)`);
      } catch (err) {
        failed += 1;
        log(`FAIL ${t.name} (${Date.now() - t0} ms)\n${err?.stack ?? err}`);
        await env.shot(`FAILED-${t.name.replace(/\W+/g, '-')}`).catch(() => {});
        log(`server log tail:\n${(server.proc?.logs() ?? '').slice(-3000)}`);
        if (t.critical) {
          log('a critical step failed; skipping the rest of this suite');
          break;
        }
      } finally {
        clearTimeout(timer);
      }
    }
    if (consoleErrors.length) log(`${title}: browser console errors:\n  ${consoleErrors.join('\n  ')}`);
  } catch (err) {
    failed += 1;
    log(`${title}: setup failed: ${err?.stack ?? err}`);
  } finally {
    await browser?.close().catch(() => {});
    await preview?.dispose();
    await server.dispose();
  }
}

try {
  ensureBuilt();
  await runSuite('practice room (no accounts)', tests);
  await runSuite('accounts', accountTests, (server) => server.addUser(USER, PASSWORD));
  // Needs the server's song analysis (GET /api/songs/{id}/analysis).
  await runSuite('practice music (analysis)', musicTests);
  // The saved workspace (GET/PUT /api/songs/{id}/practice), then two band members with accounts.
  await runSuite('practice workspace', workspaceTests);
  await runSuite('band room', bandTests, (server) => MEMBERS.forEach((m) => server.addUser(m.name, m.password)));
  // A long song on a server whose dsp engine works in small chunks: it plays while it separates.
  await runSuite('play while it separates', progressiveTests, (server) => Object.assign(server.env, PROGRESSIVE_ENV));
  await runSuite('play while it separates: htdemucs', demucsProgressiveTests, prepareDemucsServer);
  // A server killed mid-job and restarted, ten files dropped at once, the stem cache's expiry and budget, 100 open/close cycles.
  await runSuite('reliability', reliabilityTests, (server) => Object.assign(server.env, RELIABILITY_ENV));
} catch (err) {
  failed += 1;
  log(`setup failed: ${err?.stack ?? err}`);
}
log(`screenshots in ${results}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
