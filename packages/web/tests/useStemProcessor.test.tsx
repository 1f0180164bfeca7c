import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useStemProcessor, type StemProcessorDeps } from '../src/hooks/useStemProcessor';
import { StemCache } from '../src/services/cacheManager';
import { JobEventsSocket } from '../src/services/websocket';
import type { ApiClient } from '../src/api/client';
import type { Job, Song } from '../src/api/types';
import { ApiError } from '../src/api/errors';
import { session } from '../src/services/session';
import { FakeSocket, finalFrame, lastSocket, snapshotFrame } from './fakeSocket';
import { liveObjectUrls } from './setup';
import { makeSong } from './songs';

const song = (id = 's1'): Song => makeSong(id);
const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1',
  song_id: 's1',
  state: 'queued',
  progress: 0,
  stage: 'queued',
  eta_seconds: null,
  error: null,
  ...over,
});

let sockets: JobEventsSocket[] = [];
/** Decoded stems handed out (a fake AudioBuffer per decode), to check the song holds only these. */
let decoded: { bytes: ArrayBuffer; buffer: AudioBuffer }[] = [];
const fakeDecode = async (bytes: ArrayBuffer) => {
  const buffer = { duration: 3, length: 3 * 44100, numberOfChannels: 2, sampleRate: 44100 } as AudioBuffer;
  decoded.push({ bytes, buffer });
  return buffer;
};
let dbn = 0;

function setup(overrides: Partial<Record<keyof ApiClient, unknown>> = {}) {
  const api = {
    songByHash: vi.fn(async () => null),
    uploadSong: vi.fn(async (_f: File, o?: { onProgress?: (a: number, b: number) => void }) => {
      o?.onProgress?.(5, 10);
      return song();
    }),
    startSeparation: vi.fn(async () => job()),
    getSong: vi.fn(async (id: string) => song(id)),
    getJob: vi.fn(async () => job({ state: 'running' })),
    cancelJob: vi.fn(async () => job({ state: 'running' })),
    stemUrl: (songId: string, stem: string) => `/api/songs/${songId}/stems/${stem}`,
    ...overrides,
  };
  const cache = new StemCache({
    dbName: `hook-${++dbn}`,
    onWarning: () => {},
    fetcher: async () => new Response(new Uint8Array(16).buffer, { headers: { 'content-type': 'audio/wav' } }),
  });
  const deps: StemProcessorDeps = {
    api: api as unknown as ApiClient,
    cache,
    hashFile: async () => 'abc',
    decode: fakeDecode,
    restore: false,
    createSocket: () => {
      const s = new JobEventsSocket({ url: 'ws://t/api/ws', createSocket: (u) => new FakeSocket(u), random: () => 0 });
      sockets.push(s);
      return s;
    },
  };
  return { api, cache, deps };
}

const file = (name = 'song.wav') => new File([new Uint8Array(32)], name, { type: 'audio/wav' });

/** Deliver a final event to the job's socket once the hook has connected. */
async function serverFinishes(type: 'done' | 'failed' | 'cancelled' = 'done', error?: string) {
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  const ws = lastSocket();
  act(() => {
    ws.accept();
    ws.serverSend(snapshotFrame({ state: 'running', progress: 0.5, stage: 'separating' }, 1));
    ws.serverSend(finalFrame(type, 2, { progress: type === 'done' ? 1 : 0.5, ...(error ? { error } : {}) }));
  });
}

beforeEach(() => {
  FakeSocket.reset();
  sockets = [];
  decoded = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('useStemProcessor', () => {
  it('uploads, follows the job and loads the stems', async () => {
    const { deps, api } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await waitFor(() => expect(result.current.state.phase).toBe('queued'));
    await serverFinishes('done');
    await act(async () => {
      await done;
    });
    expect(result.current.state.phase).toBe('ready');
    expect(result.current.state.stems.map((s) => s.name)).toEqual(['vocals', 'drums']);
    expect(api.uploadSong).toHaveBeenCalledTimes(1);
    expect(liveObjectUrls.size).toBe(0); // no object URL per stem: downloads are built on click
    expect(FakeSocket.open).toBe(0); // the job's socket closes once the job is over
    unmount();
    expect(liveObjectUrls.size).toBe(0);
  });

  it('skips the upload when the server already has the content', async () => {
    const { deps, api } = setup({ songByHash: vi.fn(async () => song()), startSeparation: vi.fn(async () => job({ state: 'done', progress: 1 })) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.processSong(file());
    });
    expect(api.uploadSong).not.toHaveBeenCalled();
    expect(result.current.state.phase).toBe('ready');
    expect(FakeSocket.all).toHaveLength(0); // a finished job needs no socket
    unmount();
  });

  it('refuses a second processSong() while one runs', async () => {
    const { deps, api } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let first: Promise<boolean> = Promise.resolve(false);
    let second = true;
    act(() => {
      first = result.current.processSong(file('a.wav'));
    });
    await act(async () => {
      second = await result.current.processSong(file('b.wav'));
    });
    expect(second).toBe(false);
    await serverFinishes('done');
    await act(async () => {
      expect(await first).toBe(true);
    });
    expect(api.startSeparation).toHaveBeenCalledTimes(1);
    unmount();
  });

  it('keeps one copy of each stem: the decoded audio, fetched as FLAC and kept out of the memory tier', async () => {
    const { deps, cache } = setup({ startSeparation: vi.fn(async () => job({ state: 'done', progress: 1 })) });
    const urls: string[] = [];
    const stemUrl = (songId: string, stem: string, format: string) => {
      urls.push(`/api/songs/${songId}/stems/${stem}?format=${format}`);
      return urls.at(-1)!;
    };
    const { result, unmount } = renderHook(() => useStemProcessor({ ...deps, api: { ...deps.api, stemUrl } as unknown as ApiClient }));
    await act(async () => {
      await result.current.openSong('s1');
    });
    expect(urls.every((u) => u.endsWith('?format=flac'))).toBe(true);
    const stems = result.current.state.stems;
    expect(stems).toHaveLength(2);
    expect(stems.every((s) => decoded.some((d) => d.buffer === s.buffer))).toBe(true); // the very objects decoded
    expect(stems.every((s) => s.format === 'flac' && !('blob' in s) && !('url' in s))).toBe(true);
    expect(cache.memoryBytes).toBe(0); // the encoded bytes live only in IndexedDB
    expect(liveObjectUrls.size).toBe(0);
    await cache.flush();
    expect((await cache.diskUsage()).entries).toBe(2); // …from where a download reads them again
    unmount();
  });

  it('drops the previous song’s stems and closes its subscriptions on a new song', async () => {
    const { deps } = setup({ startSeparation: vi.fn(async () => job({ state: 'done', progress: 1 })) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.processSong(file());
    });
    const first = result.current.state.stems.map((s) => s.buffer);
    await act(async () => {
      await result.current.openSong('s2');
    });
    expect(result.current.state.song?.id).toBe('s2');
    expect(result.current.state.stems.some((s) => first.includes(s.buffer))).toBe(false);
    expect(liveObjectUrls.size).toBe(0);
    unmount();
    expect(liveObjectUrls.size).toBe(0);
  });

  it('does not ask for the song again when its separation was already done', async () => {
    const getSong = vi.fn(async (id: string) => song(id));
    const { deps } = setup({ getSong, songByHash: vi.fn(async () => song()), startSeparation: vi.fn(async () => job({ state: 'done', progress: 1 })) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.processSong(file());
    });
    expect(result.current.state.phase).toBe('ready');
    expect(getSong).not.toHaveBeenCalled();
    unmount();
  });

  it('reports a stem that cannot be decoded in words', async () => {
    const { deps } = setup();
    const decode = async () => {
      throw new DOMException('Unable to decode audio data', 'EncodingError');
    };
    const { result, unmount } = renderHook(() => useStemProcessor({ ...deps, decode }));
    await act(async () => {
      await result.current.openSong('s1');
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBeTruthy();
    unmount();
  });

  it('keeps the open song until the next one is ready, also when the next one fails', async () => {
    let failStems = false;
    const { deps } = setup({
      startSeparation: vi.fn(async () => job({ state: 'done', progress: 1 })),
      stemUrl: (songId: string, stem: string) => {
        if (failStems && stem === 'drums') throw new Error('drums went missing');
        return `/api/songs/${songId}/stems/${stem}`;
      },
    });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.openSong('s1');
    });
    const firstStems = result.current.state.stems.map((s) => s.buffer);
    failStems = true;
    await act(async () => {
      await result.current.openSong('s2');
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBe('drums went missing');
    expect(result.current.state.openSong?.id).toBe('s1');
    expect(result.current.state.stems.map((s) => s.buffer)).toEqual(firstStems);
    unmount();
    expect(liveObjectUrls.size).toBe(0);
  });

  it('asks the server when the socket stays quiet about the job (a lost final event)', async () => {
    const getJob = vi.fn(async () => job({ state: 'done', progress: 1 }));
    const { deps } = setup({ getJob });
    const { result, unmount } = renderHook(() => useStemProcessor({ ...deps, jobPollMs: 50 }));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await waitFor(() => expect(FakeSocket.all.length).toBe(1));
    act(() => lastSocket().accept()); // connected, but the server never sends the job's events
    await act(async () => {
      await done;
    });
    expect(getJob).toHaveBeenCalledWith('j1', expect.anything());
    expect(result.current.state.phase).toBe('ready');
    expect(FakeSocket.open).toBe(0);
    unmount();
  });

  it('reports a failed job in words and closes the socket', async () => {
    const { deps } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await serverFinishes('failed', 'The engine ran out of memory.');
    await act(async () => {
      await done;
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBe('The engine ran out of memory.');
    expect(FakeSocket.open).toBe(0);
    unmount();
  });

  it('fails the job with a readable message when the server says over the socket it has no such job', async () => {
    const { deps } = setup();
    session.save({ songId: 's1', jobId: 'j1' });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let run: Promise<boolean> = Promise.resolve(false);
    act(() => {
      run = result.current.resumeJob('j1');
    });
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const ws = lastSocket();
    act(() => {
      ws.accept();
      ws.serverSend({ type: 'error', code: 'not_found', message: 'no such job', job_id: 'j1' });
    });
    await act(async () => {
      await run;
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toMatch(/no such job/i);
    expect(session.load().jobId).toBeUndefined(); // a reload does not follow it again
    expect(FakeSocket.open).toBe(0);
    unmount();
  });

  it("shows the server's socket error about the connection and keeps following the job", async () => {
    const { deps } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const ws = lastSocket();
    act(() => {
      ws.accept();
      ws.serverSend({ type: 'error', code: 'too_many_subscriptions', message: 'one connection may follow at most 100 jobs' });
    });
    expect(result.current.state.error).toBe('One connection may follow at most 100 jobs.');
    expect(result.current.state.phase).not.toBe('failed');
    await serverFinishes('done');
    await act(async () => {
      await done;
    });
    expect(result.current.state.phase).toBe('ready');
    expect(result.current.state.error).toBeNull();
    unmount();
  });

  it('closes the socket in finally even when loading the stems throws', async () => {
    const { deps } = setup({
      stemUrl: () => {
        throw new Error('database is on fire');
      },
    });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await serverFinishes('done');
    await act(async () => {
      await done;
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBe('database is on fire');
    expect(FakeSocket.open).toBe(0);
    expect(sockets.every((s) => s.activeTimers === 0 && !s.hasSocket)).toBe(true);
    unmount();
  });

  it('shows a quota refusal of the upload in the server’s words', async () => {
    const message = 'You have 3 songs, the most one account may keep; delete some to upload more.';
    const { deps, api } = setup({ uploadSong: vi.fn(async () => Promise.reject(new ApiError(429, 'quota_exceeded', message))) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.processSong(file());
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBe(message);
    expect(api.startSeparation).not.toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(0);
    unmount();
  });

  it('shows a quota refusal of the separation in the server’s words', async () => {
    const message = 'You already have 2 separations queued or running, the most one account may have; wait for one to finish or cancel one.';
    const { deps } = setup({ startSeparation: vi.fn(async () => Promise.reject(new ApiError(429, 'quota_exceeded', message))) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.processSong(file());
    });
    expect(result.current.state.phase).toBe('failed');
    expect(result.current.state.error).toBe(message);
    expect(result.current.state.song?.id).toBe('s1'); // the upload itself went through
    unmount();
  });

  it('a 401 is no failure: the saved job stays for after the login', async () => {
    session.save({ songId: 's1', jobId: 'j1' });
    const { deps } = setup({ getJob: vi.fn(async () => Promise.reject(new ApiError(401, 'unauthorized', 'log in first'))) });
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    await act(async () => {
      await result.current.resumeJob('j1');
    });
    expect(result.current.state.phase).toBe('idle');
    expect(result.current.state.error).toBeNull();
    expect(session.load().jobId).toBe('j1');
    unmount();
  });

  it('cancels through the server while a job runs', async () => {
    const { deps, api } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    let done: Promise<boolean> = Promise.resolve(false);
    act(() => {
      done = result.current.processSong(file());
    });
    await waitFor(() => expect(FakeSocket.all.length).toBe(1));
    await act(async () => {
      await result.current.cancel();
    });
    expect(api.cancelJob).toHaveBeenCalledWith('j1');
    await serverFinishes('cancelled');
    await act(async () => {
      await done;
    });
    expect(result.current.state.phase).toBe('cancelled');
    unmount();
  });

  it('restores the running job after a reload', async () => {
    localStorage.setItem('riffroom.session', JSON.stringify({ songId: 's1', jobId: 'j1' }));
    const { deps, api } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor({ ...deps, restore: true }));
    await waitFor(() => expect(api.getJob).toHaveBeenCalledWith('j1', expect.anything()));
    await serverFinishes('done');
    await waitFor(() => expect(result.current.state.phase).toBe('ready'));
    expect(JSON.parse(localStorage.getItem('riffroom.session')!)).toEqual({ songId: 's1' });
    unmount();
  });

  it('leaves no socket, timer or object URL behind when unmounted mid-job (leak test)', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { deps } = setup();
    const { result, unmount } = renderHook(() => useStemProcessor(deps));
    act(() => {
      void result.current.processSong(file());
    });
    await waitFor(() => expect(FakeSocket.all.length).toBe(1));
    act(() => lastSocket().serverClose()); // a reconnect timer is now pending
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    unmount();
    await act(async () => {
      await Promise.resolve();
    });
    expect(FakeSocket.open).toBe(0);
    expect(sockets.every((s) => s.activeTimers === 0 && !s.hasSocket)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(liveObjectUrls.size).toBe(0);
  });
});
