/**
 * The browser's copy of practice data (IndexedDB via idb): each song's workspace with the
 * revision and base it was last synced at, and the practice-log sessions not yet delivered.
 * It is what works offline; a failing IndexedDB (private mode, quota) leaves only the server.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { PracticeSession, PracticeState } from '../api/practice';

export interface StoredWorkspace {
  songId: string;
  /** The server revision `base` is. */
  revision: number;
  /** The state last synced with the server: the merge base. */
  base: PracticeState;
  /** What this device has now. */
  current: PracticeState;
  /** `current` has changes the server has not acknowledged. */
  dirty: boolean;
}

export interface PendingSession {
  id: string;
  songId: string;
  session: PracticeSession;
}

interface PracticeSchema extends DBSchema {
  workspaces: { key: string; value: StoredWorkspace };
  log: { key: string; value: PendingSession };
}

export type PracticeDb = IDBPDatabase<PracticeSchema>;

export const PRACTICE_DB = 'riffroom-practice';

/** Opens (or makes) the database; null when the browser has none or refuses it. */
export async function openPracticeDb(name = PRACTICE_DB): Promise<PracticeDb | null> {
  if (typeof indexedDB === 'undefined') return null;
  try {
    return await openDB<PracticeSchema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('workspaces', { keyPath: 'songId' });
        db.createObjectStore('log', { keyPath: 'id' });
      },
    });
  } catch {
    return null;
  }
}

/** Forget everything practice-related on this device (logout, a change of account). */
export async function clearPracticeDb(db: PracticeDb | null): Promise<void> {
  if (!db) return;
  const tx = db.transaction(['workspaces', 'log'], 'readwrite');
  await Promise.all([tx.objectStore('workspaces').clear(), tx.objectStore('log').clear(), tx.done]);
}
