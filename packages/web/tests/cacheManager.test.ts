import { openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StemCache } from '../src/services/cacheManager';
import { CACHE_SETTINGS_KEY, cacheSettingsFromStorage } from '../src/services/cacheSettings';

let dbCounter = 0;
let now = 1_000_000;
let fetches: string[] = [];

function bytes(n: number, fill = 1): ArrayBuffer {
  return new Uint8Array(n).fill(fill).buffer;
}

function makeCache(opts: ConstructorParameters<typeof StemCache>[0] = {}, dbName = `cache-${++dbCounter}`) {
  return new StemCache({
    dbName,
    memoryBudgetBytes: 100,
    diskBudgetBytes: 300,
    ttlMs: 1000,
    now: () => now,
    onWarning: () => {},
    fetcher: async (url) => {
      fetches.push(url);
      const size = Number(new URL(url, 'http://x').searchParams.get('size') ?? '10');
      return new Response(bytes(size, 7), { headers: { 'content-type': 'audio/wav' } });
    },
    ...opts,
  });
}

beforeEach(() => {
  now = 1_000_000;
  fetches = [];
});

describe('StemCache', () => {
  let cache: StemCache;
  afterEach(async () => {
    await cache?.close();
  });

  it('serves from memory, then IndexedDB, then the network', async () => {
    cache = makeCache();
    expect((await cache.get('a', '/a?size=10')).source).toBe('network');
    expect((await cache.get('a', '/a?size=10')).source).toBe('memory');
    const fresh = makeCache({}, (cache as unknown as { opts: { dbName: string } }).opts.dbName);
    expect((await fresh.get('a', '/a?size=10')).source).toBe('idb');
    expect((await fresh.get('a', '/a?size=10')).source).toBe('memory');
    expect(fetches).toEqual(['/a?size=10']);
    await fresh.close();
  });

  it('keeps nothing in memory for a caller that keeps its own (decoded) copy', async () => {
    cache = makeCache();
    const got = await cache.get('a', '/a?size=10', undefined, { keepInMemory: false });
    expect(got.source).toBe('network');
    expect(cache.memoryBytes).toBe(0);
    const again = await cache.get('a', '/a?size=10', undefined, { keepInMemory: false });
    expect(again.source).toBe('idb'); // read again from IndexedDB, not the network
    expect(again.bytes.byteLength).toBe(10);
    expect(cache.memoryEntries).toBe(0);
    expect(fetches).toEqual(['/a?size=10']);
  });

  it('a read from IndexedDB updates the LRU order in the background', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=150', undefined, { keepInMemory: false });
    now += 10;
    await cache.get('b', '/b?size=150', undefined, { keepInMemory: false });
    now += 10;
    expect((await cache.get('a', '/a?size=150', undefined, { keepInMemory: false })).source).toBe('idb'); // a is now the newest
    now += 10;
    await cache.get('c', '/c?size=150', undefined, { keepInMemory: false }); // evicts the least recently used: b
    await cache.flush();
    expect(await cache.has('a')).toBe(true);
    expect(await cache.has('b')).toBe(false);
    expect(await cache.has('c')).toBe(true);
  });

  it('hands out bytes the caller may detach without harming the cache', async () => {
    cache = makeCache();
    const first = await cache.get('a', '/a?size=10');
    structuredClone(first.bytes, { transfer: [first.bytes] }); // detach, as decodeAudioData does
    expect(first.bytes.byteLength).toBe(0);
    const second = await cache.get('a', '/a?size=10');
    expect(second.source).toBe('memory');
    expect(second.bytes.byteLength).toBe(10);
  });

  it('evicts the least recently used entries to stay within the memory budget', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=40');
    await cache.get('b', '/b?size=40');
    await cache.get('a', '/a?size=40'); // a is now more recent than b
    await cache.get('c', '/c?size=40');
    expect(cache.memoryBytes).toBe(80);
    expect((await cache.get('a', '/a?size=40')).source).toBe('memory');
    expect((await cache.get('b', '/b?size=40')).source).toBe('idb');
  });

  it('does not cache an entry larger than the budget, and evicts nothing for it', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=60');
    await cache.get('b', '/b?size=200');
    expect(cache.memoryBytes).toBe(60);
    expect((await cache.get('a', '/a?size=60')).source).toBe('memory');
    await cache.get('huge', '/huge?size=500');
    expect(await cache.diskUsage()).toEqual({ bytes: 260, entries: 2 });
    expect(await cache.has('huge')).toBe(false);
    expect((await cache.get('a', '/a?size=60')).source).toBe('memory');
  });

  it('keeps IndexedDB within its byte budget, evicting least recently used first', async () => {
    cache = makeCache({ memoryBudgetBytes: 0 });
    await cache.get('a', '/a?size=100');
    now += 1;
    await cache.get('b', '/b?size=100');
    now += 1;
    await cache.get('c', '/c?size=100');
    now += 1;
    await cache.get('a', '/a?size=100'); // touch a
    now += 1;
    await cache.get('d', '/d?size=100');
    expect(await cache.diskUsage()).toEqual({ bytes: 300, entries: 3 });
    expect(await cache.has('b')).toBe(false);
    expect(await cache.has('a')).toBe(true);
  });

  it('deletes an expired entry when it is found, from memory and IndexedDB', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=50');
    expect(cache.memoryBytes).toBe(50);
    expect((await cache.diskUsage()).bytes).toBe(50);
    now += 1000; // exactly expired
    const reader = makeCache({ fetcher: async () => Promise.reject(new TypeError('offline')) }, (cache as unknown as { opts: { dbName: string } }).opts.dbName);
    await expect(reader.get('a', '/a?size=50')).rejects.toThrow(/Cannot reach/);
    expect(await reader.diskUsage()).toEqual({ bytes: 0, entries: 0 });
    await reader.close();
    // The memory tier of the first instance gives its bytes back too.
    expect((await cache.get('a', '/a?size=50')).source).toBe('network');
    expect(cache.memoryBytes).toBe(50);
    expect(fetches).toEqual(['/a?size=50', '/a?size=50']);
  });

  it('expires memory entries and removes them from IndexedDB too', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=50');
    now += 5000;
    expect(await cache.has('a')).toBe(false);
    await cache.get('b', '/b?size=10'); // any access; then ask for the expired one
    const result = await cache.get('a', '/a?size=50');
    expect(result.source).toBe('network');
  });

  it('gives back the bytes of expired entries nobody asks for again, when the page starts', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=50');
    await cache.get('b', '/b?size=30', undefined, { keepInMemory: false });
    await cache.flush();
    now += 1000;
    const dbName = (cache as unknown as { opts: { dbName: string } }).opts.dbName;
    // A later page: opening the database is enough, nothing is read.
    const later = makeCache({}, dbName);
    expect(await later.diskUsage()).toEqual({ bytes: 0, entries: 0 });
    await later.close();
    expect(fetches).toEqual(['/a?size=50', '/b?size=30']);
  });

  it('drops expired memory entries when it stores another, and pruneExpired() says what it gave back', async () => {
    cache = makeCache();
    await cache.get('a', '/a?size=50');
    now += 600;
    await cache.get('b', '/b?size=20');
    now += 500; // a expired, b not
    await cache.get('c', '/c?size=10');
    expect(cache.memoryKeys()).toEqual(['b', 'c']);
    expect(cache.memoryBytes).toBe(30);
    // IndexedDB let a go when c was written; b and c expire now, in both tiers.
    expect(await cache.diskUsage()).toEqual({ bytes: 30, entries: 2 });
    now += 1000;
    expect(await cache.pruneExpired()).toEqual({ entries: 2 + 2, bytes: 30 + 30 });
    expect(cache.memoryEntries).toBe(0);
    expect(await cache.diskUsage()).toEqual({ bytes: 0, entries: 0 });
  });

  it('falls back to the network when IndexedDB is full (QuotaExceededError)', async () => {
    const warnings: string[] = [];
    cache = makeCache({ onWarning: (m) => warnings.push(m), memoryBudgetBytes: 0 });
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const got = await cache.get('a', '/a?size=20');
    expect(got.source).toBe('network');
    expect(new Uint8Array(got.bytes)[0]).toBe(7);
    expect(got.bytes.byteLength).toBe(20);
    await cache.flush();
    expect(warnings.some((w) => w.includes('storage is full'))).toBe(true);
    put.mockRestore();
    // Still usable afterwards.
    expect((await cache.get('a', '/a?size=20')).source).toBe('network');
    await cache.flush();
    expect((await cache.get('a', '/a?size=20')).source).toBe('idb');
  });

  it('plays offline from IndexedDB after a reload', async () => {
    cache = makeCache();
    await cache.get('stem', '/stem?size=80');
    await cache.close();
    cache = makeCache({ fetcher: () => Promise.reject(new TypeError('Failed to fetch')) }, `cache-${dbCounter}`);
    const got = await cache.get('stem', '/stem?size=80');
    expect(got.source).toBe('idb');
    expect(got.bytes.byteLength).toBe(80);
  });

  it('holds stems as Blobs: getHeld hands one over unread, and a part of it reads alone', async () => {
    cache = makeCache();
    await cache.get('stem', '/stem?size=80', undefined, { keepInMemory: false });
    await cache.flush();
    const held = await cache.getHeld('stem');
    expect(held?.contentType).toBe('audio/wav');
    expect(held?.blob.size).toBe(80);
    expect(new Uint8Array(await held!.blob.slice(0, 10).arrayBuffer())).toEqual(new Uint8Array(10).fill(7));
    expect(await cache.getHeld('other')).toBeNull();
    now += 1001; // past its expiry: not handed over, and gone
    expect(await cache.getHeld('stem')).toBeNull();
    expect(await cache.diskUsage()).toEqual({ bytes: 0, entries: 0 });
    expect(fetches).toEqual(['/stem?size=80']);
  });

  it('reads the ArrayBuffers an earlier version stored, whole or as a Blob', async () => {
    const dbName = `cache-${++dbCounter}`;
    const old = await openDB(dbName, 1, {
      upgrade(db) {
        db.createObjectStore('meta', { keyPath: 'key' }).createIndex('lastUsed', 'lastUsed');
        db.createObjectStore('blobs');
      },
    });
    await old.put('meta', { key: 'stem', size: 20, contentType: 'audio/flac', storedAt: now, lastUsed: now, expiresAt: now + 1000 });
    await old.put('blobs', bytes(20, 3), 'stem');
    old.close();
    cache = makeCache({}, dbName);
    const held = await cache.getHeld('stem');
    expect(held?.blob.size).toBe(20);
    expect(new Uint8Array(await held!.blob.slice(18).arrayBuffer())).toEqual(new Uint8Array([3, 3]));
    const got = await cache.get('stem', '/stem?size=20');
    expect(got.source).toBe('idb');
    expect(new Uint8Array(got.bytes)).toEqual(new Uint8Array(20).fill(3));
    expect(fetches).toEqual([]);
  });

  it('works without IndexedDB', async () => {
    cache = makeCache({ useIndexedDB: false });
    expect((await cache.get('a', '/a?size=10')).source).toBe('network');
    expect((await cache.get('a', '/a?size=10')).source).toBe('memory');
    expect(await cache.diskUsage()).toEqual({ bytes: 0, entries: 0 });
  });

  it('reports server errors in words', async () => {
    cache = makeCache({
      fetcher: async () =>
        new Response(JSON.stringify({ error: { code: 'not_found', message: 'No such stem: kazoo' } }), {
          status: 404,
        }),
    });
    await expect(cache.get('x', '/x')).rejects.toThrow('No such stem: kazoo');
  });

  it('gives every byte back on clear() and close() (leak test)', async () => {
    cache = makeCache();
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, `/k${i}?size=20`);
    expect(cache.memoryBytes).toBe(100);
    await cache.clear();
    expect(cache.memoryBytes).toBe(0);
    expect(cache.memoryEntries).toBe(0);
    expect(await cache.diskUsage()).toEqual({ bytes: 0, entries: 0 });
  });
});

describe('cacheSettingsFromStorage', () => {
  const storage = (value: string | null) => ({ getItem: (key: string) => (key === CACHE_SETTINGS_KEY ? value : null) });

  it('takes the positive numbers it knows, and nothing else', () => {
    expect(cacheSettingsFromStorage(storage('{"ttlMs": 4000, "diskBudgetBytes": 1e6, "memoryBudgetBytes": -1, "dbName": "x"}'))).toEqual({
      ttlMs: 4000,
      diskBudgetBytes: 1e6,
    });
  });

  it('ignores a missing, broken or unreadable setting', () => {
    expect(cacheSettingsFromStorage(storage(null))).toEqual({});
    expect(cacheSettingsFromStorage(storage('{not json'))).toEqual({});
    expect(cacheSettingsFromStorage(storage('[1, 2]'))).toEqual({});
    expect(cacheSettingsFromStorage({ getItem: () => { throw new DOMException('denied', 'SecurityError'); } })).toEqual({});
    expect(cacheSettingsFromStorage(null)).toEqual({});
  });
});
