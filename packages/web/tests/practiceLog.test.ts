import { afterEach, describe, expect, it } from 'vitest';
import { openPracticeDb } from '../src/practice/practiceDb';
import { PracticeLogOutbox, PracticeTimer } from '../src/practice/practiceLog';
import { FakePracticeServer } from './practiceServer';

const outboxes: PracticeLogOutbox[] = [];
afterEach(() => {
  for (const o of outboxes.splice(0)) o.dispose();
});

describe('PracticeTimer', () => {
  it('makes one chunk per stretch of playing with the same loop and tempo', () => {
    const timer = new PracticeTimer();
    const t0 = 1_700_000_000_000;
    expect(timer.update({ playing: true, loopId: null, tempo: 1 }, t0)).toEqual([]);
    expect(timer.update({ playing: true, loopId: null, tempo: 1 }, t0 + 5000)).toEqual([]);
    const [first] = timer.update({ playing: true, loopId: 'bridge', tempo: 0.7 }, t0 + 30_000);
    expect(first).toMatchObject({ started_at: t0 / 1000, seconds: 30, loop_id: null, tempo: 1 });
    const [second] = timer.update({ playing: false, loopId: 'bridge', tempo: 0.7 }, t0 + 90_000);
    expect(second).toMatchObject({ started_at: t0 / 1000 + 30, seconds: 60, loop_id: 'bridge', tempo: 0.7 });
    expect(first?.id).not.toBe(second?.id);
  });

  it('drops a tap on play and splits what the server takes in one chunk', () => {
    const timer = new PracticeTimer();
    timer.update({ playing: true, loopId: null, tempo: 1 }, 0);
    expect(timer.stop(1000)).toEqual([]);
    timer.update({ playing: true, loopId: null, tempo: 1 }, 0);
    expect(timer.stop(5000 * 1000).map((c) => c.seconds)).toEqual([3600, 1400]);
  });
});

describe('PracticeLogOutbox', () => {
  it('delivers each chunk once, keeps them through an offline reload', async () => {
    const server = new FakePracticeServer();
    const dbName = 'log-offline';
    server.online = false;
    const first = new PracticeLogOutbox(server.api, { db: openPracticeDb(dbName) });
    outboxes.push(first);
    const session = { id: 'c1', started_at: 1_700_000_000, seconds: 42, loop_id: 'solo', tempo: 0.8 };
    await first.add('s1', [session]);
    expect(server.sessions.size).toBe(0);
    first.dispose();

    server.online = true;
    const second = new PracticeLogOutbox(server.api, { db: openPracticeDb(dbName) });
    outboxes.push(second);
    const delivered: string[] = [];
    second.onDelivered((id) => delivered.push(id));
    await second.send();
    expect([...server.sessions.values()]).toEqual([session]);
    expect(delivered).toEqual(['s1']);
    await second.send();
    expect(server.posts).toBe(1); // nothing left to send
  });
});
