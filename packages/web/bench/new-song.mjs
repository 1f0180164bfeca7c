// One new song dropped on a fresh server, timed as a user lives it: drop → upload accepted →
// Play enabled (the page then presses it at once) → first sound (the audio clock and the song
// position advance and the output is not silent) → job done (the `done` event on the page's
// WebSocket). Every time is wall-clock on this machine, from the same drop.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exposeEngine } from '../e2e/engineHook.mjs';
import { makeSong } from '../e2e/make-song.mjs';
import { startApp } from './app-server.mjs';
import { ranAsAsked } from './engines.mjs';

/** Output peak above this counts as sound (-40 dBFS); the cached-song bench uses the same. */
const SOUND = 0.01;

/**
 * Runs in the page before the drop: notes the drop (the file input's change), presses Play the
 * moment it is enabled, and notes the first poll on which the engine plays, its clock and position
 * have moved since the press, and the master output is not silent.
 */
function installRecorder(sound) {
  const rec = { drop: null, playEnabled: null, firstSound: null, readyAtPlay: null, separatingAtSound: null, peak: 0 };
  window.__firstSound = rec;
  let atPress = null;
  const buf = new Float32Array(2048);
  const input = document.querySelector('[data-testid=file-input]');
  input.addEventListener('change', () => (rec.drop ??= Date.now()), { capture: true });
  const timer = setInterval(() => {
    if (rec.drop === null) return;
    const engine = window.riffroom?.engine;
    const play = document.querySelector('[data-testid=play]');
    if (rec.playEnabled === null) {
      if (!engine || !play || play.disabled) return;
      rec.playEnabled = Date.now();
      rec.readyAtPlay = engine.snapshot().separating?.readySeconds ?? null;
      atPress = { time: engine.ctx.currentTime, position: engine.position };
      play.click();
      return;
    }
    if (!engine.playing || engine.ctx.currentTime <= atPress.time || engine.position <= atPress.position) return;
    engine.analyser.getFloatTimeDomainData(buf.subarray(0, engine.analyser.fftSize));
    let peak = 0;
    for (const x of buf) peak = Math.max(peak, Math.abs(x));
    rec.peak = Math.max(rec.peak, peak);
    if (peak <= sound) return;
    rec.firstSound = Date.now();
    rec.separatingAtSound = engine.separating;
    clearInterval(timer);
  }, 5);
}

/** The app's performance marks (first of each name), in ms after `drop` (epoch ms). */
function marksAfter(page, drop) {
  return page.evaluate((drop) => {
    const seen = new Map();
    for (const m of performance.getEntriesByType('mark')) {
      if (!m.name.startsWith('riffroom:') || /stem-bytes|decoded/.test(m.name)) continue;
      const at = performance.timeOrigin + m.startTime - drop;
      if (at >= -50 && !seen.has(m.name)) seen.set(m.name, Math.round(at));
    }
    return [...seen].map(([name, ms]) => `${name.slice(9)} ${ms}`);
  }, drop);
}

/**
 * Drop a new `seconds`-long song (key `variant`, bytes no server has seen) on a fresh server with
 * `env`; returns the times in ms after the drop. Gives up `limitMs` after the drop.
 */
export async function measureNewSong(browser, { name, env, seconds, variant, limitMs }) {
  const app = await startApp(env);
  const context = await browser.newContext();
  try {
    const song = join(app.server.dataDir, `new-song-${name}-${seconds}s.wav`);
    writeFileSync(song, makeSong(seconds, 44100, variant));
    await exposeEngine(context);
    const page = await context.newPage();
    let uploadAt = null;
    let final = null;
    page.on('response', (res) => {
      if (res.request().method() === 'POST' && new URL(res.url()).pathname === '/api/songs' && res.ok()) uploadAt ??= Date.now();
    });
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        let msg;
        try {
          msg = JSON.parse(String(payload));
        } catch {
          return;
        }
        if (!final && ['done', 'failed', 'cancelled'].includes(msg.type)) final = { type: msg.type, at: Date.now(), job: msg.job, error: msg.error };
      }),
    );
    await page.goto(app.appUrl);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.evaluate(installRecorder, SOUND);
    await page.locator('[data-testid=file-input]').setInputFiles(song);

    const started = Date.now();
    let lastNote = started;
    let rec = await page.evaluate(() => window.__firstSound);
    while (!(rec.firstSound && final)) {
      if (final && final.type !== 'done') throw new Error(`${name}: the job ${final.type}: ${final.error ?? ''}`);
      const snap = await page.evaluate(() => window.riffroom?.engine.snapshot().separating ?? null);
      if (Date.now() - started > limitMs) {
        const where = snap ? `ready ${snap.readySeconds.toFixed(1)} s of ${snap.totalSeconds.toFixed(1)} s` : 'nothing playable yet';
        const what = final ? `the job was done but no sound came out (output peak ${rec.peak.toFixed(4)})` : `the job was not done (${where})`;
        throw new Error(`${name}: gave up ${Math.round(limitMs / 1000)} s after the drop: ${what}. Raise BENCH_LIMIT_SECONDS to wait longer.`);
      }
      if (Date.now() - lastNote > 30_000) {
        lastNote = Date.now();
        console.log(`  ${name}: ${Math.round((lastNote - started) / 1000)} s after the drop, ${snap ? `ready ${snap.readySeconds.toFixed(1)} s of ${snap.totalSeconds.toFixed(1)} s` : 'not playable yet'}${rec.firstSound ? ', sounding' : ''}`);
      }
      await new Promise((r) => setTimeout(r, 200));
      rec = await page.evaluate(() => window.__firstSound);
    }
    if (!ranAsAsked(name, final.job)) throw new Error(`${name}: the job ran ${final.job?.engine_used} ${final.job?.model_used}, not what was asked`);
    const ms = (t) => (t === null ? null : t - rec.drop);
    console.log(`  ${name} marks (ms after drop): ${(await marksAfter(page, rec.drop)).join(', ')}`);
    return {
      name,
      ran: `${final.job.engine_used} ${final.job.model_used}`,
      upload: ms(uploadAt),
      playEnabled: ms(rec.playEnabled),
      firstSound: ms(rec.firstSound),
      done: ms(final.at),
      readyAtPlay: rec.readyAtPlay,
      separatingAtSound: rec.separatingAtSound,
    };
  } finally {
    await context.close().catch(() => {});
    await app.dispose();
  }
}
