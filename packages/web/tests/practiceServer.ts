/**
 * An in-memory stand-in for the server's practice routes, answered through the real ApiClient:
 * revisions, 409 `stale_revision` with the current state, the practice log with ids that are
 * stored once. `online = false` makes every request fail as a network error would.
 */
import { ApiClient } from '../src/api/client';
import type { PracticeLogIn, PracticeSession, PracticeState } from '../src/api/practice';
import { defaultPracticeState } from '../src/api/practice';

export class FakePracticeServer {
  online = true;
  readonly workspaces = new Map<string, { revision: number; state: PracticeState }>();
  readonly sessions = new Map<string, PracticeSession>();
  puts = 0;
  posts = 0;

  readonly fetcher: typeof fetch = async (input, init) => {
    if (!this.online) throw new TypeError('Failed to fetch');
    const url = new URL(input instanceof Request ? input.url : input instanceof URL ? input.href : input, 'http://riffroom.test');
    const match = /^\/api\/songs\/([^/]+)\/practice(\/log)?$/.exec(url.pathname);
    if (!match) return json(404, { error: { code: 'not_found', message: 'no such route' } });
    const songId = decodeURIComponent(match[1] ?? '');
    const method = init?.method ?? 'GET';
    if (match[2]) {
      if (method !== 'POST') return json(405, {});
      this.posts += 1;
      const body = JSON.parse(init?.body as string) as PracticeLogIn;
      let added = 0;
      for (const s of body.sessions) {
        if (!this.sessions.has(s.id)) {
          this.sessions.set(s.id, s);
          added += 1;
        }
      }
      return json(201, { added });
    }
    const current = this.workspaces.get(songId) ?? { revision: 0, state: defaultPracticeState() };
    if (method === 'GET') return json(200, current);
    this.puts += 1;
    const body = JSON.parse(init?.body as string) as { revision: number; state: PracticeState };
    if (body.revision !== current.revision) {
      return json(409, { error: { code: 'stale_revision', message: 'changed elsewhere' }, ...current });
    }
    const saved = { revision: current.revision + 1, state: body.state };
    this.workspaces.set(songId, saved);
    return json(200, saved);
  };

  readonly api = new ApiClient('', this.fetcher);

  /** Another device saved `state` on top of the current revision. */
  saveFromElsewhere(songId: string, change: (s: PracticeState) => PracticeState): void {
    const current = this.workspaces.get(songId) ?? { revision: 0, state: defaultPracticeState() };
    this.workspaces.set(songId, { revision: current.revision + 1, state: change(structuredClone(current.state)) });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
