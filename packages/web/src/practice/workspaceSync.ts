/**
 * Each song's practice workspace, kept in step between this device, its IndexedDB copy and the
 * server.
 *
 *   const sync = new WorkspaceSync(api);
 *   const state = await sync.open(songId);     // server's, or this device's copy when offline
 *   sync.update(songId, next);                 // saved locally now, on the server debounced
 *   sync.onMerged(songId, apply);              // another device's changes were merged in
 *
 * Every save carries the revision it was based on. A 409 `stale_revision` brings the server's
 * state: the three-way merge (merge.ts: base = last synced, mine, theirs) keeps this device's
 * changed fields and the other device's rest, and the merged state is saved on the new revision.
 * Offline, changes stay in IndexedDB marked dirty and are sent when the server answers again
 * (backoff, and at once on the browser's `online` event); opening a song with unsent changes
 * merges them into whatever the server has by then.
 */
import type { ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import { defaultPracticeState, type PracticeState } from '../api/practice';
import { Emitter } from '../services/emitter';
import { deepEqual, mergePracticeState } from './merge';
import { openPracticeDb, type PracticeDb, type StoredWorkspace } from './practiceDb';
import { RetryTimer } from './retry';

export type SyncStatus = 'idle' | 'saving' | 'saved' | 'offline' | 'error';

export interface SyncInfo {
  status: SyncStatus;
  message: string | null;
}

type PracticeApi = Pick<ApiClient, 'getPractice' | 'putPractice'>;

export interface WorkspaceSyncOptions {
  debounceMs?: number;
  /** An already opened database (tests), or the name of one to open. */
  db?: Promise<PracticeDb | null>;
  dbName?: string;
}

/** Rounds of merge-and-resave before giving up on a workspace another device keeps changing. */
const MAX_MERGE_ROUNDS = 5;

export class WorkspaceSync {
  private readonly entries = new Map<string, StoredWorkspace>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pushing = new Map<string, Promise<void>>();
  private readonly writes = new Set<Promise<void>>();
  private readonly emitter = new Emitter<{ merged: { songId: string; state: PracticeState }; status: SyncInfo }>();
  private readonly retry: RetryTimer;
  private readonly db: Promise<PracticeDb | null>;
  private readonly debounceMs: number;
  private info: SyncInfo = { status: 'idle', message: null };
  private disposed = false;

  constructor(
    private readonly api: PracticeApi,
    options: WorkspaceSyncOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 800;
    this.db = options.db ?? openPracticeDb(options.dbName);
    this.retry = new RetryTimer(() => void this.pushAll());
  }

  get status(): SyncInfo {
    return this.info;
  }

  onStatus(fn: (info: SyncInfo) => void): () => void {
    return this.emitter.on('status', fn);
  }

  /** `fn` gets the merged state when a save met another device's newer one. */
  onMerged(songId: string, fn: (state: PracticeState) => void): () => void {
    return this.emitter.on('merged', (e) => {
      if (e.songId === songId) fn(e.state);
    });
  }

  /**
   * The workspace to restore: the server's (with this device's unsent changes merged in), or
   * this device's copy when the server cannot be reached, or the defaults.
   */
  async open(songId: string, signal?: AbortSignal): Promise<PracticeState> {
    const db = await this.db;
    const local = this.entries.get(songId) ?? (await db?.get('workspaces', songId).catch(() => undefined));
    try {
      const server = await this.api.getPractice(songId, signal);
      let entry: StoredWorkspace;
      if (local?.dirty) {
        const current = server.revision === local.revision ? local.current : mergePracticeState(local.base, local.current, server.state);
        entry = { songId, revision: server.revision, base: server.state, current, dirty: !deepEqual(current, server.state) };
      } else {
        entry = { songId, revision: server.revision, base: server.state, current: server.state, dirty: false };
      }
      this.store(entry);
      if (entry.dirty) void this.push(songId);
      return entry.current;
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof ApiError && err.status === 404) return defaultPracticeState();
      if (!(err instanceof NetworkError || (err instanceof ApiError && err.status >= 500))) throw err;
      this.setStatus('offline', 'Offline: practice settings are kept on this device and saved when the server is back.');
      if (local) {
        this.entries.set(songId, local);
        if (local.dirty) this.retry.schedule();
        return local.current;
      }
      const fresh = defaultPracticeState();
      this.entries.set(songId, { songId, revision: 0, base: fresh, current: fresh, dirty: false });
      return fresh;
    }
  }

  /** The state this device has now for `songId` (after open). */
  current(songId: string): PracticeState | null {
    return this.entries.get(songId)?.current ?? null;
  }

  /** This device changed the workspace: keep it locally now, send it after a quiet moment. */
  update(songId: string, state: PracticeState): void {
    const entry = this.entries.get(songId);
    if (!entry || this.disposed || deepEqual(entry.current, state)) return;
    this.store({ ...entry, current: state, dirty: true });
    const previous = this.timers.get(songId);
    if (previous !== undefined) clearTimeout(previous);
    this.timers.set(
      songId,
      setTimeout(() => {
        this.timers.delete(songId);
        void this.push(songId);
      }, this.debounceMs),
    );
  }

  /** Send what is waiting now (tests; the page before it goes away). */
  async flush(): Promise<void> {
    for (const [songId, timer] of this.timers) {
      clearTimeout(timer);
      this.timers.delete(songId);
    }
    await this.pushAll();
    await Promise.all([...this.writes]);
  }

  /** Forget every song's entry (logout): the database is cleared by its owner. */
  forget(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.entries.clear();
  }

  dispose(): void {
    this.disposed = true;
    this.forget();
    this.retry.dispose();
    this.emitter.clear();
  }

  private async pushAll(): Promise<void> {
    await Promise.all([...this.entries.values()].filter((e) => e.dirty).map((e) => this.push(e.songId)));
  }

  /** One save in flight per song; a second call waits for it and then sends what is newer. */
  private push(songId: string): Promise<void> {
    const running = this.pushing.get(songId);
    const next = (running ?? Promise.resolve()).then(() => this.send(songId));
    const tracked = next.finally(() => {
      if (this.pushing.get(songId) === tracked) this.pushing.delete(songId);
    });
    this.pushing.set(songId, tracked);
    return tracked;
  }

  private async send(songId: string): Promise<void> {
    for (let round = 0; round < MAX_MERGE_ROUNDS; round++) {
      const entry = this.entries.get(songId);
      if (!entry?.dirty || this.disposed) return;
      const sent = entry.current;
      this.setStatus('saving', null);
      let answer: Awaited<ReturnType<PracticeApi['putPractice']>>;
      try {
        answer = await this.api.putPractice(songId, { revision: entry.revision, state: sent });
      } catch (err) {
        if (err instanceof NetworkError || (err instanceof ApiError && err.status >= 500)) {
          this.setStatus('offline', 'Offline: practice settings are kept on this device and saved when the server is back.');
          this.retry.schedule();
        } else {
          this.setStatus('error', `Practice settings not saved: ${err instanceof Error ? err.message : String(err)}`);
        }
        return;
      }
      const now = this.entries.get(songId) ?? entry;
      if (answer.ok) {
        // Changes made while the save was in flight stay dirty and go next round.
        this.store({ songId, revision: answer.saved.revision, base: sent, current: now.current, dirty: !deepEqual(now.current, sent) });
        this.retry.reset();
        this.setStatus('saved', null);
        continue;
      }
      const theirs = answer.stale.state;
      const merged = mergePracticeState(now.base, now.current, theirs);
      this.store({ songId, revision: answer.stale.revision, base: theirs, current: merged, dirty: !deepEqual(merged, theirs) });
      if (!deepEqual(merged, now.current)) this.emitter.emit('merged', { songId, state: merged });
    }
  }

  private store(entry: StoredWorkspace): void {
    this.entries.set(entry.songId, entry);
    const write = this.db
      .then((db) => db?.put('workspaces', entry))
      .then(
        () => undefined,
        () => undefined, // IndexedDB full or gone: the server copy is what is left
      );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  private setStatus(status: SyncStatus, message: string | null): void {
    if (this.info.status === status && this.info.message === message) return;
    this.info = { status, message };
    this.emitter.emit('status', this.info);
  }
}
