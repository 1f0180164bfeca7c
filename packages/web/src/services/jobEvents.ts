/**
 * The bookkeeping behind JobEventsSocket, as a pure reducer: which jobs are followed, the last
 * `seq` seen per job, which jobs already reached their final state, and what each incoming
 * frame means for listeners. No socket, no timer, no clock, so every ordering the server may
 * produce (replays, duplicates, a final snapshot after a missed final event) is unit-testable.
 *
 *   let state = initialJobEventsState();
 *   const step = reduceJobEvents(state, { type: 'message', msg });
 *   state = step.state; // then hand step.deliver to listeners and step.send to the server
 */
import type { ClientMessage, FinalType, Job, JobState } from '../api/types';
import { isFinal } from '../api/types';

/**
 * An error frame as the server sends it: `{"type": "error", "code", "message"}`, and `job_id`
 * when it is about one job (`not_found`).
 */
export interface ServerErrorFrame {
  type: 'error';
  code: string;
  message: string;
  job_id?: string;
}

/** Every frame the server sends on `/api/ws`. */
export type IncomingMessage =
  | { type: 'ping' }
  | { type: 'snapshot'; job: Job; seq: number }
  | {
      type: 'progress';
      job_id: string;
      seq: number;
      state?: JobState;
      progress: number;
      stage?: string | null;
      eta_seconds?: number | null;
    }
  | { type: FinalType; job_id: string; seq: number; error?: string | null; job?: Job }
  | ServerErrorFrame;

/** An error the server reported on the socket; `jobId` is set when it concerns one job. */
export interface JobSocketProblem {
  code: string;
  message: string;
  jobId: string | null;
}

export interface JobEventsState {
  /** Jobs we follow (sent in `subscribe` on every (re)connect). */
  readonly subscribed: ReadonlySet<string>;
  /** The latest known state of each followed job. */
  readonly jobs: ReadonlyMap<string, Job>;
  /** The last `seq` seen per job: sent in `resume`, and anything at or below it is dropped. */
  readonly lastSeq: ReadonlyMap<string, number>;
  /** Jobs whose final event was delivered: never delivered again, never subscribed again. */
  readonly finalized: ReadonlySet<string>;
}

export type JobEventsInput =
  | { type: 'subscribe'; jobs: readonly string[] }
  | { type: 'unsubscribe'; jobs: readonly string[] }
  /** A socket just opened: subscribe again and resume from the last seen numbers. */
  | { type: 'opened' }
  | { type: 'message'; msg: IncomingMessage }
  /** Forget every followed job (the finished ones stay finished). */
  | { type: 'reset' };

export type Delivery =
  | { kind: 'job'; job: Job }
  | { kind: 'final'; job: Job }
  | { kind: 'error'; error: JobSocketProblem };

export interface JobEventsStep {
  state: JobEventsState;
  /** For listeners, in this order. */
  deliver: Delivery[];
  /** For the server (sent only while a socket is open). */
  send: ClientMessage[];
}

export function initialJobEventsState(): JobEventsState {
  return { subscribed: new Set(), jobs: new Map(), lastSeq: new Map(), finalized: new Set() };
}

const KNOWN_TYPES = new Set(['ping', 'snapshot', 'progress', 'done', 'failed', 'cancelled', 'error']);

/** A frame's text as a message, or null when it is not JSON or not a message we know. */
export function parseServerMessage(raw: unknown): IncomingMessage | null {
  if (typeof raw !== 'string') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null) return null;
  const type = (msg as { type?: unknown }).type;
  return typeof type === 'string' && KNOWN_TYPES.has(type) ? (msg as IncomingMessage) : null;
}

export function reduceJobEvents(state: JobEventsState, input: JobEventsInput): JobEventsStep {
  switch (input.type) {
    case 'subscribe': {
      const fresh = [...new Set(input.jobs)].filter((id) => !state.subscribed.has(id) && !state.finalized.has(id));
      if (fresh.length === 0) return unchanged(state);
      return { state: { ...state, subscribed: new Set([...state.subscribed, ...fresh]) }, deliver: [], send: [{ type: 'subscribe', jobs: fresh }] };
    }
    case 'unsubscribe': {
      const gone = [...new Set(input.jobs)].filter((id) => state.subscribed.has(id));
      if (gone.length === 0) return unchanged(state);
      return { state: forget(state, gone), deliver: [], send: [{ type: 'unsubscribe', jobs: gone }] };
    }
    case 'opened':
      return { state, deliver: [], send: reconnectMessages(state) };
    case 'reset':
      return { state: { ...initialJobEventsState(), finalized: state.finalized }, deliver: [], send: [] };
    case 'message':
      return onMessage(state, input.msg);
  }
}

/** `subscribe` for every followed job and `resume` with the numbers we have. */
function reconnectMessages(state: JobEventsState): ClientMessage[] {
  const jobs = [...state.subscribed];
  if (jobs.length === 0) return [];
  const out: ClientMessage[] = [{ type: 'subscribe', jobs }];
  const after: Record<string, number> = {};
  for (const id of jobs) {
    const seq = state.lastSeq.get(id);
    if (seq !== undefined) after[id] = seq;
  }
  if (Object.keys(after).length > 0) out.push({ type: 'resume', after });
  return out;
}

function onMessage(state: JobEventsState, msg: IncomingMessage): JobEventsStep {
  switch (msg.type) {
    case 'ping':
      return { state, deliver: [], send: [{ type: 'pong' }] };
    case 'snapshot': {
      const { job, seq } = msg;
      if (state.finalized.has(job.id)) return unchanged(state);
      const last = state.lastSeq.get(job.id);
      if (last !== undefined && seq < last) return unchanged(state);
      const seen = withSeq(state, job.id, seq);
      return isFinal(job.state) ? finalize(seen, job) : update(seen, job);
    }
    case 'progress': {
      const id = msg.job_id;
      if (state.finalized.has(id)) return unchanged(state);
      const last = state.lastSeq.get(id);
      if (last !== undefined && msg.seq <= last) return unchanged(state);
      const prev = state.jobs.get(id) ?? blankJob(id);
      return update(withSeq(state, id, msg.seq), {
        ...prev,
        state: msg.state && !isFinal(msg.state) ? msg.state : 'running',
        progress: msg.progress,
        stage: msg.stage ?? prev.stage,
        eta_seconds: msg.eta_seconds ?? null,
      });
    }
    case 'done':
    case 'failed':
    case 'cancelled': {
      const id = msg.job_id;
      if (state.finalized.has(id)) return unchanged(state);
      const prev = msg.job ?? state.jobs.get(id) ?? blankJob(id);
      // The seq only matters until finalize() forgets it; kept monotonic like every other.
      const seen = withSeq(state, id, Math.max(msg.seq, state.lastSeq.get(id) ?? msg.seq));
      return finalize(seen, {
        ...prev,
        state: msg.type,
        progress: msg.type === 'done' ? 1 : prev.progress,
        eta_seconds: null,
        error: msg.error ?? prev.error ?? null,
      });
    }
    case 'error':
      return onError(state, msg);
  }
}

/** A `not_found` for a followed job ends following it (a reconnect must not ask again). */
function onError(state: JobEventsState, frame: ServerErrorFrame): JobEventsStep {
  const jobId = typeof frame.job_id === 'string' ? frame.job_id : null;
  const error: JobSocketProblem = {
    code: typeof frame.code === 'string' && frame.code ? frame.code : 'error',
    message: typeof frame.message === 'string' ? frame.message : '',
    jobId,
  };
  const next = jobId !== null && error.code === 'not_found' && state.subscribed.has(jobId) ? forget(state, [jobId]) : state;
  return { state: next, deliver: [{ kind: 'error', error }], send: [] };
}

function unchanged(state: JobEventsState): JobEventsStep {
  return { state, deliver: [], send: [] };
}

function withSeq(state: JobEventsState, id: string, seq: number): JobEventsState {
  return { ...state, lastSeq: new Map(state.lastSeq).set(id, seq) };
}

function update(state: JobEventsState, job: Job): JobEventsStep {
  return { state: { ...state, jobs: new Map(state.jobs).set(job.id, job) }, deliver: [{ kind: 'job', job }], send: [] };
}

function finalize(state: JobEventsState, job: Job): JobEventsStep {
  const subscribed = new Set(state.subscribed);
  subscribed.delete(job.id);
  const lastSeq = new Map(state.lastSeq);
  lastSeq.delete(job.id);
  return {
    state: {
      subscribed,
      lastSeq,
      jobs: new Map(state.jobs).set(job.id, job),
      finalized: new Set(state.finalized).add(job.id),
    },
    deliver: [
      { kind: 'job', job },
      { kind: 'final', job },
    ],
    send: [],
  };
}

function forget(state: JobEventsState, ids: readonly string[]): JobEventsState {
  const subscribed = new Set(state.subscribed);
  const jobs = new Map(state.jobs);
  const lastSeq = new Map(state.lastSeq);
  for (const id of ids) {
    subscribed.delete(id);
    jobs.delete(id);
    lastSeq.delete(id);
  }
  return { ...state, subscribed, jobs, lastSeq };
}

function blankJob(id: string): Job {
  return { id, song_id: '', state: 'queued', progress: 0, stage: 'queued', eta_seconds: null, error: null };
}
