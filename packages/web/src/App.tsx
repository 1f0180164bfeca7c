import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createAppServices } from './services/appServices';
import { useStemProcessor } from './hooks/useStemProcessor';
import { usePlayerEngine } from './hooks/usePlayer';
import { Library } from './components/library/Library';
import { Player } from './components/player/Player';
import { HelpPanel } from './components/help/HelpPanel';
import type { Song } from './api/types';
import { session } from './services/session';
import { describeError } from './api/errors';
import { isTyping } from './components/common/keyboard';

export function App() {
  const services = useMemo(createAppServices, []);
  const engine = usePlayerEngine();
  const processorDeps = useMemo(
    () => ({
      ...services,
      // Stems are decoded by the player's AudioContext (its sample rate) as they arrive.
      decode: (bytes: ArrayBuffer) =>
        engine ? engine.decode(bytes) : Promise.reject(new Error('This browser cannot play audio (it has no Web Audio).')),
    }),
    [services, engine],
  );
  const processor = useStemProcessor(processorDeps);
  const { state, processSong, busy } = processor;
  const [queue, setQueue] = useState<{ id: number; file: File }[]>([]);
  const [songs, setSongs] = useState<Song[]>(() => session.loadLibrary());
  const [libraryError, setLibraryError] = useState<string | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const nextId = useRef(0);

  const refreshSongs = useCallback(async () => {
    try {
      const list = await services.api.listSongs();
      setSongs(list);
      setLibraryError(null);
      session.saveLibrary(list);
    } catch (err) {
      setLibraryError(`${describeError(err)} Showing the songs saved on this device.`);
    }
  }, [services]);

  useEffect(() => {
    void refreshSongs();
  }, [refreshSongs]);

  // Refresh the library whenever a run settles (a new song, new stems, a failure).
  useEffect(() => {
    if (['ready', 'failed', 'cancelled', 'queued'].includes(state.phase)) void refreshSongs();
  }, [state.phase, refreshSongs]);

  // One file at a time: the next queued file starts when the processor is free.
  useEffect(() => {
    if (busy || queue.length === 0) return;
    const [next, ...rest] = queue;
    if (!next) return;
    setQueue(rest);
    void processSong(next.file);
  }, [busy, queue, processSong]);

  const enqueue = useCallback((files: File[]) => {
    setQueue((q) => [...q, ...files.map((file) => ({ id: ++nextId.current, file }))]);
  }, []);


  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '?' && !isTyping(e.target)) {
        e.preventDefault();
        setHelpOpen((open) => !open);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">
          <span aria-hidden="true" className="brand-mark" />
          RiffRoom
        </h1>
        <button type="button" className="btn ghost" onClick={() => setHelpOpen(true)} aria-haspopup="dialog">
          Shortcuts <kbd>?</kbd>
        </button>
      </header>
      <main className="layout">
        <Library
          songs={songs}
          error={libraryError}
          processor={processor}
          queue={queue.map((q) => ({ id: q.id, name: q.file.name }))}
          onFiles={enqueue}
          onRemoveQueued={(id) => setQueue((q) => q.filter((item) => item.id !== id))}
          onOpen={(song) => void processor.openSong(song.id)}
          onDelete={async (song) => {
            try {
              await services.api.deleteSong(song.id);
              session.forgetSong(song.id);
              if (state.openSong?.id === song.id) processor.close();
            } catch (err) {
              setLibraryError(describeError(err));
            }
            void refreshSongs();
          }}
        />
        <Player services={services} engine={engine} song={state.openSong} stems={state.stems} phase={state.phase} />
      </main>
      <HelpPanel open={helpOpen} onClose={() => setHelpOpen(false)} />
    </div>
  );
}
