import { describe, expect, it } from 'vitest';
import { compensatingSemitones, formatTime, normaliseLoop, positionAt } from '../src/audio/clock';
import { encodeWav, mixSuffix } from '../src/audio/mixdown';

describe('the player clock', () => {
  const anchor = { contextTime: 10, position: 5, rate: 1 };

  it('advances with the audio clock at the tempo', () => {
    expect(positionAt(anchor, 12, null, 100)).toBe(7);
    expect(positionAt({ ...anchor, rate: 0.5 }, 12, null, 100)).toBe(6);
    expect(positionAt(anchor, 9, null, 100)).toBe(5); // before the scheduled start
    expect(positionAt(anchor, 500, null, 100)).toBe(100);
  });

  it('wraps inside a loop the way a looping source does', () => {
    const loop = { start: 4, end: 8 };
    expect(positionAt(anchor, 12.5, loop, 100)).toBeCloseTo(7.5);
    expect(positionAt(anchor, 13, loop, 100)).toBeCloseTo(4);
    expect(positionAt(anchor, 14, loop, 100)).toBeCloseTo(5);
    expect(positionAt({ ...anchor, rate: 1.5 }, 14, loop, 100)).toBeCloseTo(7);
  });

  it('normalises a dragged loop either way and rejects a click', () => {
    expect(normaliseLoop(8, 3, 10)).toEqual({ start: 3, end: 8 });
    expect(normaliseLoop(-1, 20, 10)).toEqual({ start: 0, end: 10 });
    expect(normaliseLoop(3, 3.01, 10)).toBeNull();
  });

  it('undoes the pitch change of the playback rate', () => {
    expect(compensatingSemitones(1, 0)).toBe(0);
    expect(compensatingSemitones(0.5, 0)).toBeCloseTo(12);
    expect(compensatingSemitones(2, 3)).toBeCloseTo(-9);
  });

  it('formats times', () => {
    expect(formatTime(0)).toBe('0:00');
    expect(formatTime(61.9)).toBe('1:01');
    expect(formatTime(3723)).toBe('1:02:03');
  });
});

describe('encodeWav', () => {
  it('writes a 16-bit PCM header and interleaved, clipped samples', () => {
    const wav = encodeWav([new Float32Array([0, 1, -2]), new Float32Array([0.5, -0.5, 0])], 48000);
    const view = new DataView(wav);
    expect(String.fromCharCode(...new Uint8Array(wav, 0, 4))).toBe('RIFF');
    expect(view.getUint16(22, true)).toBe(2);
    expect(view.getUint32(24, true)).toBe(48000);
    expect(view.getUint32(40, true)).toBe(12);
    const samples = Array.from({ length: 6 }, (_, i) => view.getInt16(44 + 2 * i, true));
    expect(samples).toEqual([0, 16383, 32767, -16384, -32768, 0]);
  });
});

describe('mixSuffix', () => {
  it('names the tempo and key of a mix, and nothing at 100% / 0', () => {
    expect(mixSuffix({ tempo: 1, transpose: 0 })).toBe('');
    expect(mixSuffix({ tempo: 0.8, transpose: 0 })).toBe(' (80%)');
    expect(mixSuffix({ tempo: 1, transpose: -3 })).toBe(' (-3)');
    expect(mixSuffix({ tempo: 1.25, transpose: 2 })).toBe(' (125%, +2)');
  });
});
