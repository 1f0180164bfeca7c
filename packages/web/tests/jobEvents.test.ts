import { describe, expect, it } from 'vitest';
import type { Job } from '../src/api/types';
import {
  initialJobEventsState,
  parseServerMessage,
  reduceJobEvents,
  type Delivery,
  type IncomingMessage,
  type JobEventsInput,
  type JobEventsState,
} from '../src/services/jobEvents';

const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1',
  song_id: 's1',
  state: 'running',
  progress: 0.1,
  stage: 'separating',
  eta_seconds: 30,
  error: null,
  ...over,
});

/** Feed `inputs` in order; every delivery and every message to send, in order. */
function run(inputs: JobEventsInput[], from: JobEventsState = initialJobEventsState()) {
  let state = from;
  const deliver: Delivery[] = [];
  const send: unknown[] = [];
  for (const input of inputs) {
    const step = reduceJobEvents(state, input);
    state = step.state;
    deliver.push(...step.deliver);
    send.push(...step.send);
  }
  return { state, deliver, send };
}

const msg = (m: IncomingMessage): JobEventsInput => ({ type: 'message', msg: m });
const finals = (deliver: Delivery[]) => deliver.filter((d) => d.kind === 'final').map((d) => (d.kind === 'final' ? d.job : null));

describe('reduceJobEvents', () => {
  it('subscribes only jobs not already followed or finished, and resumes from the last seq on open', () => {
    const { state, send } = run([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      { type: 'subscribe', jobs: ['j1'] },
      msg({ type: 'snapshot', job: job(), seq: 3 }),
      msg({ type: 'progress', job_id: 'j1', seq: 4, progress: 0.4 }),
    ]);
    expect(send).toEqual([{ type: 'subscribe', jobs: ['j1', 'j2'] }]);
    expect(reduceJobEvents(state, { type: 'opened' }).send).toEqual([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      { type: 'resume', after: { j1: 4 } },
    ]);
    expect(reduceJobEvents(initialJobEventsState(), { type: 'opened' }).send).toEqual([]);
  });

  it('delivers progress in order and drops replays and stale events', () => {
    const { deliver, state } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg({ type: 'snapshot', job: job({ progress: 0.2 }), seq: 2 }),
      msg({ type: 'progress', job_id: 'j1', seq: 2, progress: 0.2 }),
      msg({ type: 'progress', job_id: 'j1', seq: 3, progress: 0.3, stage: null }),
      msg({ type: 'progress', job_id: 'j1', seq: 1, progress: 0.1 }),
      msg({ type: 'snapshot', job: job({ progress: 0.05 }), seq: 1 }),
      msg({ type: 'progress', job_id: 'j1', seq: 4, progress: 0.4, state: 'done' }),
    ]);
    expect(deliver.map((d) => (d.kind === 'job' ? d.job.progress : d.kind))).toEqual([0.2, 0.3, 0.4]);
    const last = state.jobs.get('j1');
    // A progress frame never finalizes, whatever state it names; the stage is kept when absent.
    expect(last).toMatchObject({ state: 'running', progress: 0.4, stage: 'separating' });
    expect(state.lastSeq.get('j1')).toBe(4);
  });

  it('delivers one final (after its job event) and forgets the job for later subscriptions', () => {
    const { deliver, state, send } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg({ type: 'snapshot', job: job(), seq: 5 }),
      msg({ type: 'done', job_id: 'j1', seq: 6 }),
      msg({ type: 'done', job_id: 'j1', seq: 6 }),
      msg({ type: 'snapshot', job: job({ state: 'done', progress: 1 }), seq: 6 }),
      msg({ type: 'progress', job_id: 'j1', seq: 9, progress: 0.5 }),
      { type: 'subscribe', jobs: ['j1'] },
    ]);
    expect(deliver.map((d) => d.kind)).toEqual(['job', 'job', 'final']);
    expect(finals(deliver)).toEqual([expect.objectContaining({ id: 'j1', state: 'done', progress: 1, eta_seconds: null })]);
    expect(send).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);
    expect(state.subscribed.has('j1')).toBe(false);
    expect(state.lastSeq.has('j1')).toBe(false);
    expect(reduceJobEvents(state, { type: 'opened' }).send).toEqual([]);
  });

  it('turns a final snapshot after a missed final event into exactly one final, with its error', () => {
    const { deliver } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg({ type: 'snapshot', job: job(), seq: 1 }),
      msg({ type: 'snapshot', job: job({ state: 'failed', error: 'boom' }), seq: 7 }),
      msg({ type: 'failed', job_id: 'j1', seq: 7, error: 'boom' }),
    ]);
    expect(finals(deliver)).toEqual([expect.objectContaining({ state: 'failed', error: 'boom' })]);
  });

  it('builds a failed job from the event alone, keeping the progress it had', () => {
    const { deliver } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg({ type: 'progress', job_id: 'j1', seq: 2, progress: 0.6 }),
      msg({ type: 'failed', job_id: 'j1', seq: 3, error: 'worker crashed' }),
    ]);
    expect(finals(deliver)).toEqual([expect.objectContaining({ id: 'j1', state: 'failed', progress: 0.6, error: 'worker crashed' })]);
  });

  it('answers ping with pong and changes nothing', () => {
    const before = initialJobEventsState();
    const step = reduceJobEvents(before, msg({ type: 'ping' }));
    expect(step.send).toEqual([{ type: 'pong' }]);
    expect(step.deliver).toEqual([]);
    expect(step.state).toBe(before);
  });

  it("reads the server's error frame; not_found stops following that job", () => {
    const { state, deliver } = run([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      msg({ type: 'snapshot', job: job({ id: 'j2' }), seq: 1 }),
      msg({ type: 'error', code: 'not_found', message: 'no such job', job_id: 'j1' }),
      msg({ type: 'error', code: 'too_many_subscriptions', message: 'one connection may follow at most 100 jobs' }),
    ]);
    expect(deliver.filter((d) => d.kind === 'error')).toEqual([
      { kind: 'error', error: { code: 'not_found', message: 'no such job', jobId: 'j1' } },
      { kind: 'error', error: { code: 'too_many_subscriptions', message: 'one connection may follow at most 100 jobs', jobId: null } },
    ]);
    expect([...state.subscribed]).toEqual(['j2']);
    expect(reduceJobEvents(state, { type: 'opened' }).send).toEqual([
      { type: 'subscribe', jobs: ['j2'] },
      { type: 'resume', after: { j2: 1 } },
    ]);
  });

  it('unsubscribes only followed jobs and forgets their numbers; reset keeps finished jobs finished', () => {
    const { state, send } = run([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      msg({ type: 'snapshot', job: job(), seq: 3 }),
      msg({ type: 'done', job_id: 'j2', seq: 2 }),
      { type: 'unsubscribe', jobs: ['j1', 'nope'] },
    ]);
    expect(send.at(-1)).toEqual({ type: 'unsubscribe', jobs: ['j1'] });
    expect(state.jobs.has('j1')).toBe(false);
    expect(state.lastSeq.has('j1')).toBe(false);
    const reset = reduceJobEvents(state, { type: 'reset' }).state;
    expect(reset.subscribed.size + reset.jobs.size + reset.lastSeq.size).toBe(0);
    expect(reduceJobEvents(reset, { type: 'subscribe', jobs: ['j2'] }).send).toEqual([]);
  });

  it('never changes the state it is given', () => {
    const start = run([{ type: 'subscribe', jobs: ['j1'] }, msg({ type: 'snapshot', job: job(), seq: 1 })]).state;
    const copy = { subscribed: [...start.subscribed], jobs: [...start.jobs], lastSeq: [...start.lastSeq], finalized: [...start.finalized] };
    run([msg({ type: 'progress', job_id: 'j1', seq: 2, progress: 0.5 }), msg({ type: 'done', job_id: 'j1', seq: 3 }), { type: 'reset' }], start);
    expect({ subscribed: [...start.subscribed], jobs: [...start.jobs], lastSeq: [...start.lastSeq], finalized: [...start.finalized] }).toEqual(copy);
  });
});

describe('parseServerMessage', () => {
  it('accepts the frames the server sends and nothing else', () => {
    expect(parseServerMessage('{"type":"ping"}')).toEqual({ type: 'ping' });
    expect(parseServerMessage('{"type":"error","code":"not_found","message":"no such job","job_id":"j1"}')).toEqual({
      type: 'error',
      code: 'not_found',
      message: 'no such job',
      job_id: 'j1',
    });
    expect(parseServerMessage('not json')).toBeNull();
    expect(parseServerMessage('[1]')).toBeNull();
    expect(parseServerMessage('null')).toBeNull();
    expect(parseServerMessage('{"type":"surprise"}')).toBeNull();
    expect(parseServerMessage(new ArrayBuffer(2))).toBeNull();
  });
});
