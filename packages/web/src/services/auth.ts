/**
 * Who is using the page: the answer of `GET /api/auth/me` (the app's first call), kept current
 * by login, logout and every 401 the API answers.
 *
 *   const auth = new AuthStore(api);
 *   await auth.start();             // 'checking' → 'ready' | 'login'
 *   auth.subscribe(render);         // useSyncExternalStore(auth.subscribe, auth.getSnapshot)
 *
 * 'ready' means the practice room may run (no login needed, or logged in as `user`); 'login'
 * means the login form is shown and nothing else talks to the API. A server that cannot be
 * reached at start counts as 'ready' (no login known to be needed), so cached songs still play.
 */
import type { ApiClient } from '../api/client';
import { ApiError, NetworkError } from '../api/errors';
import type { User } from '../api/types';
import { Emitter } from './emitter';
import { session } from './session';

export type AuthState =
  | { status: 'checking' }
  | { status: 'ready'; authRequired: boolean; user: User | null }
  | { status: 'login'; notice: string | null };

export interface AuthStoreOptions {
  /** Also forget on logout or a change of account (e.g. the stem cache); errors are ignored. */
  forget?: () => Promise<void> | void;
}

export class AuthStore {
  private state: AuthState = { status: 'checking' };
  private readonly emitter = new Emitter<{ change: AuthState }>();
  private readonly offUnauthorized: () => void;

  constructor(
    private readonly api: ApiClient,
    private readonly options: AuthStoreOptions = {},
  ) {
    this.offUnauthorized = api.onUnauthorized(() => this.unauthorized());
  }

  readonly subscribe = (fn: () => void): (() => void) => this.emitter.on('change', fn);
  readonly getSnapshot = (): AuthState => this.state;

  private set(state: AuthState): void {
    this.state = state;
    this.emitter.emit('change', state);
  }

  /** Ask the server whether a login is needed and who we are. */
  async start(signal?: AbortSignal): Promise<AuthState> {
    try {
      const me = await this.api.me(signal);
      if (signal?.aborted) return this.state;
      if (me.auth_required && !me.user) this.set({ status: 'login', notice: null });
      else this.enter(me.auth_required, me.user);
    } catch (err) {
      if (signal?.aborted || (err instanceof DOMException && err.name === 'AbortError')) return this.state;
      // Unreachable (or not answering properly): carry on as without accounts; the first 401 brings the form.
      if (err instanceof NetworkError || err instanceof ApiError) this.enter(false, null);
      else throw err;
    }
    return this.state;
  }

  /** POST /api/auth/login; rejects with the ApiError (401 wrong password, 429 wait) for the form. */
  async login(username: string, password: string): Promise<User | null> {
    const me = await this.api.login(username, password);
    this.enter(me.auth_required, me.user);
    return me.user;
  }

  /** POST /api/auth/logout, forget what this browser kept about the account, show the form. */
  async logout(): Promise<void> {
    try {
      await this.api.logout();
    } catch (err) {
      // Already logged out is logged out; anything else (server unreachable) keeps the session.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    }
    this.forget();
    this.set({ status: 'login', notice: 'You are logged out.' });
  }

  /** A 401 from the API or a WebSocket refused for want of a login. */
  unauthorized(): void {
    if (this.state.status === 'login') return;
    const wasIn = this.state.status === 'ready' && this.state.user !== null;
    this.set({ status: 'login', notice: wasIn ? 'Your session has ended. Log in again to go on.' : null });
  }

  dispose(): void {
    this.offUnauthorized();
    this.emitter.clear();
  }

  private forget(): void {
    session.forgetAll();
    try {
      void Promise.resolve(this.options.forget?.()).catch(() => {});
    } catch {
      // Best effort: a cache that cannot be cleared holds only bytes keyed by unguessable ids.
    }
  }

  private enter(authRequired: boolean, user: User | null): void {
    // Another account on this browser: what the last one left for reload/offline is not theirs.
    if (user && session.owner() !== user.id) {
      this.forget();
      session.setOwner(user.id);
    }
    this.set({ status: 'ready', authRequired, user });
  }
}
