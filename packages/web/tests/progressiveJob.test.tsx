/**
 * useStemProcessor with a job that runs: its song becomes playable from the ready part (ranges
 * asked for as the progress events' `ready_seconds` grows, never through the stem cache), the
 * finished stems replace it when the job is done, and a failed job takes its partial song away.
 */
import { act, renderHook, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useStemProcessor, type StemProcessorDeps } from '../src/hooks/useStemProcessor';
import { StemCache } from '../src/services/cacheManager';
import { JobEventsSocket } from '../src/services/websocket';
import type { ApiClient } from '../src/api/client';
import type { Job } from '../src/api/types';
import { FakeAudioBuffer } from './fakeWebAudio';
import { FakeSocket, finalFrame, lastSocket, progressFrame, snapshotFrame } from './fakeSocket';
import { makeSong } from './songs';

const RATE = 48000;
const song = { ...makeSong('s1', ['vocals', 'drums']), duration: 60 };
const running: Job = { id: 'j1', song_id: 's1', state: 'queued', progress: 0, stage: 'queued', eta_seconds: null, error: null, stems: ['vocals', 'drums'] };

/** Range bytes carry their length in seconds (the fake decoder reads it back). */
const rangeBytes = (seconds: number) => new Float64Array([seconds]).buffer;
const decode = async (bytes: ArrayBuffer) => {
  const seconds = bytes.byteLength === 8 ? new Float64Array(bytes)[0]! : 60; // a whole stem otherwise
  return new FakeAudioBuffer(seconds, RATE) as unknown as AudioBuffer;
};

let dbn = 0;
function setup() {
  const ranges: string[] = [];
  const cached: string[] = [];
  const api = {
    songByHash: vi.fn(async () => song),
    startSeparation: vi.fn(async () => running),
    getSong: vi.fn(async () => song),
    getJob: vi.fn(async () => ({ ...running, state: 'running' })),
    stemUrl: (songId: string, stem: string) => `/api/songs/${songId}/stems/${stem}`,
    stemRange: vi.fn(async (_id: string, stem: string, start: number, end: number) => {
      ranges.push(`${stem}:${start}-${end}`);
      return rangeBytes(end - start);
    }),
  };
  const cache = new StemCache({
    dbName: `progressive-${++dbn}`,
    onWarning: () => {},
    fetcher: async (url) => {
      cached.push(String(url));
      return new Response(new Uint8Array(16).buffer, { headers: { 'content-type': 'audio/flac' } });
    },
  });
  const deps: StemProcessorDeps = {
    api: api as unknown as ApiClient,
    cache,
    hashFile: async () => 'abc',
    decode,
    restore: false,
    createBuffer: (channels, length, rate) => new FakeAudioBuffer(length / rate, rate, channels) as unknown as AudioBuffer,
    createSocket: () => new JobEventsSocket({ url: 'ws://t/api/ws', createSocket: (u) => new FakeSocket(u), random: () => 0 }),
  };
  return { deps, ranges, cached };
}

async function started(deps: StemProcessorDeps) {
  const hook = renderHook(() => useStemProcessor(deps));
  let done: Promise<boolean> = Promise.resolve(false);
  act(() => {
    done = hook.result.current.processSong(new File([new Uint8Array(8)], 'long.wav'));
  });
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  const ws = lastSocket();
  act(() => {
    ws.accept();
    ws.serverSend(snapshotFrame({ state: 'running', progress: 0.01, stage: 'separating', stems: ['vocals', 'drums'] }, 1));
  });
  return { ...hook, ws, done: () => done };
}

beforeEach(() => FakeSocket.reset());

describe('a song that plays while it is separated', () => {
  it('opens from the ready part, grows with the progress events, then the finished stems take over', async () => {
    const { deps, ranges, cached } = setup();
    const { result, ws, done, unmount } = await started(deps);
    act(() => ws.serverSend(progressFrame(2, 0.05, { ready_seconds: 4.2 })));
    await waitFor(() => expect(result.current.state.progressive).toEqual({ readySeconds: 4, totalSeconds: 60 }));
    expect(result.current.state.phase).toBe('separating');
    expect(result.current.state.openSong?.id).toBe('s1');
    expect(result.current.state.stems.map((s) => [s.name, s.buffer.duration])).toEqual([
      ['vocals', 4],
      ['drums', 4],
    ]);

    act(() => ws.serverSend(progressFrame(3, 0.3, { ready_seconds: 19.5 })));
    await waitFor(() => expect(result.current.state.progressive?.readySeconds).toBe(19));
    expect(result.current.state.stems[0]!.buffer.duration).toBe(19);
    expect(ranges.sort()).toEqual(['drums:0-4', 'drums:14-19', 'drums:4-14', 'vocals:0-4', 'vocals:14-19', 'vocals:4-14']);
    expect(cached).toEqual([]); // no range went through the stem cache (nor to IndexedDB)

    act(() => ws.serverSend(finalFrame('done', 4, { progress: 1 })));
    await act(async () => {
      await done();
    });
    expect(result.current.state.phase).toBe('ready');
    expect(result.current.state.progressive).toBeNull();
    expect(result.current.state.stems.map((s) => [s.name, s.buffer.duration, s.format])).toEqual([
      ['vocals', 60, 'flac'],
      ['drums', 60, 'flac'],
    ]);
    expect(cached).toHaveLength(2); // the finished stems, through the cache
    unmount();
  });

  it('a failed job takes its partial song off the player', async () => {
    const { deps } = setup();
    const { result, ws, done, unmount } = await started(deps);
    act(() => ws.serverSend(progressFrame(2, 0.05, { ready_seconds: 5 })));
    await waitFor(() => expect(result.current.state.stems).toHaveLength(2));
    act(() => ws.serverSend(finalFrame('failed', 3, { error: 'boom' })));
    await act(async () => {
      await done();
    });
    expect(result.current.state).toMatchObject({ phase: 'failed', stems: [], openSong: null, progressive: null });
    unmount();
  });
});
