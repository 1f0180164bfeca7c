import type { FinalMessage, FinalType, JobOut, ProgressMessage, ServerMessage, SnapshotMessage } from '../src/api/types';
import type { WebSocketLike } from '../src/services/websocket';

/** A scriptable WebSocket; `FakeSocket.open` counts sockets not yet closed. */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  static get open(): number {
    return FakeSocket.all.filter((s) => s.readyState !== 3).length;
  }
  static reset(): void {
    FakeSocket.all = [];
  }

  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  // -- server side --
  accept(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  /** Typed as the server's frames, so tests send only what the server really sends. */
  serverSend(msg: ServerMessage): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(msg) }));
  }

  /** The server closes the socket (after or, as a refused handshake, before accept()). */
  serverClose(code = 1006): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code }));
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => (m as { type: string }).type === type) as Record<string, unknown>[];
  }
}

export const lastSocket = (): FakeSocket => {
  const s = FakeSocket.all.at(-1);
  if (!s) throw new Error('no socket created');
  return s;
};

// -- frames as riffroom.api.ws sends them (api/ws_messages.py) --

/** The event time every built frame carries (`at`, unix seconds). */
const AT = 1_700_000_000;

/** A job as the server serializes it (JobOut), running by default. */
export const jobOut = (over: Partial<JobOut> = {}): JobOut => ({
  id: 'j1',
  song_id: 's1',
  state: 'running',
  progress: 0.1,
  stage: 'separating',
  eta_seconds: 30,
  error: null,
  error_code: null,
  engine: 'auto',
  model: null,
  engine_used: 'dsp',
  model_used: null,
  stems: null,
  attempts: 1,
  created_at: 0,
  seq: 0,
  ...over,
});

/** `{type: "snapshot", job, seq}`: the job as read, with the seq it had then. */
export const snapshotFrame = (over: Partial<JobOut> = {}, seq = over.seq ?? 0): SnapshotMessage => ({
  type: 'snapshot',
  job: jobOut({ ...over, seq }),
  seq,
});

/** A progress event; the rest of the job's fields as a running job has them. */
export const progressFrame = (seq: number, progress: number, over: Partial<ProgressMessage> = {}): ProgressMessage => ({
  type: 'progress',
  job_id: 'j1',
  seq,
  at: AT,
  state: 'running',
  progress,
  stage: 'separating',
  eta_seconds: null,
  ...over,
});

/**
 * The final event of a job: the server sends the job as it ended (state, stage and the final
 * seq set; a failed one also with its error, in the job and in the frame).
 */
export function finalFrame(type: FinalType, seq: number, over: Partial<JobOut> = {}): FinalMessage {
  const job = jobOut({
    state: type,
    stage: type,
    eta_seconds: null,
    ...(type === 'done' ? { progress: 1, stems: ['vocals', 'drums'] } : {}),
    ...(type === 'failed' ? { error: 'separation failed', error_code: 'failed' } : {}),
    ...over,
    seq,
  });
  const event = { job_id: job.id, seq, at: AT, job };
  if (type === 'failed') return { ...event, type, error: job.error, error_code: job.error_code ?? null };
  return { ...event, type };
}
