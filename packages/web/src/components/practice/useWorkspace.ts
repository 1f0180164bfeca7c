/**
 * The open song's practice workspace in the page: fetched when the song opens, applied to the
 * engine and the click as soon as the stems are loaded (play waits for it, so the first sound is
 * already the saved mix, tempo and loop), then kept in step: every engine change and every edit
 * becomes the next state, handed to the WorkspaceSync (saved locally at once, on the server
 * debounced). A merge with another device's save is applied back to the engine.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { defaultPracticeState, type PracticeState } from '../../api/practice';
import { describeError } from '../../api/errors';
import type { PlayerEngine, PlayerSnapshot } from '../../audio/engine';
import { deepEqual } from '../../practice/merge';
import { applyToEngine, clickSettingsOf, clickStateOf, withEngineState } from '../../practice/workspaceState';
import type { SyncInfo, WorkspaceSync } from '../../practice/workspaceSync';
import type { ClickSettings } from '../analysis/usePracticeAudio';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function newGate(): Gate {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const loadedKey = (songId: string, snap: PlayerSnapshot) => `${songId}|${Object.keys(snap.stems).sort().join(',')}`;

export interface WorkspaceOptions {
  sync: WorkspaceSync;
  songId: string | null;
  engine: PlayerEngine | null;
  snapshot: PlayerSnapshot | null;
  click: ClickSettings;
  replaceClick: (settings: ClickSettings) => void;
}

export function useWorkspace({ sync, songId, engine, snapshot, click, replaceClick }: WorkspaceOptions) {
  const [state, setState] = useState<PracticeState | null>(null);
  const [fetched, setFetched] = useState<{ songId: string; state: PracticeState } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<SyncInfo>(sync.status);
  const stateRef = useRef<PracticeState | null>(null);
  const applied = useRef<string | null>(null);
  const gate = useRef<Gate>(newGate());
  const songRef = useRef(songId);
  songRef.current = songId;

  const commit = useCallback(
    (next: PracticeState, save = true) => {
      const id = songRef.current;
      if (!id || deepEqual(next, stateRef.current)) return;
      stateRef.current = next;
      setState(next);
      if (save) sync.update(id, next);
    },
    [sync],
  );

  useEffect(() => sync.onStatus(setStatus), [sync]);

  // Open: ask the sync (server, or this device's copy offline) before anything is applied.
  useEffect(() => {
    applied.current = null;
    stateRef.current = null;
    setState(null);
    setFetched(null);
    setError(null);
    gate.current.open(); // whoever waited on the previous song stops waiting
    gate.current = newGate();
    if (!songId) return;
    const abort = new AbortController();
    sync.open(songId, abort.signal).then(
      (opened) => {
        if (!abort.signal.aborted) setFetched({ songId, state: opened });
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        setError(`Practice settings could not be loaded: ${describeError(err)}`);
        setFetched({ songId, state: defaultPracticeState() });
      },
    );
    return () => abort.abort();
  }, [sync, songId]);

  // Apply once the stems are in the engine (again when a different set of stems is loaded).
  const loaded = snapshot?.loaded ? loadedKey(songId ?? '', snapshot) : null;
  useEffect(() => {
    if (!engine || !loaded || !fetched || fetched.songId !== songId || applied.current === loaded) return;
    const base = stateRef.current ?? fetched.state;
    applyToEngine(engine, base);
    replaceClick(clickSettingsOf(base.click));
    applied.current = loaded;
    stateRef.current = base;
    setState(base);
    gate.current.open();
  }, [engine, loaded, fetched, songId, replaceClick]);

  // Another device's changes merged in: play them here too.
  useEffect(() => {
    if (!songId) return;
    return sync.onMerged(songId, (merged) => {
      commit(merged, false);
      if (engine && applied.current) applyToEngine(engine, merged);
      replaceClick(clickSettingsOf(merged.click));
    });
  }, [sync, songId, engine, commit, replaceClick]);

  // What the player does becomes the workspace (the trainer's ramp is not the user's tempo).
  const keepTempo = useRef(false);
  const activeTrainer = Boolean(state?.loops.find((l) => l.id === state.active_loop_id)?.speed_trainer);
  keepTempo.current = activeTrainer;
  useEffect(() => {
    if (!engine || !songId) return;
    return engine.on('change', (snap) => {
      const current = stateRef.current;
      if (!current || !snap.loaded || applied.current !== loadedKey(songId, snap)) return;
      commit(withEngineState(current, snap, keepTempo.current));
    });
  }, [engine, songId, commit]);

  // Leaving a trainer loop: back to the user's own tempo.
  const wasTraining = useRef(false);
  useEffect(() => {
    if (wasTraining.current && !activeTrainer && engine && stateRef.current) engine.setTempo(stateRef.current.tempo);
    wasTraining.current = activeTrainer;
  }, [activeTrainer, engine]);

  useEffect(() => {
    const current = stateRef.current;
    if (current && applied.current) commit({ ...current, click: clickStateOf(click) });
  }, [click, commit]);

  /** Change the workspace's own fields (loops, markers, notes, my part, capo). */
  const edit = useCallback(
    (change: (s: PracticeState) => PracticeState) => {
      const current = stateRef.current;
      if (current) commit(change(current));
    },
    [commit],
  );

  /** Resolves once the open song's workspace is applied (play waits for it). */
  const whenReady = useCallback(() => gate.current.promise, []);

  return { state, edit, whenReady, status, error };
}
