/**
 * Setlists (`/api/setlists`): an owner's ordered songs with notes per song, and the printable
 * set sheet. The shapes are the server's generated models.
 */
import type { ApiClient } from './client';
import { apiPath } from './client';
import { requestJson } from './jsonRequest';
import type { components } from './schema';

type Schemas = components['schemas'];

export type SetlistSummary = Schemas['SetlistSummary'];
export type Setlist = Schemas['SetlistOut'];
export type SetlistEntry = Schemas['SetlistEntryOut'];
export type SetlistEntryIn = Schemas['SetlistEntryIn'];
export type SetSheet = Schemas['SetSheetOut'];
export type SetSheetSong = Schemas['SetSheetSong'];

const one = (setlistId: string) => apiPath('/api/setlists/{setlist_id}', { setlist_id: setlistId });

export class SetlistsApi {
  constructor(private readonly api: ApiClient) {}

  /** The caller's setlists and those shared with a band the caller is in, newest change first. */
  list(signal?: AbortSignal): Promise<SetlistSummary[]> {
    return requestJson<Schemas['SetlistList']>(this.api, apiPath('/api/setlists', {}), { signal }).then((r) => r.setlists);
  }

  get(setlistId: string, signal?: AbortSignal): Promise<Setlist> {
    return requestJson(this.api, one(setlistId), { signal });
  }

  create(name: string, songs: SetlistEntryIn[] = []): Promise<Setlist> {
    const body: Schemas['SetlistCreate'] = { name, songs };
    return requestJson(this.api, apiPath('/api/setlists', {}), { method: 'POST', body });
  }

  rename(setlistId: string, name: string): Promise<Setlist> {
    const body: Schemas['SetlistPatch'] = { name };
    return requestJson(this.api, one(setlistId), { method: 'PATCH', body });
  }

  /** Replace the songs (in order, with their notes). */
  setSongs(setlistId: string, songs: SetlistEntryIn[]): Promise<Setlist> {
    const body: Schemas['SetlistPatch'] = { songs };
    return requestJson(this.api, one(setlistId), { method: 'PATCH', body });
  }

  /** Put the songs in this order (each of them once). */
  reorder(setlistId: string, songIds: string[]): Promise<Setlist> {
    const body: Schemas['SetlistOrder'] = { song_ids: songIds };
    return requestJson(this.api, apiPath('/api/setlists/{setlist_id}/order', { setlist_id: setlistId }), { method: 'PUT', body });
  }

  remove(setlistId: string): Promise<void> {
    return requestJson(this.api, one(setlistId), { method: 'DELETE' });
  }

  /** Title, artist, key, tempo, duration and notes per song, as printed. */
  sheet(setlistId: string, signal?: AbortSignal): Promise<SetSheet> {
    return requestJson(this.api, apiPath('/api/setlists/{setlist_id}/sheet', { setlist_id: setlistId }), { signal });
  }
}

/** The entries as the server takes them back (order and notes kept). */
export const entriesIn = (entries: readonly Pick<SetlistEntry, 'song_id' | 'notes'>[]): SetlistEntryIn[] =>
  entries.map((e) => ({ song_id: e.song_id, notes: e.notes }));
