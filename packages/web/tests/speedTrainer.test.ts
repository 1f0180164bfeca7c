import { describe, expect, it } from 'vitest';
import { NO_PASSES, nextWrapAfter, passKey, passReducer, passesToStop, trainerPercent, type PassEvent } from '../src/practice/speedTrainer';

const trainer = { start_pct: 70, step_pct: 5, every_passes: 2, stop_pct: 85 };

describe('speed trainer', () => {
  it('ramps by step every N passes and stops at the stop tempo', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((p) => trainerPercent(trainer, p))).toEqual([70, 70, 75, 75, 80, 80, 85, 85, 85]);
    expect(passesToStop(trainer)).toBe(6);
    expect(trainerPercent({ ...trainer, step_pct: 4 }, 8)).toBe(85); // 70 + 16 would pass the stop
  });

  it('counts passes on wraps, goes on after a pause, starts over for another loop', () => {
    const run = (events: PassEvent[]) => events.reduce(passReducer, NO_PASSES);
    const a = passKey({ id: 'a', start: 1, end: 3, speed_trainer: trainer });
    const b = passKey({ id: 'b', start: 1, end: 3, speed_trainer: trainer });
    expect(run([{ type: 'start', key: a }, { type: 'wrap' }, { type: 'wrap' }]).pass).toBe(2);
    expect(run([{ type: 'start', key: a }, { type: 'wrap' }, { type: 'start', key: a }, { type: 'wrap' }]).pass).toBe(2);
    expect(run([{ type: 'start', key: a }, { type: 'wrap' }, { type: 'start', key: b }]).pass).toBe(0);
    expect(run([{ type: 'wrap' }])).toEqual(NO_PASSES);
    expect(run([{ type: 'start', key: a }, { type: 'wrap' }, { type: 'stop' }, { type: 'start', key: a }]).pass).toBe(0);
    const moved = passKey({ id: 'a', start: 1, end: 3.5, speed_trainer: trainer });
    expect(moved).not.toBe(a);
  });

  it('finds the next loop wrap on the audio clock', () => {
    // Sources started at t=10 from 2 s into a 1..4 s loop at half speed: wrap at 10 + 2/0.5 = 14, then every 6 s.
    const anchor = { contextTime: 10, position: 2, rate: 0.5 };
    const loop = { start: 1, end: 4 };
    expect(nextWrapAfter(anchor, loop, 10)).toBe(14);
    expect(nextWrapAfter(anchor, loop, 14)).toBe(20);
    expect(nextWrapAfter(anchor, loop, 21)).toBe(26);
  });
});
