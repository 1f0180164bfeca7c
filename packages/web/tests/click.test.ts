/**
 * The click track and the count-in on the engine's one clock: the click is rendered in song time
 * (a click starting at each beat's sample), played by a source that starts with the stems' own
 * `when`, offset and playbackRate, so at 100 % and at 75 % every click is heard where the clock
 * says its beat is. The count-in's clicks come one beat apart at the practice tempo, and the
 * stems start exactly N bars of them later.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClickTrack, CLICK_SAMPLE_RATE, renderClicks } from '../src/audio/click';
import { CountIn, countInClicks } from '../src/audio/countIn';
import { PlayerEngine } from '../src/audio/engine';
import { FakeAudioContext, FakeAudioNode, FakeAudioWorkletNode, bufferSources, resetWebAudio, type FakeBufferSource } from './fakeWebAudio';

const beats = Array.from({ length: 16 }, (_, i) => 0.25 + i * 0.5);
const downbeats = beats.filter((_, i) => i % 4 === 0);

/** Sample indexes where a click starts (silence before, sound at the sample). */
function onsets(samples: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i] ?? 0) > 1e-3 && (i === 0 || samples[i - 1] === 0)) out.push(i);
  }
  return out;
}

beforeEach(() => {
  resetWebAudio();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  vi.stubGlobal('AudioWorkletNode', FakeAudioWorkletNode);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

async function playingEngine() {
  const ctx = new FakeAudioContext();
  const engine = new PlayerEngine(ctx as unknown as AudioContext);
  const stems = await Promise.all(['vocals', 'drums'].map(async (name) => ({ name, buffer: await engine.decode(new ArrayBuffer(8)) })));
  engine.load(stems);
  return { ctx, engine };
}

const playing = (sources: FakeBufferSource[]) => sources.filter((s) => s.started && !s.stopped);

describe('click rendering', () => {
  it('starts a click at the sample of every beat, louder on the downbeats', () => {
    const samples = renderClicks({ beats, downbeats }, 8, CLICK_SAMPLE_RATE, 'wood');
    expect(onsets(samples)).toEqual(beats.map((b) => Math.round(b * CLICK_SAMPLE_RATE)));
    const peak = (b: number) => Math.abs(samples[Math.round(b * CLICK_SAMPLE_RATE)] ?? 0);
    expect(peak(downbeats[1] ?? 0)).toBeGreaterThan(peak(beats[1] ?? 0));
    for (const sound of ['beep', 'tick'] as const) {
      expect(onsets(renderClicks({ beats, downbeats }, 8, 8000, sound))).toEqual(beats.map((b) => Math.round(b * 8000)));
    }
  });

  for (const tempo of [1, 0.75]) {
    it(`plays the click with the stems' start, offset and rate, on the clock's beats at ${tempo * 100} %`, async () => {
      const { ctx, engine } = await playingEngine();
      const click = new ClickTrack(engine);
      click.setGrid({ beats, downbeats }, 10);
      click.setEnabled(true);
      engine.setTempo(tempo);
      engine.seek(1.1);
      ctx.advance(0.4);
      await engine.play();
      const [vocals, drums, clickSource] = playing(bufferSources());
      expect(clickSource).toBeDefined();
      for (const s of [drums, clickSource]) {
        expect(s?.when).toBe(vocals?.when);
        expect(s?.offset).toBe(vocals?.offset);
        expect(s?.playbackRate.value).toBe(tempo);
      }
      // Each click after the start point is heard when the clock is at its beat.
      const src = clickSource as FakeBufferSource;
      const buffer = src.buffer as unknown as { getChannelData(c: number): Float32Array };
      const clickTimes = onsets(buffer.getChannelData(0)).map((i) => i / CLICK_SAMPLE_RATE).filter((t) => t >= src.offset);
      expect(clickTimes.length).toBeGreaterThan(10);
      for (const t of clickTimes) {
        ctx.currentTime = src.when + (t - src.offset) / src.playbackRate.value;
        expect(Math.abs(engine.sourcePosition - t)).toBeLessThan(1 / CLICK_SAMPLE_RATE);
        expect(beats.some((b) => Math.abs(b - t) < 1 / CLICK_SAMPLE_RATE)).toBe(true);
      }
      // Through the tempo-only bus, as the drums: tempo corrected, never transposed.
      const input = click.input as unknown as FakeAudioNode;
      const [panner] = [...input.outputs];
      expect([...(panner?.outputs ?? [])]).toEqual([engine.tempoOnlyInput]);
      click.dispose();
      await engine.dispose();
    });
  }

  it('restarts only the click, where the stems are, when the grid changes while playing; tempo changes reach it', async () => {
    const { ctx, engine } = await playingEngine();
    const click = new ClickTrack(engine);
    click.setEnabled(true);
    click.setGrid({ beats, downbeats }, 10);
    await engine.play();
    ctx.advance(2);
    const before = bufferSources().length;
    click.setGrid({ beats: beats.map((b) => b + 0.1), downbeats: downbeats.map((b) => b + 0.1) }, 10);
    const made = bufferSources().slice(before);
    expect(made).toHaveLength(1); // the stems go on untouched
    const fresh = made[0] as FakeBufferSource;
    const stem = bufferSources()[0] as FakeBufferSource;
    expect(fresh.offset).toBeCloseTo(fresh.when - stem.when, 9); // where the stems' sources are at its start
    engine.setTempo(0.8);
    expect(fresh.playbackRate.value).toBe(0.8);
    click.setSound('beep'); // a new sound is a new rendering
    expect(bufferSources().length).toBe(before + 2);
    click.setSound('beep'); // the same one is not
    expect(bufferSources().length).toBe(before + 2);
    click.setEnabled(false);
    expect(playing(bufferSources())).toHaveLength(2);
    click.dispose();
    await engine.dispose();
  });
});

describe('count-in', () => {
  it('spaces its clicks a beat apart, accenting each bar', () => {
    expect(countInClicks(2, 3, 0.5)).toEqual([
      { at: 0, accent: true },
      { at: 0.5, accent: false },
      { at: 1, accent: false },
      { at: 1.5, accent: true },
      { at: 2, accent: false },
      { at: 2.5, accent: false },
    ]);
  });

  it('clicks N bars at the practice tempo, then the stems start exactly N bar lengths later', async () => {
    const { ctx, engine } = await playingEngine();
    engine.setTempo(0.75);
    const countIn = new CountIn(engine);
    const when = await countIn.play({ bars: 2, beatsPerBar: 4, songBeatSeconds: 0.5, sound: 'wood', volume: 0.8 });
    const lead = (2 * 4 * 0.5) / 0.75;
    const sources = playing(bufferSources());
    expect(sources).toHaveLength(3);
    const [vocals, , clicks] = sources;
    expect(vocals?.when).toBe(when);
    expect(clicks?.when).toBeCloseTo((when ?? 0) - lead, 9);
    const samples = (clicks?.buffer as unknown as { getChannelData(c: number): Float32Array }).getChannelData(0);
    const beat = 0.5 / 0.75;
    expect(onsets(samples)).toEqual(Array.from({ length: 8 }, (_, i) => Math.round(i * beat * ctx.sampleRate)));
    // The position waits at the start until the stems come in.
    ctx.advance(lead / 2);
    expect(engine.position).toBe(0);
    expect(countIn.active).toBe(true);
    // A pause during the count-in silences it.
    engine.pause();
    expect(countIn.active).toBe(false);
    expect(playing(bufferSources())).toHaveLength(0);
    await engine.dispose();
  });
});
