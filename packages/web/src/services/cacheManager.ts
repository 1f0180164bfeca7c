/**
 * Stem cache: memory (LRU, byte budget) → IndexedDB (byte budget, expiry) → network.
 *
 *   const cache = new StemCache({ memoryBudgetBytes: 32 << 20 });
 *   const { bytes, source } = await cache.get('stem:song1:drums:wav', '/api/songs/song1/stems/drums');
 *
 * `bytes` belongs to the caller (decodeAudioData may detach it): the memory tier keeps
 * its own copy. An expired entry is deleted from both tiers when found; an entry larger
 * than a tier's budget is not stored there and evicts nothing; a failing IndexedDB
 * (QuotaExceededError, private mode) only costs the disk tier, never the bytes. Expired entries
 * also go when the database is first opened (page start) and whenever a tier stores something,
 * so their bytes are given back even if nobody asks for them again. The page's settings can be
 * overridden from localStorage (cacheSettings.ts: the end-to-end tests use seconds and kilobytes).
 * IndexedDB holds Blobs (entries written before hold ArrayBuffers, read the same): reading one
 * costs nothing until its bytes are asked for, so `getHeld` can read the first part of a stem
 * without the whole file.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { errorFromResponse, NetworkError } from '../api/errors';
import { type CacheDB, isBlob, isQuotaError, readAll } from './cacheRecords';

export type CacheSource = 'memory' | 'idb' | 'network';

export interface CachedBytes {
  bytes: ArrayBuffer;
  contentType: string;
  source: CacheSource;
}

/** A stem held in IndexedDB, nothing of it read yet: slice it to read a part. */
export interface HeldBlob {
  blob: Blob;
  contentType: string;
}

export interface StemCacheOptions {
  dbName?: string;
  memoryBudgetBytes?: number;
  diskBudgetBytes?: number;
  /** How long an entry stays valid after it was stored. */
  ttlMs?: number;
  now?: () => number;
  fetcher?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Use the IndexedDB tier (default: when the browser has one). */
  useIndexedDB?: boolean;
  onWarning?: (message: string, error?: unknown) => void;
}

export interface GetOptions {
  /**
   * Keep a copy in the memory tier (default true). Stems pass false: the page keeps their
   * decoded audio, and a second, encoded copy in memory would only cost RAM.
   */
  keepInMemory?: boolean;
}

interface MemoryEntry {
  bytes: ArrayBuffer;
  contentType: string;
  expiresAt: number;
}

const DAY = 24 * 60 * 60 * 1000;

export class StemCache {
  private readonly memory = new Map<string, MemoryEntry>();
  private memoryBytesUsed = 0;
  private readonly pendingWrites = new Set<Promise<void>>();
  private dbPromise: Promise<IDBPDatabase<CacheDB> | null> | null = null;
  private readonly opts: Required<StemCacheOptions>;

  constructor(options: StemCacheOptions = {}) {
    this.opts = {
      dbName: 'riffroom-cache',
      memoryBudgetBytes: 32 * 1024 * 1024,
      diskBudgetBytes: 2 * 1024 * 1024 * 1024,
      ttlMs: 30 * DAY,
      now: () => Date.now(),
      fetcher: (url, init) => fetch(url, init),
      onWarning: (message, error) => console.warn(`[cache] ${message}`, error ?? ''),
      useIndexedDB: typeof indexedDB !== 'undefined',
      ...options,
    };
  }

  get memoryBytes(): number {
    return this.memoryBytesUsed;
  }

  get memoryEntries(): number {
    return this.memory.size;
  }

  /** The keys held in the memory tier, least recently used first. */
  memoryKeys(): string[] {
    return [...this.memory.keys()];
  }

  /** Delete every expired entry from both tiers; what it gave back. */
  async pruneExpired(): Promise<{ entries: number; bytes: number }> {
    const fromMemory = this.pruneExpiredMemory();
    await this.flush();
    const db = await this.db();
    const fromDisk = db ? await this.pruneExpiredDisk(db) : { entries: 0, bytes: 0 };
    return { entries: fromMemory.entries + fromDisk.entries, bytes: fromMemory.bytes + fromDisk.bytes };
  }

  /** Bytes for `key`, from the nearest tier that has a live copy, else from `url`. */
  async get(key: string, url: string, init?: RequestInit, options: GetOptions = {}): Promise<CachedBytes> {
    const keepInMemory = options.keepInMemory ?? true;
    const fromMemory = this.memoryGet(key);
    if (fromMemory) return fromMemory;

    const fromDisk = await this.diskGet(key);
    const stored = fromDisk && (await this.readStored(key, fromDisk.data));
    if (fromDisk && stored) {
      if (keepInMemory) this.memoryPut(key, stored, fromDisk.contentType, fromDisk.expiresAt);
      return { bytes: stored, contentType: fromDisk.contentType, source: 'idb' };
    }

    let response: Response;
    try {
      response = await this.opts.fetcher(url, init);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new NetworkError(url, err);
    }
    if (!response.ok) throw await errorFromResponse(response);
    const bytes = await response.arrayBuffer();
    const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
    const expiresAt = this.opts.now() + this.opts.ttlMs;
    if (keepInMemory) this.memoryPut(key, bytes, contentType, expiresAt);
    // The caller may detach `bytes` (decodeAudioData), so IndexedDB gets its own copy (the Blob
    // copies them now), written in the background: first sound never waits for the disk.
    // flush() waits for it.
    this.track(this.diskPut(key, new Blob([bytes], { type: contentType }), contentType, expiresAt));
    return { bytes, contentType, source: 'network' };
  }

  /** A stored entry's bytes; null (and the entry gone) when the browser cannot read them back. */
  private async readStored(key: string, data: Blob | ArrayBuffer): Promise<ArrayBuffer | null> {
    try {
      return await readAll(data);
    } catch (err) {
      this.opts.onWarning(`reading ${key} from IndexedDB failed; fetching it again`, err);
      await this.diskDelete(key);
      return null;
    }
  }

  /** The IndexedDB copy of `key` as a Blob, none of its bytes read yet; null when not held there (or expired). */
  async getHeld(key: string): Promise<HeldBlob | null> {
    const fromDisk = await this.diskGet(key);
    if (!fromDisk) return null;
    const { data, contentType } = fromDisk;
    return { blob: isBlob(data) ? data : new Blob([data], { type: contentType }), contentType };
  }

  private track(write: Promise<void>): void {
    const tracked = write.finally(() => this.pendingWrites.delete(tracked));
    this.pendingWrites.add(tracked);
  }

  /** Wait until every background IndexedDB write has finished. */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  /** Whether a live copy is held locally (memory or IndexedDB), without touching the network. */
  async has(key: string): Promise<boolean> {
    if (this.memoryGet(key, false)) return true;
    await this.flush();
    const db = await this.db();
    if (!db) return false;
    try {
      const meta = await db.get('meta', key);
      return meta !== undefined && meta.expiresAt > this.opts.now();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    this.memoryDelete(key);
    await this.diskDelete(key);
  }

  /** Total bytes and entries in IndexedDB. */
  async diskUsage(): Promise<{ bytes: number; entries: number }> {
    await this.flush();
    const db = await this.db();
    if (!db) return { bytes: 0, entries: 0 };
    const metas = await db.getAll('meta');
    return { bytes: metas.reduce((n, m) => n + m.size, 0), entries: metas.length };
  }

  async clear(): Promise<void> {
    await this.flush();
    this.memory.clear();
    this.memoryBytesUsed = 0;
    const db = await this.db();
    if (!db) return;
    const tx = db.transaction(['meta', 'blobs'], 'readwrite');
    await Promise.all([tx.objectStore('meta').clear(), tx.objectStore('blobs').clear(), tx.done]);
  }

  /** Drop the memory tier and close the database connection. */
  async close(): Promise<void> {
    await this.flush();
    this.memory.clear();
    this.memoryBytesUsed = 0;
    const pending = this.dbPromise;
    this.dbPromise = null;
    const db = pending ? await pending : null;
    db?.close();
  }

  // -- memory tier ------------------------------------------------------------------

  private memoryGet(key: string, touch = true): CachedBytes | null {
    const entry = this.memory.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.opts.now()) {
      this.memoryDelete(key);
      void this.diskDelete(key);
      return null;
    }
    if (touch) {
      this.memory.delete(key);
      this.memory.set(key, entry);
    }
    return { bytes: entry.bytes.slice(0), contentType: entry.contentType, source: 'memory' };
  }

  private memoryPut(key: string, bytes: ArrayBuffer, contentType: string, expiresAt: number): void {
    const size = bytes.byteLength;
    this.pruneExpiredMemory();
    if (size > this.opts.memoryBudgetBytes) return;
    this.memoryDelete(key);
    while (this.memoryBytesUsed + size > this.opts.memoryBudgetBytes) {
      const oldest = this.memory.keys().next();
      if (oldest.done) break;
      this.memoryDelete(oldest.value);
    }
    this.memory.set(key, { bytes: bytes.slice(0), contentType, expiresAt });
    this.memoryBytesUsed += size;
  }

  private pruneExpiredMemory(): { entries: number; bytes: number } {
    const now = this.opts.now();
    let entries = 0;
    let bytes = 0;
    for (const [key, entry] of [...this.memory]) {
      if (entry.expiresAt > now) continue;
      entries += 1;
      bytes += entry.bytes.byteLength;
      this.memoryDelete(key);
    }
    return { entries, bytes };
  }

  private memoryDelete(key: string): void {
    const entry = this.memory.get(key);
    if (!entry) return;
    this.memory.delete(key);
    this.memoryBytesUsed -= entry.bytes.byteLength;
  }

  // -- IndexedDB tier -------------------------------------------------------------------

  private db(): Promise<IDBPDatabase<CacheDB> | null> {
    if (!this.dbPromise) {
      if (!this.opts.useIndexedDB) {
        this.dbPromise = Promise.resolve(null);
      } else {
        this.dbPromise = openDB<CacheDB>(this.opts.dbName, 1, {
          upgrade(db) {
            db.createObjectStore('meta', { keyPath: 'key' }).createIndex('lastUsed', 'lastUsed');
            db.createObjectStore('blobs');
          },
        })
          .then(async (db) => {
            // Entries that expired while the page was away go now, not when next asked for.
            await this.pruneExpiredDisk(db);
            return db;
          })
          .catch((err: unknown) => {
            this.opts.onWarning('IndexedDB unavailable; caching in memory only', err);
            return null;
          });
      }
    }
    return this.dbPromise;
  }

  private async pruneExpiredDisk(db: IDBPDatabase<CacheDB>): Promise<{ entries: number; bytes: number }> {
    const now = this.opts.now();
    try {
      const tx = db.transaction(['meta', 'blobs'], 'readwrite');
      const meta = tx.objectStore('meta');
      const blobs = tx.objectStore('blobs');
      let entries = 0;
      let bytes = 0;
      for (const m of await meta.getAll()) {
        if (m.expiresAt > now) continue;
        await meta.delete(m.key);
        await blobs.delete(m.key);
        entries += 1;
        bytes += m.size;
      }
      await tx.done;
      return { entries, bytes };
    } catch (err) {
      this.opts.onWarning('removing expired entries from IndexedDB failed', err);
      return { entries: 0, bytes: 0 };
    }
  }

  private async diskGet(key: string): Promise<{ data: Blob | ArrayBuffer; contentType: string; expiresAt: number } | null> {
    await this.flush();
    const db = await this.db();
    if (!db) return null;
    try {
      // One read-only transaction for both stores: no write on the way to the bytes.
      const tx = db.transaction(['meta', 'blobs'], 'readonly');
      const [meta, data] = await Promise.all([tx.objectStore('meta').get(key), tx.objectStore('blobs').get(key), tx.done]);
      if (!meta) return null;
      if (meta.expiresAt <= this.opts.now() || !data) {
        await this.diskDelete(key);
        return null;
      }
      // The LRU bookkeeping is written in the background (flush() waits for it).
      this.track(this.touchDisk(key));
      return { data, contentType: meta.contentType, expiresAt: meta.expiresAt };
    } catch (err) {
      this.opts.onWarning(`reading ${key} from IndexedDB failed`, err);
      return null;
    }
  }

  /** Mark `key` as just used (for the disk tier's LRU order). */
  private async touchDisk(key: string): Promise<void> {
    const db = await this.db();
    if (!db) return;
    try {
      const tx = db.transaction('meta', 'readwrite');
      const meta = await tx.store.get(key);
      if (meta) await tx.store.put({ ...meta, lastUsed: this.opts.now() });
      await tx.done;
    } catch (err) {
      this.opts.onWarning(`updating ${key} in IndexedDB failed`, err);
    }
  }

  private async diskPut(key: string, data: Blob, contentType: string, expiresAt: number): Promise<void> {
    const size = data.size;
    if (size > this.opts.diskBudgetBytes) return;
    const db = await this.db();
    if (!db) return;
    const now = this.opts.now();
    try {
      const tx = db.transaction(['meta', 'blobs'], 'readwrite');
      const meta = tx.objectStore('meta');
      const blobs = tx.objectStore('blobs');
      const all = await meta.getAll();
      let used = 0;
      for (const m of all) if (m.key !== key) used += m.size;
      // Expired entries go first, then the least recently used.
      const victims = all
        .filter((m) => m.key !== key)
        .sort((a, b) => Number(a.expiresAt > now) - Number(b.expiresAt > now) || a.lastUsed - b.lastUsed);
      for (const victim of victims) {
        if (used + size <= this.opts.diskBudgetBytes && victim.expiresAt > now) break;
        await meta.delete(victim.key);
        await blobs.delete(victim.key);
        used -= victim.size;
      }
      await blobs.put(data, key);
      await meta.put({ key, size, contentType, storedAt: now, lastUsed: now, expiresAt });
      await tx.done;
    } catch (err) {
      const quota = isQuotaError(err);
      this.opts.onWarning(
        quota ? `storage is full; ${key} will be fetched from the server next time` : `caching ${key} failed`,
        err,
      );
    }
  }

  private async diskDelete(key: string): Promise<void> {
    const db = await this.db();
    if (!db) return;
    try {
      const tx = db.transaction(['meta', 'blobs'], 'readwrite');
      await Promise.all([tx.objectStore('meta').delete(key), tx.objectStore('blobs').delete(key), tx.done]);
    } catch (err) {
      this.opts.onWarning(`deleting ${key} from IndexedDB failed`, err);
    }
  }
}
