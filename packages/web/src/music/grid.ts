/**
 * The song's beat grid and what the player asks of it: which bar and beat is at a time, where
 * bars start and end, where a loop edge snaps to, the tempo at a time. Pure arithmetic on the
 * analysis's beats and downbeats (song seconds), so it is tested without audio.
 */
import type { Analysis } from '../api/analysis';
import type { Loop } from '../audio/clock';

export interface BeatPosition {
  /** 1-based; 0 for the pickup beats before the first downbeat. */
  bar: number;
  /** 1-based beat inside its bar. */
  beat: number;
}

export interface BeatGrid {
  beats: readonly number[];
  downbeats: readonly number[];
  beatsPerBar: number;
  /** One per beat. */
  positions: readonly BeatPosition[];
  tempoCurve: readonly (readonly [number, number])[];
}

export interface Bar {
  number: number;
  start: number;
  end: number;
}

/** Beats closer than this (seconds) are the same beat. */
const SAME_BEAT = 0.02;

/** "3/4" → 3; anything unreadable → 4. */
export function beatsPerBarOf(timeSignature: string | null | undefined): number {
  const n = Number.parseInt((timeSignature ?? '').split('/')[0] ?? '', 10);
  return Number.isFinite(n) && n >= 1 && n <= 16 ? n : 4;
}

/** The grid of an analysis, or null when it found no steady beat (no click, no snapping). */
export function gridFromAnalysis(analysis: Analysis | null): BeatGrid | null {
  if (!analysis?.steady_beat || analysis.beats.length < 2) return null;
  return makeGrid(analysis.beats, analysis.downbeats, beatsPerBarOf(analysis.time_signature), analysis.tempo_curve);
}

export function makeGrid(
  beats: readonly number[],
  downbeats: readonly number[],
  beatsPerBar: number,
  tempoCurve: readonly (readonly [number, number])[] = [],
): BeatGrid {
  const sortedBeats = [...beats].sort((a, b) => a - b);
  const sortedDown = [...downbeats].sort((a, b) => a - b);
  const isDown = (t: number) => sortedDown.some((d) => Math.abs(d - t) < SAME_BEAT);
  const firstDown = sortedBeats.findIndex(isDown);
  const positions: BeatPosition[] = [];
  let bar = 0;
  let beat = 0;
  sortedBeats.forEach((t, i) => {
    if (firstDown < 0 || i < firstDown) {
      // Pickup: count back from the first downbeat.
      const before = (firstDown < 0 ? sortedBeats.length : firstDown) - i;
      positions.push({ bar: 0, beat: ((((beatsPerBar - before) % beatsPerBar) + beatsPerBar) % beatsPerBar) + 1 });
      return;
    }
    if (isDown(t)) {
      bar += 1;
      beat = 1;
    } else {
      beat += 1;
    }
    positions.push({ bar, beat });
  });
  return { beats: sortedBeats, downbeats: sortedDown, beatsPerBar, positions, tempoCurve };
}

/** Index of the last element ≤ t, or -1. */
export function lastAtOrBefore(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? Infinity) <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Seconds between the beats around `t` (the nearest interval at the ends). */
export function beatLengthAt(grid: BeatGrid, t: number): number {
  const { beats } = grid;
  const i = Math.min(Math.max(lastAtOrBefore(beats, t), 0), beats.length - 2);
  return (beats[i + 1] ?? 0) - (beats[i] ?? 0) || 0.5;
}

/** Bars of beats a count-in's beat length is averaged over. */
export const COUNT_IN_SPAN_BARS = 2;

/**
 * The beat length to count in with from `t`: the mean interval of the beats about to play (up to
 * COUNT_IN_SPAN_BARS bars from the beat at or before `t`). Analysed beats sit on the analysis's
 * frames (~23 ms), so one interval can be a frame off, and a bar of clicks four times that (a
 * one-bar count-in 50 ms short); the mean over two bars divides the rounding by eight.
 */
export function countInBeatLength(grid: BeatGrid, t: number): number {
  const { beats } = grid;
  if (beats.length < 2) return beatLengthAt(grid, t);
  const from = Math.min(Math.max(lastAtOrBefore(beats, t), 0), beats.length - 2);
  const to = Math.min(from + Math.max(1, COUNT_IN_SPAN_BARS * grid.beatsPerBar), beats.length - 1);
  return ((beats[to] ?? 0) - (beats[from] ?? 0)) / (to - from) || beatLengthAt(grid, t);
}

export function barLengthAt(grid: BeatGrid, t: number): number {
  return grid.beatsPerBar * beatLengthAt(grid, t);
}

/** Bar and beat sounding at `t`; null before the first beat or past the last one. */
export function barBeatAt(grid: BeatGrid, t: number): BeatPosition | null {
  const i = lastAtOrBefore(grid.beats, t + 1e-6);
  if (i < 0) return null;
  const last = grid.beats[grid.beats.length - 1] ?? 0;
  if (i === grid.beats.length - 1 && t > last + beatLengthAt(grid, last)) return null;
  return grid.positions[i] ?? null;
}

/** Every bar, numbered from 1 at the first downbeat; the last one is as long as the one before. */
export function barsOf(grid: BeatGrid): Bar[] {
  const { downbeats } = grid;
  return downbeats.map((start, j) => {
    const next = downbeats[j + 1];
    return { number: j + 1, start, end: next ?? start + barLengthAt(grid, start) };
  });
}

/** Song time of bars `first`..`last` (inclusive, 1-based), or null when they are not in the song. */
export function barRange(grid: BeatGrid, first: number, last: number): Loop | null {
  const bars = barsOf(grid);
  const a = bars[Math.min(first, last) - 1];
  const b = bars[Math.max(first, last) - 1];
  return a && b ? { start: a.start, end: b.end } : null;
}

/** A beat this close to a downbeat (in beats) snaps to the downbeat. */
export const BAR_SNAP_BEATS = 0.6;

/** The nearest beat to `t`, or the bar line when one is within BAR_SNAP_BEATS of it. */
export function snapTime(grid: BeatGrid, t: number): number {
  const points = [...grid.beats, ...barsOf(grid).slice(-1).map((b) => b.end)];
  const nearest = (list: readonly number[]) =>
    list.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best), list[0] ?? t);
  const bars = [...grid.downbeats, ...barsOf(grid).slice(-1).map((b) => b.end)];
  const bar = nearest(bars);
  if (Math.abs(bar - t) <= BAR_SNAP_BEATS * beatLengthAt(grid, t)) return bar;
  return nearest(points);
}

/** A dragged loop with both edges snapped; null when they snap together. */
export function snapLoop(grid: BeatGrid, a: number, b: number): Loop | null {
  const start = snapTime(grid, Math.min(a, b));
  const end = snapTime(grid, Math.max(a, b));
  return end > start ? { start, end } : null;
}

/**
 * Continuous bar coordinate: 0 at the first downbeat, 1 at the second, fractions in between;
 * before the first and after the last bar line it goes on at the edge bars' length.
 */
export function barPosition(grid: BeatGrid, t: number): number {
  const bars = barsOf(grid);
  const first = bars[0];
  if (!first) return 0;
  const j = lastAtOrBefore(grid.downbeats, t);
  const bar = bars[Math.max(j, 0)] ?? first;
  return Math.max(j, 0) + (t - bar.start) / (bar.end - bar.start);
}

/** The song time at a bar coordinate (the inverse of barPosition). */
export function timeAtBarPosition(grid: BeatGrid, p: number): number {
  const bars = barsOf(grid);
  const j = Math.min(Math.max(Math.floor(p), 0), bars.length - 1);
  const bar = bars[j];
  if (!bar) return 0;
  return bar.start + (p - j) * (bar.end - bar.start);
}

/** The loop moved by one bar, or by its own length, earlier (-1) or later (+1). */
export function moveLoop(grid: BeatGrid | null, loop: Loop, direction: -1 | 1, by: 'bar' | 'length'): Loop {
  if (!grid || grid.downbeats.length === 0) {
    const shift = direction * (by === 'length' ? loop.end - loop.start : 0);
    return { start: loop.start + shift, end: loop.end + shift };
  }
  const p0 = barPosition(grid, loop.start);
  const p1 = barPosition(grid, loop.end);
  const shift = direction * (by === 'bar' ? 1 : p1 - p0);
  return { start: timeAtBarPosition(grid, p0 + shift), end: timeAtBarPosition(grid, p1 + shift) };
}

/** The song's tempo (bpm) at `t`: the tempo curve, interpolated; else from the beats around t. */
export function tempoAt(grid: BeatGrid, t: number): number {
  const curve = grid.tempoCurve;
  if (curve.length === 0) return 60 / beatLengthAt(grid, t);
  const times = curve.map(([time]) => time);
  const i = lastAtOrBefore(times, t);
  const a = curve[Math.max(i, 0)];
  const b = curve[Math.min(i + 1, curve.length - 1)];
  if (!a || !b || i < 0 || a === b) return (a ?? b)?.[1] ?? 60 / beatLengthAt(grid, t);
  return a[1] + ((t - a[0]) / (b[0] - a[0])) * (b[1] - a[1]);
}
