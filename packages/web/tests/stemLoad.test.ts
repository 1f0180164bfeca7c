/**
 * The arithmetic of a head cut from a cached FLAC: how much of the file to decode, and the whole
 * seconds every stem's decode holds (less the resampler's edge), or none when that is too little.
 */
import { describe, expect, it } from 'vitest';
import { MIN_LOCAL_HEAD_SECONDS, prefixLength, trimHeads } from '../src/hooks/stemLoad';
import { FakeAudioBuffer } from './fakeWebAudio';

const buffer = (seconds: number, rate = 48000) => new FakeAudioBuffer(seconds, rate) as unknown as AudioBuffer;
const createBuffer = (channels: number, length: number, rate: number) => new FakeAudioBuffer(length / rate, rate, channels) as unknown as AudioBuffer;

describe('a head from the first part of a cached file', () => {
  it('cuts the share of 15 s (plus room for the metadata), and the whole file of a short song', () => {
    expect(prefixLength(6_000_000, 240)).toBe(375_000 + 16 * 1024);
    expect(prefixLength(600_000, 12)).toBe(600_000);
    expect(prefixLength(10_000, 60)).toBe(10_000); // never past the end
  });

  it('keeps the whole seconds every stem holds, less the edge, sample for sample', () => {
    const a = buffer(15.03);
    const b = buffer(16.7);
    a.getChannelData(0).forEach((_, i, d) => (d[i] = i / d.length));
    const cut = trimHeads([a, b], createBuffer);
    expect(cut?.seconds).toBe(14); // 15.03 - 0.05 -> 14 whole seconds
    expect(cut?.buffers.map((x) => x.length)).toEqual([14 * 48000, 14 * 48000]);
    expect(cut?.buffers[0]!.getChannelData(0).slice(0, 5)).toEqual(a.getChannelData(0).slice(0, 5));
    expect(cut?.buffers[0]!.getChannelData(0)[14 * 48000 - 1]).toBe(a.getChannelData(0)[14 * 48000 - 1]);
  });

  it('gives no head when a stem holds too little', () => {
    expect(trimHeads([buffer(30), buffer(MIN_LOCAL_HEAD_SECONDS)], createBuffer)).toBeNull(); // 4 s - the edge
    expect(trimHeads([buffer(30), buffer(MIN_LOCAL_HEAD_SECONDS + 0.06)], createBuffer)?.seconds).toBe(MIN_LOCAL_HEAD_SECONDS);
  });
});
