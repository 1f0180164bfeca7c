/**
 * An in-memory stand-in for the server's setlist and band routes, answered through the real
 * ApiClient, with the server's rules that the page relies on: only owners change a setlist or a
 * band (403 for a member, 404 for anyone outside), members are added by user name (404
 * "no user 'x'"), only a song's owner shares it, every error in the `{"error": {code, message}}`
 * shape. `refuseNext` makes the next change fail the way the server would refuse it.
 */
import { ApiClient } from '../src/api/client';
import type { Band } from '../src/api/bands';
import type { Setlist, SetlistEntryIn, SetSheet, SetlistSummary } from '../src/api/setlists';

interface SongRow {
  id: string;
  name: string;
  artist: string | null;
  duration: number;
  owner: string;
  key: string | null;
  bpm: number | null;
}

interface SetlistRow {
  id: string;
  name: string;
  owner: string;
  entries: SetlistEntryIn[];
}

interface BandRow {
  id: string;
  name: string;
  owner: string;
  members: { username: string; role: 'owner' | 'member'; added_at: number }[];
  songs: string[];
  setlists: string[];
}

type Refusal = { status: number; code: string; message: string };

const hex = (n: number) => n.toString(16).padStart(32, '0');

export class FakeRoomServer {
  /** The user every request is made as. */
  me = 'anna';
  readonly users = new Set(['anna', 'ben']);
  readonly songs = new Map<string, SongRow>();
  readonly setlists = new Map<string, SetlistRow>();
  readonly bands = new Map<string, BandRow>();
  /** Every request, in order (method, path, parsed body). */
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  private refusal: Refusal | null = null;
  private nextId = 1;

  addSong(song: Partial<SongRow> & { name: string }): string {
    const id = hex(this.nextId++);
    this.songs.set(id, { id, artist: null, duration: 180, owner: this.me, key: null, bpm: null, ...song });
    return id;
  }

  addSetlist(name: string, songIds: string[], owner = this.me): string {
    const id = hex(this.nextId++);
    this.setlists.set(id, { id, name, owner, entries: songIds.map((song_id) => ({ song_id, notes: '' })) });
    return id;
  }

  /** The next POST/PUT/PATCH/DELETE answers this error instead. */
  refuseNext(status: number, code: string, message: string): void {
    this.refusal = { status, code, message };
  }

  readonly fetcher: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input instanceof URL ? input.href : input, 'http://riffroom.test');
    const method = init?.method ?? 'GET';
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method, path, body });
    if (method !== 'GET' && this.refusal) {
      const r = this.refusal;
      this.refusal = null;
      return fail(r.status, r.code, r.message);
    }
    return this.route(method, path.split('/').slice(1), body);
  };

  readonly api = new ApiClient('', this.fetcher);

  private route(method: string, parts: string[], body: unknown): Response {
    const [api, resource, id, sub, subId] = parts;
    if (api !== 'api') return fail(404, 'not_found', 'no such route');
    if (resource === 'setlists') return this.setlistRoute(method, id, sub, body);
    if (resource === 'bands') return this.bandRoute(method, id, sub, subId, body);
    return fail(404, 'not_found', 'no such route');
  }

  // -- setlists ---------------------------------------------------------------------------

  private readableSongs(user: string): Set<string> {
    const shared = [...this.bands.values()].filter((b) => b.members.some((m) => m.username === user)).flatMap((b) => b.songs);
    return new Set([...this.songs.values()].filter((s) => s.owner === user || shared.includes(s.id)).map((s) => s.id));
  }

  private bandRefs(setlistId: string) {
    return [...this.bands.values()].filter((b) => b.setlists.includes(setlistId)).map((b) => ({ id: b.id, name: b.name }));
  }

  private setlistOut(row: SetlistRow): Setlist {
    const readable = this.readableSongs(this.me);
    const songs = row.entries
      .filter((e) => readable.has(e.song_id))
      .map((e, position) => {
        const song = this.songs.get(e.song_id) as SongRow;
        return { song_id: song.id, position, notes: e.notes ?? '', name: song.name, artist: song.artist, duration: song.duration };
      });
    const duration = songs.reduce((t, s) => t + s.duration, 0);
    return { id: row.id, name: row.name, owned: row.owner === this.me, bands: this.bandRefs(row.id), songs, duration, created_at: 1, updated_at: 2 };
  }

  private setlistRoute(method: string, id: string | undefined, sub: string | undefined, body: unknown): Response {
    if (!id) {
      if (method === 'GET') {
        const mine = [...this.setlists.values()].map((row) => this.setlistOut(row));
        const list: SetlistSummary[] = mine.map((s) => ({ id: s.id, name: s.name, owned: s.owned, bands: s.bands, song_count: s.songs.length, duration: s.duration, updated_at: s.updated_at }));
        return json(200, { setlists: list });
      }
      const { name, songs = [] } = body as { name: string; songs?: SetlistEntryIn[] };
      const row: SetlistRow = { id: hex(this.nextId++), name, owner: this.me, entries: songs };
      this.setlists.set(row.id, row);
      return json(201, this.setlistOut(row));
    }
    const row = this.setlists.get(id);
    if (!row) return fail(404, 'not_found', 'no such setlist');
    if (method === 'GET' && sub === 'sheet') {
      const out = this.setlistOut(row);
      const sheet: SetSheet = {
        title: row.name,
        songs: out.songs.map((s) => {
          const song = this.songs.get(s.song_id) as SongRow;
          return { position: s.position + 1, song_id: s.song_id, title: s.name, artist: s.artist, key: song.key, tempo_bpm: song.bpm, duration: s.duration, notes: s.notes };
        }),
        total_duration: out.duration,
      };
      return json(200, sheet);
    }
    if (method === 'GET') return json(200, this.setlistOut(row));
    if (row.owner !== this.me) return fail(403, 'forbidden', "only the setlist's owner can change it");
    if (method === 'DELETE') {
      this.setlists.delete(id);
      return new Response(null, { status: 204 });
    }
    if (method === 'PUT' && sub === 'order') {
      const { song_ids } = body as { song_ids: string[] };
      const current = row.entries.map((e) => e.song_id);
      if (song_ids.length !== current.length || song_ids.some((s) => !current.includes(s))) {
        return fail(422, 'invalid_request', `song_ids: list each of the setlist's ${current.length} songs once, in the new order`);
      }
      row.entries = song_ids.map((s) => row.entries.find((e) => e.song_id === s) as SetlistEntryIn);
      return json(200, this.setlistOut(row));
    }
    const patch = body as { name?: string; songs?: SetlistEntryIn[] };
    if (patch.name !== undefined) row.name = patch.name;
    if (patch.songs !== undefined) row.entries = patch.songs;
    return json(200, this.setlistOut(row));
  }

  // -- bands --------------------------------------------------------------------------------

  private bandOut(row: BandRow): Band {
    return { ...row, role: row.owner === this.me ? 'owner' : 'member', members: [...row.members], songs: [...row.songs], setlists: [...row.setlists], created_at: 1 };
  }

  private bandRoute(method: string, id: string | undefined, sub: string | undefined, subId: string | undefined, body: unknown): Response {
    if (!id) {
      if (method === 'GET') return json(200, { bands: [...this.bands.values()].filter((b) => b.members.some((m) => m.username === this.me)).map((b) => this.bandOut(b)) });
      const row: BandRow = { id: hex(this.nextId++), name: (body as { name: string }).name, owner: this.me, members: [{ username: this.me, role: 'owner', added_at: 1 }], songs: [], setlists: [] };
      this.bands.set(row.id, row);
      return json(201, this.bandOut(row));
    }
    const row = this.bands.get(id);
    if (!row || !row.members.some((m) => m.username === this.me)) return fail(404, 'not_found', 'no such band');
    const owner = row.owner === this.me;
    if (method === 'GET') return json(200, this.bandOut(row));
    if (!sub && method === 'DELETE') {
      if (!owner) return fail(403, 'forbidden', "only the band's owner can delete it");
      this.bands.delete(id);
      return new Response(null, { status: 204 });
    }
    if (sub === 'members' && method === 'POST') {
      if (!owner) return fail(403, 'forbidden', "only the band's owner can add members");
      const { username } = body as { username: string };
      if (!this.users.has(username)) return fail(404, 'not_found', `no user '${username}'`);
      if (!row.members.some((m) => m.username === username)) row.members.push({ username, role: 'member', added_at: 2 });
      return json(200, this.bandOut(row));
    }
    if (sub === 'members' && method === 'DELETE' && subId) {
      if (subId !== this.me && !owner) return fail(403, 'forbidden', "only the band's owner can remove other members");
      if (subId === row.owner) return fail(422, 'invalid_request', 'the owner cannot leave the band; delete it instead');
      row.members = row.members.filter((m) => m.username !== subId);
      return new Response(null, { status: 204 });
    }
    if (sub === 'songs' && method === 'POST') {
      const { song_id } = body as { song_id: string };
      if (this.songs.get(song_id)?.owner !== this.me) return fail(404, 'not_found', 'no such song');
      if (!row.songs.includes(song_id)) row.songs.push(song_id);
      return json(200, this.bandOut(row));
    }
    if (sub === 'songs' && method === 'DELETE' && subId) {
      if (!row.songs.includes(subId) || (!owner && this.songs.get(subId)?.owner !== this.me)) return fail(404, 'not_found', 'no such song in this band');
      row.songs = row.songs.filter((s) => s !== subId);
      return new Response(null, { status: 204 });
    }
    if (sub === 'setlists' && method === 'POST') {
      const { setlist_id } = body as { setlist_id: string };
      const setlist = this.setlists.get(setlist_id);
      if (setlist?.owner !== this.me) return fail(404, 'not_found', 'no such setlist');
      if (!row.setlists.includes(setlist_id)) row.setlists.push(setlist_id);
      for (const e of setlist.entries) if (this.songs.get(e.song_id)?.owner === this.me && !row.songs.includes(e.song_id)) row.songs.push(e.song_id);
      return json(200, this.bandOut(row));
    }
    if (sub === 'setlists' && method === 'DELETE' && subId) {
      if (!row.setlists.includes(subId)) return fail(404, 'not_found', 'no such setlist in this band');
      row.setlists = row.setlists.filter((s) => s !== subId);
      return new Response(null, { status: 204 });
    }
    return fail(405, 'method_not_allowed', 'method not allowed');
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function fail(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message } });
}
