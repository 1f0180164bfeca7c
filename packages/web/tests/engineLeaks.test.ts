/**
 * PlayerEngine leaves nothing open: after load → play → tempo/transpose → seek/loop → unload →
 * dispose, again and again, no audio node is still connected, no worklet node or context is
 * open, no timer is pending and no object URL is alive. jsdom has no Web Audio, so the
 * instrumented fakes in fakeWebAudio.ts stand in for it; the real Signalsmith Stretch library
 * runs on their worklet node, and timers and object URLs are the real calls, counted.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClickTrack } from '../src/audio/click';
import { CountIn } from '../src/audio/countIn';
import { PlayerEngine } from '../src/audio/engine';
import {
  FAKE_STRETCH_LATENCY,
  FakeAudioContext,
  FakeAudioWorkletNode,
  moduleLoadsSettled,
  modulesLoaded,
  openAudio,
  resetWebAudio,
  workletsMade,
} from './fakeWebAudio';
import { liveObjectUrls } from './setup';

const STEMS = ['vocals', 'drums', 'bass', 'other'];

/**
 * Let promise chains and dynamic imports (the stretch chunk is a real module load) run until
 * `until()` holds, or for `quietMs` of real time when there is nothing to wait for; the fake
 * timers do not move meanwhile. Fails loudly rather than waiting forever.
 */
async function settle(until?: () => boolean, quietMs = 30): Promise<void> {
  const start = Date.now();
  const done = until ?? (() => Date.now() - start >= quietMs);
  while (!done()) {
    if (Date.now() - start > 10_000) throw new Error('the engine did not settle within 10 s');
    await new Promise<void>((r) => setImmediate(r));
  }
}

let timerCalls: { set: number; cleared: number };

beforeEach(() => {
  resetWebAudio();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'requestAnimationFrame', 'cancelAnimationFrame'] });
  vi.stubGlobal('AudioWorkletNode', FakeAudioWorkletNode);
  const set = vi.spyOn(globalThis, 'setTimeout');
  const cleared = vi.spyOn(globalThis, 'clearTimeout');
  timerCalls = {
    get set() {
      return set.mock.calls.length;
    },
    get cleared() {
      return cleared.mock.calls.length;
    },
  };
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function open() {
  return { ...openAudio(), timers: vi.getTimerCount(), objectUrls: liveObjectUrls.size };
}

const NOTHING_OPEN = { contexts: 0, connectedNodes: 0, playingSources: 0, worklets: 0, timers: 0, objectUrls: 0 };

async function newEngine() {
  const ctx = new FakeAudioContext();
  const engine = new PlayerEngine(ctx as unknown as AudioContext);
  const stems = await Promise.all(STEMS.map(async (name) => ({ name, buffer: await engine.decode(new ArrayBuffer(8)) })));
  return { ctx, engine, stems };
}

describe('PlayerEngine leak test', () => {
  it('returns every node, worklet, timer and object URL after repeated load → play → unload → dispose', async () => {
    for (let cycle = 0; cycle < 5; cycle++) {
      const { ctx, engine, stems } = await newEngine();
      engine.load(stems);
      await engine.play();
      expect(openAudio().playingSources).toBe(STEMS.length);
      ctx.advance(1);

      // Through the stretchers and back, with seeks and a loop on the way.
      engine.setTempo(0.8);
      await settle(() => engine.snapshot().stretch === 'on');
      expect(engine.snapshot().stretch).toBe('on');
      expect(engine.outputDelay).toBe(FAKE_STRETCH_LATENCY);
      engine.setTranspose(3);
      engine.seek(4);
      engine.setLoop(2, 6);
      ctx.advance(0.5);
      engine.pause();
      await engine.play();
      expect(openAudio().playingSources).toBe(STEMS.length); // one source per stem, never more

      // A second song on the same engine, the idle preload of the worklet module, then direct again.
      engine.load(stems);
      await engine.play();
      await vi.advanceTimersByTimeAsync(3000);
      await settle();
      engine.setTempo(1);
      engine.setTranspose(0);
      expect(engine.snapshot().stretch).toBe('off');
      expect(engine.outputDelay).toBe(0);

      engine.unload();
      // Only the engine's own graph is left: master → analyser → destination and the two buses.
      expect(open()).toEqual({ ...NOTHING_OPEN, contexts: 1, connectedNodes: 4 });
      await engine.dispose();
      await settle();
      expect(open()).toEqual(NOTHING_OPEN);
    }
    // The cycles reached the stretchers: their worklet nodes were made, and each context loaded the module once.
    expect(workletsMade()).toBeGreaterThanOrEqual(5 * 3);
    expect(modulesLoaded()).toBe(5);
    expect(timerCalls.set).toBeGreaterThan(0);
  });

  it('counts the click and the count-in too: their sources and nodes are released on pause, unload and dispose', async () => {
    const beats = Array.from({ length: 20 }, (_, i) => i * 0.5);
    const grid = { beats, downbeats: beats.filter((_, i) => i % 4 === 0) };
    const countInOptions = { bars: 1, beatsPerBar: 4, songBeatSeconds: 0.5, sound: 'wood' as const, volume: 0.8 };
    for (let cycle = 0; cycle < 3; cycle++) {
      const { ctx, engine, stems } = await newEngine();
      const click = new ClickTrack(engine);
      const countIn = new CountIn(engine);
      engine.load(stems);
      click.setGrid(grid, 10);
      click.setEnabled(true);
      await countIn.play(countInOptions);
      // Every stem, the click and the count-in's one buffer.
      expect(openAudio().playingSources).toBe(STEMS.length + 2);
      ctx.advance(0.5);
      engine.setTempo(0.75);
      await settle(() => engine.snapshot().stretch === 'on');
      engine.seek(3);
      engine.setLoop(2, 6);
      click.setSound('tick');
      expect(openAudio().playingSources).toBe(STEMS.length + 2); // one click source, never more
      engine.pause();
      expect(openAudio().playingSources).toBe(0); // the count-in stops with the stems
      await countIn.play(countInOptions);
      engine.load(stems); // the next song: the count-in ends with this one
      expect(openAudio().playingSources).toBe(0);
      await engine.play();
      expect(openAudio().playingSources).toBe(STEMS.length + 1);
      engine.unload();
      // The engine's own graph (with the two stretchers still at 75 %), and the click's
      // gain → panner → bus while the page keeps it.
      expect(open()).toEqual({ ...NOTHING_OPEN, contexts: 1, connectedNodes: 4 + 2 + 2, worklets: 2, timers: 1 });
      countIn.dispose();
      click.dispose();
      await engine.dispose();
      await vi.advanceTimersByTimeAsync(10_000);
      await settle();
      expect(open()).toEqual(NOTHING_OPEN);
    }
  });

  it('releases stretchers that arrive after they stopped being needed (tempo back to 100%)', async () => {
    const { engine, stems } = await newEngine();
    engine.load(stems);
    await engine.play();
    for (let round = 1; round <= 3; round++) {
      engine.setTempo(1.25);
      expect(engine.snapshot().stretch).toBe('loading');
      engine.setTempo(1);
      expect(engine.snapshot().stretch).toBe('off');
      // The late pair is made, then disposed at once, never connected.
      await settle(() => workletsMade() === 2 * round && openAudio().worklets === 0);
    }
    expect(engine.snapshot().stretch).toBe('off');
    // Still playing: each stem's source, gain and panner, plus the engine's own four nodes.
    expect(open()).toEqual({ ...NOTHING_OPEN, contexts: 1, connectedNodes: 4 + 3 * STEMS.length, playingSources: STEMS.length, timers: 1 });
    await engine.dispose();
    expect(open()).toEqual(NOTHING_OPEN);
  });

  it('leaves nothing behind when disposed while the stretchers are still being made', async () => {
    for (let cycle = 1; cycle <= 3; cycle++) {
      const { engine, stems } = await newEngine();
      engine.load(stems);
      await engine.play();
      engine.setTempo(1.25);
      expect(engine.snapshot().stretch).toBe('loading');
      await engine.dispose();
      // The creation goes on against the closed context and fails there; it must leave nothing.
      await settle(() => moduleLoadsSettled() === cycle);
      await settle();
      expect(open()).toEqual(NOTHING_OPEN);
    }
  });

  it('clears the pending worklet preload when disposed right after a load, and unload alone stops every source', async () => {
    const { engine, stems } = await newEngine();
    engine.load(stems);
    await engine.play();
    expect(vi.getTimerCount()).toBe(1); // the idle preload of the worklet module
    engine.unload();
    expect(openAudio().playingSources).toBe(0);
    const cleared = timerCalls.cleared;
    await engine.dispose();
    expect(timerCalls.cleared).toBe(cleared + 1);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(open()).toEqual(NOTHING_OPEN);
    expect(workletsMade()).toBe(0); // the preload never ran
  });
});
