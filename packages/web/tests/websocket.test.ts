import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobEventsSocket, backoffDelay } from '../src/services/websocket';
import type { Job } from '../src/api/types';
import { FakeSocket, finalFrame, lastSocket, progressFrame, snapshotFrame } from './fakeSocket';

function make(opts: Partial<ConstructorParameters<typeof JobEventsSocket>[0]> = {}) {
  return new JobEventsSocket({
    url: 'ws://test/api/ws',
    createSocket: (url) => new FakeSocket(url),
    baseDelayMs: 100,
    maxDelayMs: 1000,
    heartbeatTimeoutMs: 5000,
    connectTimeoutMs: 2000,
    random: () => 1,
    ...opts,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('backoff', () => {
  it('grows exponentially, is capped, and is fully jittered', () => {
    expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 1000, () => 0.999)).toBe(799);
    expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(999);
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(2, 100, 1000, () => 0.5)).toBe(200);
  });

  it('waits longer after each failed attempt and resets after a successful open', () => {
    const delays: number[] = [];
    const socket = make();
    socket.connect();
    for (let i = 0; i < 5; i++) {
      const before = FakeSocket.all.length;
      lastSocket().serverClose();
      const t0 = Date.now();
      while (FakeSocket.all.length === before) vi.advanceTimersByTime(1);
      delays.push(Date.now() - t0);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
    lastSocket().accept();
    lastSocket().serverClose();
    const before = FakeSocket.all.length;
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all.length).toBe(before);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all.length).toBe(before + 1);
    socket.disconnect();
  });
});

describe('JobEventsSocket', () => {
  it('does not reconnect after an intentional disconnect()', () => {
    const socket = make();
    socket.connect();
    lastSocket().accept();
    socket.disconnect();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.status).toBe('closed');
  });

  it('does not reconnect when disconnect() comes while a reconnect is pending', () => {
    const socket = make();
    socket.connect();
    lastSocket().serverClose();
    expect(socket.activeTimers).toBe(1);
    socket.disconnect();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('answers ping with pong and treats silence as a dead link', () => {
    const socket = make();
    socket.connect();
    const ws = lastSocket();
    ws.accept();
    ws.serverSend({ type: 'ping' });
    expect(ws.sentOfType('pong')).toHaveLength(1);
    vi.advanceTimersByTime(4999);
    expect(FakeSocket.all).toHaveLength(1);
    ws.serverSend({ type: 'ping' }); // any message re-arms the heartbeat
    vi.advanceTimersByTime(4999);
    expect(ws.readyState).toBe(1);
    vi.advanceTimersByTime(1);
    expect(ws.readyState).toBe(3); // closed by the client
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all).toHaveLength(2);
    socket.disconnect();
  });

  it('abandons a socket that never opens', () => {
    const socket = make();
    socket.connect();
    vi.advanceTimersByTime(2000);
    expect(FakeSocket.all[0]!.readyState).toBe(3);
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all).toHaveLength(2);
    socket.disconnect();
  });

  it('subscribes and resumes from the last seen sequence numbers on reconnect', () => {
    const socket = make();
    socket.subscribe(['j1', 'j2']);
    socket.connect();
    let ws = lastSocket();
    ws.accept();
    expect(ws.sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1', 'j2'] }]);
    expect(ws.sentOfType('resume')).toEqual([]);
    ws.serverSend(snapshotFrame({}, 3));
    ws.serverSend(progressFrame(4, 0.4, { eta_seconds: 9 }));
    ws.serverSend(snapshotFrame({ id: 'j2', state: 'queued', progress: 0, stage: 'queued', eta_seconds: null }, 1));
    ws.serverClose();
    vi.advanceTimersByTime(100);
    ws = lastSocket();
    ws.accept();
    expect(ws.sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1', 'j2'] }]);
    expect(ws.sentOfType('resume')).toEqual([{ type: 'resume', after: { j1: 4, j2: 1 } }]);
    socket.disconnect();
  });

  it('delivers progress in order, dropping replays and stale events', () => {
    const socket = make();
    const seen: number[] = [];
    socket.on('job', (j) => seen.push(j.progress));
    socket.subscribe(['j1']);
    socket.connect();
    const ws = lastSocket();
    ws.accept();
    ws.serverSend(snapshotFrame({ progress: 0.2 }, 2));
    ws.serverSend(progressFrame(2, 0.2));
    ws.serverSend(progressFrame(3, 0.3));
    ws.serverSend(progressFrame(1, 0.1));
    ws.serverSend(progressFrame(4, 0.4));
    expect(seen).toEqual([0.2, 0.3, 0.4]);
    expect(socket.job('j1')?.progress).toBe(0.4);
    socket.disconnect();
  });

  it('delivers a final event exactly once across reconnects and replays', () => {
    const socket = make();
    const finals: Job[] = [];
    socket.on('final', (j) => finals.push(j));
    socket.subscribe(['j1']);
    socket.connect();
    let ws = lastSocket();
    ws.accept();
    ws.serverSend(snapshotFrame({}, 5));
    ws.serverSend(finalFrame('done', 6));
    ws.serverSend(finalFrame('done', 6)); // duplicate delivery
    ws.serverClose();
    vi.advanceTimersByTime(100);
    ws = lastSocket();
    ws.accept();
    // A finished job is not subscribed again; a server replaying anyway is ignored.
    expect(ws.sentOfType('subscribe')).toEqual([]);
    ws.serverSend(snapshotFrame({ state: 'done', progress: 1, stage: 'done', eta_seconds: null }, 6));
    ws.serverSend(finalFrame('done', 6));
    expect(finals).toHaveLength(1);
    expect(finals[0]!.state).toBe('done');
    socket.subscribe(['j1']); // re-subscribing a finished job is a no-op
    expect(ws.sentOfType('subscribe')).toEqual([]);
    socket.disconnect();
  });

  it('turns a final snapshot after a missed final event into exactly one final', () => {
    const socket = make();
    const finals: string[] = [];
    socket.on('final', (j) => finals.push(j.state));
    socket.subscribe(['j1']);
    socket.connect();
    let ws = lastSocket();
    ws.accept();
    ws.serverSend(snapshotFrame({}, 1));
    ws.serverClose(); // the 'failed' event is sent while we are away
    vi.advanceTimersByTime(100);
    ws = lastSocket();
    ws.accept();
    ws.serverSend(snapshotFrame({ state: 'failed', stage: 'failed', eta_seconds: null, error: 'boom', error_code: 'failed' }, 7));
    ws.serverSend(finalFrame('failed', 7, { error: 'boom' }));
    expect(finals).toEqual(['failed']);
    socket.disconnect();
  });

  it("surfaces the server's error frame; a job it does not know is no longer subscribed", () => {
    const socket = make();
    const problems: unknown[] = [];
    socket.on('error', (p) => problems.push(p));
    socket.subscribe(['j1', 'gone']);
    socket.connect();
    let ws = lastSocket();
    ws.accept();
    // Exactly what riffroom.api.ws sends.
    ws.serverSend({ type: 'error', code: 'not_found', message: 'no such job', job_id: 'gone' });
    ws.serverSend({ type: 'error', code: 'too_many_subscriptions', message: 'one connection may follow at most 100 jobs' });
    expect(problems).toEqual([
      { code: 'not_found', message: 'no such job', jobId: 'gone' },
      { code: 'too_many_subscriptions', message: 'one connection may follow at most 100 jobs', jobId: null },
    ]);
    ws.serverClose();
    vi.advanceTimersByTime(100);
    ws = lastSocket();
    ws.accept();
    expect(ws.sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);
    socket.disconnect();
  });

  it('on() returns an unsubscribe function', () => {
    const socket = make();
    const fn = vi.fn();
    const off = socket.on('job', fn);
    socket.subscribe(['j1']);
    socket.connect();
    lastSocket().accept();
    lastSocket().serverSend(snapshotFrame({}, 1));
    off();
    lastSocket().serverSend(progressFrame(2, 0.5));
    expect(fn).toHaveBeenCalledTimes(1);
    socket.disconnect();
  });

  it('leaves no socket and no timer behind after disconnect() (leak test)', () => {
    const clients: JobEventsSocket[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = make({ random: Math.random });
      socket.subscribe([`j${i}`]);
      socket.connect();
      if (i % 3 === 0) lastSocket().accept();
      if (i % 3 === 1) lastSocket().serverClose(); // leaves a pending reconnect
      clients.push(socket);
    }
    vi.advanceTimersByTime(50);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    for (const c of clients) c.disconnect();
    expect(FakeSocket.open).toBe(0);
    expect(clients.reduce((n, c) => n + c.activeTimers, 0)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.open).toBe(0);
  });
});

describe('login', () => {
  it('never reconnects after a close with code 4401 (logged out), until connect() after a login', () => {
    const socket = make();
    const statuses: string[] = [];
    let unauthorized = 0;
    socket.on('status', (s) => statuses.push(s));
    socket.on('unauthorized', () => (unauthorized += 1));
    socket.subscribe(['j1']);
    socket.connect();
    lastSocket().accept();
    lastSocket().serverSend(snapshotFrame({}, 3));
    lastSocket().serverClose(4401);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(socket.status).toBe('unauthorized');
    expect(socket.activeTimers).toBe(0);
    expect(socket.hasSocket).toBe(false);
    expect(unauthorized).toBe(1);
    expect(statuses.at(-1)).toBe('unauthorized');

    // After a login: one new socket, which subscribes and resumes where the old one was.
    socket.connect();
    expect(FakeSocket.all).toHaveLength(2);
    lastSocket().accept();
    expect(lastSocket().sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);
    expect(lastSocket().sentOfType('resume')).toEqual([{ type: 'resume', after: { j1: 3 } }]);
    socket.disconnect();
  });

  it('asks authCheck after a refused handshake and stops when not logged in', async () => {
    const authCheck = vi.fn(async () => false);
    const socket = make({ authCheck });
    let unauthorized = 0;
    socket.on('unauthorized', () => (unauthorized += 1));
    socket.connect();
    lastSocket().serverClose(); // refused before accept: the browser sees 1006
    expect(authCheck).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.status).toBe('unauthorized');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.all).toHaveLength(1); // no reconnect loop
    expect(socket.activeTimers).toBe(0);
    expect(unauthorized).toBe(1);
  });

  it('reconnects with backoff after a refused handshake when still logged in (or the check fails)', async () => {
    const answers = [() => Promise.resolve(true), () => Promise.reject(new Error('down'))];
    const authCheck = vi.fn(() => (answers.shift() ?? (() => Promise.resolve(true)))());
    const socket = make({ authCheck });
    socket.connect();
    lastSocket().serverClose();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all).toHaveLength(2);
    lastSocket().serverClose();
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.all).toHaveLength(3);
    expect(authCheck).toHaveBeenCalledTimes(2);
    // A socket that opened and then dropped reconnects without asking.
    lastSocket().accept();
    lastSocket().serverClose();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.all).toHaveLength(4);
    expect(authCheck).toHaveBeenCalledTimes(2);
    socket.disconnect();
    expect(socket.activeTimers).toBe(0);
  });

  it('ignores an authCheck answer that comes after disconnect()', async () => {
    let answer: (ok: boolean) => void = () => {};
    const socket = make({ authCheck: () => new Promise<boolean>((r) => (answer = r)) });
    let unauthorized = 0;
    socket.on('unauthorized', () => (unauthorized += 1));
    socket.connect();
    lastSocket().serverClose();
    socket.disconnect();
    answer(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.status).toBe('closed');
    expect(unauthorized).toBe(0);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
