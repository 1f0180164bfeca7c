/**
 * useStemProcessor opening a separated song that is not in this browser yet: it becomes playable
 * from the first seconds of its stems (WAV ranges, never cached) while the full stems download,
 * and the full stems take over; held locally, the full stems never wait for the head (and a song
 * under two minutes gets none); a short song opens whole; a failed download takes the head off the player.
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
const FULL_BYTES = 16;

/** Range bytes carry their length in seconds (the fake decoder reads it back); full stems are 60 s. */
const rangeBytes = (seconds: number) => new Float64Array([seconds]).buffer;
const decode = async (bytes: ArrayBuffer) => {
  const seconds = bytes.byteLength === 8 ? new Float64Array(bytes)[0]! : 60;
  return new FakeAudioBuffer(seconds, RATE) as unknown as AudioBuffer;
};

let dbn = 0;
function setup(duration = 60) {
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
      return new Response(new Uint8Array(FULL_BYTES).buffer, { headers: { 'content-type': 'audio/flac' } });
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

  it('held locally, the full stems of a long song do not wait for the head (a server that does not answer)', async () => {
    const first = await heldLocally(180);

    // The same cache (both stems in IndexedDB); the ranges now never answer.
    first.deps.api.stemRange = ((_id: string, stem: string, start: number, end: number, signal?: AbortSignal) => {
      first.ranges.push(`${stem}:${start}-${end}`);
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new DOMException('Cancelled', 'AbortError'))));
    });
    const again = opened(first.deps);
    await act(async () => {
      expect(await again.done()).toBe(true);
    });
    expect(again.result.current.state.phase).toBe('ready');
    expect(again.result.current.state.progressive).toBeNull();
    expect(again.result.current.state.stems.map((s) => [s.buffer.duration, s.source])).toEqual([
      [60, 'idb'],
      [60, 'idb'],
    ]);
    again.unmount();
  });

  it('held locally, a 60 s song opens whole, asking for no range', async () => {
    const first = await heldLocally(60);
    const again = opened(first.deps);
    await act(async () => {
      expect(await again.done()).toBe(true);
    });
    expect(first.ranges).toEqual([]);
    expect(again.result.current.state.stems.map((s) => s.source)).toEqual(['idb', 'idb']);
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
