// Reliability of the web app against a real server, in order; each builds on the previous one:
// a server SIGKILLed mid-job and started again (the page resumes and gets the final event once),
// ten files dropped at once (queued, one at a time, all separated), the stem cache's expiry and
// byte budget as seen in IndexedDB, and 100 open/close cycles that leave nothing behind.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSong } from './make-song.mjs';
import { installCounters } from './pageCounters.mjs';

/** `riffroom serve` for this suite: small dsp chunks keep a job observable; a short lease lets a restarted server take the dead worker's job back soon. */
export const SERVER_ENV = { RIFFROOM_DSP_CHUNK_SECONDS: '1', RIFFROOM_LEASE_SECONDS: '4' };

const LONG_SONG_SECONDS = 30;
const DROPPED = 10;
const DROP_SECONDS = 1; // short: the budget check needs a song smaller than one stem of the long song
const CYCLES = 100;
/** Must match CACHE_SETTINGS_KEY in src/services/cacheSettings.ts. */
const CACHE_SETTINGS_KEY = 'riffroom.cache.settings';
const CACHE_DB = 'riffroom-cache';
/** Must match SESSION_KEY in src/services/session.ts (the song the page reopens on start). */
const SESSION_KEY = 'riffroom.session';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dropName = (i) => `reliability-drop-${i}.wav`;
/** The title the library shows for a song uploaded as `file` (no tags: the file name without its extension). */
const titleOf = (file) => file.replace(/\.wav$/, '');
/** What this suite learnt along the way (song ids, cache sizes), for the scenarios after. */
const seen = {};

async function api(server, path) {
  const res = await fetch(`${server.url}${path}`);
  assert.equal(res.status, 200, `GET ${path}: ${res.status}`);
  return res.json();
}

const songs = async (server) => (await api(server, '/api/songs')).songs;

/** The open song is `name`, its stems decoded and in the engine. */
async function waitOpen(page, file, timeout = 60_000) {
  await page.getByRole('button', { name: `Open ${titleOf(file)}`, exact: true }).and(page.locator('[aria-current=true]')).waitFor({ timeout });
  // Nothing at work any more (opening a song leaves no status line; a new one says "Ready").
  await page.waitForFunction(
    () => {
      const status = document.querySelector('[data-testid=work-status]');
      return (!status || status.getAttribute('data-phase') === 'ready') && window.riffroom?.engine.snapshot().loaded && !window.riffroom.engine.separating;
    },
    null,
    { timeout },
  );
}

/** Wait until the open song's waveform peaks are in the memory tier, then for the IndexedDB writes. */
async function waitCached(page, songId, stems = 4) {
  await page.waitForFunction(
    ([id, n]) => window.__counters.cache().memoryKeys().filter((k) => k.startsWith(`peaks:${id}:`)).length >= n,
    [songId, stems],
    { timeout: 30_000 },
  );
  await page.evaluate(() => window.__counters.cache().flush());
}

async function openSong(page, file) {
  await page.getByRole('button', { name: `Open ${titleOf(file)}`, exact: true }).click();
  await waitOpen(page, file);
}

/** Every entry of the app's IndexedDB cache: key, recorded size, stored bytes and their SHA-256, after the background writes. */
function idbEntries(page) {
  return page.evaluate(async (dbName) => {
    await window.__counters.cache().flush();
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open(dbName);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const all = (store) =>
      new Promise((res, rej) => {
        const tx = db.transaction(store);
        const r = store === 'meta' ? tx.objectStore(store).getAll() : tx.objectStore(store).getAllKeys();
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
    const get = (key) =>
      new Promise((res, rej) => {
        const r = db.transaction('blobs').objectStore('blobs').get(key);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
    const out = {};
    for (const meta of await all('meta')) out[meta.key] = { size: meta.size };
    for (const key of await all('blobs')) {
      const stored = await get(key);
      const bytes = stored instanceof Blob ? await stored.arrayBuffer() : stored; // Blobs; ArrayBuffers before
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      out[key] = { ...(out[key] ?? { size: null }), stored: bytes.byteLength, sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join('') };
    }
    db.close();
    return out;
  }, CACHE_DB);
}

/** What the page's cache manager reports, and what the browser says the origin stores. */
function cacheReport(page) {
  return page.evaluate(async () => {
    const cache = window.__counters.cache();
    const disk = await cache.diskUsage();
    const { usage } = await navigator.storage.estimate();
    return { memoryKeys: cache.memoryKeys(), memoryBytes: cache.memoryBytes, disk, usage };
  });
}

/**
 * Replace the cache settings the page reads at startup (null: the app's own), then reload.
 * `forgetOpenSong`: the page starts with no song open (it reopens the last one otherwise, and
 * that stores its stems again).
 */
async function reloadWithCacheSettings(page, settings, { forgetOpenSong = false } = {}) {
  await page.evaluate(
    ([key, value, forget, sessionKey]) => {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
      if (forget) localStorage.removeItem(sessionKey);
    },
    [CACHE_SETTINGS_KEY, settings === null ? null : JSON.stringify(settings), forgetOpenSong, SESSION_KEY],
  );
  await page.reload();
  await page.getByRole('heading', { name: 'Library' }).waitFor();
  await page.waitForFunction(() => window.__counters?.cache() !== null);
}

const keysOf = (songId) => (key) => key.includes(`:${songId}:`);
const total = (entries) => Object.values(entries).reduce((n, e) => n + e.size, 0);

export const tests = [
  {
    name: 'a server SIGKILLed mid-job comes back; the page resumes and gets the final event once',
    critical: true,
    async run({ page, context, server, appUrl, log }) {
      await installCounters(context);
      const path = join(server.dataDir, 'reliability-long.wav');
      writeFileSync(path, makeSong(LONG_SONG_SECONDS, 44100, 5));
      await page.goto(appUrl);
      await page.getByRole('heading', { name: 'Library' }).waitFor();
      await page.locator('[data-testid=file-input]').setInputFiles(path);
      // Running, a tenth done: then the crash.
      let job = null;
      for (let t = 0; t < 900 && !(job?.state === 'running' && job.progress >= 0.1); t++) {
        await sleep(100);
        job = (await songs(server)).find((s) => s.original_filename === 'reliability-long.wav')?.job ?? null;
      }
      assert.ok(job && job.state === 'running' && job.progress >= 0.1 && job.progress < 1, `job before the kill: ${JSON.stringify(job)}`);
      seen.longSongId = job.song_id;
      // The page's safety net: a socket quiet for 8 s makes it ask GET /api/jobs/{id}; a final
      // answer there ends the job in the page (and closes its socket) without a final frame.
      const restFinals = [];
      page.on('response', async (response) => {
        if (response.request().method() !== 'GET' || !response.url().endsWith(`/api/jobs/${job.id}`)) return;
        const answer = await response.json().catch(() => null);
        if (answer && ['done', 'failed', 'cancelled'].includes(answer.state)) restFinals.push(answer.state);
      });
      await server.kill();
      log(`killed the server at ${(job.progress * 100).toFixed(0)} % of job ${job.id}`);
      await page.waitForFunction(() => window.__counters.counts().sockets === 0, null, { timeout: 30_000 });
      const downAt = Date.now();
      await server.start(); // the same port and data dir
      log(`server back after ${Date.now() - downAt} ms`);
      await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 150_000 });
      const after = await api(server, `/api/jobs/${job.id}`);
      assert.equal(after.state, 'done');
      const finals = await page.evaluate(() => window.__counters.finals());
      const mine = finals.filter((f) => f.jobId === job.id);
      log(`final frames for the job: ${JSON.stringify(mine)}; final answers of the safety net: ${JSON.stringify(restFinals)}; attempts ${after.attempts}`);
      if (mine.length === 0) {
        // Possible only when the socket was still waiting out its reconnect backoff (up to 8 s
        // after four refused attempts) as the job ended: the page learnt it from the safety net.
        assert.deepEqual(restFinals.slice(0, 1), ['done'], 'no final frame, and the safety net did not say done either');
      } else {
        assert.deepEqual(mine, [{ jobId: job.id, type: 'done' }], 'the final event, exactly once');
      }
      // The run is over: its socket is closed.
      await page.waitForFunction(() => window.__counters.counts().sockets === 0, null, { timeout: 10_000 });
      const song = (await songs(server)).find((s) => s.id === job.song_id);
      assert.ok(song.stems.length >= 4, `stems ${song.stems}`);
    },
  },
  {
    name: 'ten files dropped at once are queued, separated one at a time, none twice',
    critical: true,
    async run({ page, server, log }) {
      const before = await songs(server);
      const files = Array.from({ length: DROPPED }, (_, i) => ({ name: dropName(i), b64: makeSong(DROP_SECONDS, 44100, i + 1).toString('base64') }));
      const transfer = await page.evaluateHandle((files) => {
        const dt = new DataTransfer();
        for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: 'audio/wav' }));
        return dt;
      }, files);
      const t0 = Date.now();
      await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer: transfer });
      // Watch the server meanwhile: at most one of them is ever unfinished.
      let most = 0;
      let mine = [];
      while (Date.now() - t0 < 170_000) {
        mine = (await songs(server)).filter((s) => s.original_filename?.startsWith('reliability-drop-'));
        most = Math.max(most, mine.filter((s) => s.job && !['done', 'failed', 'cancelled'].includes(s.job.state)).length);
        if (mine.length === DROPPED && mine.every((s) => s.job?.state === 'done' && s.stems.length > 0)) break;
        await sleep(150);
      }
      log(`${DROPPED} dropped songs separated in ${((Date.now() - t0) / 1000).toFixed(1)} s; at most ${most} unfinished at once`);
      assert.deepEqual(mine.map((s) => s.original_filename).sort(), files.map((f) => f.name).sort(), 'each file once');
      assert.equal(most, 1, 'one job at a time');
      assert.equal((await songs(server)).length, before.length + DROPPED);
      for (const s of mine) {
        assert.equal(s.job.state, 'done', `${s.original_filename}: ${JSON.stringify(s.job)}`);
        assert.ok(s.stems.length >= 4);
      }
      assert.equal(new Set(mine.map((s) => s.job.id)).size, DROPPED, 'a job each');
      // Nothing left waiting, and the last one is open.
      await waitOpen(page, dropName(DROPPED - 1), 30_000);
      assert.equal(await page.locator('.queue-item').count(), 0);
      seen.drop = Object.fromEntries(mine.map((s) => [s.original_filename, s.id]));
    },
  },
  {
    name: 'an entry past its expiry is gone from memory and IndexedDB, its bytes given back',
    async run({ page, log }) {
      const ttlMs = 10_000; // long enough to look at a song before it expires, on a loaded machine
      // The page reopens the song it showed last: make that the second song, and start from an empty cache.
      await openSong(page, dropName(1));
      await page.evaluate(() => window.__counters.cache().clear());
      await reloadWithCacheSettings(page, { ttlMs });
      const a = seen.drop[dropName(0)];
      const b = seen.drop[dropName(1)];
      await openSong(page, dropName(0));
      const storedAt = Date.now();
      await waitCached(page, a);
      const withA = await idbEntries(page);
      const reportA = await cacheReport(page);
      const aKeys = Object.keys(withA).filter(keysOf(a));
      assert.ok(aKeys.length >= 8, `stems and peaks of the song in IndexedDB: ${aKeys}`);
      assert.ok(reportA.memoryKeys.some(keysOf(a)), `its peaks in memory: ${reportA.memoryKeys}`);
      assert.equal(reportA.disk.bytes, total(withA));
      seen.firstSongBytes = total(Object.fromEntries(aKeys.map((k) => [k, withA[k]])));
      // Past the expiry, the next song stored lets the expired one go from both tiers.
      await sleep(ttlMs + 500 - (Date.now() - storedAt));
      await openSong(page, dropName(1));
      await waitCached(page, b);
      const withB = await idbEntries(page);
      const reportB = await cacheReport(page);
      assert.deepEqual(Object.keys(withB).filter(keysOf(a)), [], 'the expired song is gone from IndexedDB');
      assert.deepEqual(reportB.memoryKeys.filter(keysOf(a)), [], 'and from memory');
      assert.ok(Object.keys(withB).filter(keysOf(b)).length >= 8);
      assert.equal(reportB.disk.bytes, total(withB), 'the manager counts only what is stored');
      assert.deepEqual(Object.keys(withB).filter((k) => !keysOf(b)(k)), [], 'nothing but the second song is stored');
      // Past its expiry too, and never asked for again: the next page start gives it back.
      await sleep(ttlMs + 500);
      await reloadWithCacheSettings(page, { ttlMs }, { forgetOpenSong: true });
      const report = await cacheReport(page);
      const left = await idbEntries(page);
      log(`usage ${reportA.usage} B with one song (${reportA.disk.bytes} B in the cache), ${reportB.usage} B after the second, ${report.usage} B after both expired`);
      assert.deepEqual(Object.keys(left), []);
      assert.deepEqual(report.disk, { bytes: 0, entries: 0 });
      assert.ok(report.usage < reportB.usage, `navigator.storage.estimate() usage ${reportB.usage} → ${report.usage}`);
    },
  },
  {
    name: 'an entry larger than the budget is refused and evicts nothing',
    async run({ page, server, log }) {
      const long = seen.longSongId;
      const longSong = await api(server, `/api/songs/${long}`);
      const sizes = {};
      for (const stem of longSong.stems) {
        const [audio, peaks] = await Promise.all([
          fetch(`${server.url}/api/songs/${long}/stems/${stem}?format=flac`).then((r) => r.arrayBuffer()),
          fetch(`${server.url}/api/songs/${long}/peaks?stem=${stem}&points=1200`).then((r) => r.arrayBuffer()),
        ]);
        sizes[stem] = { audio: audio.byteLength, peaks: peaks.byteLength };
      }
      // Room for the first song and the long song's peaks, not for any of its stems.
      const budget = seen.firstSongBytes + Object.values(sizes).reduce((n, s) => n + s.peaks, 0) + 4096;
      const smallest = Math.min(...Object.values(sizes).map((s) => s.audio));
      assert.ok(smallest > budget, `every long stem is over the budget (${smallest} B vs ${budget} B): ${JSON.stringify(sizes)}`);
      // The page reopens the song it showed last: make that the first song, and start from an empty cache.
      await openSong(page, dropName(0));
      await page.evaluate(() => window.__counters.cache().clear());
      await reloadWithCacheSettings(page, { diskBudgetBytes: budget });
      const a = seen.drop[dropName(0)];
      await openSong(page, dropName(0));
      await waitCached(page, a);
      const before = await idbEntries(page);
      assert.ok(Object.keys(before).every(keysOf(a)), `only the first song stored before: ${Object.keys(before).join(', ')}`);
      assert.equal(total(before), seen.firstSongBytes);
      await openSong(page, 'reliability-long.wav');
      await waitCached(page, long);
      const after = await idbEntries(page);
      const report = await cacheReport(page);
      log(`budget ${budget} B; long stems ${Object.values(sizes).map((s) => s.audio).join(', ')} B; stored ${report.disk.bytes} B in ${report.disk.entries} entries`);
      for (const key of Object.keys(before)) assert.deepEqual(after[key], before[key], `${key} kept byte for byte`);
      assert.deepEqual(Object.keys(after).filter((k) => k.startsWith(`stem:${long}:`)), [], 'no stem over the budget stored');
      assert.ok(report.disk.bytes <= budget);
      // It plays all the same (from the network).
      assert.ok(await page.evaluate(() => window.riffroom.engine.duration > 25));
    },
  },
  {
    name: `${CYCLES} cycles of opening and closing a song leave no socket, timer, audio node or object URL behind`,
    async run({ page, log }) {
      await reloadWithCacheSettings(page, null);
      const [a, b] = [dropName(2), dropName(3)];
      const counts = () => page.evaluate(() => window.__counters.counts());
      // The first cycle caches the stems; the counts after it are the baseline.
      await openSong(page, a);
      await openSong(page, b);
      await sleep(500);
      const baseline = await counts();
      const t0 = Date.now();
      for (let i = 0; i < CYCLES; i++) {
        // No close button: opening another song is how the open one is closed.
        await openSong(page, a);
        await openSong(page, b);
      }
      const cycleMs = (Date.now() - t0) / CYCLES;
      let now = await counts();
      const settled = () => Object.entries(now).every(([what, n]) => n <= baseline[what]);
      for (let t = 0; t < 50 && !settled(); t++) {
        await sleep(200);
        now = await counts();
      }
      const detail = await page.evaluate(() => window.__counters.detail());
      log(`${CYCLES} cycles, ${cycleMs.toFixed(0)} ms each; baseline ${JSON.stringify(baseline)}, after ${JSON.stringify(now)}; timers left: ${detail.timers.join(' | ') || 'none'}; nodes left: ${detail.nodes.join(', ')}`);
      // Back to the baseline (or under it: a timer pending then may have fired since).
      for (const [what, n] of Object.entries(now)) assert.ok(n <= baseline[what], `${what}: ${baseline[what]} → ${n} after ${CYCLES} cycles: ${JSON.stringify(detail)}`);
    },
  },
];
