/**
 * The click track and the count-in for the player: made on the page's engine, fed the song's
 * beat grid, released on unmount. `toggle` is play/pause with the count-in when one is chosen.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ClickTrack, type ClickSound } from '../../audio/click';
import { CountIn, type CountInBars } from '../../audio/countIn';
import type { PlayerEngine } from '../../audio/engine';
import { beatLengthAt, type BeatGrid } from '../../music/grid';

export interface ClickSettings {
  enabled: boolean;
  volume: number;
  pan: number;
  sound: ClickSound;
  countInBars: CountInBars;
}

export const DEFAULT_CLICK: ClickSettings = { enabled: false, volume: 0.8, pan: 0, sound: 'wood', countInBars: 0 };

export function usePracticeAudio(engine: PlayerEngine | null, grid: BeatGrid | null, duration: number) {
  const [settings, setSettings] = useState<ClickSettings>(DEFAULT_CLICK);
  const click = useRef<ClickTrack | null>(null);
  const countIn = useRef<CountIn | null>(null);
  const latest = useRef({ settings, grid });
  latest.current = { settings, grid };

  useEffect(() => {
    if (!engine) return;
    const track = new ClickTrack(engine);
    const counter = new CountIn(engine);
    click.current = track;
    countIn.current = counter;
    return () => {
      counter.dispose();
      track.dispose();
      click.current = null;
      countIn.current = null;
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

  const update = useCallback((patch: Partial<ClickSettings>) => setSettings((s) => ({ ...s, ...patch })), []);

  const toggle = useCallback(async () => {
    if (!engine) return;
    if (engine.playing) {
      engine.pause();
      return;
    }
    const { settings: s, grid: g } = latest.current;
    if (s.countInBars > 0 && g && countIn.current) {
      await countIn.current.play({
        bars: s.countInBars,
        beatsPerBar: g.beatsPerBar,
        songBeatSeconds: beatLengthAt(g, engine.position),
        sound: s.sound,
        volume: s.volume,
      });
    } else {
      await engine.play();
    }
  }, [engine]);

  return { settings, update, toggle };
}
