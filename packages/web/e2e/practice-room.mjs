// The practice room's scenarios in a real browser against a real server, in order; each builds on
// the previous one.
import assert from 'node:assert/strict';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** Average power spectrum of the output over `ms`: spectral centroid and band shares. */
function spectrum(page, ms = 1500) {
  return page.evaluate(async (ms) => {
    const { analyser: an, ctx } = window.riffroom.engine;
    const bins = new Float32Array(an.frequencyBinCount);
    const power = new Float64Array(an.frequencyBinCount);
    for (let t = 0; t < ms; t += 40) {
      an.getFloatFrequencyData(bins);
      for (let i = 0; i < bins.length; i++) power[i] += Math.pow(10, bins[i] / 10);
      await new Promise((r) => setTimeout(r, 40));
    }
    const hz = (i) => (i * ctx.sampleRate) / an.fftSize;
    let total = 0, weighted = 0, low = 0, high = 0;
    power.forEach((p, i) => {
      total += p;
      weighted += p * hz(i);
      if (hz(i) < 200) low += p;
      if (hz(i) > 2000) high += p;
    });
    return { centroid: weighted / total, low: low / total, high: high / total, total };
  }, ms);
}

const engineState = (page) =>
  page.evaluate(() => {
    const e = window.riffroom.engine;
    return { ...e.snapshot(), position: e.position, time: e.ctx.currentTime };
  });

/** A 16-bit PCM WAV (as the app writes it) folded to mono floats. */
function readWav(bytes) {
  const channels = bytes.readUInt16LE(22);
  const rate = bytes.readUInt32LE(24);
  const frames = (bytes.length - 44) / (2 * channels);
  const mono = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += bytes.readInt16LE(44 + 2 * (i * channels + c));
    mono[i] = sum / channels / 32768;
  }
  return { rate, frames, mono };
}

/** The strongest frequency (Hz, 1 Hz steps, 200-3000 Hz) in a Hann window of 16384 samples from `at` s. */
function dominantHz({ rate, mono }, at) {
  const n = 16384;
  const start = Math.round(at * rate);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = mono[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  let best = 0, bestHz = 0;
  for (let hz = 200; hz <= 3000; hz++) {
    const w = (2 * Math.PI * hz) / rate;
    let re = 0, im = 0;
    for (let i = 0; i < n; i++) {
      re += x[i] * Math.cos(w * i);
      im -= x[i] * Math.sin(w * i);
    }
    const power = re * re + im * im;
    if (power > best) [best, bestHz] = [power, hz];
  }
  return bestHz;
}

/** RMS of consecutive `hop`-second frames. */
function envelope({ rate, mono }, hop) {
  const out = [];
  for (let f = 0; ; f++) {
    const [a, b] = [Math.round(f * hop * rate), Math.round((f + 1) * hop * rate)];
    if (b > mono.length) return out;
    let sum = 0;
    for (let i = a; i < b; i++) sum += mono[i] * mono[i];
    out.push(Math.sqrt(sum / (b - a)));
  }
}

/** Frames by which envelope `b` lags `a` (within +-`span`): the least squared difference over `count` frames. */
function lagOf(a, b, span, count) {
  let best = Infinity, lag = 0;
  for (let d = -span; d <= span; d++) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += (a[i] - (b[i + d] ?? 0)) ** 2;
    if (sum < best) [best, lag] = [sum, d];
  }
  return lag;
}

async function downloadMix(page, results) {
  const [mix] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download mix' }).click()]);
  const path = `${results}/download-${mix.suggestedFilename()}`;
  await mix.saveAs(path);
  const { readFileSync } = await import('node:fs');
  return { name: mix.suggestedFilename(), ...readWav(readFileSync(path)) };
}

/**
 * Where a loop dragged on the open song snaps to: its analysed beats and bar lines, and the beat
 * length; null when the analysis found no steady beat (then a loop stays where it was dragged).
 * Waits for the page to show the analysis first, so the page and this answer agree.
 */
async function snapGrid(page) {
  await page.getByTestId('analysis').waitFor({ timeout: 60_000 });
  return page.evaluate(async () => {
    const { songId } = JSON.parse(localStorage.getItem('riffroom.session') ?? '{}');
    const a = await (await fetch(`/api/songs/${songId}/analysis`)).json();
    if (!a.steady_beat || a.beats.length < 2) return null;
    const gaps = a.beats.slice(1).map((t, i) => t - a.beats[i]).sort((x, y) => x - y);
    return { points: [...a.beats, ...a.downbeats], beat: gaps[gaps.length >> 1] };
  });
}

async function songTitle(page) {
  return (await page.locator('[data-testid=player] h2').first().textContent())?.trim();
}

export const tests = [
  {
    name: 'upload a generated song: progress reaches 100%, stems listed with waveforms',
    critical: true,
    async run({ page, appUrl, songPath, shot, log }) {
      const frames = [];
      page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
      await page.goto(appUrl);
      await page.getByRole('heading', { name: 'Library' }).waitFor();
      await shot('01-empty');
      await page.locator('[data-testid=file-input]').setInputFiles(songPath);
      const status = page.locator('[data-testid=work-status]');
      await status.waitFor({ timeout: 15_000 });
      await page.waitForSelector('[data-testid=work-status][data-phase=separating], [data-testid=work-status][data-phase=queued], [data-testid=work-status][data-phase=ready]', { timeout: 60_000 });
      await shot('02-separating');
      await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 120_000 }).catch((err) => {
        log(`WebSocket frames so far:\n  ${frames.join('\n  ')}`);
        throw err;
      });
      const messages = frames.map((f) => JSON.parse(f));
      const jobId = messages.find((m) => m.type === 'snapshot')?.job.id;
      assert.ok(jobId, 'the page subscribed to its job over the WebSocket');
      const progress = messages.filter((m) => m.type === 'progress').map((m) => m.progress);
      const done = messages.filter((m) => m.type === 'done' && m.job_id === jobId);
      // A job already over when the page subscribed arrives as a final snapshot instead (the protocol's
      // "snapshot, then every later event"); anything else without `done` means the event was lost.
      const doneSnapshot = messages.some((m) => m.type === 'snapshot' && m.job.id === jobId && m.job.state === 'done');
      log(`progress over the WebSocket: ${progress.map((p) => Math.round(p * 100)).join(' → ')}${done.length ? ' then done' : doneSnapshot ? ' (done in the snapshot)' : ''}`);
      assert.ok(done.length <= 1, `at most one done event (got ${done.length})`);
      assert.ok(done.length === 1 || doneSnapshot, 'the server sent the done event over the WebSocket (without it the page only learns the result by polling GET /api/jobs/{id})');
      const final = await (await page.request.get(`${appUrl}/api/jobs/${jobId}`)).json();
      assert.equal(final.state, 'done');
      assert.equal(final.progress, 1, 'progress reached 100%');
      const stems = page.locator('[data-testid^=stem-]');
      // Every stem's waveform arrives (each its own request): wait for all of them.
      await page.waitForFunction(() => {
        const drawn = document.querySelectorAll('[data-testid=waveform][data-has-peaks=true]').length;
        return drawn >= 2 && drawn === document.querySelectorAll('[data-testid=waveform]').length;
      }, null, { timeout: 30_000 });
      const count = await stems.count();
      assert.ok(count >= 2, `stems listed (${count})`);
      assert.equal(await page.locator('[data-testid=waveform][data-has-peaks=true]').count(), count, 'every stem has a waveform');
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded);
      await shot('03-player');
    },
  },
  {
    name: 'the same content again skips the upload',
    async run({ page, songPath }) {
      let uploads = 0;
      const onRequest = (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/songs') uploads += 1;
      };
      page.on('request', onRequest);
      await page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 30_000 });
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded);
      page.off('request', onRequest);
      assert.equal(uploads, 0, 'no upload for content the server already has');
    },
  },
  {
    name: 'several files are queued and processed one after another',
    async run({ page, server, log }) {
      const { writeFileSync } = await import('node:fs');
      const { makeSong } = await import('./make-song.mjs');
      const paths = [1, 2].map((v) => {
        const p = `${server.dataDir}/queued-${v}.wav`;
        writeFileSync(p, makeSong(8, 44100, v * 2));
        return p;
      });
      const title = await songTitle(page);
      const spans = [];
      const open = new Map();
      const onRequest = (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/songs') open.set(r, Date.now());
      };
      const onDone = (r) => {
        if (open.has(r)) spans.push([open.get(r), Date.now()]);
      };
      page.on('request', onRequest);
      page.on('requestfinished', onDone);
      await page.locator('[data-testid=file-input]').setInputFiles(paths);
      await page.getByRole('list', { name: 'Files waiting to be processed' }).waitFor({ timeout: 5000 });
      await page.waitForFunction(
        () => [...document.querySelectorAll('[data-testid=song-item]')].filter((li) => /queued-\d/.test(li.textContent ?? '') && /4 stems/.test(li.textContent ?? '')).length === 2,
        null,
        { timeout: 120_000, polling: 500 },
      );
      page.off('request', onRequest);
      page.off('requestfinished', onDone);
      assert.equal(spans.length, 2, 'two uploads');
      assert.ok(spans[1][0] >= spans[0][1], 'the second upload started after the first finished');
      log(`open song after the queue: ${await songTitle(page)}`);
      await page.getByRole('button', { name: `Open ${title}` }).click();
      await page.waitForFunction((t) => document.querySelector('[data-testid=player] h2')?.textContent === t, title, { timeout: 20_000 });
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded, null, { timeout: 20_000 });
    },
  },
  {
    name: 'a file that is not audio gets an error in words, then the library reopens the song',
    async run({ page, server, shot }) {
      const { writeFileSync } = await import('node:fs');
      const fake = `${server.dataDir}/not-a-song.mp3`;
      writeFileSync(fake, '<!doctype html><html><body>definitely not audio</body></html>');
      const title = await songTitle(page);
      await page.locator('[data-testid=file-input]').setInputFiles(fake);
      await page.waitForSelector('[data-testid=work-status][data-phase=failed]', { timeout: 30_000 });
      const message = (await page.getByRole('alert').first().textContent()) ?? '';
      assert.ok(message.length > 10 && !/\b(undefined|null|object)\b/i.test(message), `readable error: ${message}`);
      await shot('03b-error');
      await page.getByRole('button', { name: `Open ${title}` }).click();
      // The song before is still loaded until the reopened one is ready: wait for the failed
      // status to go (a song opened from the library shows none once ready), not just `loaded`.
      await page.waitForFunction(() => !document.querySelector('[data-testid=work-status]') && window.riffroom?.engine.snapshot().loaded, null, { timeout: 20_000 });
    },
  },
  {
    name: 'play: the audio clock advances and the output is not silent',
    critical: true,
    async run({ page }) {
      await page.getByTestId('play').click();
      await sleep(1200);
      const s = await engineState(page);
      assert.ok(s.playing, 'playing');
      assert.ok(s.position > 0.5, `position advanced (${s.position.toFixed(2)} s)`);
      const rms = await level(page);
      assert.ok(rms > 0.01, `output is not silent (rms ${rms.toFixed(4)})`);
    },
  },
  {
    name: 'soloing a stem changes what is heard',
    async run({ page, log }) {
      // Every measurement hears the same 1.5 s of the song, so only the mixer differs.
      const hear = async () => {
        await sleep(100); // the gain ramps settle
        await page.evaluate(() => window.riffroom.engine.seek(0));
        return spectrum(page);
      };
      const toggle = (name) => page.getByRole('button', { name }).click();
      const all = await hear();
      await toggle('Solo Bass');
      const bass = await hear();
      await toggle('Solo Bass');
      await toggle('Solo Drums');
      const drums = await hear();
      await toggle('Solo Drums');
      await toggle('Mute Drums');
      const noDrums = await hear();
      await toggle('Mute Drums');
      const hz = (s) => `${s.centroid.toFixed(0)} Hz`;
      log(`centroid: all ${hz(all)}, bass solo ${hz(bass)}, drums solo ${hz(drums)}, drums muted ${hz(noDrums)} (power ${(noDrums.total / all.total).toFixed(2)} of all); >2 kHz share all ${all.high.toFixed(4)}, drums solo ${drums.high.toFixed(4)}`);
      assert.ok(bass.centroid < all.centroid * 0.6, 'the bass solo sounds much darker');
      assert.ok(bass.low > all.low, 'the low end dominates the bass solo');
      // Measured over six runs: the drums solo 1.98-2.5x the centroid of all, muted 0.72-0.77x. (The
      // >2 kHz share is not used: a few hi-hat hits in 1.5 s make it vary 4x between runs.)
      assert.ok(drums.centroid > all.centroid * 1.5, 'the drums solo is brighter (hi-hat, kick click)');
      assert.ok(noDrums.centroid < all.centroid * 0.9, 'muting the drums makes it darker');
    },
  },
  {
    name: 'an A-B loop dragged on the waveform wraps',
    async run({ page, shot }) {
      const grid = await snapGrid(page);
      const wave = page.locator('[data-testid=waveform]').first();
      // The mouse only reaches what is in the viewport (the practice panels push the stems down).
      await wave.scrollIntoViewIfNeeded();
      const box = await wave.boundingBox();
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * 0.25, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.33, y, { steps: 4 });
      await page.mouse.move(box.x + box.width * 0.45, y, { steps: 4 });
      await page.mouse.up();
      const s = await engineState(page);
      assert.ok(s.loop && s.loopEnabled, 'loop set by dragging');
      const [a, b] = [s.duration * 0.25, s.duration * 0.45];
      if (grid) {
        // A steady beat: each edge on a beat or bar line, at most 0.6 beat from where it was let go.
        const onGrid = (t) => grid.points.some((p) => Math.abs(p - t) < 1e-3);
        const near = (edge, t) => Math.abs(edge - t) <= 0.6 * grid.beat + 0.05;
        assert.ok(onGrid(s.loop.start) && onGrid(s.loop.end), `loop ${JSON.stringify(s.loop)} snapped to the beats`);
        assert.ok(near(s.loop.start, a) && near(s.loop.end, b), `loop ${JSON.stringify(s.loop)}, dragged ${a.toFixed(2)}-${b.toFixed(2)} s`);
      } else {
        assert.ok(Math.abs(s.loop.start - a) < 0.1 && Math.abs(s.loop.end - b) < 0.1, `loop ${JSON.stringify(s.loop)}`);
      }
      const positions = [];
      for (let i = 0; i < 50; i++) {
        positions.push((await engineState(page)).position);
        await sleep(60);
      }
      const wraps = positions.filter((p, i) => i > 0 && p < positions[i - 1] - 0.3).length;
      assert.ok(wraps >= 1, `the playhead wrapped (${wraps} times)`);
      assert.ok(positions.every((p) => p >= s.loop.start - 0.05 && p <= s.loop.end + 0.05), 'the playhead stays in the loop');
      assert.ok((await level(page, 400)) > 0.01, 'still sounding while looping');
      await shot('04-loop');
      await page.evaluate(() => window.riffroom.engine.clearLoop());
    },
  },
  {
    name: 'a tempo change keeps playback running and aligned; transpose keeps sounding',
    async run({ page, log }) {
      await page.evaluate(() => window.riffroom.engine.seek(0.5));
      assert.equal((await engineState(page)).stretch, 'off', 'at 100% / 0 st the stems play direct (no stretcher)');
      await page.getByTestId('tempo').fill('75');
      await page.waitForFunction(() => window.riffroom.engine.snapshot().stretch === 'on', null, { timeout: 10_000 });
      await sleep(300); // longer than the latency since the tempo changed
      // Through the stretcher the sound lags the sources by its latency; the clock reports what is
      // heard (0.12 s behind, measured offline: a click comes out exactly that late).
      const lag = await page.evaluate(() => {
        const e = window.riffroom.engine;
        return { delay: e.outputDelay, ahead: e.sourcePosition - e.position, rate: e.snapshot().tempo };
      });
      log(`output delay ${lag.delay.toFixed(3)} s; sources ahead of the heard position by ${lag.ahead.toFixed(3)} s`);
      assert.ok(lag.delay > 0.05 && lag.delay < 0.5, `the stretcher's latency is known (${lag.delay})`);
      assert.ok(Math.abs(lag.ahead - lag.delay * lag.rate) < 0.005, 'the position is what is heard, not where the sources are');
      const a = await engineState(page);
      await sleep(1500);
      const b = await engineState(page);
      const rate = (b.position - a.position) / (b.time - a.time);
      log(`measured rate ${rate.toFixed(3)} at tempo ${b.tempo}`);
      assert.ok(b.playing, 'still playing');
      assert.ok(Math.abs(rate - 0.75) < 0.03, `the clock runs at 75% (${rate.toFixed(3)})`);
      const rates = await page.evaluate(() => window.riffroom.engine.stemSources.map((t) => t.source?.playbackRate.value));
      assert.ok(rates.every((r) => Math.abs(r - 0.75) < 1e-6), `every stem at the same rate: ${rates}`);
      assert.equal(b.stretch, 'on', 'the Signalsmith stretcher is running');
      assert.ok((await level(page)) > 0.01, 'not silent at 75%');
      await page.getByRole('button', { name: 'Transpose up' }).click();
      await page.getByRole('button', { name: 'Transpose up' }).click();
      assert.equal((await engineState(page)).transpose, 2);
      assert.ok((await level(page)) > 0.01, 'not silent transposed');
      await page.keyboard.press(']');
      assert.equal((await engineState(page)).tempo, 0.8, '] speeds up by 5%');
      await page.getByRole('button', { name: /Tempo \d+%, reset/ }).click();
      await page.getByRole('button', { name: 'Transpose down' }).click();
      await page.getByRole('button', { name: 'Transpose down' }).click();
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press(' ');
      assert.equal((await engineState(page)).playing, false, 'space pauses');
      await page.keyboard.press(' ');
      assert.equal((await engineState(page)).playing, true, 'space plays');
      await page.waitForFunction(() => window.riffroom.engine.snapshot().stretch === 'off', null, { timeout: 5000 });
      assert.equal(await page.evaluate(() => window.riffroom.engine.outputDelay), 0, 'no delay on the direct path');
    },
  },
  {
    name: 'dragging the position slider keeps every stem aligned',
    async run({ page, log }) {
      // Record every source start/stop from here on (the engine creates sources per seek).
      await page.evaluate(() => {
        const log = (window.__sources = { starts: [], live: new Set() });
        const proto = AudioBufferSourceNode.prototype;
        const start = proto.start;
        const stop = proto.stop;
        proto.start = function (when = 0, offset = 0, ...rest) {
          log.starts.push({ when, offset, rate: this.playbackRate.value, t: this.context.currentTime });
          log.live.add(this);
          return start.call(this, when, offset, ...rest);
        };
        proto.stop = function (...args) {
          log.live.delete(this);
          return stop.apply(this, args);
        };
        window.__restoreSources = () => {
          proto.start = start;
          proto.stop = stop;
        };
      });
      const before = await engineState(page);
      assert.ok(before.playing, 'playing before the drag');
      const stems = Object.keys(before.stems).length;
      const slider = page.getByRole('slider', { name: 'Position' });
      await slider.scrollIntoViewIfNeeded();
      const box = await slider.boundingBox();
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width * 0.2, y);
      await page.mouse.down();
      for (const f of [0.3, 0.4, 0.5, 0.6]) await page.mouse.move(box.x + box.width * f, y, { steps: 3 });
      await page.mouse.up();
      await sleep(150);
      const { starts, live } = await page.evaluate(() => ({ starts: window.__sources.starts, live: window.__sources.live.size }));
      const after = await engineState(page);
      await page.evaluate(() => window.__restoreSources());
      log(`${starts.length} source starts during the drag (${starts.length / stems} seeks); position now ${after.position.toFixed(2)} s of ${after.duration.toFixed(2)} s`);
      assert.ok(starts.length >= stems * 2 && starts.length % stems === 0, `every seek restarts all ${stems} stems (${starts.length} starts)`);
      for (let i = 0; i < starts.length; i += stems) {
        const group = starts.slice(i, i + stems);
        assert.ok(group.every((g) => g.when === group[0].when && g.offset === group[0].offset && g.rate === group[0].rate), `seek ${i / stems}: one start time, offset and rate for all stems ${JSON.stringify(group)}`);
        assert.ok(group[0].when > group[0].t, 'started in the future, so no stem starts late');
      }
      assert.equal(live, stems, 'the sources of earlier seeks were all stopped: one per stem plays');
      const last = starts.at(-1);
      assert.ok(Math.abs(last.offset - after.duration * 0.6) < after.duration * 0.06, `the last seek went where the thumb was let go (${last.offset.toFixed(2)} s)`);
      assert.ok(after.playing, 'still playing after the drag');
      assert.ok(after.position >= last.offset - 0.05, `the clock follows the seek (${after.position.toFixed(2)} s)`);
      assert.ok((await level(page)) > 0.01, 'still sounding after the drag');
      const ids = await page.evaluate(() => window.riffroom.engine.stemSources.map((t) => Boolean(t.source)));
      assert.ok(ids.every(Boolean), 'every stem has a source');
    },
  },
  {
    name: 'downloads: a stem and the current mix',
    async run({ page, results }) {
      const [stem] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the Bass stem' }).click()]);
      const stemPath = `${results}/download-${stem.suggestedFilename()}`;
      await stem.saveAs(stemPath);
      assert.match(stem.suggestedFilename(), /bass\.flac$/, 'the stem comes as the FLAC file the cache holds');
      const links = await page.evaluate(() => document.querySelectorAll('a[href^="blob:"]').length);
      assert.equal(links, 0, 'no blob: link is left in the page');
      await page.getByRole('button', { name: 'Mute Drums' }).click();
      const [mix] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download mix' }).click()]);
      const mixPath = `${results}/download-${mix.suggestedFilename()}`;
      await mix.saveAs(mixPath);
      await page.getByRole('button', { name: 'Mute Drums' }).click();
      const { statSync, readFileSync } = await import('node:fs');
      assert.ok(statSync(stemPath).size > 10_000, 'stem file downloaded');
      assert.equal(readFileSync(stemPath).toString('latin1', 0, 4), 'fLaC', 'the stem is a FLAC file');
      const wav = readFileSync(mixPath);
      assert.equal(wav.toString('latin1', 0, 4), 'RIFF', 'the mix is a WAV file');
      assert.ok(wav.length > 44 + 44100 * 4 * 7, 'the mix covers the whole song');
    },
  },
  {
    name: 'a mix downloaded at 80% and +5 semitones keeps that tempo and key',
    async run({ page, results, log }) {
      // Start from 100 %, 0 st and a plain mix whatever came before (the song's saved workspace
      // brings back the tempo, key and mix it was left with).
      await page.getByRole('button', { name: /Tempo \d+%, reset/ }).click();
      await page.evaluate(() => {
        const e = window.riffroom.engine;
        e.setTranspose(0);
        for (const name of e.stemNames) e.updateStem(name, { muted: false, soloed: false });
      });
      await page.getByRole('button', { name: 'Solo Vocals' }).click();
      const plain = await downloadMix(page, results);
      await page.getByTestId('tempo').fill('80');
      for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Transpose up' }).click();
      const shifted = await downloadMix(page, results);
      await page.getByRole('button', { name: /Tempo \d+%, reset/ }).click();
      for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Transpose down' }).click();
      await page.getByRole('button', { name: 'Solo Vocals' }).click();
      assert.match(shifted.name, /mix \(80%, \+5\)\.wav$/, 'the file name says the tempo and key');
      assert.match(plain.name, /mix\.wav$/);
      const lengthRatio = shifted.frames / plain.frames;
      // the first sung note lasts 1 s of the song: look inside it in both files
      const [a, b] = [dominantHz(plain, 0.2), dominantHz(shifted, 0.2 / 0.8)];
      log(`length x${lengthRatio.toFixed(4)}; strongest ${a} Hz -> ${b} Hz (x${(b / a).toFixed(4)}, +5 st is x1.3348)`);
      assert.ok(Math.abs(lengthRatio - 1.25) < 0.002, `80% tempo makes the mix 1.25x as long (${lengthRatio.toFixed(4)})`);
      // Line up the loudness contours (10 ms frames of the plain mix, 12.5 ms of the slowed one, so
      // frame k is the same moment of the song in both): the slowed mix must not lag by the
      // stretcher's latency (120 ms here).
      const lag = lagOf(envelope(plain, 0.01), envelope(shifted, 0.0125), 30, 200);
      log(`the slowed mix lags the plain one by ${lag} frames of 12.5 ms`);
      assert.ok(Math.abs(lag) <= 1, `the stretcher's latency is trimmed (lag ${lag * 12.5} ms)`);
      assert.ok(Math.abs(b / a - 2 ** (5 / 12)) < 0.02, `+5 semitones raises it by 2^(5/12) (x${(b / a).toFixed(4)})`);
    },
  },
  {
    name: 'the help panel lists the shortcuts',
    async run({ page, shot }) {
      await page.keyboard.press('?');
      const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await dialog.waitFor();
      await shot('05-help');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    },
  },
  {
    name: 'a reload restores the open song (stems from IndexedDB)',
    async run({ page, shot }) {
      const title = await songTitle(page);
      await page.reload();
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded, null, { timeout: 30_000 });
      assert.equal(await songTitle(page), title);
      const sources = await page.locator('[data-testid^=stem-]').evaluateAll((els) => els.map((e) => e.dataset.source));
      assert.ok(sources.every((s) => s === 'idb' || s === 'memory'), `stems came from the cache: ${sources}`);
      await shot('06-reloaded');
    },
  },
  {
    name: 'a reload in the middle of a running job brings the job and its progress back',
    async run({ page, server, log, shot }) {
      const { writeFileSync } = await import('node:fs');
      const { makeSong } = await import('./make-song.mjs');
      const path = `${server.dataDir}/long-job.wav`;
      writeFileSync(path, makeSong(40, 44100, 5));
      await page.evaluate(() => window.riffroom.engine.pause());
      await page.locator('[data-testid=file-input]').setInputFiles(path);
      const bar = page.getByRole('progressbar', { name: /Separating/ });
      // Wait until the job has made visible progress, then reload while it runs.
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid=current-work] [role=progressbar]');
        return document.querySelector('[data-testid=work-status][data-phase=separating]') && Number(el?.getAttribute('aria-valuenow')) > 0;
      }, null, { timeout: 60_000, polling: 50 });
      const before = Number(await bar.getAttribute('aria-valuenow'));
      const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}'));
      assert.ok(saved.jobId, 'the running job is saved for a reload');
      await page.reload();
      // (The restored run shows 'queued' until the server answers about the job.)
      await page.waitForSelector('[data-testid=work-status][data-phase=separating], [data-testid=work-status][data-phase=loading], [data-testid=work-status][data-phase=ready]', { timeout: 15_000 });
      const phase = await page.locator('[data-testid=work-status]').getAttribute('data-phase');
      const resumed = await page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}'));
      let after = null;
      if (phase === 'separating') {
        after = Number(await bar.getAttribute('aria-valuenow'));
        await shot('06b-job-after-reload');
      }
      log(`progress ${before}% before the reload; after it: ${phase}${after === null ? '' : ` ${after}%`}`);
      assert.notEqual(phase, 'loading', 'the job came back (not just the song)');
      if (phase !== 'ready') {
        assert.equal(resumed.jobId, saved.jobId, 'the same job is followed after the reload');
        const job = await (await page.request.get(`${server.url}/api/jobs/${saved.jobId}`)).json();
        assert.ok(['queued', 'running', 'done'].includes(job.state), `the job kept running on the server (${job.state})`);
      }
      if (after !== null) assert.ok(after >= before, `progress came back where it was (${before}% → ${after}%), not from zero`);
      assert.match((await page.locator('[data-testid=current-work]').textContent()) ?? '', /long.job/i, 'the status names the song');
      await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 120_000 });
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded, null, { timeout: 30_000 });
      assert.match((await songTitle(page)) ?? '', /long.job/i, 'the finished job opens its song');
      assert.equal((await page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}'))).jobId, undefined, 'the job is forgotten once done');
    },
  },
  {
    name: 'with the server stopped, a cached song still plays',
    async run({ page, server, shot }) {
      const title = await songTitle(page);
      await server.stop();
      await page.getByRole('button', { name: `Open ${title}` }).click();
      // Until the reopened song is ready the one before it is still loaded: wait for the new one.
      await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 20_000 });
      await page.waitForFunction(() => window.riffroom?.engine.snapshot().loaded, null, { timeout: 20_000 });
      await page.getByTestId('play').click();
      await sleep(1000);
      const s = await engineState(page);
      assert.ok(s.playing && s.position > 0.4, `offline playback advances (${s.position.toFixed(2)})`);
      assert.ok((await level(page)) > 0.01, 'offline playback is not silent');
      assert.ok((await page.locator('[data-testid=waveform][data-has-peaks=true]').count()) >= 2, 'waveforms drawn from the cache');
      await shot('07-offline');
    },
  },
  {
    name: 'phone width',
    async run({ page, shot }) {
      await page.setViewportSize({ width: 390, height: 844 });
      await sleep(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `no horizontal scrolling at 390 px (${overflow} px too wide)`);
      await shot('08-phone');
    },
  },
];
