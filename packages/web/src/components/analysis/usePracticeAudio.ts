/**
 * The click track, the count-in and the loop's passes (speed trainer, count-in before every
 * pass) for the player: made on the page's engine, fed the song's beat grid and the active saved
 * loop, released on unmount. `toggle` is play/pause with the count-in when one is chosen, at the
 * trainer's tempo when the loop has one.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SavedLoop } from '../../api/practice';
import { ClickTrack, type ClickSound } from '../../audio/click';
import { CountIn, type CountInBars, type CountInOptions } from '../../audio/countIn';
import type { PlayerEngine } from '../../audio/engine';
import { LoopPasses, type PassInfo } from '../../audio/loopPasses';
import { countInBeatLength, type BeatGrid } from '../../music/grid';
import { passKey } from '../../practice/speedTrainer';

export interface ClickSettings {
  enabled: boolean;
  volume: number;
  pan: number;
  sound: ClickSound;
  countInBars: CountInBars;
  /** Count in before every pass of a loop, not only before the first. */
  countInEveryPass: boolean;
}

export const DEFAULT_CLICK: ClickSettings = { enabled: false, volume: 0.5, pan: 0, sound: 'wood', countInBars: 0, countInEveryPass: false };

const NO_PASS: PassInfo = { pass: 0, tempo: 1, training: false };

export function usePracticeAudio(engine: PlayerEngine | null, grid: BeatGrid | null, duration: number, activeLoop: SavedLoop | null = null) {
  const [settings, setSettings] = useState<ClickSettings>(DEFAULT_CLICK);
  const [passInfo, setPassInfo] = useState<PassInfo>(NO_PASS);
  const click = useRef<ClickTrack | null>(null);
  const countIn = useRef<CountIn | null>(null);
  const passes = useRef<LoopPasses | null>(null);
  const latest = useRef({ settings, grid });
  latest.current = { settings, grid };

  useEffect(() => {
    if (!engine) return;
    const track = new ClickTrack(engine);
    const counter = new CountIn(engine);
    const loopPasses = new LoopPasses(engine, counter);
    const off = loopPasses.on(setPassInfo);
    click.current = track;
    countIn.current = counter;
    passes.current = loopPasses;
    return () => {
      off();
      loopPasses.dispose();
      counter.dispose();
      track.dispose();
      click.current = null;
      countIn.current = null;
      passes.current = null;
    };
  }, [engine]);

  useEffect(() => {
    click.current?.setGrid(grid, duration);
  }, [engine, grid, duration]);

  useEffect(() => {
    const track = click.current;
    if (!track) return;
    track.setSound(settings.sound);
    track.setVolume(settings.volume);
    track.setPan(settings.pan);
    track.setEnabled(settings.enabled && grid !== null);
  }, [engine, grid, settings]);

  /** The count-in as it would play now (null: none chosen, or no beat grid). */
  const countInOptions = useCallback((): CountInOptions | null => {
    const { settings: s, grid: g } = latest.current;
    if (!engine || s.countInBars <= 0 || !g) return null;
    return { bars: s.countInBars, beatsPerBar: g.beatsPerBar, songBeatSeconds: countInBeatLength(g, engine.position), sound: s.sound, volume: s.volume };
  }, [engine]);

  const everyPass = settings.countInEveryPass && settings.countInBars > 0 && grid !== null;
  useEffect(() => {
    const loopPasses = passes.current;
    if (!loopPasses) return;
    const counted = activeLoop && (activeLoop.speed_trainer || everyPass);
    loopPasses.setPlan(
      activeLoop && counted
        ? { key: passKey(activeLoop), trainer: activeLoop.speed_trainer, countIn: everyPass ? countInOptions : null }
        : null,
    );
    setPassInfo(loopPasses.info);
  }, [engine, activeLoop, everyPass, countInOptions]);

  const update = useCallback((patch: Partial<ClickSettings>) => setSettings((s) => ({ ...s, ...patch })), []);
  /** Replace every setting at once (a restored workspace). */
  const replace = useCallback((next: ClickSettings) => setSettings(next), []);

  const toggle = useCallback(async () => {
    if (!engine) return;
    if (engine.playing) {
      engine.pause();
      return;
    }
    const trainerTempo = passes.current?.tempoNow() ?? null;
    if (trainerTempo !== null) engine.setTempo(trainerTempo);
    const options = countInOptions();
    if (options && countIn.current) await countIn.current.play(options);
    else await engine.play();
  }, [engine, countInOptions]);

  return { settings, update, replace, toggle, passInfo };
}
