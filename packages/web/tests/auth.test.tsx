import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { ApiClient } from '../src/api/client';
import { ApiError, errorFromResponse, parseRetryAfter } from '../src/api/errors';
import type { Job, Me, Song } from '../src/api/types';
import { LoginForm } from '../src/components/auth/LoginForm';
import { createAppServices } from '../src/services/appServices';
import { AuthStore } from '../src/services/auth';
import { session } from '../src/services/session';
import { makeSong } from './songs';
import { FakeSocket, lastSocket } from './fakeSocket';
import { liveObjectUrls } from './setup';

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const apiError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json({ error: { code, message } }, status, headers);

const alice = { id: 'u1', username: 'alice' };
const song: Song = makeSong('s1', []);
const runningJob: Job = { id: 'j1', song_id: 's1', state: 'running', progress: 0.4, stage: 'separating', eta_seconds: 9, error: null };

/** A scripted server: logged in after a good login, logged out after logout or `expire()`. */
function fakeServer() {
  const calls: string[] = [];
  const state = { loggedIn: false, failLogin: null as Response | null, password: 'secret' };
  const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    const me = (): Me => ({ auth_required: true, user: state.loggedIn ? alice : null });
    if (url === '/api/auth/me') return json(me());
    if (url === '/api/auth/login') {
      if (state.failLogin) return state.failLogin;
      const body = JSON.parse(init?.body as string) as { username: string; password: string };
      if (body.username !== 'alice' || body.password !== state.password) {
        return apiError(401, 'invalid_credentials', 'wrong user name or password');
      }
      state.loggedIn = true;
      return json(me());
    }
    if (url === '/api/auth/logout') {
      state.loggedIn = false;
      return new Response(null, { status: 204 });
    }
    if (!state.loggedIn) return apiError(401, 'unauthorized', 'log in first');
    if (url === '/api/songs') return json({ songs: [song] });
    if (url === '/api/songs/s1') return json(song);
    if (url === '/api/jobs/j1') return json(runningJob);
    return apiError(404, 'not_found', 'no such thing');
  });
  return { fetcher, calls, state };
}

let dbn = 0;
function renderApp(server = fakeServer()) {
  const services = createAppServices({
    fetcher: server.fetcher as unknown as typeof fetch,
    createWebSocket: (url) => new FakeSocket(url),
    cacheName: `auth-${++dbn}`,
  });
  const view = render(<App services={services} />);
  return { services, server, ...view };
}

/** alice logged in with job j1 of song s1 saved from an earlier visit; resolves once its socket exists. */
async function openWithSavedJob(saved: Parameters<typeof session.save>[0] = { songId: 's1', jobId: 'j1' }) {
  const server = fakeServer();
  server.state.loggedIn = true;
  session.setOwner('u1');
  session.save(saved);
  const app = renderApp(server);
  await waitFor(() => expect(FakeSocket.all).toHaveLength(1));
  return app;
}

function fill(password = 'secret') {
  fireEvent.change(screen.getByLabelText('User name'), { target: { value: 'alice' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
}

async function logIn(password = 'secret') {
  await screen.findByLabelText('User name');
  fill(password);
}

beforeEach(() => {
  FakeSocket.reset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('errors', () => {
  it('reads Retry-After as seconds or a date, and shows people-facing server messages as sentences', async () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const err = await errorFromResponse(apiError(429, 'too_many_requests', 'too many failed logins; try again in 7 s', { 'Retry-After': '7' }));
    expect(err).toMatchObject({ status: 429, code: 'too_many_requests', retryAfterSeconds: 7, message: 'Too many failed logins; try again in 7 s.' });
    const quota = await errorFromResponse(apiError(429, 'quota_exceeded', 'you have 3 songs, the most one account may keep; delete some to upload more'));
    expect(quota.message).toBe('You have 3 songs, the most one account may keep; delete some to upload more.');
  });
});

describe('ApiClient', () => {
  it('reports a 401 from any API route, but not from login itself', async () => {
    const { fetcher } = fakeServer();
    const api = new ApiClient('', fetcher);
    const seen: ApiError[] = [];
    api.onUnauthorized((e) => seen.push(e));
    await expect(api.listSongs()).rejects.toMatchObject({ status: 401 });
    expect((await api.fetch('/api/songs/s1/stems/vocals')).status).toBe(401);
    expect(seen).toHaveLength(2);
    await expect(api.login('alice', 'nope')).rejects.toMatchObject({ status: 401, message: 'Wrong user name or password.' });
    expect(seen).toHaveLength(2);
    expect(await api.me()).toEqual({ auth_required: true, user: null });
  });
});

describe('AuthStore', () => {
  it('asks /api/auth/me: login needed, logged in, or no accounts', async () => {
    const server = fakeServer();
    const store = new AuthStore(new ApiClient('', server.fetcher));
    expect(store.getSnapshot()).toEqual({ status: 'checking' });
    expect(await store.start()).toEqual({ status: 'login', notice: null });
    server.state.loggedIn = true;
    expect(await store.start()).toEqual({ status: 'ready', authRequired: true, user: alice });
    const local = new AuthStore(new ApiClient('', async () => json({ auth_required: false, user: null })));
    expect(await local.start()).toEqual({ status: 'ready', authRequired: false, user: null });
  });

  it('carries on without a login when the server cannot be reached (cached songs still play)', async () => {
    const store = new AuthStore(new ApiClient('', async () => Promise.reject(new TypeError('offline'))));
    expect(await store.start()).toEqual({ status: 'ready', authRequired: false, user: null });
  });

  it('forgets the last account’s saved songs when another account logs in, and on logout', async () => {
    const server = fakeServer();
    const forget = vi.fn();
    const store = new AuthStore(new ApiClient('', server.fetcher), { forget });
    session.setOwner('someone-else');
    session.save({ songId: 's9', jobId: 'j9' });
    session.saveLibrary([song]);
    session.saveSong(song);
    await store.login('alice', 'secret');
    expect(session.load()).toEqual({});
    expect(session.loadLibrary()).toEqual([]);
    expect(session.loadSong('s1')).toBeNull();
    expect(session.owner()).toBe('u1');
    expect(forget).toHaveBeenCalledTimes(1);
    // The same account again keeps what it saved (a reload, a session that ran out).
    session.save({ songId: 's1' });
    await store.login('alice', 'secret');
    expect(session.load()).toEqual({ songId: 's1' });
    await store.logout();
    expect(session.load()).toEqual({});
    expect(forget).toHaveBeenCalledTimes(2);
    expect(store.getSnapshot()).toEqual({ status: 'login', notice: 'You are logged out.' });
  });
});

describe('LoginForm', () => {
  it('is labelled, focuses the user name, and announces a wrong password', async () => {
    const onLogin = vi.fn(() => Promise.reject(new ApiError(401, 'invalid_credentials', 'Wrong user name or password.')));
    render(<LoginForm onLogin={onLogin} />);
    const user = screen.getByLabelText('User name');
    expect(document.activeElement).toBe(user);
    expect(user).toHaveProperty('autocomplete', 'username');
    expect(screen.getByLabelText('Password')).toHaveProperty('type', 'password');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByRole('alert').textContent).toBe('Enter your user name and password.');
    expect(onLogin).not.toHaveBeenCalled();
    await logIn('nope');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Wrong user name or password.'));
    const password = screen.getByLabelText('Password');
    expect(onLogin).toHaveBeenCalledWith('alice', 'nope');
    expect(document.activeElement).toBe(password);
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(password.getAttribute('aria-describedby')).toBe(screen.getByRole('alert').id);
    expect((password as HTMLInputElement).value).toBe('');
  });

  it('after a 429, shows the message and disables the button for Retry-After seconds', async () => {
    vi.useFakeTimers();
    const onLogin = vi.fn(() => Promise.reject(new ApiError(429, 'too_many_requests', 'Too many failed logins; try again in 3 s.', 3)));
    render(<LoginForm onLogin={onLogin} />);
    fill('x');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByRole('alert').textContent).toBe('Too many failed logins; try again in 3 s.');
    const button = screen.getByRole('button', { name: /Try again in 3 s/ });
    expect(button).toHaveProperty('disabled', true);
    fireEvent.click(button);
    expect(onLogin).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2000);
    });
    expect(screen.getByRole('button', { name: /Try again in 1 s/ })).toHaveProperty('disabled', true);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(screen.getByRole('button', { name: 'Log in' })).toHaveProperty('disabled', false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its countdown timer when unmounted', async () => {
    vi.useFakeTimers();
    const onLogin = () => Promise.reject(new ApiError(429, 'too_many_requests', 'Wait.', 60));
    const { unmount } = render(<LoginForm onLogin={onLogin} />);
    fill('x');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(vi.getTimerCount()).toBe(1);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('App with accounts', () => {
  it('shows the login form when login is required, then the library; logout returns to the form', async () => {
    const { server } = renderApp();
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Library' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Log out' })).toBeNull();
    await logIn('wrong');
    expect(await screen.findByText('Wrong user name or password.')).toBeTruthy();
    await logIn();
    expect(await screen.findByRole('heading', { name: 'Library' })).toBeTruthy();
    expect(await screen.findByRole('button', { name: 'Open Song s1' })).toBeTruthy();
    expect(screen.getByTestId('user-name').textContent).toBe('alice');
    const login = server.fetcher.mock.calls.filter(([url]) => url === '/api/auth/login').at(-1)?.[1];
    expect(login?.method).toBe('POST');
    expect(JSON.parse(login?.body as string)).toEqual({ username: 'alice', password: 'secret' });
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(screen.getByText('You are logged out.')).toBeTruthy();
    expect(server.calls).toContain('POST /api/auth/logout');
    expect(screen.queryByRole('heading', { name: 'Library' })).toBeNull();
  });

  it('a 401 brings the login form and the job socket stops; after login the job resumes on a new socket', async () => {
    const { services, server } = await openWithSavedJob({ songId: 's1', jobId: 'j1', fileName: 'song.wav' });
    const first = lastSocket();
    act(() => first.accept());
    expect(first.sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);

    // The session ends on the server: it closes the socket with 4401.
    server.state.loggedIn = false;
    act(() => first.serverClose(4401));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(screen.getByText('Your session has ended. Log in again to go on.')).toBeTruthy();
    expect(FakeSocket.open).toBe(0);
    await new Promise((r) => setTimeout(r, 700)); // longer than the first backoff (at most 500 ms)
    expect(FakeSocket.all).toHaveLength(1);
    expect(session.load().jobId).toBe('j1'); // kept for after the login

    await logIn();
    await waitFor(() => expect(FakeSocket.all).toHaveLength(2));
    act(() => lastSocket().accept());
    expect(lastSocket().sentOfType('subscribe')).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);
    expect(await screen.findByTestId('work-status')).toBeTruthy();
    services.auth.dispose();
  });

  it('logout releases the running job: no socket or object URL is left, nothing reconnects or polls', async () => {
    const { server } = await openWithSavedJob();
    act(() => lastSocket().accept());
    expect(FakeSocket.open).toBe(1);
    fireEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(FakeSocket.open).toBe(0);
    expect(liveObjectUrls.size).toBe(0);
    expect(session.load()).toEqual({}); // nothing of alice's is restored for the next person
    await new Promise((r) => setTimeout(r, 700));
    expect(FakeSocket.all).toHaveLength(1);
    expect(server.calls.filter((c) => c.startsWith('GET /api/jobs/'))).toHaveLength(1); // no polling after logout
  });

  it('a handshake refused for want of a login does not loop: it asks /api/auth/me once and shows the form', async () => {
    const { server } = await openWithSavedJob();
    server.state.loggedIn = false;
    const meCalls = () => server.calls.filter((c) => c === 'GET /api/auth/me').length;
    const before = meCalls();
    act(() => lastSocket().serverClose()); // refused before it opened
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    await new Promise((r) => setTimeout(r, 700));
    expect(FakeSocket.all).toHaveLength(1);
    expect(meCalls() - before).toBe(1);
  });
});
