/**
 * The speed trainer's arithmetic and the loop's pass count, as pure functions: which pass of the
 * loop is playing, and at what tempo. The pass count only moves on a loop wrap the player
 * reports from the audio clock (loopPasses.ts); starting the same loop again after a pause goes
 * on counting, another loop (or a new trainer setting) starts again from pass 0.
 */
import type { SpeedTrainer } from '../api/practice';

export const DEFAULT_TRAINER: SpeedTrainer = { start_pct: 70, step_pct: 5, every_passes: 2, stop_pct: 100 };

/** Percent of the recorded tempo for pass `pass` (from 0): start + step per N passes, never past stop. */
export function trainerPercent(trainer: SpeedTrainer, pass: number): number {
  const steps = Math.floor(Math.max(0, pass) / Math.max(1, trainer.every_passes));
  return Math.min(trainer.stop_pct, trainer.start_pct + trainer.step_pct * steps);
}

/** The first pass that plays at the stop tempo. */
export function passesToStop(trainer: SpeedTrainer): number {
  if (trainer.step_pct <= 0) return 0;
  return Math.ceil((trainer.stop_pct - trainer.start_pct) / trainer.step_pct) * trainer.every_passes;
}

export interface PassState {
  /** Identifies the loop and its trainer setting; null when no loop is being counted. */
  key: string | null;
  pass: number;
}

export type PassEvent = { type: 'start'; key: string } | { type: 'wrap' } | { type: 'stop' };

export const NO_PASSES: PassState = { key: null, pass: 0 };

export function passReducer(state: PassState, event: PassEvent): PassState {
  switch (event.type) {
    case 'start':
      return state.key === event.key ? state : { key: event.key, pass: 0 };
    case 'wrap':
      return state.key === null ? state : { ...state, pass: state.pass + 1 };
    case 'stop':
      return NO_PASSES;
  }
}

/** A key that changes when the loop's range or its trainer changes (then counting starts over). */
export function passKey(loop: { id: string; start: number; end: number; speed_trainer: SpeedTrainer | null }): string {
  const t = loop.speed_trainer;
  return `${loop.id}|${loop.start}|${loop.end}|${t ? `${t.start_pct},${t.step_pct},${t.every_passes},${t.stop_pct}` : '-'}`;
}

/** Context time of the first loop wrap strictly after `after`, for sources anchored at `anchor`. */
export function nextWrapAfter(
  anchor: { contextTime: number; position: number; rate: number },
  loop: { start: number; end: number },
  after: number,
): number {
  const first = anchor.contextTime + Math.max(0, loop.end - anchor.position) / anchor.rate;
  if (first > after) return first;
  const period = (loop.end - loop.start) / anchor.rate;
  return first + Math.floor((after - first) / period + 1) * period;
}
