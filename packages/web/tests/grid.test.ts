import { describe, expect, it } from 'vitest';
import type { Analysis } from '../src/api/analysis';
import { NO_CORRECTIONS } from '../src/api/analysis';
import { barBeatAt, barRange, barsOf, beatLengthAt, beatsPerBarOf, countInBeatLength, gridFromAnalysis, makeGrid, moveLoop, snapLoop, snapTime, tempoAt } from '../src/music/grid';

/** 120 bpm, 4/4, a one-beat pickup: beats every 0.5 s from 0.5, bar lines every 2 s from 1.0. */
const beats = Array.from({ length: 33 }, (_, i) => 0.5 + i * 0.5);
const downbeats = beats.filter((_, i) => i % 4 === 1);
const grid = makeGrid(beats, downbeats, 4, [
  [0.5, 120],
  [8.5, 120],
  [16.5, 100],
]);

function analysis(patch: Partial<Analysis> = {}): Analysis {
  return {
    version: 1,
    bpm: 120,
    time_signature: '4/4',
    steady_beat: true,
    message: null,
    beats,
    downbeats,
    tempo_curve: [],
    key: 'C# minor',
    key_confidence: 0.8,
    chords: [],
    sections: [],
    corrections: NO_CORRECTIONS,
    ...patch,
  };
}

describe('beat grid', () => {
  it('numbers bars from the first downbeat, the pickup is bar 0 counted back from it', () => {
    expect(barBeatAt(grid, 0.2)).toBeNull(); // before the first beat
    expect(barBeatAt(grid, 0.6)).toEqual({ bar: 0, beat: 4 });
    expect(barBeatAt(grid, 1.0)).toEqual({ bar: 1, beat: 1 });
    expect(barBeatAt(grid, 1.74)).toEqual({ bar: 1, beat: 2 });
    expect(barBeatAt(grid, 2.5)).toEqual({ bar: 1, beat: 4 });
    expect(barBeatAt(grid, 3.0)).toEqual({ bar: 2, beat: 1 });
    expect(barBeatAt(grid, 16.6)).toEqual({ bar: 8, beat: 4 });
    expect(barBeatAt(grid, 30)).toBeNull(); // long past the last beat
  });

  it('lists bars and turns bar numbers into a loop', () => {
    const bars = barsOf(grid);
    expect(bars[0]).toEqual({ number: 1, start: 1, end: 3 });
    expect(bars.at(-1)).toEqual({ number: 8, start: 15, end: 17 });
    expect(barRange(grid, 2, 3)).toEqual({ start: 3, end: 7 });
    expect(barRange(grid, 3, 2)).toEqual({ start: 3, end: 7 });
    expect(barRange(grid, 7, 9)).toBeNull();
  });

  it('snaps to the nearest beat, and to the bar line when close to it', () => {
    expect(snapTime(grid, 1.8)).toBe(2.0); // nearest beat (beat 3 of bar 1)
    expect(snapTime(grid, 3.2)).toBe(3.0); // near a bar line
    expect(snapTime(grid, 3.28)).toBe(3.0); // the beat after is nearer, but the bar line is within 0.6 beat
    expect(snapTime(grid, 3.45)).toBe(3.5);
    expect(snapTime(grid, 16.9)).toBe(17); // the end of the last bar
    expect(snapLoop(grid, 5.3, 2.9)).toEqual({ start: 3, end: 5 });
    expect(snapLoop(grid, 3.05, 3.1)).toBeNull();
  });

  it('moves a loop by a bar and by its own length', () => {
    const loop = { start: 3, end: 7 }; // bars 2-3
    expect(moveLoop(grid, loop, 1, 'bar')).toEqual({ start: 5, end: 9 });
    expect(moveLoop(grid, loop, -1, 'bar')).toEqual({ start: 1, end: 5 });
    expect(moveLoop(grid, loop, 1, 'length')).toEqual({ start: 7, end: 11 });
    expect(moveLoop(null, loop, -1, 'length')).toEqual({ start: -1, end: 3 });
  });

  it('follows the tempo curve', () => {
    expect(tempoAt(grid, 4)).toBe(120);
    expect(tempoAt(grid, 12.5)).toBeCloseTo(110);
    expect(tempoAt(grid, 20)).toBe(100);
    expect(tempoAt(makeGrid([0, 0.6, 1.2], [0], 3), 0.3)).toBeCloseTo(100);
  });

  it('counts in at the mean beat of the next two bars, not one frame-rounded interval', () => {
    // 120 bpm analysed on 512-sample frames at 22.05 kHz: each beat rounded down to a frame.
    const frame = 512 / 22050;
    const rounded = Array.from({ length: 16 }, (_, k) => Math.floor((0.5 * (k + 1)) / frame) * frame);
    const g = makeGrid(rounded, rounded.filter((_, k) => k % 4 === 3), 4);
    expect(Math.abs(4 * beatLengthAt(g, 0) - 2)).toBeGreaterThan(0.04); // one interval, four times over
    expect(countInBeatLength(g, 0) * 4).toBeCloseTo(2, 2); // within 5 ms over the bar
    expect(countInBeatLength(g, 6)).toBeCloseTo(0.5, 2);
    expect(countInBeatLength(makeGrid([0, 0.6], [0], 3), 5)).toBeCloseTo(0.6); // past the end: the last interval
  });

  it('comes from the analysis only with a steady beat', () => {
    expect(gridFromAnalysis(analysis())?.beatsPerBar).toBe(4);
    expect(gridFromAnalysis(analysis({ time_signature: '3/4' }))?.beatsPerBar).toBe(3);
    expect(gridFromAnalysis(analysis({ steady_beat: false, beats: [], downbeats: [], message: 'no steady beat found' }))).toBeNull();
    expect(gridFromAnalysis(null)).toBeNull();
    expect(beatsPerBarOf('6/8')).toBe(6);
    expect(beatsPerBarOf(null)).toBe(4);
  });
});
