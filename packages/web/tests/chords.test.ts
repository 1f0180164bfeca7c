import { describe, expect, it } from 'vitest';
import { chordIndexAt, chordSymbol, labelFromView, parseKey, transposeKey, viewSymbol } from '../src/music/chords';

describe('chord symbols', () => {
  it('writes Harte labels the way musicians do', () => {
    expect(chordSymbol('C#:min')).toBe('C#m');
    expect(chordSymbol('B:maj')).toBe('B');
    expect(chordSymbol('G:7')).toBe('G7');
    expect(chordSymbol('A:min7')).toBe('Am7');
    expect(chordSymbol('D:maj7')).toBe('Dmaj7');
    expect(chordSymbol('N')).toBe('N.C.');
    expect(chordSymbol('B:hdim7')).toBe('Bm7b5');
    expect(chordSymbol('C:maj/3')).toBe('C/E');
    expect(chordSymbol('F')).toBe('F');
  });

  it('transposes with the sharps or flats of the key it lands in', () => {
    // C# minor up 1 = D minor (one flat): Bb, not A#.
    expect(chordSymbol('A:maj', 1, 'C# minor')).toBe('Bb');
    // C# minor up 2 = Eb minor? D# minor is spelt with sharps here (relative F# major).
    expect(chordSymbol('C#:min', 2, 'C# minor')).toBe('D#m');
    // E major down 1 = Eb major: flats.
    expect(chordSymbol('G#:min', -1, 'E major')).toBe('Gm');
    expect(chordSymbol('B:7', -1, 'E major')).toBe('Bb7');
    // G major up 2 = A major: sharps.
    expect(chordSymbol('F#:dim', 2, 'G major')).toBe('G#dim');
    // Without a key: the common spellings.
    expect(chordSymbol('A:maj', 1)).toBe('Bb');
    expect(chordSymbol('C:maj', 1)).toBe('C#');
  });

  it('transposes the key and names it for its key signature', () => {
    expect(transposeKey('C# minor', 1)).toBe('D minor');
    expect(transposeKey('C# minor', -2)).toBe('B minor');
    expect(transposeKey('E major', -1)).toBe('Eb major');
    expect(transposeKey('F major', 1)).toBe('F# major');
    expect(transposeKey('A minor', 12)).toBe('A minor');
    expect(parseKey('Bb major')).toEqual({ tonic: 10, mode: 'major' });
    expect(transposeKey('not a key', 3)).toBe('not a key');
  });

  it('shows capo shapes: the sound transposed down by the fret', () => {
    const capo2 = { transpose: 0, capo: 2, key: 'E major' };
    expect(viewSymbol('E:maj', capo2)).toBe('D');
    expect(viewSymbol('B:7', capo2)).toBe('A7');
    // Transposed up 2 with capo 2: the shapes of the recording.
    expect(viewSymbol('C#:min', { transpose: 2, capo: 2, key: 'E major' })).toBe('C#m');
    // An edit made in that view goes back to the recording's key.
    expect(labelFromView(2, 'maj', capo2)).toBe('E:maj');
  });

  it('finds the chord sounding at a time', () => {
    const chords = [
      { start: 0, end: 2, label: 'C#:min' },
      { start: 2, end: 4, label: 'B:maj' },
      { start: 5, end: 6, label: 'G:7' },
    ];
    expect(chordIndexAt(chords, 0)).toBe(0);
    expect(chordIndexAt(chords, 2)).toBe(1);
    expect(chordIndexAt(chords, 4.5)).toBe(-1);
    expect(chordIndexAt(chords, 5.5)).toBe(2);
    expect(chordIndexAt(chords, 7)).toBe(-1);
  });
});
