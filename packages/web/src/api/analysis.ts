/**
 * The song analysis as the server sends it (`GET /api/songs/{id}/analysis`) and the corrections
 * a player can send back (`PUT /api/songs/{id}/analysis/corrections`).
 *
 * Hand-typed until the OpenAPI schema has these models: then replace them with the generated
 * `components['schemas']['AnalysisOut']` (and its corrections model) and delete this module.
 * Times are seconds of song time; the server has already applied the corrections to beats,
 * downbeats and chords.
 */

export interface TimedLabel {
  start: number;
  end: number;
  label: string;
}

/** A chord span; `label` is a Harte label (`C#:min`, `B:maj`, `G:7`, `N` for no chord). */
export type ChordSpan = TimedLabel;

/** A section of the song; labels A, B, … group sections that sound alike. */
export type SectionSpan = TimedLabel;

export type TempoFactor = 0.5 | 1 | 2;

export interface AnalysisCorrections {
  /** Song time of a beat to count as beat 1 of a bar; null keeps the analysed one. */
  first_downbeat: number | null;
  tempo_factor: TempoFactor;
  /** e.g. "3/4"; null keeps the analysed one. */
  time_signature: string | null;
  /** Chord spans that replace the analysed chords where they overlap. */
  chords: ChordSpan[];
}

export interface Analysis {
  version: number;
  bpm: number | null;
  time_signature: string | null;
  steady_beat: boolean;
  /** Why something is missing, e.g. "no steady beat found". */
  message: string | null;
  beats: number[];
  downbeats: number[];
  /** [song time, bpm] pairs. */
  tempo_curve: [number, number][];
  key: string | null;
  key_confidence: number | null;
  chords: ChordSpan[];
  sections: SectionSpan[];
  corrections: AnalysisCorrections;
}

export const NO_CORRECTIONS: AnalysisCorrections = { first_downbeat: null, tempo_factor: 1, time_signature: null, chords: [] };
