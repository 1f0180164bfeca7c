/**
 * The loop's passes on the (fake) audio clock: the speed trainer's ramp, a count-in before every
 * pass, a seek during a count-in, and nothing left open afterwards. A pass ends when the silent
 * sentinel source started at the wrap time ends: the test fires that `ended` as the audio clock would.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountIn } from '../src/audio/countIn';
import { PlayerEngine } from '../src/audio/engine';
import { LoopPasses } from '../src/audio/loopPasses';
import { bufferSources, FakeAudioContext, FakeAudioWorkletNode, openAudio, resetWebAudio, type FakeBufferSource } from './fakeWebAudio';

const STEMS = ['vocals', 'drums'];
const COUNT_IN = { bars: 1, beatsPerBar: 4, songBeatSeconds: 0.5, sound: 'wood' as const, volume: 0.8 };
const trainer = { start_pct: 70, step_pct: 10, every_passes: 1, stop_pct: 90 };

beforeEach(() => {
  resetWebAudio();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  vi.stubGlobal('AudioWorkletNode', FakeAudioWorkletNode);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

async function setup() {
  const ctx = new FakeAudioContext();
  const engine = new PlayerEngine(ctx as unknown as AudioContext);
  const stems = await Promise.all(STEMS.map(async (name) => ({ name, buffer: await engine.decode(new ArrayBuffer(8)) })));
  engine.load(stems);
  const countIn = new CountIn(engine);
  const passes = new LoopPasses(engine, countIn);
  return { ctx, engine, countIn, passes };
}

/** The one-sample source waiting for the next wrap. */
function sentinel(): FakeBufferSource {
  const waiting = bufferSources().filter((s) => s.buffer?.length === 1 && s.started && !s.stopped);
  expect(waiting).toHaveLength(1);
  return waiting[0] as FakeBufferSource;
}

/** The newest source of each stem (10 s buffers). */
const stemSources = () => bufferSources().filter((s) => s.buffer?.duration === 10).slice(-STEMS.length);

describe('loop passes', () => {
  it('ramps the tempo pass by pass on the loop wraps and stops at the stop tempo', async () => {
    const { ctx, engine, countIn, passes } = await setup();
    engine.setLoop(1, 3);
    passes.setPlan({ key: 'a', trainer, countIn: null });
    engine.setTempo(passes.tempoNow() ?? 1);
    const when = (await engine.play()) ?? 0;
    expect(engine.rate).toBe(0.7);
    // The first wrap: 2 s of loop at 70 %.
    const first = sentinel();
    expect(first.when).toBeCloseTo(when + 2 / 0.7, 9);
    const seen: number[] = [];
    passes.on((info) => seen.push(info.pass));
    ctx.advance(first.when - ctx.currentTime + 0.005);
    first.onended?.();
    expect(engine.rate).toBe(0.8);
    expect(passes.info).toMatchObject({ pass: 2, tempo: 0.8, training: true });
    const second = sentinel();
    expect(second.when).toBeCloseTo(ctx.currentTime + 0.0 + (2 - (engine.sourcePosition - 1)) / 0.8, 6);
    ctx.advance(second.when - ctx.currentTime + 0.005);
    second.onended?.();
    ctx.advance(sentinel().when - ctx.currentTime + 0.005);
    sentinel().onended?.();
    expect(engine.rate).toBe(0.9); // stop_pct
    expect(seen).toEqual([2, 3, 4]);
    // Pause and play again: counting goes on; another plan starts over.
    engine.pause();
    expect(passes.tempoNow()).toBe(0.9);
    passes.setPlan({ key: 'b', trainer, countIn: null });
    expect(passes.tempoNow()).toBe(0.7);
    passes.dispose();
    countIn.dispose();
    await engine.dispose();
    expect(openAudio()).toEqual({ contexts: 0, connectedNodes: 0, playingSources: 0, worklets: 0 });
  });

  it('counts in before every pass: the stems stop at the wrap and start again after the clicks', async () => {
    const { ctx, engine, countIn, passes } = await setup();
    engine.setLoop(2, 4);
    passes.setPlan({ key: 'a', trainer: null, countIn: () => COUNT_IN });
    await engine.play();
    const wrap = sentinel().when;
    for (const s of stemSources()) expect(s.stopWhen).toBeCloseTo(wrap, 9);
    ctx.advance(wrap - ctx.currentTime + 0.004);
    sentinel().onended?.();
    // 4 beats of 0.5 s: the stems start 2 s after the count-in's first click, from the loop start.
    const restarted = stemSources();
    const lead = 4 * 0.5;
    for (const s of restarted) {
      expect(s.offset).toBe(2);
      expect(s.when).toBeCloseTo(ctx.currentTime + 0.03 + lead, 9);
    }
    expect(countIn.active).toBe(true);
    expect(engine.position).toBe(2);
    expect(engine.playing).toBe(true);
    passes.dispose();
    countIn.dispose();
    await engine.dispose();
    expect(openAudio()).toEqual({ contexts: 0, connectedNodes: 0, playingSources: 0, worklets: 0 });
  });

  it('a seek during the count-in keeps the clicks going: the stems start when it ends, from the new place', async () => {
    const { ctx, engine, countIn } = await setup();
    const when = (await countIn.play(COUNT_IN)) ?? 0;
    ctx.advance(0.7);
    engine.seek(5);
    expect(countIn.active).toBe(true);
    for (const s of stemSources()) {
      expect(s.when).toBeCloseTo(when, 9);
      expect(s.offset).toBe(5);
    }
    engine.pause();
    expect(countIn.active).toBe(false);
    countIn.dispose();
    await engine.dispose();
  });
});
