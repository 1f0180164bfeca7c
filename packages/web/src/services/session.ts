/** What must survive a page reload: the open song, the running job, song metadata for offline use. */
import type { Song } from '../api/types';

const SESSION_KEY = 'riffroom.session';
const SONG_PREFIX = 'riffroom.song.';
const LIBRARY_KEY = 'riffroom.library';
/** The account (user id) whose songs the keys above describe. */
const OWNER_KEY = 'riffroom.owner';

export interface SavedSession {
  songId?: string;
  jobId?: string;
  fileName?: string;
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function read<T>(key: string): T | null {
  const raw = storage()?.getItem(key);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    storage()?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: reload restore is best effort.
  }
}

export const session = {
  load: (): SavedSession => read<SavedSession>(SESSION_KEY) ?? {},
  save: (value: SavedSession): void => write(SESSION_KEY, value),
  clear: (): void => storage()?.removeItem(SESSION_KEY),
  saveSong: (song: Song): void => write(SONG_PREFIX + song.id, song),
  loadSong: (id: string): Song | null => read<Song>(SONG_PREFIX + id),
  forgetSong: (id: string): void => storage()?.removeItem(SONG_PREFIX + id),
  saveLibrary: (songs: Song[]): void => write(LIBRARY_KEY, songs),
  loadLibrary: (): Song[] => read<Song[]>(LIBRARY_KEY) ?? [],
  owner: (): string | null => read<string>(OWNER_KEY),
  setOwner: (userId: string): void => write(OWNER_KEY, userId),
  /** Forget the open song, the running job, the library and every song's metadata (logout). */
  forgetAll: (): void => {
    const store = storage();
    if (!store) return;
    const keys: string[] = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (key !== null && (key.startsWith(SONG_PREFIX) || key === SESSION_KEY || key === LIBRARY_KEY || key === OWNER_KEY)) keys.push(key);
    }
    for (const key of keys) store.removeItem(key);
  },
};
