/**
 * Reconnecting client for the server's job-event WebSocket (`/api/ws`).
 *
 *   const socket = new JobEventsSocket({ url: wsUrl('/api/ws') });
 *   const off = socket.on('final', (job) => console.log(job.state));
 *   socket.subscribe([jobId]);
 *   // later: off(); socket.disconnect();
 *
 * Guarantees: reconnects with exponential backoff and full jitter; never after an
 * intentional disconnect(); every timer it starts is tracked and cleared on
 * disconnect(); app-level heartbeat (answers ping, and treats silence as a dead
 * link); on every (re)connect it subscribes again and resumes from the last seen
 * per-job sequence numbers; each job's final event reaches listeners exactly once.
 *
 * Login: a close with code 4401 (the server logged this session out) never reconnects; nor does
 * a handshake the server refused when `authCheck` then says we are not logged in (a browser
 * sees a refused handshake only as code 1006, so it has to ask). Either way the status becomes
 * 'unauthorized', the `unauthorized` event fires once, and only a later connect() (after a
 * login) opens the socket again, resubscribing and resuming as after any reconnect.
 *
 * This file is the transport (socket, reconnect, heartbeat); what each frame means for the
 * followed jobs is the pure reducer in `jobEvents.ts`.
 */
import { Emitter } from './emitter';
import type { ClientMessage, Job } from '../api/types';
import {
  initialJobEventsState,
  parseServerMessage,
  reduceJobEvents,
  type JobEventsInput,
  type JobEventsState,
  type JobSocketProblem,
} from './jobEvents';

export type { JobSocketProblem } from './jobEvents';

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized';

/** Close code the server uses when it ends a logged-out session's socket. */
export const CLOSE_UNAUTHORIZED = 4401;

export type JobSocketEvents = {
  /** Every change to a subscribed job (snapshot, progress or final). */
  job: Job;
  /** A job reached done/failed/cancelled; delivered once per job, across reconnects. */
  final: Job;
  status: ConnectionStatus;
  /** The server refused us for want of a login; no reconnect until connect() is called again. */
  unauthorized: void;
  /**
   * The server reported an error frame; `not_found` with a `jobId` means that job is not (or no
   * longer) the caller's to follow, and it is no longer followed.
   */
  error: JobSocketProblem;
};

/** The part of the browser WebSocket we use; tests pass a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface JobSocketOptions {
  url: string;
  createSocket?: WebSocketFactory;
  /** First backoff ceiling; doubles on every failed attempt up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No message (not even a ping) for this long means the link is dead. */
  heartbeatTimeoutMs?: number;
  /** A socket that is not open after this long is abandoned. */
  connectTimeoutMs?: number;
  random?: () => number;
  /**
   * Asked after a handshake failed (the socket closed before it opened): resolves false when
   * we are not logged in (then no reconnect), true to reconnect with backoff as usual.
   */
  authCheck?: () => Promise<boolean>;
}

const OPEN = 1;

/** `ws://host/api/ws` for the page's own origin. */
export function wsUrl(path: string, location: Location = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

/** Full jitter: a uniform delay between 0 and the exponential ceiling. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export class JobEventsSocket {
  private readonly emitter = new Emitter<JobSocketEvents>();
  private readonly opts: Required<Omit<JobSocketOptions, 'authCheck'>> & Pick<JobSocketOptions, 'authCheck'>;
  private ws: WebSocketLike | null = null;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private wanted = false;
  /** Bumped by every connect()/disconnect(): a pending authCheck answer for an older one is ignored. */
  private generation = 0;
  private currentStatus: ConnectionStatus = 'idle';
  private events: JobEventsState = initialJobEventsState();

  constructor(options: JobSocketOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url),
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      heartbeatTimeoutMs: 45_000,
      connectTimeoutMs: 10_000,
      random: Math.random,
      ...options,
    };
  }

  on<K extends keyof JobSocketEvents>(event: K, fn: (payload: JobSocketEvents[K]) => void): () => void {
    return this.emitter.on(event, fn);
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** Timers this client holds right now (leak tests expect 0 after disconnect()). */
  get activeTimers(): number {
    return this.timers.size;
  }

  get hasSocket(): boolean {
    return this.ws !== null;
  }

  job(id: string): Job | undefined {
    return this.events.jobs.get(id);
  }

  connect(): void {
    if (!this.wanted) this.generation += 1;
    this.wanted = true;
    if (this.ws || this.reconnectTimer || this.checking) return;
    this.open();
  }

  /** An authCheck is in flight (after a refused handshake). */
  private checking = false;

  /** Intentional close: no reconnect, every timer cleared, listeners kept. */
  disconnect(): void {
    this.stop('closed');
  }

  /** No socket, no timer, no reconnect until connect() is called again. */
  private stop(status: 'closed' | 'unauthorized'): void {
    this.wanted = false;
    this.generation += 1;
    this.checking = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.reconnectTimer = this.heartbeatTimer = this.connectTimer = null;
    this.dropSocket();
    this.attempt = 0;
    this.setStatus(status);
  }

  /** disconnect() and forget every listener and job. */
  destroy(): void {
    this.disconnect();
    this.emitter.clear();
    this.dispatch({ type: 'reset' });
  }

  subscribe(jobIds: readonly string[]): void {
    this.dispatch({ type: 'subscribe', jobs: jobIds });
  }

  unsubscribe(jobIds: readonly string[]): void {
    this.dispatch({ type: 'unsubscribe', jobs: jobIds });
  }

  // -- connection ---------------------------------------------------------------

  private open(): void {
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let ws: WebSocketLike;
    try {
      ws = this.opts.createSocket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    this.connectTimer = this.startTimer(() => {
      this.connectTimer = null;
      this.linkLost();
    }, this.opts.connectTimeoutMs);

    ws.onopen = () => {
      opened = true;
      this.cancelTimer(this.connectTimer);
      this.connectTimer = null;
      this.attempt = 0;
      this.setStatus('open');
      this.armHeartbeat();
      this.dispatch({ type: 'opened' });
    };
    ws.onmessage = (ev: MessageEvent) => {
      this.armHeartbeat();
      const msg = parseServerMessage(ev.data);
      if (msg) this.dispatch({ type: 'message', msg });
    };
    ws.onerror = () => {
      // A close event follows; reconnecting is decided there.
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      if (ev.code === CLOSE_UNAUTHORIZED) this.refused();
      else if (!opened && this.opts.authCheck) this.linkLost(true);
      else this.linkLost();
    };
  }

  private linkLost(askAuth = false): void {
    this.dropSocket();
    this.cancelTimer(this.heartbeatTimer);
    this.cancelTimer(this.connectTimer);
    this.heartbeatTimer = this.connectTimer = null;
    if (!this.wanted) this.setStatus('closed');
    else if (askAuth && this.opts.authCheck) this.checkAuth(this.opts.authCheck);
    else this.scheduleReconnect();
  }

  /** After a refused handshake: stop when we are logged out, else reconnect as usual. */
  private checkAuth(authCheck: () => Promise<boolean>): void {
    const generation = this.generation;
    this.checking = true;
    this.setStatus('reconnecting');
    const settle = (allowed: boolean) => {
      if (generation !== this.generation || !this.wanted) return;
      this.checking = false;
      if (allowed) this.scheduleReconnect();
      else this.refused();
    };
    // A failing check (server down) is no proof of a logout: reconnect with backoff.
    authCheck().then(settle, () => settle(true));
  }

  /** Logged out: no socket, no timer, no reconnect until connect() is called again. */
  private refused(): void {
    this.stop('unauthorized');
    this.emitter.emit('unauthorized', undefined);
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(1000, 'client closing');
    } catch {
      // Closing a socket that never opened can throw in some browsers.
    }
  }

  private scheduleReconnect(): void {
    if (!this.wanted || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
    this.attempt += 1;
    this.setStatus('reconnecting');
    this.reconnectTimer = this.startTimer(() => {
      this.reconnectTimer = null;
      if (this.wanted) this.open();
    }, delay);
  }

  private armHeartbeat(): void {
    this.cancelTimer(this.heartbeatTimer);
    this.heartbeatTimer = this.startTimer(() => {
      this.heartbeatTimer = null;
      this.linkLost();
    }, this.opts.heartbeatTimeoutMs);
  }

  private startTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const handle = setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  private cancelTimer(handle: ReturnType<typeof setTimeout> | null): void {
    if (handle === null) return;
    clearTimeout(handle);
    this.timers.delete(handle);
  }

  private send(msg: ClientMessage): void {
    if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(msg));
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.emitter.emit('status', status);
  }

  // -- messages -------------------------------------------------------------------

  /** Run the reducer, keep its state, then send what it asks and tell listeners what it found. */
  private dispatch(input: JobEventsInput): void {
    const step = reduceJobEvents(this.events, input);
    this.events = step.state;
    for (const msg of step.send) this.send(msg);
    for (const d of step.deliver) {
      if (d.kind === 'error') this.emitter.emit('error', d.error);
      else this.emitter.emit(d.kind, d.job);
    }
  }
}
