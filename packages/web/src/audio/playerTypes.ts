/** The player's public shapes and limits (the engine, the workspace and the UI share them). */
import type { Loop } from './clock';
import type { StretchState } from './stretchRouting';

export const TEMPO_MIN = 0.5;
export const TEMPO_MAX = 1.5;
export const TRANSPOSE_LIMIT = 6;

export interface StemInput {
  name: string;
  buffer: AudioBuffer;
}

export interface StemControls {
  volume: number; // 0..1.5 linear
  muted: boolean;
  soloed: boolean;
  pan: number; // -1..1
}

export interface PlayerSnapshot {
  loaded: boolean;
  playing: boolean;
  duration: number;
  tempo: number;
  transpose: number;
  masterVolume: number;
  loop: Loop | null;
  loopEnabled: boolean;
  stems: Record<string, StemControls>;
  /** off: not needed (100%, 0 st), stems play direct; loading: being created; on: in the path. */
  stretch: StretchState;
  /** While the song is still being separated: how much is ready, its full length, and whether playback waits at the frontier. */
  separating?: { readySeconds: number; totalSeconds: number; waiting: boolean } | null;
}
