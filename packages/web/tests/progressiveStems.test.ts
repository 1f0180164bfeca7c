/**
 * The progressive source's pure parts: which segment to fetch next, the wait-at-frontier state
 * machine, appending segments, the ready part's peaks; and ProgressiveStems against a stand-in
 * for the server's range endpoint that cuts a known signal per stem sample-exactly (so every
 * appended sample can be checked, in every stem, at its place).
 */
import { describe, expect, it } from 'vitest';
import {
  FIRST_SEGMENT_SECONDS,
  ProgressiveStems,
  SEGMENT_MAX_SECONDS,
  appendSegment,
  frontierStep,
  nextSegment,
  peaksOf,
  type Segment,
} from '../src/audio/progressiveStems';
import type { StemInput } from '../src/audio/playerTypes';
import { FakeAudioBuffer, FakeAudioContext } from './fakeWebAudio';

const RATE = 48000;

describe('nextSegment', () => {
  it('waits for the first few seconds, then takes whole seconds, at most SEGMENT_MAX_SECONDS', () => {
    expect(nextSegment(0, FIRST_SEGMENT_SECONDS - 0.5, 90)).toBeNull();
    expect(nextSegment(0, 3.7, 90)).toEqual({ start: 0, end: 3 });
    expect(nextSegment(3, 6.9, 90)).toBeNull(); // 3 s more: later segments are at least 5 s
    expect(nextSegment(3, 8.2, 90)).toEqual({ start: 3, end: 8 });
    expect(nextSegment(8, 60, 90)).toEqual({ start: 8, end: 8 + SEGMENT_MAX_SECONDS });
  });

  it('takes the rest of the song to its exact end, however short', () => {
    expect(nextSegment(88, 90.25, 90.25)).toEqual({ start: 88, end: 90.25 });
    expect(nextSegment(90, 90.25, 90.25)).toEqual({ start: 90, end: 90.25 });
    expect(nextSegment(90.25, 90.25, 90.25)).toBeNull();
    expect(nextSegment(0, 2, 2)).toEqual({ start: 0, end: 2 }); // a song shorter than the first segment
  });
});

describe('frontierStep', () => {
  it('waits at the frontier of a song being separated and plays on when it grows', () => {
    expect(frontierStep('playing', 'reached-end', true)).toBe('waiting');
    expect(frontierStep('waiting', 'extended', true)).toBe('playing');
    expect(frontierStep('waiting', 'pause', true)).toBe('stopped');
    expect(frontierStep('stopped', 'extended', true)).toBe('stopped');
    expect(frontierStep('playing', 'extended', true)).toBe('playing');
  });

  it('stops at the end of a finished song', () => {
    expect(frontierStep('playing', 'reached-end', false)).toBe('stopped');
    expect(frontierStep('stopped', 'play', false)).toBe('playing');
  });
});

/** The known signal of a stem: a different ramp per stem, so a shifted or swapped sample shows. */
const sampleAt = (stem: number, frame: number) => ((frame % 1000) / 1000) * (stem + 1) * 0.1;

function bufferOf(samples: Float32Array): AudioBuffer {
  const b = new FakeAudioBuffer(samples.length / RATE, RATE, 1);
  b.getChannelData(0).set(samples);
  return b as unknown as AudioBuffer;
}

describe('appendSegment and peaksOf', () => {
  it('appends in order, and the peaks cover only what is there', () => {
    const ctx = new FakeAudioContext() as unknown as BaseAudioContext;
    const a = bufferOf(new Float32Array(RATE).fill(0.5));
    const b = bufferOf(new Float32Array(RATE).fill(-0.25));
    const both = appendSegment(ctx, a, b);
    expect(both.length).toBe(2 * RATE);
    expect(both.getChannelData(0)[RATE - 1]).toBe(0.5);
    expect(both.getChannelData(0)[RATE]).toBe(-0.25);
    expect(appendSegment(ctx, null, a)).toBe(a);
    const peaks = peaksOf(both, 4, 4); // 2 s of a 4 s song
    expect(peaks.max).toEqual([0.5, 0, 0, 0]);
    expect(peaks.min).toEqual([0, -0.25, 0, 0]);
    // Grown from the earlier peaks, only the new part is computed: the same result as from scratch.
    const c = bufferOf(Float32Array.from({ length: RATE / 2 }, (_, i) => (i % 2 ? 0.75 : -0.5)));
    const grown = appendSegment(ctx, both, c);
    const half = peaksOf(a, 2.5, 5);
    expect(peaksOf(grown, 2.5, 5, half)).toEqual(peaksOf(grown, 2.5, 5));
    expect(peaksOf(grown, 2.5, 5).max).toEqual([0.5, 0.5, 0, 0, 0.75]);
  });
});

/** The server's range endpoint, in miniature: sample-exact, 409 past the frontier, 404 for stems it lacks. */
function rangeServer(stems: readonly string[]) {
  const state = { ready: 0, asked: [] as string[], failNext: false };
  const fetchRange = async (stem: string, { start, end }: Segment): Promise<ArrayBuffer | null> => {
    await Promise.resolve();
    state.asked.push(`${stem}:${start}-${end}`);
    const index = stems.indexOf(stem);
    if (index < 0) return null;
    if (state.failNext || end > state.ready + 1e-9) throw new Error('409 not_ready');
    const first = Math.floor(start * RATE);
    const out = new Float32Array(Math.floor(end * RATE) - first);
    for (let i = 0; i < out.length; i++) out[i] = sampleAt(index, first + i);
    return out.buffer;
  };
  const decode = async (bytes: ArrayBuffer) => bufferOf(new Float32Array(bytes));
  return { state, fetchRange, decode };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('ProgressiveStems', () => {
  it('grows every stem by the same segments, each sample where it belongs', async () => {
    const names = ['vocals', 'drums', 'bass', 'other'];
    const server = rangeServer(names);
    const updates: { stems: StemInput[]; seconds: number }[] = [];
    const ctx = new FakeAudioContext() as unknown as BaseAudioContext;
    const loader = new ProgressiveStems(names, 14.5, { ...server, ctx, onUpdate: (stems, seconds) => updates.push({ stems, seconds }) });

    server.state.ready = 2;
    loader.update(2); // not enough for the first segment
    await flush();
    expect(server.state.asked).toEqual([]);

    server.state.ready = 3.5;
    loader.update(3.5);
    await flush();
    expect(updates.map((u) => u.seconds)).toEqual([3]);

    // The job runs ahead: the next progress event brings a 10 s segment, then the song's end.
    server.state.ready = 14.5;
    loader.update(14.5);
    await flush();
    expect(updates.map((u) => u.seconds)).toEqual([3, 13, 14.5]);
    const last = updates.at(-1)!.stems;
    expect(last.map((s) => s.name)).toEqual(names);
    for (const [index, { buffer }] of last.entries()) {
      expect(buffer.length).toBe(Math.floor(14.5 * RATE));
      const data = buffer.getChannelData(0);
      // Both sides of each seam, and the end.
      for (const frame of [0, 3 * RATE - 1, 3 * RATE, 13 * RATE - 1, 13 * RATE, buffer.length - 1]) {
        expect(data[frame]).toBeCloseTo(sampleAt(index, frame), 6);
      }
    }
  });

  it('asks again at the next progress event after a refusal, and drops stems the separation lacks', async () => {
    const server = rangeServer(['drums', 'bass']);
    const updates: number[] = [];
    const ctx = new FakeAudioContext() as unknown as BaseAudioContext;
    const loader = new ProgressiveStems(['vocals', 'drums', 'bass'], 60, { ...server, ctx, onUpdate: (_s, seconds) => updates.push(seconds) });
    server.state.failNext = true;
    loader.update(5);
    server.state.ready = 5;
    await flush();
    expect(updates).toEqual([]);
    server.state.failNext = false;
    loader.update(5);
    await flush();
    expect(updates).toEqual([5]);
    expect(loader.seconds).toBe(5);

    server.state.asked.length = 0;
    server.state.ready = 11;
    loader.update(11);
    await flush();
    expect(server.state.asked.sort()).toEqual(['bass:5-11', 'drums:5-11']); // vocals was a 404: not asked again
    loader.stop();
    loader.update(30);
    await flush();
    expect(updates).toEqual([5, 11]);
  });
});
