/**
 * What the stem cache keeps in IndexedDB: a meta record per entry (size, expiry, LRU time) and its
 * bytes, a Blob (entries written by earlier versions hold ArrayBuffers, read the same way).
 */
import type { DBSchema } from 'idb';

export interface MetaRecord {
  key: string;
  size: number;
  contentType: string;
  storedAt: number;
  lastUsed: number;
  expiresAt: number;
}

export interface CacheDB extends DBSchema {
  meta: { key: string; value: MetaRecord; indexes: { lastUsed: number } };
  blobs: { key: string; value: Blob | ArrayBuffer };
}

export function isBlob(data: Blob | ArrayBuffer): data is Blob {
  return typeof (data as Blob).slice === 'function' && typeof (data as Blob).arrayBuffer === 'function';
}

/** The bytes of a stored entry, read now. */
export function readAll(data: Blob | ArrayBuffer): Promise<ArrayBuffer> {
  return isBlob(data) ? data.arrayBuffer() : Promise.resolve(data);
}

export function isQuotaError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const name = (err as { name?: unknown }).name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}
