/**
 * PlayerEngine with a song still being separated: the stems grow (`extend`) while they play, on
 * one clock. Checked on the instrumented Web Audio stand-ins: every hand-over starts the new
 * sources at the very context time the old ones stop, at the position the clock is at then, with
 * one `when` and offset for all stems; at the frontier playback waits and plays on by itself;
 * the finished stems take over at the same position; and nothing is left open afterwards.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlayerEngine } from '../src/audio/engine';
import { FakeAudioBuffer, FakeAudioContext, FakeAudioWorkletNode, bufferSources, openAudio, resetWebAudio, type FakeBufferSource } from './fakeWebAudio';

const STEMS = ['vocals', 'drums', 'bass', 'other'];
const TOTAL = 90;

function stems(seconds: number) {
  return STEMS.map((name) => ({ name, buffer: new FakeAudioBuffer(seconds, 48000) as unknown as AudioBuffer }));
}

/** The sources playing now (started, not stopped), one per stem. */
const live = (): FakeBufferSource[] => bufferSources().filter((s) => s.started && !s.stopped);

beforeEach(() => {
  resetWebAudio();
  vi.stubGlobal('AudioWorkletNode', FakeAudioWorkletNode);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function playing(seconds: number) {
  const ctx = new FakeAudioContext();
  const engine = new PlayerEngine(ctx as unknown as AudioContext);
  engine.load(stems(seconds), TOTAL);
  await engine.play();
  return { ctx, engine };
}

describe('a song that plays while it is separated', () => {
  it('is playable from its ready part, and says how far that goes', async () => {
    const { engine } = await playing(4);
    expect(engine.snapshot()).toMatchObject({ loaded: true, playing: true, duration: 4, separating: { readySeconds: 4, totalSeconds: TOTAL, waiting: false } });
    expect(live()).toHaveLength(STEMS.length);
  });

  it('hands over to longer stems without a gap or a jump: old sources stop where the new ones start', async () => {
    const { ctx, engine } = await playing(4);
    engine.setTempo(0.8);
    ctx.advance(2);
    const before = live();
    const heard = engine.sourcePosition;
    engine.extend(stems(12), false);
    const after = live();
    expect(after).toHaveLength(STEMS.length);
    const when = after[0]!.when;
    expect(when).toBeCloseTo(ctx.currentTime + 0.03, 9);
    // Same instant and offset for every stem: sample-aligned by construction.
    for (const s of after) {
      expect(s.when).toBe(when);
      expect(s.offset).toBe(after[0]!.offset);
      expect(s.playbackRate.value).toBe(0.8);
    }
    // The offset is where the old sources are at `when` (tempo 0.8): no jump…
    expect(after[0]!.offset).toBeCloseTo(heard + 0.03 * 0.8, 9);
    // …and they stop exactly then: no gap, no overlap.
    for (const s of before) expect(s.stopWhen).toBe(when);
    expect(engine.snapshot().separating?.readySeconds).toBe(12);
  });

  it('waits at the frontier ("separating ahead") and plays on by itself when more is ready', async () => {
    const { ctx, engine } = await playing(4);
    ctx.advance(4.2);
    live()[0]!.onended?.(); // the sources ran out at the frontier
    expect(engine.playing).toBe(true);
    expect(engine.snapshot().separating?.waiting).toBe(true);
    expect(engine.position).toBe(4);
    expect(live()).toHaveLength(0);
    ctx.advance(1.5);
    expect(engine.position).toBe(4); // the clock runs, the song waits

    engine.extend(stems(9), false);
    expect(engine.snapshot().separating?.waiting).toBe(false);
    const resumed = live();
    expect(resumed).toHaveLength(STEMS.length);
    for (const s of resumed) {
      expect(s.offset).toBe(4);
      expect(s.when).toBeCloseTo(ctx.currentTime + 0.03, 9);
    }
  });

  it('a pause at the frontier stays there; play waits there again rather than rewinding', async () => {
    const { ctx, engine } = await playing(4);
    ctx.advance(5);
    live()[0]!.onended?.();
    engine.pause();
    expect(engine.position).toBe(4);
    expect(engine.snapshot().separating?.waiting).toBe(false);
    await engine.play();
    expect(live()[0]!.offset).toBe(4);
  });

  it('loops, seeks and tempo work on the ready part', async () => {
    const { ctx, engine } = await playing(8);
    engine.setLoop(2, 30); // clipped to what is ready
    expect(engine.snapshot().loop).toEqual({ start: 2, end: 8 });
    engine.seek(50);
    expect(engine.position).toBeLessThan(8);
    engine.clearLoop();
    engine.setLoop(2, 6);
    ctx.advance(1);
    engine.extend(stems(20), false);
    const s = live()[0]!;
    expect([s.loop, s.loopStart, s.loopEnd]).toEqual([true, 2, 6]);
  });

  it('the finished stems take over at the same position (same clock), and the song is no longer separating', async () => {
    const { ctx, engine } = await playing(10);
    ctx.advance(6.4);
    const at = engine.position;
    engine.extend(stems(TOTAL), true);
    expect(engine.snapshot().separating).toBeNull();
    expect(Math.abs(engine.position - at)).toBeLessThan(0.01);
    expect(engine.duration).toBe(TOTAL);
    const ended = vi.fn();
    engine.on('ended', ended);
    ctx.advance(TOTAL);
    live()[0]!.onended?.();
    expect(ended).toHaveBeenCalledOnce(); // now the end is the song's end
    expect(engine.playing).toBe(false);
  });

  it('leaves nothing open after a progressive load, its hand-overs and the final stems', async () => {
    for (let cycle = 0; cycle < 3; cycle++) {
      const { ctx, engine } = await playing(3);
      for (let ready = 8; ready < 60; ready += 5) {
        ctx.advance(1);
        engine.extend(stems(ready), false);
        await Promise.resolve();
        await Promise.resolve();
        expect(openAudio().playingSources).toBe(STEMS.length); // the handed-over ones stopped
      }
      ctx.advance(0.5);
      engine.extend(stems(TOTAL), true);
      await Promise.resolve();
      engine.unload();
      await Promise.resolve();
      expect(openAudio()).toMatchObject({ playingSources: 0, connectedNodes: 4 });
      await engine.dispose();
      expect(openAudio()).toEqual({ contexts: 0, connectedNodes: 0, playingSources: 0, worklets: 0 });
    }
  });
});
