// Play while it separates: a long new song (90 s) on a server whose dsp engine works in small
// chunks, so the job runs long enough to watch. The song is playable before its job is done,
// the audio clock runs and the output is not silent meanwhile, playback waits at the frontier
// ("Separating ahead…") and plays on by itself, and the finished stems take over at the same
// position on the same clock. Then the separated song in a browser that has none of it: it plays
// from the first seconds of its stems while the full stems download (held back here, as a slow
// network would), and those take over at the same position. Held in IndexedDB, it plays from the
// first part of its cached FLAC files (Chromium decodes a file cut short) while they decode.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exposeEngine } from './engineHook.mjs';
import { makeSong } from './make-song.mjs';

/** `riffroom serve` for this suite: chunks this small make the dsp job observable. */
export const SERVER_ENV = { RIFFROOM_DSP_CHUNK_SECONDS: '1' };

const state = (page) =>
  page.evaluate(() => {
    const e = window.riffroom.engine;
    return { ...e.snapshot(), position: e.position, time: e.ctx.currentTime };
  });

/** Samples the engine every few ms until it stops being partial; the samples either side. */
const handOver = (page, limitMs) =>
  page.evaluate(
    (limitMs) =>
      new Promise((resolve, reject) => {
        const e = window.riffroom.engine;
        let last = null;
        const started = performance.now();
        const timer = setInterval(() => {
          const now = { position: e.position, time: e.ctx.currentTime, separating: e.separating, waiting: Boolean(e.snapshot().separating?.waiting), rate: e.rate, playing: e.playing };
          if (last && last.separating && !now.separating) {
            clearInterval(timer);
            resolve({ before: last, after: now });
          } else if (performance.now() - started > limitMs) {
            clearInterval(timer);
            reject(new Error(`no hand-over within ${limitMs / 1000} s`));
          }
          last = now;
        }, 4);
      }),
    limitMs,
  );

/** Where playback should be just after the hand-over, from the sample just before it. */
const expectedAfter = ({ before, after }) => (before.waiting ? before.position : before.position + (after.time - before.time) * before.rate);

/** Every key in the page's IndexedDB databases. */
const indexedKeys = (page) =>
  page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    const out = [];
    for (const name of names) {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((res) => {
          const r = db.transaction(store).objectStore(store).getAllKeys();
          r.onsuccess = () => res(r.result);
          r.onerror = () => res([]);
        });
        out.push(...all.map(String));
      }
      db.close();
    }
    return out;
  });

const phase = (page) => page.locator('[data-testid=work-status]').getAttribute('data-phase');

/** Loudest RMS of the master output over `ms`. */
function level(page, ms = 600) {
  return page.evaluate(async (ms) => {
    const an = window.riffroom.engine.analyser;
    const buf = new Float32Array(an.fftSize);
    let best = 0;
    for (let t = 0; t < ms; t += 50) {
      an.getFloatTimeDomainData(buf);
      let s = 0;
      for (const x of buf) s += x * x;
      best = Math.max(best, Math.sqrt(s / buf.length));
      await new Promise((r) => setTimeout(r, 50));
    }
    return best;
  }, ms);
}

/**
 * The scenarios for a new song of `songSeconds` (90 s of dsp in 1 s chunks by default), waiting up
 * to `playableMs` for it to become playable and `handOverMs` for its job to end.
 */
export function progressiveTests({ songSeconds: SONG_SECONDS = 90, playableMs = 90_000, handOverMs = 120_000 } = {}) {
  return [
    {
      name: 'a new song plays before its job is done; the clock runs and it is not silent',
      critical: true,
      async run({ page, appUrl, server, log }) {
        const songPath = join(server.dataDir, 'e2e-long-song.wav');
        writeFileSync(songPath, makeSong(SONG_SECONDS, 44100, 3));
        await page.goto(appUrl);
        await page.getByRole('heading', { name: 'Library' }).waitFor();
        await page.locator('[data-testid=file-input]').setInputFiles(songPath);
        // Playable while the job still runs.
        await page.waitForFunction(() => window.riffroom?.engine.snapshot().separating && window.riffroom.engine.snapshot().loaded, null, { timeout: playableMs });
        const first = await state(page);
        assert.ok(first.separating.readySeconds >= 3 && first.separating.readySeconds < SONG_SECONDS, JSON.stringify(first.separating));
        assert.equal(first.separating.totalSeconds > SONG_SECONDS - 1, true);
        assert.notEqual(await phase(page), 'ready');
        await page.locator('[data-testid=ready-mark]').waitFor();
        // The waveforms are drawn from what is ready already (the server's peaks need the finished stems).
        const waveforms = await page.locator('[data-testid=waveform]').evaluateAll((els) => els.map((el) => el.getAttribute('data-has-peaks')));
        assert.ok(waveforms.length >= 4 && waveforms.every((v) => v === 'true'), `waveforms ${waveforms}`);
        await page.getByTestId('play').click();
        await page.waitForFunction(() => window.riffroom.engine.playing);
        const a = await state(page);
        const loud = await level(page, 800);
        const b = await state(page);
        log(`ready ${first.separating.readySeconds.toFixed(1)} s of ${first.separating.totalSeconds.toFixed(1)} s; output RMS ${loud.toFixed(4)}`);
        assert.ok(b.separating, 'the job was still running while it played');
        assert.ok(b.time - a.time > 0.5, `audio clock ${a.time} → ${b.time}`);
        assert.ok(b.position > a.position + 0.3, `position ${a.position} → ${b.position}`);
        assert.ok(loud > 0.01, `output RMS ${loud}`);
      },
    },
    {
      name: 'at the frontier playback waits ("Separating ahead…") and plays on by itself',
      async run({ page, log }) {
        const s = await state(page);
        if (!s.separating) throw new Error('the job finished before the frontier could be reached');
        // Just before the frontier, so the sources run out there (unless the next segment lands
        // in those 0.1 s: then again).
        const seen = await page.evaluate(async () => {
          const e = window.riffroom.engine;
          const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
          for (let attempt = 0; attempt < 8 && e.separating; attempt++) {
            e.seek(e.duration - 0.1);
            for (let t = 0; t < 400; t += 10) {
              await sleep(10);
              const snap = e.snapshot();
              if (!snap.separating?.waiting) continue;
              const waiting = { position: e.position, ready: snap.separating.readySeconds, playing: snap.playing, attempt };
              // Visible while it waits…
              for (let u = 0; u < 50 && !document.querySelector('[data-testid=separating-ahead]'); u++) await sleep(10);
              waiting.shown = Boolean(document.querySelector('[data-testid=separating-ahead]'));
              // …and gone once it plays on by itself.
              for (let u = 0; u < 3000 && e.snapshot().separating?.waiting; u++) await sleep(10);
              await sleep(300);
              return { waiting, after: { position: e.position, playing: e.playing, waiting: Boolean(e.snapshot().separating?.waiting), shown: Boolean(document.querySelector('[data-testid=separating-ahead]')) } };
            }
          }
          return null;
        });
        assert.ok(seen, 'playback never reached the frontier while the job ran');
        const { waiting, after } = seen;
        log(`waited at ${waiting.position.toFixed(2)} s (ready ${waiting.ready} s, try ${waiting.attempt + 1}); playing on at ${after.position.toFixed(2)} s`);
        assert.equal(waiting.playing, true);
        assert.equal(waiting.shown, true, '"Separating ahead…" is shown while it waits');
        assert.ok(Math.abs(waiting.position - waiting.ready) < 0.05, JSON.stringify(seen));
        assert.deepEqual([after.playing, after.waiting, after.shown], [true, false, false]);
        assert.ok(after.position > waiting.position + 0.1, JSON.stringify(seen));
      },
    },
    {
      name: 'the finished stems take over at the same position, on the same clock',
      async run({ page, log }) {
        // Watch every few ms in the page, so the samples either side of the hand-over are close.
        const seen = await handOver(page, handOverMs);
        const { before, after } = seen;
        const expected = expectedAfter(seen);
        log(`hand-over: ${before.position.toFixed(4)} s @ ${before.time.toFixed(4)} → ${after.position.toFixed(4)} s @ ${after.time.toFixed(4)} (expected ${expected.toFixed(4)})`);
        assert.equal(after.playing, true);
        assert.ok(Math.abs(after.position - expected) < 0.01, JSON.stringify(seen));
        await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 30_000 });
        const done = await state(page);
        assert.equal(done.separating, null);
        assert.ok(done.duration > SONG_SECONDS - 1);
        assert.ok((await level(page, 500)) > 0.01, 'still sounding after the hand-over');
        // Only the finished stems are in IndexedDB: no range of the running job was kept.
        const keys = await indexedKeys(page);
        assert.ok(!keys.some((k) => k.includes('start=')), `no range in IndexedDB: ${keys.join(', ')}`);
      },
    },
    {
      name: 'a separated song new to this browser plays from its first seconds while its stems download',
      async run({ page, context, appUrl, log }) {
        await page.evaluate(() => window.riffroom.engine.pause());
        const fresh = await context.browser().newContext({ viewport: { width: 1360, height: 900 } });
        try {
          await exposeEngine(fresh);
          const other = await fresh.newPage();
          // The full stems are held back 4 s, as a slow network would: the head (WAV ranges) is not.
          const held = [];
          await other.route(
            (url) => url.pathname.includes('/stems/') && url.searchParams.get('format') === 'flac' && !url.searchParams.has('start'),
            async (route) => {
              held.push(route.request().url());
              await new Promise((r) => setTimeout(r, 4000));
              await route.continue();
            },
          );
          await other.goto(appUrl);
          await other.getByRole('heading', { name: 'Library' }).waitFor();
          await other.locator('[data-testid=song-item] button.song-open').first().click();
          await other.waitForFunction(() => window.riffroom?.engine.snapshot().separating && window.riffroom.engine.snapshot().loaded, null, { timeout: 30_000 });
          const head = await state(other);
          assert.ok(head.separating.readySeconds >= 3 && head.separating.readySeconds < 20, JSON.stringify(head.separating));
          assert.ok(head.separating.totalSeconds > SONG_SECONDS - 1);
          assert.equal(await phase(other), 'loading');
          assert.match((await other.getByTestId('ready-label').textContent()) ?? '', /loaded to/);
          await other.getByTestId('play').click();
          await other.waitForFunction(() => window.riffroom.engine.playing);
          const loud = await level(other, 600);
          assert.ok(loud > 0.01, `output RMS while the stems download ${loud}`);
          const seen = await handOver(other, 60_000);
          const expected = expectedAfter(seen);
          log(`head ${head.separating.readySeconds} s, RMS ${loud.toFixed(4)}; hand-over ${seen.before.position.toFixed(4)} → ${seen.after.position.toFixed(4)} s (expected ${expected.toFixed(4)}); ${held.length} full stems held back`);
          assert.ok(held.length >= 4, `full stems asked for: ${held.length}`);
          assert.equal(seen.after.playing, true);
          // On a loaded machine playback can reach the end of the head (and wait there) between two
          // samples, or resume from there before the next one: then it may have moved on by at most
          // the time between them, and not gone back.
          const atEnd = seen.before.waiting || seen.before.position >= head.separating.readySeconds - 0.01;
          const atMost = seen.before.position + (seen.after.time - seen.before.time) * seen.before.rate;
          if (atEnd) assert.ok(seen.after.position > seen.before.position - 0.01 && seen.after.position < atMost + 0.01, JSON.stringify(seen));
          else assert.ok(Math.abs(seen.after.position - expected) < 0.01, JSON.stringify(seen));
          // Opened from the library, the song's status line goes once it is loaded.
          await other.locator('[data-testid=current-work]').waitFor({ state: 'detached', timeout: 30_000 });
          const loaded = await state(other);
          assert.equal(loaded.separating, null);
          assert.ok(loaded.duration > SONG_SECONDS - 1, `full stems: ${loaded.duration} s`);
          const keys = await indexedKeys(other);
          assert.ok(keys.some((k) => k.includes(':flac')), `the full stems are cached: ${keys.join(', ')}`);
          assert.ok(!keys.some((k) => k.includes('start=') || k.includes(':wav')), `no head in IndexedDB: ${keys.join(', ')}`);
        } finally {
          await fresh.close();
        }
      },
    },
    {
      name: 'held in this browser, a separated song plays from the first part of its cached files while they decode',
      async run({ page, log }) {
        await page.evaluate(() => localStorage.removeItem('riffroom.session')); // not reopened by itself on reload
        await page.reload();
        await page.getByRole('heading', { name: 'Library' }).waitFor();
        await page.waitForFunction(() => window.riffroom?.engine);
        // Watched from inside the page (the head plays only while the whole stems decode): Play the
        // moment the head is open, then follow it to the hand-over.
        const watched = page.evaluate(
          () =>
            new Promise((resolve, reject) => {
              const e = window.riffroom.engine;
              const buf = new Float32Array(e.analyser.fftSize);
              const started = performance.now();
              let head = null;
              let loud = 0;
              const timer = setInterval(() => {
                const snap = e.snapshot();
                if (!head && snap.loaded && snap.separating) {
                  head = { ...snap.separating, duration: e.duration };
                  void e.play();
                }
                if (head && e.playing) {
                  e.analyser.getFloatTimeDomainData(buf);
                  for (const x of buf) loud = Math.max(loud, Math.abs(x));
                }
                if (head && snap.loaded && !snap.separating) {
                  clearInterval(timer);
                  resolve({ head, loud, position: e.position, playing: e.playing, duration: e.duration });
                } else if (performance.now() - started > 30_000) {
                  clearInterval(timer);
                  reject(new Error(head ? 'no hand-over within 30 s' : 'the song never opened from a head'));
                }
              }, 2);
            }),
        );
        await page.locator('[data-testid=song-item] button.song-open').first().click();
        const seen = await watched;
        log(`local head ${seen.head.readySeconds} s, peak while it played ${seen.loud.toFixed(3)}; after the hand-over at ${seen.position.toFixed(3)} s of ${seen.duration.toFixed(1)} s`);
        const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
        assert.ok(marks.includes('riffroom:local-head'), `opened from its cached files: ${marks.join(', ')}`);
        assert.ok(!marks.some((m) => m.startsWith('riffroom:stem-bytes:') && !m.endsWith(':idb')), `every stem from IndexedDB: ${marks.join(', ')}`);
        assert.ok(seen.head.readySeconds >= 4 && seen.head.readySeconds < SONG_SECONDS - 10, JSON.stringify(seen.head));
        assert.ok(seen.head.duration <= seen.head.readySeconds + 0.001, JSON.stringify(seen.head));
        assert.ok(seen.duration > SONG_SECONDS - 1, `whole stems: ${seen.duration} s`);
        assert.equal(seen.playing, true, 'still playing after the hand-over');
        assert.ok(seen.position < seen.head.readySeconds + 2, `played on from the head: ${seen.position} s`);
        await page.evaluate(() => window.riffroom.engine.pause());
      },
    },
  ];
}

export const tests = progressiveTests();
