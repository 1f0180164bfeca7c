import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../src/api/types';
import {
  initialJobEventsState,
  parseServerMessage,
  reduceJobEvents,
  type Delivery,
  type JobEventsInput,
  type JobEventsState,
} from '../src/services/jobEvents';
import { finalFrame, jobOut, progressFrame, snapshotFrame } from './fakeSocket';

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

const msg = (m: ServerMessage): JobEventsInput => ({ type: 'message', msg: m });
const finals = (deliver: Delivery[]) => deliver.filter((d) => d.kind === 'final').map((d) => (d.kind === 'final' ? d.job : null));

describe('reduceJobEvents', () => {
  it('subscribes only jobs not already followed or finished, and resumes from the last seq on open', () => {
    const { state, send } = run([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      { type: 'subscribe', jobs: ['j1'] },
      msg(snapshotFrame({}, 3)),
      msg(progressFrame(4, 0.4)),
    ]);
    expect(send).toEqual([{ type: 'subscribe', jobs: ['j1', 'j2'] }]);
    expect(reduceJobEvents(state, { type: 'opened' }).send).toEqual([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      { type: 'resume', after: { j1: 4 } },
    ]);
    expect(reduceJobEvents(initialJobEventsState(), { type: 'opened' }).send).toEqual([]);
  });

  it("carries each progress event's ready_seconds into the job, never backwards", () => {
    const { deliver } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg(snapshotFrame({ progress: 0.1 }, 1)),
      msg(progressFrame(2, 0.2, { ready_seconds: 12.5 })),
      msg(progressFrame(3, 0.25, {})),
      msg(progressFrame(4, 0.3, { ready_seconds: 20 })),
    ]);
    const ready = deliver.filter((d) => d.kind === 'job').map((d) => (d.kind === 'job' ? (d.job.ready_seconds ?? 0) : null));
    expect(ready.slice(-3)).toEqual([12.5, 12.5, 20]);
  });

  it('delivers progress in order and drops replays and stale events', () => {
    const { deliver, state } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg(snapshotFrame({ progress: 0.2 }, 2)),
      msg(progressFrame(2, 0.2)),
      msg(progressFrame(3, 0.3, { stage: 'mixing', eta_seconds: 12 })),
      msg(progressFrame(1, 0.1)),
      msg(snapshotFrame({ progress: 0.05 }, 1)),
      msg(progressFrame(4, 0.4, { state: 'done', stage: 'writing stems' })),
    ]);
    expect(deliver.map((d) => (d.kind === 'job' ? d.job.progress : d.kind))).toEqual([0.2, 0.3, 0.4]);
    const last = state.jobs.get('j1');
    // A progress frame never finalizes, whatever state it names.
    expect(last).toMatchObject({ state: 'running', progress: 0.4, stage: 'writing stems', eta_seconds: null });
    expect(state.lastSeq.get('j1')).toBe(4);
  });

  it('delivers one final (after its job event) and forgets the job for later subscriptions', () => {
    const { deliver, state, send } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg(snapshotFrame({}, 5)),
      msg(finalFrame('done', 6)),
      msg(finalFrame('done', 6)),
      msg(snapshotFrame({ state: 'done', progress: 1, stage: 'done', eta_seconds: null }, 6)),
      msg(progressFrame(9, 0.5)),
      { type: 'subscribe', jobs: ['j1'] },
    ]);
    expect(deliver.map((d) => d.kind)).toEqual(['job', 'job', 'final']);
    expect(finals(deliver)).toEqual([
      expect.objectContaining({ id: 'j1', state: 'done', progress: 1, eta_seconds: null, stems: ['vocals', 'drums'], seq: 6 }),
    ]);
    expect(send).toEqual([{ type: 'subscribe', jobs: ['j1'] }]);
    expect(state.subscribed.has('j1')).toBe(false);
    expect(state.lastSeq.has('j1')).toBe(false);
    expect(reduceJobEvents(state, { type: 'opened' }).send).toEqual([]);
  });

  it('turns a final snapshot after a missed final event into exactly one final, with its error', () => {
    const { deliver } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg(snapshotFrame({}, 1)),
      msg(snapshotFrame({ state: 'failed', stage: 'failed', eta_seconds: null, error: 'boom', error_code: 'failed' }, 7)),
      msg(finalFrame('failed', 7, { error: 'boom' })),
    ]);
    expect(finals(deliver)).toEqual([expect.objectContaining({ state: 'failed', error: 'boom' })]);
  });

  it('takes the final job from the event, with its error, when no snapshot came before it', () => {
    const { deliver } = run([
      { type: 'subscribe', jobs: ['j1'] },
      msg(progressFrame(2, 0.6)),
      msg(finalFrame('failed', 3, { progress: 0.6, error: 'worker crashed', error_code: 'worker_crashed' })),
    ]);
    expect(finals(deliver)).toEqual([
      expect.objectContaining({ id: 'j1', state: 'failed', progress: 0.6, error: 'worker crashed', error_code: 'worker_crashed', seq: 3 }),
    ]);
  });

  it('ends a cancelled job with the progress it had', () => {
    const { deliver } = run([{ type: 'subscribe', jobs: ['j1'] }, msg(snapshotFrame({ progress: 0.3 }, 1)), msg(finalFrame('cancelled', 2, { progress: 0.3 }))]);
    expect(finals(deliver)).toEqual([expect.objectContaining({ state: 'cancelled', progress: 0.3, eta_seconds: null, error: null })]);
  });

  it('answers ping with pong and changes nothing', () => {
    const before = initialJobEventsState();
    const step = reduceJobEvents(before, msg({ type: 'ping' }));
    expect(step.send).toEqual([{ type: 'pong' }]);
    expect(step.deliver).toEqual([]);
    expect(step.state).toBe(before);
  });

  it('takes a pong (the answer to a ping of ours) as nothing to do', () => {
    const before = initialJobEventsState();
    expect(reduceJobEvents(before, msg({ type: 'pong' }))).toEqual({ state: before, deliver: [], send: [] });
  });

  it("reads the server's error frame; not_found stops following that job", () => {
    const { state, deliver } = run([
      { type: 'subscribe', jobs: ['j1', 'j2'] },
      msg(snapshotFrame({ id: 'j2' }, 1)),
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
      msg(snapshotFrame({}, 3)),
      msg(finalFrame('done', 2, { id: 'j2' })),
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
    const start = run([{ type: 'subscribe', jobs: ['j1'] }, msg(snapshotFrame({}, 1))]).state;
    const copy = { subscribed: [...start.subscribed], jobs: [...start.jobs], lastSeq: [...start.lastSeq], finalized: [...start.finalized] };
    run([msg(progressFrame(2, 0.5)), msg(finalFrame('done', 3)), { type: 'reset' }], start);
    expect({ subscribed: [...start.subscribed], jobs: [...start.jobs], lastSeq: [...start.lastSeq], finalized: [...start.finalized] }).toEqual(copy);
  });
});

describe('parseServerMessage', () => {
  const text = (m: unknown) => JSON.stringify(m);

  it('accepts every frame the server sends', () => {
    const frames: ServerMessage[] = [
      { type: 'ping' },
      { type: 'pong' },
      snapshotFrame({}, 3),
      progressFrame(4, 0.4),
      finalFrame('done', 5),
      finalFrame('failed', 5),
      finalFrame('cancelled', 5),
      { type: 'error', code: 'not_found', message: 'no such job', job_id: 'j1' },
      { type: 'error', code: 'bad_message', message: 'not a message' },
    ];
    for (const frame of frames) expect(parseServerMessage(text(frame))).toEqual(frame);
  });

  it('tolerates fields the reducer can do without, and reads such a frame as well', () => {
    const bare = parseServerMessage(text({ type: 'progress', job_id: 'j1', seq: 2, progress: 0.5 }));
    expect(bare).toEqual({ type: 'progress', job_id: 'j1', seq: 2, progress: 0.5 });
    const { state } = run([msg(snapshotFrame({}, 1)), msg(bare!)]);
    expect(state.jobs.get('j1')).toMatchObject({ state: 'running', progress: 0.5, stage: 'separating', eta_seconds: null });
    // The job fields a server may leave out (defaults) do not make a snapshot unreadable.
    const { engine_used: _engine, model_used: _model, error_code: _code, ...older } = jobOut();
    expect(parseServerMessage(text({ type: 'snapshot', job: older, seq: 1 }))).toEqual({ type: 'snapshot', job: older, seq: 1 });
  });

  it('drops what is not a frame the reducer can read', () => {
    expect(parseServerMessage('not json')).toBeNull();
    expect(parseServerMessage('[1]')).toBeNull();
    expect(parseServerMessage('null')).toBeNull();
    expect(parseServerMessage('{"type":"surprise"}')).toBeNull();
    expect(parseServerMessage('{"type":"toString"}')).toBeNull();
    expect(parseServerMessage(new ArrayBuffer(2))).toBeNull();
    const { job: _job, ...finalWithoutJob } = finalFrame('done', 2);
    expect(parseServerMessage(text(finalWithoutJob))).toBeNull();
    expect(parseServerMessage(text({ ...progressFrame(2, 0.5), seq: '2' }))).toBeNull();
    expect(parseServerMessage(text({ type: 'snapshot', job: { id: 'j1' }, seq: 1 }))).toBeNull();
  });
});
