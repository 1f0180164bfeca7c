#!/usr/bin/env node
// Time to first sound, in two parts, against real `riffroom serve`s:
//  1. a NEW song (never seen by its server), per engine on a fresh server: drop → upload accepted
//     → Play enabled → first sound, side by side with drop → job done (the wait an app without
//     play-while-it-separates imposes). Goals: first sound ≤ 15 s with htdemucs, ≤ 5 s with dsp
//     and spleeter.
//  2. an already-separated song (dsp): cold (stems over the network: it plays from the first
//     seconds of its stems while the rest downloads), cold with that head start refused (the
//     peer), and warm (stems in IndexedDB). Goal: under 1 s.
//   node bench/first-sound.mjs   (needs dist/; E2E_SKIP_BUILD=1 reuses it)
// BENCH_ENGINES   engines for part 1, default dsp,spleeter,htdemucs ("" skips part 1)
// BENCH_SECONDS   length of the new song, default 240
// BENCH_LIMIT_SECONDS   give up on a job this long after its drop, default max(300, 10 x BENCH_SECONDS)
// BENCH_CACHED_SECONDS  length of the already-separated song, default 60 (0 skips part 2)
// BENCH_WORKERS   worker processes per server, default 1; 0 = one per core, as `make run` starts
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exposeEngine } from '../e2e/engineHook.mjs';
import { ensureBuilt } from '../e2e/harness.mjs';
import { makeSong } from '../e2e/make-song.mjs';
import { benchWorkers, startApp } from './app-server.mjs';
import { launch } from './browser.mjs';
import { engineEnv, makeRandomHtdemucsDir, pickEngines } from './engines.mjs';
import { measureNewSong } from './new-song.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 240);
const cachedSeconds = Number(process.env.BENCH_CACHED_SECONDS ?? 60);
const limitSeconds = Number(process.env.BENCH_LIMIT_SECONDS ?? Math.max(300, 10 * seconds));
const engineList = process.env.BENCH_ENGINES ?? 'dsp,spleeter,htdemucs';
const engines = engineList.trim() ? pickEngines(engineList) : [];
for (const [name, v] of [['BENCH_SECONDS', seconds], ['BENCH_CACHED_SECONDS', cachedSeconds], ['BENCH_LIMIT_SECONDS', limitSeconds]]) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number of seconds, not ${process.env[name]}`);
}
// Each engine gets a song in another key: bytes no server (nor the e2e suites, variant 3) has seen.
const VARIANT = { dsp: 5, spleeter: 6, htdemucs: 7 };
const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
const s = (ms) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** Drop an already-separated song and time it to sound (the app's own path, Play pressed by code). */
async function dropCached(page, song) {
  // A musician drops a file on a page that has loaded (its scripts, worklets and first requests done).
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  await page.waitForLoadState('networkidle');
  const t0 = Date.now();
  await page.locator('[data-testid=file-input]').setInputFiles(song);
  // Play is pressed the moment it is enabled: on the first seconds of the stems (a head start) or the full stems.
  await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded && document.querySelector('[data-testid=play]:not([disabled])'), null, { timeout: 600_000, polling: 10 });
  await page.evaluate(() => window.riffroom.engine.play());
  await page.waitForFunction(
    () => {
      const an = window.riffroom.engine.analyser;
      const b = new Float32Array(an.fftSize);
      an.getFloatTimeDomainData(b);
      if (!b.some((x) => Math.abs(x) > 0.01)) return false;
      window.riffroomFirstSound = performance.now();
      return true;
    },
    null,
    { timeout: 30_000, polling: 5 },
  );
  const ms = Date.now() - t0;
  // Where the time went: the app's performance marks, relative to the drop.
  const marks = await page.evaluate(() => {
    const all = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('riffroom:'));
    const drop = all.filter((m) => m.name === 'riffroom:drop').at(-1)?.startTime ?? 0;
    const after = all.filter((m) => m.startTime >= drop).map((m) => `${m.name.slice(9)} ${Math.round(m.startTime - drop)}`);
    after.push(`sound ${Math.round(window.riffroomFirstSound - drop)}`);
    return { after, dropAt: performance.timeOrigin + drop };
  });
  // The file reaching the page (setInputFiles copies it in) comes before the app's drop mark.
  console.log(`  marks (ms after drop, the drop ${Math.round(marks.dropAt - t0)} ms after the bench's): ${marks.after.join(', ')}`);
  await page.evaluate(() => window.riffroom.engine.pause());
  return ms;
}

/** A page in a new browser context (empty cache and IndexedDB), `prepare`d, then at `url`. */
async function freshPage(browser, url, prepare = async () => {}) {
  const context = await browser.newContext();
  await exposeEngine(context);
  const page = await context.newPage();
  await prepare(page);
  await page.goto(url);
  return { context, page };
}

async function measureCached(browser) {
  const app = await startApp(engineEnv('dsp'));
  try {
    const song = join(app.server.dataDir, 'bench-song.wav');
    writeFileSync(song, makeSong(cachedSeconds));
    const { context: firstContext, page: first } = await freshPage(browser, app.appUrl);
    const t = Date.now();
    await dropCached(first, song); // separates it once (not the benchmark)…
    // …to the end: Play is enabled (and pressed) while the job still runs.
    await first.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 600_000 });
    console.log(`separation of a ${cachedSeconds} s song + first load: ${((Date.now() - t) / 1000).toFixed(1)} s (setup, not the benchmark)`);
    await firstContext.close();

    const { context: ctx, page } = await freshPage(browser, app.appUrl); // empty IndexedDB: stems come over the network
    const cold = await dropCached(page, song);
    await ctx.close();

    // The peer, in the same run: cold again in another empty browser, its head start refused (the
    // WAV ranges fail, so the song opens once its full stems are in, as before the head start).
    const refuseHeads = (p) => p.route((url) => url.pathname.includes('/stems/') && url.searchParams.has('start'), (route) => route.abort());
    const { context: bare, page: barePage } = await freshPage(browser, app.appUrl, refuseHeads);
    const coldWhole = await dropCached(barePage, song);
    await bare.close();

    const { context: warmCtx, page: page2 } = await freshPage(browser, app.appUrl);
    await dropCached(page2, song); // fills this browser's IndexedDB (not timed)…
    await page2.waitForFunction(() => !window.riffroom.engine.separating, null, { timeout: 600_000 }); // …with every full stem
    await page2.waitForTimeout(500); // the cache writes its IndexedDB entries after handing the bytes on
    await page2.evaluate(() => localStorage.removeItem('riffroom.session'));
    await page2.reload();
    await page2.getByRole('heading', { name: 'Library' }).waitFor();
    const warm = await dropCached(page2, song); // stems from IndexedDB
    await warmCtx.close();
    console.log(
      `drop → first sound, already-separated ${cachedSeconds} s song: cold ${cold} ms (ratio to the 1 s goal ${(cold / 1000).toFixed(2)}),` +
        ` cold without the head start ${coldWhole} ms (head start / without ${(cold / coldWhole).toFixed(2)}), warm ${warm} ms (ratio ${(warm / 1000).toFixed(2)})`,
    );
  } finally {
    await app.dispose();
  }
}

function printNewSongTable(rows) {
  console.log(`\nNew ${seconds} s song, drop → … (wall clock, one run each; load average before: see above)`);
  console.log('| engine (ran) | upload accepted | Play enabled (ready then) | first sound | job done | first sound / job done |');
  console.log('|---|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    if (r.error) {
      console.log(`| ${r.name} | ${r.error} | | | | |`);
      continue;
    }
    const ready = r.readyAtPlay === null ? 'job done' : `${r.readyAtPlay.toFixed(1)} s ready`;
    const ratio = (r.firstSound / r.done).toFixed(3);
    console.log(`| ${r.name} (${r.ran}) | ${s(r.upload)} | ${s(r.playEnabled)} (${ready}) | ${s(r.firstSound)}${r.separatingAtSound ? '' : ' (after the job)'} | ${s(r.done)} | ${ratio} |`);
  }
}

ensureBuilt();
console.log(`load average before: ${load()}; ${benchWorkers} worker(s) per server`);
const browser = await launch();
let failed = false;
try {
  const rows = [];
  let models = null;
  try {
    for (const name of engines) {
      if (name === 'htdemucs' && !models) models = makeRandomHtdemucsDir();
      console.log(`${name}: new ${seconds} s song on a fresh server (load average ${load()})`);
      try {
        const row = await measureNewSong(browser, { name, env: engineEnv(name, models?.dir), seconds, variant: VARIANT[name], limitMs: limitSeconds * 1000 });
        rows.push(row);
        console.log(`  ${name}: upload ${s(row.upload)}, Play enabled ${s(row.playEnabled)}, first sound ${s(row.firstSound)}, job done ${s(row.done)} (load average ${load()})`);
      } catch (err) {
        failed = true;
        console.error(String(err?.message ?? err));
        rows.push({ name, error: 'failed (see above)' });
      }
    }
  } finally {
    models?.dispose();
  }
  if (rows.length) printNewSongTable(rows);
  if (cachedSeconds > 0) await measureCached(browser);
} finally {
  await browser.close().catch(() => {});
  console.log(`load average after: ${load()}`);
}
if (failed) process.exitCode = 1;
