/**
 * The page's stem-cache settings, and how tools outside the app see its cache. Overrides come
 * from localStorage and the cache is announced with an event, so the app keeps no global.
 */
import type { StemCache, StemCacheOptions } from './cacheManager';

/**
 * localStorage key whose JSON (`{"ttlMs", "memoryBudgetBytes", "diskBudgetBytes"}`, any subset,
 * positive numbers) overrides the page's cache settings when it starts: the end-to-end tests
 * use it to see expiry and the budget in seconds and kilobytes instead of days and gigabytes.
 */
export const CACHE_SETTINGS_KEY = 'riffroom.cache.settings';

export type CacheSettings = Pick<StemCacheOptions, 'ttlMs' | 'memoryBudgetBytes' | 'diskBudgetBytes'>;

/** The overrides saved under CACHE_SETTINGS_KEY ({} when none, or when they are not valid). */
export function cacheSettingsFromStorage(storage?: Pick<Storage, 'getItem'> | null): CacheSettings {
  let parsed: unknown;
  try {
    // Reading localStorage itself throws where storage is disabled.
    const store = storage === undefined ? (globalThis.localStorage ?? null) : storage;
    const raw = store?.getItem(CACHE_SETTINGS_KEY);
    if (!raw) return {};
    parsed = JSON.parse(raw);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const out: CacheSettings = {};
  for (const name of ['ttlMs', 'memoryBudgetBytes', 'diskBudgetBytes'] as const) {
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) out[name] = value;
  }
  return out;
}

/**
 * The page announces its stem cache with this event on `window` (`detail`: the cache). The app
 * never listens; the end-to-end tests keep it (with an init script) to read its memory tier.
 */
export const CACHE_EVENT = 'riffroom:cache';

export function announceCache(cache: StemCache): void {
  if (typeof window === 'undefined' || typeof CustomEvent === 'undefined') return;
  window.dispatchEvent(new CustomEvent<StemCache>(CACHE_EVENT, { detail: cache }));
}
