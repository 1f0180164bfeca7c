/**
 * The band room (`/api/bands`): bands, their members (added by user name), and the songs and
 * setlists shared with them. Only an owner changes a band; the shapes are the generated models.
 */
import type { ApiClient } from './client';
import { apiPath } from './client';
import { requestJson } from './jsonRequest';
import type { components } from './schema';

type Schemas = components['schemas'];

export type Band = Schemas['BandOut'];
export type BandMember = Schemas['BandMemberOut'];

const one = (bandId: string) => apiPath('/api/bands/{band_id}', { band_id: bandId });

export class BandsApi {
  constructor(private readonly api: ApiClient) {}

  /** The bands the caller is in, with members and what is shared. */
  list(signal?: AbortSignal): Promise<Band[]> {
    return requestJson<Schemas['BandList']>(this.api, apiPath('/api/bands', {}), { signal }).then((r) => r.bands);
  }

  get(bandId: string, signal?: AbortSignal): Promise<Band> {
    return requestJson(this.api, one(bandId), { signal });
  }

  /** 409 `accounts_required` on a server without accounts. */
  create(name: string): Promise<Band> {
    const body: Schemas['BandCreate'] = { name };
    return requestJson(this.api, apiPath('/api/bands', {}), { method: 'POST', body });
  }

  remove(bandId: string): Promise<void> {
    return requestJson(this.api, one(bandId), { method: 'DELETE' });
  }

  invite(bandId: string, username: string): Promise<Band> {
    const body: Schemas['BandMemberIn'] = { username };
    return requestJson(this.api, apiPath('/api/bands/{band_id}/members', { band_id: bandId }), { method: 'POST', body });
  }

  /** The owner removes a member, or a member leaves (their own name). */
  removeMember(bandId: string, username: string): Promise<void> {
    return requestJson(this.api, apiPath('/api/bands/{band_id}/members/{username}', { band_id: bandId, username }), { method: 'DELETE' });
  }

  shareSong(bandId: string, songId: string): Promise<Band> {
    const body: Schemas['BandSongIn'] = { song_id: songId };
    return requestJson(this.api, apiPath('/api/bands/{band_id}/songs', { band_id: bandId }), { method: 'POST', body });
  }

  unshareSong(bandId: string, songId: string): Promise<void> {
    return requestJson(this.api, apiPath('/api/bands/{band_id}/songs/{song_id}', { band_id: bandId, song_id: songId }), { method: 'DELETE' });
  }

  shareSetlist(bandId: string, setlistId: string): Promise<Band> {
    const body: Schemas['BandSetlistIn'] = { setlist_id: setlistId };
    return requestJson(this.api, apiPath('/api/bands/{band_id}/setlists', { band_id: bandId }), { method: 'POST', body });
  }

  unshareSetlist(bandId: string, setlistId: string): Promise<void> {
    return requestJson(this.api, apiPath('/api/bands/{band_id}/setlists/{setlist_id}', { band_id: bandId, setlist_id: setlistId }), { method: 'DELETE' });
  }
}
