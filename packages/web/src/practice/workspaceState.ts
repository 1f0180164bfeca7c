/**
 * Between the workspace as saved (dB, ratios, named loops) and the player as it runs (linear
 * gains, one loop at a time): read the player's part of the state from an engine snapshot, and
 * apply a saved state to the engine, touching only what differs (so a merge that changed only
 * the notes never restarts the sources). Pure apart from the engine calls.
 */
import type { ClickState, PracticeState, SavedLoop, StemMix } from '../api/practice';
import { DEFAULT_STEM_MIX } from '../api/practice';
import type { PlayerEngine, PlayerSnapshot, StemControls } from '../audio/engine';
import { TRANSPOSE_LIMIT } from '../audio/engine';
import type { ClickSettings } from '../components/analysis/usePracticeAudio';

export const SILENT_DB = -120;
const MAX_DB = 12;
const LOOP_TOLERANCE = 0.002;

export function dbToGain(db: number): number {
  return db <= SILENT_DB ? 0 : 10 ** (db / 20);
}

export function gainToDb(gain: number): number {
  if (gain <= 1e-6) return SILENT_DB;
  return Math.min(MAX_DB, Math.max(SILENT_DB, Math.round(2000 * Math.log10(gain)) / 100));
}

export function mixOf(controls: StemControls): StemMix {
  return { volume_db: gainToDb(controls.volume), muted: controls.muted, solo: controls.soloed, pan: Math.round(controls.pan * 100) / 100 };
}

export function controlsOf(mix: StemMix): StemControls {
  return { volume: Math.min(1.5, dbToGain(mix.volume_db)), muted: mix.muted, soloed: mix.solo, pan: mix.pan };
}

export function clickSettingsOf(click: ClickState): ClickSettings {
  return {
    enabled: click.enabled,
    volume: Math.min(1.5, dbToGain(click.volume_db)),
    pan: click.pan,
    sound: click.sound,
    countInBars: click.count_in_bars,
    countInEveryPass: click.count_in_every_pass,
  };
}

export function clickStateOf(settings: ClickSettings): ClickState {
  return {
    enabled: settings.enabled,
    volume_db: gainToDb(settings.volume),
    pan: Math.round(settings.pan * 100) / 100,
    sound: settings.sound,
    count_in_bars: settings.countInBars,
    count_in_every_pass: settings.countInEveryPass,
  };
}

const sameRange = (a: { start: number; end: number }, b: { start: number; end: number }) =>
  Math.abs(a.start - b.start) < LOOP_TOLERANCE && Math.abs(a.end - b.end) < LOOP_TOLERANCE;

/** The saved loop the engine is playing now, if any. */
export function activeLoopOf(snapshot: PlayerSnapshot, loops: readonly SavedLoop[], preferId: string | null): SavedLoop | null {
  const { loop } = snapshot;
  if (!snapshot.loopEnabled || !loop) return null;
  const preferred = loops.find((l) => l.id === preferId);
  if (preferred && sameRange(preferred, loop)) return preferred;
  return loops.find((l) => sameRange(l, loop)) ?? null;
}

/**
 * `state` with the player's fields (mix, master, tempo, transpose, active loop) as `snapshot` has
 * them; `keepTempo` while the speed trainer drives the tempo (its ramp is not the user's tempo).
 */
export function withEngineState(state: PracticeState, snapshot: PlayerSnapshot, keepTempo = false): PracticeState {
  const stems: PracticeState['stems'] = { ...state.stems };
  for (const [name, controls] of Object.entries(snapshot.stems)) {
    const mix = mixOf(controls);
    const key = name as keyof PracticeState['stems'];
    // A stem at its defaults is left out, as the server would (missing = defaults).
    if (stems[key] || !sameMix(mix, DEFAULT_STEM_MIX)) stems[key] = mix;
  }
  const active = activeLoopOf(snapshot, state.loops, state.active_loop_id);
  return {
    ...state,
    stems,
    master_db: gainToDb(snapshot.masterVolume),
    tempo: keepTempo ? state.tempo : snapshot.tempo,
    transpose: snapshot.transpose,
    active_loop_id: active?.id ?? null,
  };
}

const sameMix = (a: StemMix, b: StemMix) => a.volume_db === b.volume_db && a.muted === b.muted && a.solo === b.solo && a.pan === b.pan;

/** Make the engine play `state`: only the controls that differ are set. */
export function applyToEngine(engine: PlayerEngine, state: PracticeState): void {
  const snap = engine.snapshot();
  for (const name of engine.stemNames) {
    const wanted = controlsOf(state.stems[name as keyof PracticeState['stems']] ?? DEFAULT_STEM_MIX);
    const now = snap.stems[name];
    if (!now || !sameMix(mixOf(now), mixOf(wanted))) engine.updateStem(name, wanted);
  }
  if (gainToDb(snap.masterVolume) !== state.master_db) engine.setMasterVolume(Math.min(1.5, dbToGain(state.master_db)));
  if (snap.tempo !== state.tempo) engine.setTempo(state.tempo);
  const transpose = Math.max(-TRANSPOSE_LIMIT, Math.min(TRANSPOSE_LIMIT, state.transpose));
  if (snap.transpose !== transpose) engine.setTranspose(transpose);
  const active = state.loops.find((l) => l.id === state.active_loop_id) ?? null;
  if (active) {
    if (!snap.loopEnabled || !snap.loop || !sameRange(snap.loop, active)) engine.setLoop(active.start, active.end);
  } else if (snap.loopEnabled && snap.loop && state.loops.some((l) => snap.loop && sameRange(l, snap.loop))) {
    // The saved loop playing here was switched off on the other device.
    engine.setLoopEnabled(false);
  }
}
