/**
 * A song's practice workspace and practice log (`GET/PUT /api/songs/{id}/practice`,
 * `POST/GET /api/songs/{id}/practice/log`), in the form the app keeps them.
 *
 * The generated schema types the request bodies with every defaulted field optional; the app
 * always holds the full state the server answers with, so the state is spelled out here and
 * checked against the generated models at compile time (`_Sent` below): a field the server
 * renames or drops breaks the build. The answers are the generated models as they are.
 * Times are seconds of song time; tempo is a ratio (1 = as recorded); volumes are dB (-120 = silent).
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type StemName = 'vocals' | 'drums' | 'bass' | 'other' | 'guitar' | 'piano';
export type MixStemName = StemName | 'click';
export type ClickSoundName = 'wood' | 'beep' | 'tick';

export interface StemMix {
  volume_db: number;
  muted: boolean;
  solo: boolean;
  pan: number;
}

export interface ClickState {
  enabled: boolean;
  volume_db: number;
  pan: number;
  sound: ClickSoundName;
  count_in_bars: 0 | 1 | 2 | 4;
  count_in_every_pass: boolean;
}

/** Pass n (from 0) plays at min(stop_pct, start_pct + step_pct · floor(n / every_passes)) %. */
export interface SpeedTrainer {
  start_pct: number;
  step_pct: number;
  every_passes: number;
  stop_pct: number;
}

export interface SavedLoop {
  id: string;
  name: string;
  start: number;
  end: number;
  speed_trainer: SpeedTrainer | null;
}

export interface Marker {
  id: string;
  time: number;
  label: string;
}

export interface PracticeState {
  stems: Partial<Record<MixStemName, StemMix>>;
  master_db: number;
  tempo: number;
  transpose: number;
  capo: number;
  click: ClickState;
  loops: SavedLoop[];
  active_loop_id: string | null;
  markers: Marker[];
  my_part: StemName | null;
  notes: string;
}

export interface PracticeOut {
  revision: number;
  state: PracticeState;
  updated_at?: number | null;
}

export interface PracticePut {
  revision: number;
  state: PracticeState;
}

/** The body of a 409 `stale_revision`: what the server has now. */
export interface StaleRevision {
  error: { code: string; message: string };
  revision: number;
  state: PracticeState;
}

export interface PracticeSession {
  /** Made by the client, so a resend after being offline is not counted twice. */
  id: string;
  /** Unix time (seconds) the chunk started. */
  started_at: number;
  seconds: number;
  loop_id?: string | null;
  tempo: number;
}

export interface PracticeLogIn {
  sessions: PracticeSession[];
}

export type PracticeLogOut = Schemas['PracticeLogOut'];

/** Compile-time proof that what the app sends is what the server's models take. */
type Assignable<T extends U, U> = T;
export type _Sent = [Assignable<PracticeState, Schemas['PracticeState']>, Assignable<PracticeLogIn, Schemas['PracticeLogIn']>];

export const STEM_NAMES: readonly StemName[] = ['vocals', 'drums', 'bass', 'other', 'guitar', 'piano'];
export const isStemName = (name: string): name is StemName => (STEM_NAMES as readonly string[]).includes(name);

export const DEFAULT_CLICK_STATE: ClickState = {
  enabled: false,
  volume_db: -6,
  pan: 0,
  sound: 'wood',
  count_in_bars: 0,
  count_in_every_pass: false,
};

export const DEFAULT_STEM_MIX: StemMix = { volume_db: 0, muted: false, solo: false, pan: 0 };

/** What a song's workspace is before anyone changed anything (the server's defaults too). */
export function defaultPracticeState(): PracticeState {
  return {
    stems: {},
    master_db: 0,
    tempo: 1,
    transpose: 0,
    capo: 0,
    click: { ...DEFAULT_CLICK_STATE },
    loops: [],
    active_loop_id: null,
    markers: [],
    my_part: null,
    notes: '',
  };
}

/**
 * The server's answer as the app holds it: its schema marks defaulted fields optional, so any
 * field left out gets its default here (the server sends them all today).
 */
export function normalisePracticeState(state: Schemas['PracticeState']): PracticeState {
  const base = defaultPracticeState();
  return {
    stems: state.stems ?? {},
    master_db: state.master_db ?? base.master_db,
    tempo: state.tempo ?? base.tempo,
    transpose: state.transpose ?? base.transpose,
    capo: state.capo ?? base.capo,
    click: { ...base.click, ...state.click },
    loops: (state.loops ?? []).map((l) => ({ id: l.id, name: l.name ?? '', start: l.start, end: l.end, speed_trainer: l.speed_trainer ?? null })),
    active_loop_id: state.active_loop_id ?? null,
    markers: (state.markers ?? []).map((m) => ({ id: m.id, time: m.time, label: m.label ?? '' })),
    my_part: state.my_part ?? null,
    notes: state.notes ?? '',
  };
}
