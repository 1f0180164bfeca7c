/**
 * useStemProcessor opening a separated song that is not in this browser yet: it becomes playable
 * from the first seconds of its stems (WAV ranges, never cached) while the full stems download,
 * and the full stems take over; held locally, it opens from the first part of its cached files
 * (no range asked for) and the whole stems take over; a short song opens whole; a failed download
 * takes the head off the player.
 */
import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { useStemProcessor, stemCacheKey, type StemProcessorDeps } from '../src/hooks/useStemProcessor';
import { HEAD_SECONDS } from '../src/hooks/headStart';
import { StemCache } from '../src/services/cacheManager';
import { JobEventsSocket } from '../src/services/websocket';
import type { ApiClient } from '../src/api/client';
import { FakeAudioBuffer } from './fakeWebAudio';
import { FakeSocket } from './fakeSocket';
import { makeSong } from './songs';

const RATE = 48000;
/** A full stem is this many bytes a second; the fake decoder, like a browser given a FLAC cut short, decodes what the bytes hold. */
const BYTES_PER_SECOND = 10_000;

/** Range bytes carry their length in seconds (the fake decoder reads it back). */
const rangeBytes = (seconds: number) => new Float64Array([seconds]).buffer;
const decoded: number[] = []; // the seconds of every decode, in order
let wholeDecodes: Promise<unknown> = Promise.resolve(); // a whole stem's decode waits for this
let wholeBytes = 0; // the size of a whole stem of the song set up
const decode = async (bytes: ArrayBuffer) => {
  const seconds = bytes.byteLength === 8 ? new Float64Array(bytes)[0]! : bytes.byteLength / BYTES_PER_SECOND;
  if (bytes.byteLength === wholeBytes) await wholeDecodes;
  decoded.push(seconds);
  return new FakeAudioBuffer(seconds, RATE) as unknown as AudioBuffer;
};

let dbn = 0;
function setup(duration = 60) {
  decoded.length = 0;
  wholeDecodes = Promise.resolve();
  wholeBytes = duration * BYTES_PER_SECOND;
  const song = { ...makeSong('s1', ['vocals', 'drums']), duration };
  const ranges: string[] = [];
  const fetched: string[] = [];
  let release: (ok: boolean) => void = () => {};
  const gate = new Promise<boolean>((resolve) => (release = resolve));
  const api = {
    getSong: vi.fn(async () => song),
    stemUrl: (songId: string, stem: string) => `/api/songs/${songId}/stems/${stem}`,
    stemRange: vi.fn(async (_id: string, stem: string, start: number, end: number) => {
      ranges.push(`${stem}:${start}-${end}`);
      return rangeBytes(end - start);
    }),
  };
  const cache = new StemCache({
    dbName: `head-start-${++dbn}`,
    onWarning: () => {},
    fetcher: async (url) => {
      fetched.push(String(url));
      if (!(await gate)) return new Response('gone', { status: 500 });
      return new Response(new Uint8Array(duration * BYTES_PER_SECOND).buffer, { headers: { 'content-type': 'audio/flac' } });
    },
  });
  const deps: StemProcessorDeps = {
    api: api as unknown as ApiClient,
    cache,
    decode,
    restore: false,
    createBuffer: (channels, length, rate) => new FakeAudioBuffer(length / rate, rate, channels) as unknown as AudioBuffer,
    createSocket: () => new JobEventsSocket({ url: 'ws://t/api/ws', createSocket: (u) => new FakeSocket(u), random: () => 0 }),
  };
  return { deps, cache, ranges, fetched, release };
}

/** A setup whose cache holds both stems already: one open (with its head start) done. */
async function heldLocally(duration: number) {
  const first = setup(duration);
  first.release(true);
  const warmUp = opened(first.deps);
  await act(async () => {
    await warmUp.done();
  });
  warmUp.unmount();
  expect(first.ranges.splice(0)).toHaveLength(2); // the first open had its head start
  return first;
}

function opened(deps: StemProcessorDeps) {
  const hook = renderHook(() => useStemProcessor(deps));
  let done: Promise<boolean> = Promise.resolve(false);
  act(() => {
    done = hook.result.current.openSong('s1');
  });
  return { ...hook, done: () => done };
}

describe('a separated song not yet in this browser', () => {
  it('plays from the first seconds of its stems while the full stems download, which then take over', async () => {
    const { deps, ranges, fetched, release, cache } = setup();
    const { result, done, unmount } = opened(deps);
    await waitFor(() => expect(result.current.state.progressive).toEqual({ readySeconds: HEAD_SECONDS, totalSeconds: 60, loading: true }));
    expect(result.current.state.phase).toBe('loading');
    expect(result.current.state.openSong?.id).toBe('s1');
    expect(result.current.state.stems.map((s) => [s.name, s.buffer.duration, s.format])).toEqual([
      ['vocals', HEAD_SECONDS, 'wav'],
      ['drums', HEAD_SECONDS, 'wav'],
    ]);
    expect(ranges.sort()).toEqual([`drums:0-${HEAD_SECONDS}`, `vocals:0-${HEAD_SECONDS}`]);

    release(true);
    await act(async () => {
      expect(await done()).toBe(true);
    });
    expect(result.current.state.phase).toBe('ready');
    expect(result.current.state.progressive).toBeNull();
    expect(result.current.state.stems.map((s) => [s.name, s.buffer.duration, s.format])).toEqual([
      ['vocals', 60, 'flac'],
      ['drums', 60, 'flac'],
    ]);
    expect(fetched).toHaveLength(2); // only the full stems went through the cache
    expect(await cache.has(stemCacheKey('s1', 'vocals', 'flac'))).toBe(true);
    unmount();
  });

  it('held locally, it opens from the first part of its cached files, asks for no range, and the whole stems take over', async () => {
    const first = await heldLocally(180);
    first.deps.api.stemRange = vi.fn(async () => {
      throw new Error('no range should be asked for');
    });
    let wholeMayDecode: () => void = () => {};
    wholeDecodes = new Promise<void>((resolve) => (wholeMayDecode = resolve));
    decoded.length = 0;
    const again = opened(first.deps);
    // 180 s in 1.8 MB: the share of 15 s (+16 KB for the headers) holds 16.6 s; whole seconds, less the resampler edge.
    await waitFor(() => expect(again.result.current.state.progressive).toEqual({ readySeconds: 16, totalSeconds: 180, loading: true }));
    expect(again.result.current.state.stems.map((s) => [s.name, s.buffer.duration, s.source])).toEqual([
      ['vocals', 16, 'idb'],
      ['drums', 16, 'idb'],
    ]);
    wholeMayDecode();
    await act(async () => {
      expect(await again.done()).toBe(true);
    });
    expect(again.result.current.state.progressive).toBeNull();
    expect(again.result.current.state.stems.map((s) => [s.buffer.duration, s.source])).toEqual([
      [180, 'idb'],
      [180, 'idb'],
    ]);
    expect(decoded.slice(0, 2).every((s) => s < 30)).toBe(true); // both heads before any whole stem
    expect(first.deps.api.stemRange).not.toHaveBeenCalled();
    again.unmount();
  });

  it('held locally, a head that will not decode leaves the song to open whole', async () => {
    const first = await heldLocally(60);
    const real = first.deps.decode;
    first.deps.decode = async (bytes) => {
      if (bytes.byteLength < 60 * BYTES_PER_SECOND) throw new DOMException('Unable to decode audio data', 'EncodingError');
      return real(bytes);
    };
    const again = opened(first.deps);
    await act(async () => {
      expect(await again.done()).toBe(true);
    });
    expect(again.result.current.state.phase).toBe('ready');
    expect(again.result.current.state.stems.map((s) => [s.buffer.duration, s.source])).toEqual([
      [60, 'idb'],
      [60, 'idb'],
    ]);
    expect(first.ranges).toEqual([]);
    again.unmount();
  });

  it('a short song opens whole: its full stems come about as fast', async () => {
    const { deps, ranges, release } = setup(12);
    release(true);
    const { done, unmount } = opened(deps);
    await act(async () => {
      expect(await done()).toBe(true);
    });
    expect(ranges).toEqual([]);
    unmount();
  });

  it('a download that fails takes the head off the player and says so', async () => {
    const { deps, release } = setup();
    const { result, done, unmount } = opened(deps);
    await waitFor(() => expect(result.current.state.stems).toHaveLength(2));
    release(false);
    await act(async () => {
      await done();
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBeTruthy();
    expect(result.current.state.stems).toEqual([]);
    expect(result.current.state.openSong).toBeNull();
    unmount();
  });
});
