/**
 * The page's one PlayerEngine (`usePlayerEngine`), and the player's view of it (`usePlayer`):
 * re-renders on its state changes (not on every frame).
 */
import { useEffect, useRef, useState } from 'react';
import { PlayerEngine, type PlayerSnapshot, type StemInput } from '../audio/engine';
import { describeError } from '../api/errors';

/**
 * The page announces its engine with this event on `window`: `detail` is the engine once it
 * exists, null once it is disposed. The app itself never listens and keeps no global; it is the
 * extension point for tools that drive a real browser (the end-to-end tests and the benches add a
 * listener with Playwright's `addInitScript` before the page loads: e2e/engineHook.mjs).
 */
export const ENGINE_EVENT = 'riffroom:engine';

function announce(engine: PlayerEngine | null): void {
  window.dispatchEvent(new CustomEvent<PlayerEngine | null>(ENGINE_EVENT, { detail: engine }));
}

/** Created on first render (null without Web Audio), disposed on unmount. */
export function usePlayerEngine(): PlayerEngine | null {
  const engineRef = useRef<PlayerEngine | null>(null);
  if (!engineRef.current && typeof AudioContext !== 'undefined') {
    engineRef.current = new PlayerEngine();
  }
  const engine = engineRef.current;

  useEffect(() => {
    if (engine) announce(engine);
  }, [engine]);

  useEffect(
    () => () => {
      const e = engineRef.current;
      engineRef.current = null;
      if (e) announce(null);
      void e?.dispose();
    },
    [],
  );
  return engine;
}

/**
 * Subscribe to `engine` and open `stems` (already decoded) in it. `separatingTotal`: the stems are
 * the ready part of song `songId` (that long in all), still being separated; new stems of the
 * same song then extend what plays (the same clock and position) instead of opening it again.
 */
export function usePlayer(engine: PlayerEngine | null, stems: readonly StemInput[], songId: string | null = null, separatingTotal: number | null = null) {
  const [snapshot, setSnapshot] = useState<PlayerSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const openSongId = useRef<string | null>(null);

  useEffect(() => {
    if (!engine) return;
    setSnapshot(engine.snapshot());
    const offs = [engine.on('change', setSnapshot), engine.on('error', (e) => setError(describeError(e)))];
    return () => {
      for (const off of offs) off();
    };
  }, [engine]);

  useEffect(() => {
    if (!engine) return;
    setError(null);
    const growing = songId !== null && openSongId.current === songId && engine.separating;
    openSongId.current = stems.length === 0 ? null : songId;
    if (stems.length === 0) engine.unload();
    else if (growing) engine.extend(stems, separatingTotal === null);
    else engine.load(stems, separatingTotal);
  }, [engine, stems, songId, separatingTotal]);

  return { snapshot, error };
}
