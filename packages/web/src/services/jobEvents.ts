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
import type { ClientMessage, ErrorMessage, FinalMessage, Job, ServerMessage } from '../api/types';
import { isFinal } from '../api/types';

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
  | { type: 'message'; msg: ServerMessage }
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** The job fields the app reads on every job (see `Job`). */
const isJob = (v: unknown): boolean =>
  isObject(v) && isString(v.id) && isString(v.song_id) && isString(v.state) && isNumber(v.progress);

/**
 * What each frame type must carry for the reducer to read it. Only those fields are checked:
 * the rest (`at`, a progress frame's `state`/`stage`/`eta_seconds`, the job's other fields, an
 * error's `job_id`) may be absent without the frame being dropped, and the reducer reads them so.
 */
const CHECKS: Record<ServerMessage['type'], (m: Record<string, unknown>) => boolean> = {
  ping: () => true,
  pong: () => true,
  snapshot: (m) => isJob(m.job) && isNumber(m.seq),
  progress: (m) => isString(m.job_id) && isNumber(m.seq) && isNumber(m.progress),
  done: (m) => isFinalFrame(m),
  failed: (m) => isFinalFrame(m),
  cancelled: (m) => isFinalFrame(m),
  error: () => true,
};

function isFinalFrame(m: Record<string, unknown>): boolean {
  return isString(m.job_id) && isNumber(m.seq) && isJob(m.job);
}

/** A frame's text as a message, or null when it is not JSON or not a message the reducer can read. */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  if (typeof raw !== 'string') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(msg) || !isString(msg.type) || !Object.hasOwn(CHECKS, msg.type)) return null;
  return CHECKS[msg.type as ServerMessage['type']](msg) ? (msg as unknown as ServerMessage) : null;
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

function onMessage(state: JobEventsState, msg: ServerMessage): JobEventsStep {
  switch (msg.type) {
    case 'ping':
      return { state, deliver: [], send: [{ type: 'pong' }] };
    case 'pong':
      // The answer to a ping of ours: the socket already counts it as a sign of life.
      return unchanged(state);
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
        // Only a final event ends a job, whatever state a progress frame names.
        state: msg.state && !isFinal(msg.state) ? msg.state : 'running',
        progress: msg.progress,
        stage: msg.stage ?? prev.stage,
        eta_seconds: msg.eta_seconds ?? null,
        // How much of the stems is final: it drives the player's progressive load.
        ready_seconds: Math.max(msg.ready_seconds ?? 0, prev.ready_seconds ?? 0),
      });
    }
    case 'done':
    case 'failed':
    case 'cancelled':
      return onFinal(state, msg);
    case 'error':
      return onError(state, msg);
  }
}

/** The job as the final event carries it, with the fields that make it final made sure of. */
function onFinal(state: JobEventsState, msg: FinalMessage): JobEventsStep {
  const id = msg.job_id;
  if (state.finalized.has(id)) return unchanged(state);
  // The seq only matters until finalize() forgets it; kept monotonic like every other.
  const seen = withSeq(state, id, Math.max(msg.seq, state.lastSeq.get(id) ?? msg.seq));
  const error = msg.type === 'failed' ? (msg.error ?? msg.job.error) : msg.job.error;
  return finalize(seen, {
    ...msg.job,
    id,
    state: msg.type,
    progress: msg.type === 'done' ? 1 : msg.job.progress,
    eta_seconds: null,
    error: error ?? null,
  });
}

/** A `not_found` for a followed job ends following it (a reconnect must not ask again). */
function onError(state: JobEventsState, frame: ErrorMessage): JobEventsStep {
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
