/**
 * Chord and key names the way musicians write them, from the analysis's Harte labels
 * (`C#:min` → `C#m`, `G:7` → `G7`, `N` → `N.C.`), transposed with sensible sharps or flats for
 * the key they land in; capo shapes are the chords transposed down by the capo fret. Pure.
 */
import type { ChordSpan } from '../api/analysis';
import { lastAtOrBefore } from './grid';

const SHARPS = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const FLATS = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'];
/** Without a key: the spellings most charts use. */
const COMMON = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const LETTERS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
/** Major keys written with flats (F, Bb, Eb, Ab, Db). */
const FLAT_MAJORS = new Set([5, 10, 3, 8, 1]);

export type Spelling = 'sharps' | 'flats' | 'common';

const QUALITY_SYMBOLS: Record<string, string> = {
  maj: '',
  min: 'm',
  '7': '7',
  min7: 'm7',
  maj7: 'maj7',
  minmaj7: 'm(maj7)',
  dim: 'dim',
  dim7: 'dim7',
  hdim7: 'm7b5',
  aug: 'aug',
  sus2: 'sus2',
  sus4: 'sus4',
  '6': '6',
  min6: 'm6',
  '9': '9',
  maj9: 'maj9',
  min9: 'm9',
  '11': '11',
  '13': '13',
};

/** The qualities the chord editor offers, in Harte spelling. */
export const EDITABLE_QUALITIES = ['maj', 'min', '7', 'min7', 'maj7', 'dim', 'sus4', 'sus2', 'aug'] as const;

const DEGREES: Record<string, number> = { '1': 0, '2': 2, '3': 4, '4': 5, '5': 7, '6': 9, '7': 11, '9': 2, '11': 5, '13': 9 };

const mod12 = (n: number) => ((n % 12) + 12) % 12;

/** "C#" → 1, "Bb" → 10; null when it is not a note name. */
export function pitchClass(note: string): number | null {
  const m = /^([A-Ga-g])([#b]*)$/.exec(note.trim());
  if (!m) return null;
  const base = LETTERS[(m[1] ?? 'C').toUpperCase()] ?? 0;
  let acc = 0;
  for (const c of m[2] ?? '') acc += c === '#' ? 1 : -1;
  return mod12(base + acc);
}

export function noteName(pc: number, spelling: Spelling = 'common'): string {
  const names = spelling === 'sharps' ? SHARPS : spelling === 'flats' ? FLATS : COMMON;
  return names[mod12(pc)] ?? 'C';
}

export interface ParsedKey {
  tonic: number;
  mode: 'major' | 'minor';
}

/** "C# minor", "Eb major", "A:min" → tonic and mode; null when unreadable. */
export function parseKey(key: string | null | undefined): ParsedKey | null {
  if (!key) return null;
  const m = /^\s*([A-Ga-g][#b]?)\s*(?::|\s)\s*(major|minor|maj|min)\s*$/i.exec(key);
  if (!m) return null;
  const tonic = pitchClass(m[1] ?? '');
  if (tonic === null) return null;
  return { tonic, mode: (m[2] ?? '').toLowerCase().startsWith('min') ? 'minor' : 'major' };
}

/** Sharps or flats for a key: its key signature's. */
export function spellingFor(key: ParsedKey | null): Spelling {
  if (!key) return 'common';
  const major = key.mode === 'major' ? key.tonic : mod12(key.tonic + 3);
  if (major === 0) return 'common';
  return FLAT_MAJORS.has(major) ? 'flats' : 'sharps';
}

export function transposeParsedKey(key: ParsedKey, semitones: number): ParsedKey {
  return { tonic: mod12(key.tonic + semitones), mode: key.mode };
}

/** "C# minor" moved by `semitones`, spelled for the key it lands in ("D minor", "Eb major"). */
export function transposeKey(key: string, semitones: number): string {
  const parsed = parseKey(key);
  if (!parsed) return key;
  const moved = transposeParsedKey(parsed, semitones);
  return `${noteName(moved.tonic, spellingFor(moved))} ${moved.mode}`;
}

export interface ParsedChord {
  root: number;
  quality: string;
  /** Pitch class of a bass note other than the root. */
  bass: number | null;
}

/** A Harte label; null for `N`/`X` (no chord) and for what cannot be read. */
export function parseHarte(label: string): ParsedChord | null {
  const text = label.trim();
  if (text === '' || text === 'N' || text === 'X') return null;
  const [head = '', bassPart] = text.split('/');
  const [rootText = '', qualityText = 'maj'] = head.split(':');
  const root = pitchClass(rootText);
  if (root === null) return null;
  let bass: number | null = null;
  if (bassPart) {
    const degree = /^([#b]*)(\d+)$/.exec(bassPart);
    if (degree) {
      let shift = 0;
      for (const c of degree[1] ?? '') shift += c === '#' ? 1 : -1;
      bass = mod12(root + (DEGREES[degree[2] ?? '1'] ?? 0) + shift);
    } else {
      bass = pitchClass(bassPart);
    }
  }
  return { root, quality: qualityText || 'maj', bass: bass === root ? null : bass };
}

export interface ChordView {
  /** Semitones the music sounds away from the recording (the transpose control). */
  transpose: number;
  /** Capo fret: shapes are written `capo` semitones below the sound. */
  capo: number;
  /** The song's key as analysed (for sharps or flats). */
  key: string | null;
}

export const PLAIN_VIEW: ChordView = { transpose: 0, capo: 0, key: null };

/** Semitones from the recorded chord to the one shown. */
export const shownOffset = (view: ChordView) => view.transpose - view.capo;

/** `C#:min` → `C#m`, `B:maj` → `B`, `G:7` → `G7`, `D:maj7` → `Dmaj7`, `N` → `N.C.`; moved by `semitones`. */
export function chordSymbol(label: string, semitones = 0, key: string | null = null): string {
  const text = label.trim();
  if (text === 'N' || text === '') return 'N.C.';
  const chord = parseHarte(text);
  if (!chord) return text === 'X' ? '?' : text;
  const parsedKey = parseKey(key);
  const spelling = spellingFor(parsedKey ? transposeParsedKey(parsedKey, semitones) : null);
  const quality = QUALITY_SYMBOLS[chord.quality] ?? chord.quality.replace(/[()]/g, '');
  const root = noteName(chord.root + semitones, spelling);
  const bass = chord.bass === null ? '' : `/${noteName(chord.bass + semitones, spelling)}`;
  return `${root}${quality}${bass}`;
}

/** The symbol a player sees for a label in this view (transposed, capo applied). */
export function viewSymbol(label: string, view: ChordView): string {
  return chordSymbol(label, shownOffset(view), view.key);
}

/** A Harte label for a root shown in this view and a quality, back in the recording's key. */
export function labelFromView(shownRoot: number, quality: string, view: ChordView): string {
  return `${SHARPS[mod12(shownRoot - shownOffset(view))] ?? 'C'}:${quality}`;
}

/** Index of the chord sounding at `t`, or -1. */
export function chordIndexAt(chords: readonly ChordSpan[], t: number): number {
  const i = lastAtOrBefore(
    chords.map((c) => c.start),
    t,
  );
  const chord = chords[i];
  return chord && t < chord.end ? i : -1;
}
