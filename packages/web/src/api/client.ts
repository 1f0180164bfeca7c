/**
 * The one place that knows the server's URLs. Paths are keys of the generated
 * `paths` type, so a route renamed on the server breaks the build, not the app.
 */
import type { paths } from './schema';
import type { ApiToken, AudioFormat, Job, LoginRequest, Me, SeparationRequest, Song, SongList, TokenList, TokenRequest } from './types';
import type { Analysis, AnalysisCorrections } from './analysis';
import { normalisePracticeState, type PracticeLogIn, type PracticeLogOut, type PracticeOut, type PracticePut, type StaleRevision } from './practice';
import type { components } from './schema';
import { ApiError, NetworkError, errorFromResponse, parseRetryAfter } from './errors';
import { Emitter } from '../services/emitter';

type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? { [K in Name | keyof PathParams<Rest>]: string }
  : Record<never, never>;

/** Fill `{name}` placeholders of a schema path, escaping each value. */
export function apiPath<P extends Extract<keyof paths, string>>(path: P, params: PathParams<P>, query?: Record<string, string | number | undefined>): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent((params as Record<string, string>)[name] ?? ''),
  );
  const qs = query
    ? Object.entries(query)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  return qs ? `${filled}?${qs}` : filled;
}

type Schemas = components['schemas'];
const practicePath = (songId: string) => apiPath('/api/songs/{song_id}/practice', { song_id: songId });

export interface UploadOptions {
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

export class ApiClient {
  private readonly events = new Emitter<{ unauthorized: ApiError }>();

  constructor(
    readonly baseUrl = '',
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  url(path: string): string {
    return this.baseUrl + path;
  }

  /**
   * Called on every 401 from the API (the session ended or was never there), except from
   * login and logout themselves. Returns its unsubscribe function.
   */
  onUnauthorized(fn: (err: ApiError) => void): () => void {
    return this.events.on('unauthorized', fn);
  }

  private async fail(response: Response, reportUnauthorized = true): Promise<ApiError> {
    const err = await errorFromResponse(response);
    if (err.status === 401 && reportUnauthorized) this.events.emit('unauthorized', err);
    return err;
  }

  /** A plain same-origin fetch whose 401 is reported like the API's (the stem cache uses it). */
  readonly fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const response = await this.fetcher(url, init);
    if (response.status === 401) this.events.emit('unauthorized', await errorFromResponse(response.clone()));
    return response;
  };

  private async json<T>(path: string, init?: RequestInit, reportUnauthorized = true): Promise<T> {
    let response: Response;
    try {
      response = await this.fetcher(this.url(path), {
        ...init,
        headers: { Accept: 'application/json', ...(init?.body ? { 'Content-Type': 'application/json' } : {}) },
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new NetworkError(path, err);
    }
    if (!response.ok) throw await this.fail(response, reportUnauthorized);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** Whether login is required and who is logged in; never 401. */
  me(signal?: AbortSignal): Promise<Me> {
    return this.json(apiPath('/api/auth/me', {}), { signal });
  }

  /** Sets the session cookie (same origin, HttpOnly). 401: wrong name or password; 429: wait `retryAfterSeconds`. */
  login(username: string, password: string): Promise<Me> {
    const body: LoginRequest = { username, password };
    return this.json(apiPath('/api/auth/login', {}), { method: 'POST', body: JSON.stringify(body) }, false);
  }

  /** Revokes this session (and its WebSockets) and clears the cookie. */
  logout(): Promise<void> {
    return this.json(apiPath('/api/auth/logout', {}), { method: 'POST' }, false);
  }

  /** The account's API tokens (never their secrets). */
  listTokens(signal?: AbortSignal): Promise<ApiToken[]> {
    return this.json<TokenList>(apiPath('/api/auth/tokens', {}), { signal }).then((r) => r.tokens);
  }

  /** A new token for `Authorization: Bearer …`; its secret is in this answer only. */
  createToken(name: string): Promise<ApiToken> {
    const body: TokenRequest = { name };
    return this.json(apiPath('/api/auth/tokens', {}), { method: 'POST', body: JSON.stringify(body) });
  }

  revokeToken(tokenId: string): Promise<void> {
    return this.json(apiPath('/api/auth/tokens/{token_id}', { token_id: tokenId }), { method: 'DELETE' });
  }

  listSongs(signal?: AbortSignal): Promise<Song[]> {
    return this.json<SongList>(apiPath('/api/songs', {}), { signal }).then((r) => r.songs);
  }

  getSong(songId: string, signal?: AbortSignal): Promise<Song> {
    return this.json(apiPath('/api/songs/{song_id}', { song_id: songId }), { signal });
  }

  /** The song with this content hash, or null when the server does not have it. */
  async songByHash(sha256: string, signal?: AbortSignal): Promise<Song | null> {
    try {
      return await this.json<Song>(apiPath('/api/songs/by-hash/{sha256}', { sha256 }), { signal });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  deleteSong(songId: string): Promise<void> {
    return this.json(apiPath('/api/songs/{song_id}', { song_id: songId }), { method: 'DELETE' });
  }

  startSeparation(songId: string, request: SeparationRequest = {}): Promise<Job> {
    return this.json(apiPath('/api/songs/{song_id}/separations', { song_id: songId }), {
      method: 'POST',
      body: JSON.stringify(request),
    });
  }

  getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    return this.json(apiPath('/api/jobs/{job_id}', { job_id: jobId }), { signal });
  }

  cancelJob(jobId: string): Promise<Job> {
    return this.json(apiPath('/api/jobs/{job_id}/cancel', { job_id: jobId }), { method: 'POST' });
  }

  /**
   * The song's beats, bars, key, chords and sections. 409 `not_ready` (an ApiError) while the
   * analysis runs. The path is spelled out until the generated schema has it.
   */
  getAnalysis(songId: string, signal?: AbortSignal): Promise<Analysis> {
    return this.json(`/api/songs/${encodeURIComponent(songId)}/analysis`, { signal });
  }

  /** Replace the corrections; the answer is the analysis with them applied. */
  putAnalysisCorrections(songId: string, corrections: AnalysisCorrections): Promise<Analysis> {
    return this.json(`/api/songs/${encodeURIComponent(songId)}/analysis/corrections`, {
      method: 'PUT',
      body: JSON.stringify(corrections),
    });
  }

  /** The song's practice workspace for this user (revision 0 and the defaults until the first save). */
  async getPractice(songId: string, signal?: AbortSignal): Promise<PracticeOut> {
    const out = await this.json<Schemas['PracticeOut']>(practicePath(songId), { signal });
    return { ...out, state: normalisePracticeState(out.state) };
  }

  /**
   * Save the workspace on top of `body.revision`. A 409 `stale_revision` is an answer, not an
   * error: it carries what the server has now, for the caller to merge.
   */
  async putPractice(songId: string, body: PracticePut): Promise<{ ok: true; saved: PracticeOut } | { ok: false; stale: StaleRevision }> {
    const path = practicePath(songId);
    let response: Response;
    try {
      response = await this.fetcher(this.url(path), {
        method: 'PUT',
        body: JSON.stringify(body),
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      });
    } catch (err) {
      throw new NetworkError(path, err);
    }
    if (response.status === 409) {
      const stale = (await response.clone().json().catch(() => null)) as Schemas['StaleRevisionOut'] | null;
      if (stale?.error?.code === 'stale_revision' && stale.state) return { ok: false, stale: { ...stale, state: normalisePracticeState(stale.state) } };
    }
    if (!response.ok) throw await this.fail(response);
    const saved = (await response.json()) as Schemas['PracticeOut'];
    return { ok: true, saved: { ...saved, state: normalisePracticeState(saved.state) } };
  }

  /** Report practised time; a session whose id the server already has is not counted again. */
  postPracticeLog(songId: string, body: PracticeLogIn): Promise<{ added: number }> {
    return this.json(apiPath('/api/songs/{song_id}/practice/log', { song_id: songId }), { method: 'POST', body: JSON.stringify(body) });
  }

  /** Totals per day and per loop over the last `days` days, in this browser's time zone. */
  getPracticeLog(songId: string, days = 7, signal?: AbortSignal): Promise<PracticeLogOut> {
    const offset = -new Date().getTimezoneOffset();
    return this.json(apiPath('/api/songs/{song_id}/practice/log', { song_id: songId }, { days, tz_offset_minutes: offset }), { signal });
  }

  stemUrl(songId: string, stem: string, format: AudioFormat = 'wav'): string {
    return this.url(apiPath('/api/songs/{song_id}/stems/{stem}', { song_id: songId, stem }, { format }));
  }

  /** Seconds `start`..`end` of a stem, sample-exact, also while its job still runs (WAV: the exact samples). */
  stemRangeUrl(songId: string, stem: string, start: number, end: number, format: 'wav' | 'flac' = 'wav'): string {
    return this.url(apiPath('/api/songs/{song_id}/stems/{stem}', { song_id: songId, stem }, { format, start, end }));
  }

  /**
   * A range of a running job's stem: its bytes, or null when the separation makes no such stem
   * (404). Past the frontier the server answers 409 `not_ready`: thrown as an ApiError.
   */
  async stemRange(songId: string, stem: string, start: number, end: number, signal?: AbortSignal): Promise<ArrayBuffer | null> {
    const response = await this.fetch(this.stemRangeUrl(songId, stem, start, end), { signal, cache: 'no-store' });
    if (response.status === 404) return null;
    if (!response.ok) throw await errorFromResponse(response);
    return response.arrayBuffer();
  }

  peaksUrl(songId: string, stem: string, points: number): string {
    return this.url(apiPath('/api/songs/{song_id}/peaks', { song_id: songId }, { stem, points }));
  }

  /** Streamed multipart upload (field `file`) with progress; resolves to the stored song. */
  uploadSong(file: File, { onProgress, signal }: UploadOptions = {}): Promise<Song> {
    return new Promise<Song>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      const done = () => signal?.removeEventListener('abort', onAbort);
      xhr.open('POST', this.url(apiPath('/api/songs', {})));
      xhr.responseType = 'text';
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (ev) => onProgress?.(ev.loaded, ev.lengthComputable ? ev.total : file.size);
      xhr.onload = () => {
        done();
        const headers: Record<string, string> = { 'content-type': xhr.getResponseHeader('content-type') ?? 'application/json' };
        const retryAfter = xhr.getResponseHeader('retry-after');
        if (retryAfter !== null && parseRetryAfter(retryAfter) !== null) headers['retry-after'] = retryAfter;
        const response = new Response(xhr.responseText, { status: xhr.status, headers });
        if (xhr.status >= 200 && xhr.status < 300) {
          response.json().then((body) => resolve(body as Song), reject);
        } else {
          this.fail(response).then(reject, reject);
        }
      };
      xhr.onerror = () => {
        done();
        reject(new NetworkError('upload'));
      };
      xhr.onabort = () => {
        done();
        reject(new DOMException('Upload cancelled', 'AbortError'));
      };
      if (signal?.aborted) {
        reject(new DOMException('Upload cancelled', 'AbortError'));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  }
}
