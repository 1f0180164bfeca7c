// The practice room's music in a real browser against a real server: the chord lane, the click,
// the count-in, bar-snapped loops and transposed chords, on a song whose beats and chords are
// known (CHORD_SONG in make-song.mjs). Needs the server's song analysis
// (GET /api/songs/{id}/analysis); each scenario builds on the previous one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHORD_SONG, makeChordSong } from './make-song.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SYMBOLS = { 'C:maj': 'C', 'A:min': 'Am', 'F:maj': 'F', 'G:maj': 'G' };
const TRANSPOSED_UP_2 = { 'C:maj': 'D', 'A:min': 'Bm', 'F:maj': 'G', 'G:maj': 'A' };
/** Clicks must be heard this close to their beat (seconds). */
const ON_BEAT = 0.01;

const truthAt = (t) => CHORD_SONG.chords.find((c) => c.start <= t && t < c.end);
const nearest = (list, t) => list.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best), list[0]);

let analysis = null;

/** The open song's analysis, as the page fetched it. */
async function fetchAnalysis(page) {
  return page.evaluate(async () => {
    const { songs } = await (await fetch('/api/songs')).json();
    const song = songs.find((s) => /practice-music/.test(s.name ?? ''));
    const res = await fetch(`/api/songs/${song.id}/analysis`);
    return { status: res.status, body: await res.json().catch(() => null) };
  });
}

/**
 * Record the master output for `seconds` with an AudioWorklet tap (its `currentFrame` is the
 * graph's own clock, so times are exact), optionally pressing Play as it starts, and return
 * the onsets found: context time and song time (through the
 * engine's clock anchor and its output delay), plus the loudest sample.
 */
function recordOnsets(page, seconds, clickPlay = false) {
  return page.evaluate(
    async ({ seconds, clickPlay }) => {
      const e = window.riffroom.engine;
      const { ctx } = e;
      if (!window.__tapLoaded) {
        const code = `registerProcessor('rr-tap', class extends AudioWorkletProcessor {
          process(inputs) { const ch = inputs[0] && inputs[0][0]; if (ch) this.port.postMessage({ frame: currentFrame, data: ch.slice() }); return true; }
        });`;
        const url = URL.createObjectURL(new Blob([code], { type: 'application/javascript' }));
        try {
          await ctx.audioWorklet.addModule(url);
        } finally {
          URL.revokeObjectURL(url);
        }
        window.__tapLoaded = true;
      }
      const tap = new AudioWorkletNode(ctx, 'rr-tap');
      const sink = ctx.createGain();
      sink.gain.value = 0;
      const chunks = [];
      tap.port.onmessage = (m) => chunks.push(m.data);
      e.master.connect(tap);
      tap.connect(sink).connect(ctx.destination);
      if (clickPlay) document.querySelector('[data-testid=play]').click();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      e.master.disconnect(tap);
      tap.disconnect();
      sink.disconnect();
      tap.port.close();
      chunks.sort((a, b) => a.frame - b.frame);
      const rate = ctx.sampleRate;
      let peak = 0;
      for (const c of chunks) for (const x of c.data) peak = Math.max(peak, Math.abs(x));
      // An onset: the first sample over 10 % of the peak after 40 ms below it, confirmed by
      // reaching 30 % within 10 ms.
      const onsets = [];
      let lastAbove = -Infinity;
      let candidate = null;
      for (const c of chunks) {
        c.data.forEach((x, i) => {
          const frame = c.frame + i;
          const level = Math.abs(x);
          if (candidate !== null && frame - candidate > 0.01 * rate) candidate = null;
          if (level > 0.1 * peak) {
            if (frame - lastAbove > 0.04 * rate) candidate = frame;
            lastAbove = frame;
          }
          if (candidate !== null && level > 0.3 * peak) {
            onsets.push(candidate / rate);
            candidate = null;
          }
        });
      }
      const a = e.clock.anchor;
      const delay = e.outputDelay;
      return { peak, rate, anchor: { ...a }, delay, onsets: onsets.map((t) => ({ t, song: a.position + (t - delay - a.contextTime) * a.rate })) };
    },
    { seconds, clickPlay },
  );
}

const engineState = (page) =>
  page.evaluate(() => {
    const e = window.riffroom.engine;
    return { ...e.snapshot(), position: e.position };
  });

async function pauseAt(page, t) {
  await page.evaluate((t) => {
    const e = window.riffroom.engine;
    e.pause();
    e.seek(t);
  }, t);
}

export const tests = [
  {
    name: 'music: a song with known chords is separated and analysed',
    critical: true,
    async run({ page, appUrl, server, shot, log }) {
      const songPath = join(server.dataDir, 'practice-music.wav');
      writeFileSync(songPath, makeChordSong());
      await page.goto(appUrl);
      await page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 180_000 });
      await page.waitForFunction(() => window.riffroom?.engine?.snapshot().loaded, null, { timeout: 60_000 });
      try {
        await page.locator('[data-testid=analysis]').waitFor({ timeout: 180_000 });
      } catch (err) {
        const { status, body } = await fetchAnalysis(page);
        throw new Error(`no analysis in the page; GET /api/songs/{id}/analysis answered ${status} ${JSON.stringify(body)?.slice(0, 300)}`, { cause: err });
      }
      const { status, body } = await fetchAnalysis(page);
      assert.equal(status, 200);
      analysis = body;
      assert.equal(analysis.steady_beat, true, `the analysis found no steady beat: ${analysis.message}`);
      assert.ok(analysis.beats.length >= 24, `only ${analysis.beats.length} beats`);
      const secs = (list) => list.slice(0, 5).map((t) => t.toFixed(3)).join(', ');
      log(`analysis: ${analysis.tempo} bpm ${analysis.time_signature}, beats ${secs(analysis.beats)} …, downbeats ${secs(analysis.downbeats)} …`);
      await page.locator('[data-testid=bar-ruler] .bar-line').first().waitFor();
      await shot('music-01-analysed');
    },
  },
  {
    name: 'music: the chord lane shows the chord sounding now',
    async run({ page, shot }) {
      await pauseAt(page, 0);
      await page.evaluate(() => window.riffroom.engine.play());
      let compared = 0;
      let matched = 0;
      const misses = [];
      for (let i = 0; i < 24; i++) {
        await sleep(300);
        const { position, text } = await page.evaluate(() => ({
          position: window.riffroom.engine.position,
          text: document.querySelector('[aria-label="Current chord"]').textContent,
        }));
        const truth = truthAt(position);
        if (!truth || position - truth.start < 0.3 || truth.end - position < 0.3) continue; // too close to a change to judge
        compared += 1;
        if (text === SYMBOLS[truth.label]) matched += 1;
        else misses.push(`${position.toFixed(2)} s: ${text}, truth ${SYMBOLS[truth.label]}`);
      }
      await shot('music-02-chords');
      assert.ok(compared >= 10, `only ${compared} samples`);
      assert.ok(matched / compared >= 0.8, `the lane showed the sounding chord ${matched}/${compared} times:\n  ${misses.join('\n  ')}`);
      const live = await page.evaluate(() => document.querySelector('[aria-label="Current chord"]').closest('[aria-live]')?.getAttribute('aria-live'));
      assert.equal(live, 'polite');
    },
  },
  {
    name: 'music: the click is audible and on the beat at 100 % and at 75 %',
    async run({ page, log }) {
      await pauseAt(page, 1.1);
      await page.evaluate(() => {
        const e = window.riffroom.engine;
        for (const name of e.stemNames) e.updateStem(name, { muted: true });
      });
      await page.getByRole('checkbox', { name: 'Click' }).check();
      for (const tempo of [1, 0.75]) {
        await page.evaluate((tempo) => window.riffroom.engine.setTempo(tempo), tempo);
        if (tempo !== 1) await page.waitForFunction(() => window.riffroom.engine.snapshot().stretch === 'on', null, { timeout: 20_000 });
        await pauseAt(page, 1.1);
        await page.evaluate(() => window.riffroom.engine.play());
        await sleep(200);
        const rec = await recordOnsets(page, 3);
        await page.evaluate(() => window.riffroom.engine.pause());
        assert.ok(rec.peak > 0.05, `the click is not audible at ${tempo * 100} % (peak ${rec.peak})`);
        assert.ok(rec.onsets.length >= 4, `only ${rec.onsets.length} clicks heard at ${tempo * 100} %`);
        const offs = rec.onsets.map(({ song }) => song - nearest(analysis.beats, song));
        log(`clicks at ${tempo * 100} %: ${rec.onsets.length}, off the grid by ${offs.map((d) => (d * 1000).toFixed(1)).join(', ')} ms`);
        for (const d of offs) assert.ok(Math.abs(d) <= ON_BEAT, `a click ${(d * 1000).toFixed(1)} ms off its beat at ${tempo * 100} %`);
        // Heard one beat apart at the practice tempo.
        const gaps = rec.onsets.slice(1).map((o, i) => o.t - rec.onsets[i].t);
        const beat = 0.5 / tempo;
        assert.ok(gaps.every((g) => Math.abs(g - beat) < 0.02 || Math.abs(g - 2 * beat) < 0.02), `click gaps ${gaps.map((g) => g.toFixed(3))}`);
      }
      await page.evaluate(() => window.riffroom.engine.setTempo(1));
      await page.getByRole('checkbox', { name: 'Click' }).uncheck();
    },
  },
  {
    name: 'music: a one-bar count-in, then playback starts one bar later',
    async run({ page }) {
      await pauseAt(page, 0);
      await page.getByTestId('count-in').selectOption('1');
      const rec = await recordOnsets(page, 3.2, true);
      const state = await engineState(page);
      assert.equal(state.playing, true);
      assert.ok(state.position > 0.5, `playback did not start after the count-in (position ${state.position})`);
      const stemsStart = rec.anchor.contextTime + rec.delay;
      const countIn = rec.onsets.filter((o) => o.t < stemsStart - 0.05);
      assert.equal(countIn.length, 4, `count-in clicks: ${countIn.map((o) => o.t.toFixed(3))}`);
      countIn.forEach((o, i) => assert.ok(Math.abs(o.t - (stemsStart - 2 + i * 0.5)) <= ON_BEAT, `count-in click ${i + 1} at ${o.t}, stems at ${stemsStart}`));
      await page.evaluate(() => {
        const e = window.riffroom.engine;
        e.pause();
        for (const name of e.stemNames) e.updateStem(name, { muted: false });
      });
      await page.getByTestId('count-in').selectOption('0');
    },
  },
  {
    name: 'music: a loop dragged to non-bar positions snaps to the bars; "Loop bars" loops whole bars',
    async run({ page, shot }) {
      await pauseAt(page, 0);
      const wave = page.locator('[data-testid=waveform]').first();
      // The mouse only reaches what is in the viewport (the practice panels push the stems down).
      await wave.scrollIntoViewIfNeeded();
      const box = await wave.boundingBox();
      const { duration } = await engineState(page);
      const x = (t) => box.x + (t / duration) * box.width;
      const y = box.y + box.height / 2;
      await page.mouse.move(x(2.12), y);
      await page.mouse.down();
      await page.mouse.move(x(4), y, { steps: 5 });
      await page.mouse.move(x(5.9), y, { steps: 5 });
      await page.mouse.up();
      const { loop } = await engineState(page);
      assert.ok(loop, 'no loop was set');
      const bar2 = nearest(analysis.downbeats, 2);
      const bar4 = nearest(analysis.downbeats, 6);
      assert.ok(Math.abs(loop.start - bar2) < 1e-3 && Math.abs(loop.end - bar4) < 1e-3, `loop ${loop.start}-${loop.end}, bars at ${bar2} and ${bar4}`);
      assert.ok(Math.abs(loop.start - 2) < 0.05 && Math.abs(loop.end - 6) < 0.05, `the analysed bars are off the song's: ${loop.start}-${loop.end}`);
      await shot('music-03-snapped-loop');

      const form = page.getByRole('form', { name: 'Loop bars' });
      await form.getByLabel('First bar').fill('3');
      await form.getByLabel('Last bar').fill('4');
      await form.getByRole('button', { name: 'Loop bars' }).click();
      const after = (await engineState(page)).loop;
      // Bars as the bar ruler (and the server's beat_positions) number them: bar 1 begins at the
      // first analysed downbeat, beats before it are a pickup (bar 0). So bars 3-4 are from the
      // third downbeat to the fifth, wherever the analysis put the first one.
      const [bar3, bar5] = [analysis.downbeats[2], analysis.downbeats[4]];
      assert.ok(Math.abs(after.start - bar3) < 1e-3, `Loop bars 3-4 started at ${after.start}, bar 3 at ${bar3}`);
      assert.ok(Math.abs(after.end - bar5) < 1e-3, `Loop bars 3-4 ended at ${after.end}, bar 5 at ${bar5}`);
      await page.evaluate(() => window.riffroom.engine.clearLoop());
    },
  },
  {
    name: 'music: transpose changes the displayed chords and key',
    async run({ page, shot }) {
      await pauseAt(page, 3); // A minor
      const current = page.getByLabel('Current chord');
      await page.waitForFunction(() => document.querySelector('[aria-label="Current chord"]').textContent === 'Am');
      await page.getByRole('button', { name: 'Transpose up' }).click();
      await page.getByRole('button', { name: 'Transpose up' }).click();
      await page.waitForFunction(() => document.querySelector('[aria-label="Current chord"]').textContent === 'Bm', null, { timeout: 5000 });
      assert.equal(await current.textContent(), TRANSPOSED_UP_2['A:min']);
      const key = (await page.getByTestId('song-key').textContent()) ?? '';
      if (/^C major$/.test(analysis.key ?? '')) assert.equal(key, 'D major');
      await shot('music-04-transposed');
      await page.getByRole('button', { name: 'Transpose down' }).click();
      await page.getByRole('button', { name: 'Transpose down' }).click();
      await page.waitForFunction(() => document.querySelector('[aria-label="Current chord"]').textContent === 'Am');
    },
  },
];
