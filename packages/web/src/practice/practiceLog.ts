/**
 * The practice log on this side: `PracticeTimer` turns "playing / paused, this loop, this tempo"
 * into chunks of practised time (pure: the caller passes the clock), and `PracticeLogOutbox`
 * delivers them to the server, keeping the undelivered ones in IndexedDB across reloads and
 * offline spells. Each chunk has an id made here, so a resend is never counted twice.
 */
import type { ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import type { PracticeSession } from '../api/practice';
import { openPracticeDb, type PendingSession, type PracticeDb } from './practiceDb';
import { RetryTimer } from './retry';

/** Shorter than this is a click on play, not practice. */
export const MIN_CHUNK_SECONDS = 2;
export const MAX_CHUNK_SECONDS = 3600;

interface Running {
  startedAtMs: number;
  loopId: string | null;
  tempo: number;
}

export interface PracticeContext {
  playing: boolean;
  loopId: string | null;
  tempo: number;
}

let idCounter = 0;
export function newId(prefix = 'p'): string {
  const random = globalThis.crypto?.randomUUID?.().replace(/-/g, '') ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  return `${prefix}${random.slice(0, 24)}${(idCounter++).toString(36)}`;
}

export class PracticeTimer {
  private running: Running | null = null;

  /**
   * The player's state at `nowMs`: returns the chunks this closes (a pause, another loop or
   * another tempo ends the running chunk; playing starts one).
   */
  update(context: PracticeContext, nowMs: number): PracticeSession[] {
    const { running } = this;
    const same = running && context.playing && running.loopId === context.loopId && running.tempo === context.tempo;
    if (same) return [];
    const closed = running ? this.close(running, nowMs) : [];
    this.running = context.playing ? { startedAtMs: nowMs, loopId: context.loopId, tempo: context.tempo } : null;
    return closed;
  }

  /** End the running chunk (the song closes, the page hides). */
  stop(nowMs: number): PracticeSession[] {
    const { running } = this;
    this.running = null;
    return running ? this.close(running, nowMs) : [];
  }

  private close(running: Running, nowMs: number): PracticeSession[] {
    const out: PracticeSession[] = [];
    let start = running.startedAtMs;
    // Longer than the server takes in one chunk: split.
    while ((nowMs - start) / 1000 >= MIN_CHUNK_SECONDS) {
      const seconds = Math.min(MAX_CHUNK_SECONDS, (nowMs - start) / 1000);
      out.push({ id: newId('s'), started_at: start / 1000, seconds: Math.round(seconds * 10) / 10, loop_id: running.loopId, tempo: running.tempo });
      start += seconds * 1000;
    }
    return out;
  }
}

type LogApi = Pick<ApiClient, 'postPracticeLog'>;

/** Sessions per POST (the server takes at most 100). */
const BATCH = 50;

export class PracticeLogOutbox {
  private readonly db: Promise<PracticeDb | null>;
  private readonly memory = new Map<string, PendingSession>();
  private readonly retry: RetryTimer;
  private sending: Promise<void> | null = null;
  private readonly listeners = new Set<(songId: string) => void>();

  constructor(
    private readonly api: LogApi,
    options: { db?: Promise<PracticeDb | null>; dbName?: string } = {},
  ) {
    this.db = options.db ?? openPracticeDb(options.dbName);
    this.retry = new RetryTimer(() => void this.send());
  }

  /** Called with the song id after its sessions reached the server (the chart refreshes). */
  onDelivered(fn: (songId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async add(songId: string, sessions: PracticeSession[]): Promise<void> {
    if (sessions.length === 0) return;
    const pending = sessions.map((session) => ({ id: session.id, songId, session }));
    for (const p of pending) this.memory.set(p.id, p);
    const db = await this.db;
    try {
      if (db) {
        const tx = db.transaction('log', 'readwrite');
        await Promise.all([...pending.map((p) => tx.store.put(p)), tx.done]);
      }
    } catch {
      // No room on the device: the copy in memory is still sent.
    }
    await this.send();
  }

  /** Deliver everything waiting (also what an earlier page left in IndexedDB). */
  send(): Promise<void> {
    this.sending ??= this.deliver().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  dispose(): void {
    this.retry.dispose();
    this.listeners.clear();
  }

  private async deliver(): Promise<void> {
    const db = await this.db;
    const stored = (await db?.getAll('log').catch(() => [])) ?? [];
    for (const p of stored) this.memory.set(p.id, p);
    const bySong = new Map<string, PendingSession[]>();
    for (const p of this.memory.values()) bySong.set(p.songId, [...(bySong.get(p.songId) ?? []), p]);
    for (const [songId, list] of bySong) {
      for (let i = 0; i < list.length; i += BATCH) {
        const batch = list.slice(i, i + BATCH);
        try {
          await this.api.postPracticeLog(songId, { sessions: batch.map((p) => p.session) });
        } catch (err) {
          if (err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429))) {
            this.retry.schedule();
            return;
          }
          // Refused for good (the song is gone, a bad chunk): drop it rather than resend forever.
        }
        for (const p of batch) this.memory.delete(p.id);
        if (db) await Promise.all(batch.map((p) => db.delete('log', p.id).catch(() => undefined)));
        for (const fn of this.listeners) fn(songId);
      }
    }
    this.retry.reset();
  }
}
