/** One PlayerEngine for the page; re-renders on its state changes (not on every frame). */
import { useEffect, useRef, useState } from 'react';
import { PlayerEngine, type PlayerSnapshot, type StemInput } from '../audio/engine';
import { describeError } from '../api/errors';

declare global {
  interface Window {
    /** Debug and test handle: the live engine. */
    riffroom?: { engine: PlayerEngine };
  }
}

export function usePlayer(stems: readonly StemInput[]) {
  const engineRef = useRef<PlayerEngine | null>(null);
  const [snapshot, setSnapshot] = useState<PlayerSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [decoding, setDecoding] = useState(false);

  if (!engineRef.current && typeof AudioContext !== 'undefined') {
    engineRef.current = new PlayerEngine();
  }
  const engine = engineRef.current;

  useEffect(() => {
    if (!engine) return;
    window.riffroom = { engine };
    setSnapshot(engine.snapshot());
    const offs = [engine.on('change', setSnapshot), engine.on('error', (e) => setError(describeError(e)))];
    return () => {
      for (const off of offs) off();
    };
  }, [engine]);

  useEffect(() => {
    if (!engine) return;
    if (stems.length === 0) {
      engine.unload();
      return;
    }
    const abort = new AbortController();
    setDecoding(true);
    setError(null);
    engine
      .load(stems, abort.signal)
      .catch((err: unknown) => {
        if (!abort.signal.aborted) setError(describeError(err));
      })
      .finally(() => {
        if (!abort.signal.aborted) setDecoding(false);
      });
    return () => abort.abort();
  }, [engine, stems]);

  useEffect(
    () => () => {
      const e = engineRef.current;
      engineRef.current = null;
      if (window.riffroom?.engine === e) delete window.riffroom;
      void e?.dispose();
    },
    [],
  );

  return { engine, snapshot, error, decoding };
}
