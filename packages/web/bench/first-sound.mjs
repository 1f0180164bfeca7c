#!/usr/bin/env node
// Time from dropping an already-separated song to first sound (goal: under 1 s), against a real
// `riffroom serve` (dsp engine): cold (stems over the network) and warm (stems in IndexedDB).
//   node bench/first-sound.mjs     (BENCH_SECONDS=song length, default 60; needs dist/)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exposeEngine } from '../e2e/engineHook.mjs';
import { PreviewServer, RiffroomServer, ensureBuilt, serverServesApp } from '../e2e/harness.mjs';
import { makeSong } from '../e2e/make-song.mjs';
import { launch } from './browser.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 60);
ensureBuilt();
const server = new RiffroomServer();
let preview = null;
let browser = null;
try {
  await server.start();
  let appUrl = server.url;
  if (!(await serverServesApp(server.url))) {
    preview = new PreviewServer();
    await preview.start(server.url);
    appUrl = preview.url;
  }
  const song = join(server.dataDir, 'bench-song.wav');
  writeFileSync(song, makeSong(seconds));
  browser = await launch();

  const drop = async (page) => {
    const t0 = Date.now();
    await page.locator('[data-testid=file-input]').setInputFiles(song);
    await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded && document.querySelector('[data-testid=work-status][data-phase=ready]'), null, { timeout: 600_000, polling: 10 });
    await page.evaluate(() => window.riffroom.engine.play());
    await page.waitForFunction(() => {
      const an = window.riffroom.engine.analyser;
      const b = new Float32Array(an.fftSize);
      an.getFloatTimeDomainData(b);
      return b.some((x) => Math.abs(x) > 0.01);
    }, null, { timeout: 30_000, polling: 5 });
    const ms = Date.now() - t0;
    await page.evaluate(() => performance.mark('riffroom:first-sound'));
    // Where the time went: the app's performance marks, relative to the drop.
    const marks = await page.evaluate(() => {
      const all = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('riffroom:'));
      const drop = all.filter((m) => m.name === 'riffroom:drop').at(-1)?.startTime ?? 0;
      return all.filter((m) => m.startTime >= drop).map((m) => `${m.name.slice(9)} ${Math.round(m.startTime - drop)}`);
    });
    console.log(`  marks (ms after drop): ${marks.join(', ')}`);
    await page.evaluate(() => window.riffroom.engine.pause());
    return ms;
  };

  // Separate once (not timed).
  const firstContext = await browser.newContext();
  await exposeEngine(firstContext);
  const first = await firstContext.newPage();
  await first.goto(appUrl);
  const t = Date.now();
  await drop(first);
  console.log(`separation of a ${seconds} s song + first load: ${((Date.now() - t) / 1000).toFixed(1)} s (setup, not the benchmark)`);

  const ctx = await browser.newContext(); // empty IndexedDB: stems come over the network
  await exposeEngine(ctx);
  const page = await ctx.newPage();
  await page.goto(appUrl);
  const cold = await drop(page);
  await page.evaluate(() => localStorage.removeItem('riffroom.session'));
  await page.reload();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  const warm = await drop(page); // stems from IndexedDB
  console.log(`drop → first sound, ${seconds} s song: cold ${cold} ms (ratio to the 1 s goal ${(cold / 1000).toFixed(2)}), warm ${warm} ms (ratio ${(warm / 1000).toFixed(2)})`);
} finally {
  await browser?.close().catch(() => {});
  await preview?.dispose();
  await server.dispose();
}
