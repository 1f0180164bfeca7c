import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createAppServices, type AppServices } from './services/appServices';
import { useStemProcessor } from './hooks/useStemProcessor';
import { usePlayerEngine } from './hooks/usePlayer';
import { Library } from './components/library/Library';
import { Player } from './components/player/Player';
import { HelpPanel } from './components/help/HelpPanel';
import { TokensPanel } from './components/auth/TokensPanel';
import type { Song } from './api/types';
import { session } from './services/session';
import { describeError } from './api/errors';
import { isTyping } from './components/common/keyboard';
import { LoginForm } from './components/auth/LoginForm';
import type { PlayerEngine } from './audio/engine';
import { SetlistsApi } from './api/setlists';
import { BandsApi } from './api/bands';
import { SetlistsPanel } from './components/setlists/SetlistsPanel';
import { useSetlistLibrary } from './components/setlists/useSetlistLibrary';
import { useSetlistPlayback } from './components/setlists/useSetlistPlayback';
import { BandPanel } from './components/bands/BandPanel';

export interface AppProps {
  /** Tests pass services built on fakes; the page builds its own. */
  services?: AppServices;
}

/**
 * The page: asks `GET /api/auth/me` first, then shows either the login form or the practice
 * room. The room is unmounted while logged out, so its cleanup (runs aborted, sockets and
 * timers closed, stems dropped, the engine unloaded) is all a logout or a 401 needs; after a
 * login it mounts again and resumes the saved song or job, reconnecting its socket.
 */
export function App({ services: given }: AppProps = {}) {
  const services = useMemo(() => given ?? createAppServices(), [given]);
  const engine = usePlayerEngine();
  const auth = useSyncExternalStore(services.auth.subscribe, services.auth.getSnapshot);
  const [helpOpen, setHelpOpen] = useState(false);
  const [tokensOpen, setTokensOpen] = useState(false);
  const [logoutError, setLogoutError] = useState<string | null>(null);
  const [loggingOut, setLoggingOut] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    void services.auth.start(abort.signal);
    return () => abort.abort();
  }, [services]);

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

  const logout = async () => {
    setLoggingOut(true);
    setLogoutError(null);
    try {
      await services.auth.logout();
    } catch (err) {
      setLogoutError(`Could not log out: ${describeError(err)}`);
    } finally {
      setLoggingOut(false);
    }
  };

  const user = auth.status === 'ready' ? auth.user : null;
  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">
          <span aria-hidden="true" className="brand-mark" />
          RiffRoom
        </h1>
        <div className="header-actions">
          <button type="button" className="btn ghost" onClick={() => setHelpOpen(true)} aria-haspopup="dialog">
            Shortcuts <kbd>?</kbd>
          </button>
          {user && (
            <>
              <span className="user-name truncate" data-testid="user-name" title={user.username}>
                {user.username}
              </span>
              <button type="button" className="btn ghost" onClick={() => setTokensOpen(true)} aria-haspopup="dialog">
                API tokens
              </button>
              <button type="button" className="btn ghost" onClick={() => void logout()} disabled={loggingOut}>
                Log out
              </button>
            </>
          )}
        </div>
      </header>
      {logoutError && user && (
        <p className="error" role="alert">
          {logoutError}
        </p>
      )}
      {auth.status === 'checking' ? (
        <p className="muted checking" role="status">
          Connecting to RiffRoom…
        </p>
      ) : auth.status === 'login' ? (
        <main>
          <LoginForm notice={auth.notice} onLogin={(name, password) => services.auth.login(name, password)} />
        </main>
      ) : (
        <PracticeRoom key={user?.id ?? 'local'} services={services} engine={engine} username={user?.username ?? null} />
      )}
      <HelpPanel open={helpOpen} onClose={() => setHelpOpen(false)} />
      {user && <TokensPanel api={services.api} open={tokensOpen} onClose={() => setTokensOpen(false)} />}
    </div>
  );
}

/** Library, setlists, the band room (with accounts) and the player: everything that needs the server's songs. */
function PracticeRoom({ services, engine, username }: { services: AppServices; engine: PlayerEngine | null; username: string | null }) {
  const processorDeps = useMemo(
    () => ({
      ...services,
      // Stems are decoded by the player's AudioContext (its sample rate) as they arrive.
      decode: (bytes: ArrayBuffer) =>
        engine ? engine.decode(bytes) : Promise.reject(new Error('This browser cannot play audio (it has no Web Audio).')),
      // A running job's song grows in buffers of the same context, so it plays before it is done.
      createBuffer: engine ? (channels: number, length: number, rate: number) => engine.ctx.createBuffer(channels, length, rate) : undefined,
    }),
    [services, engine],
  );
  const processor = useStemProcessor(processorDeps);
  const { state, processSong, busy } = processor;
  const [queue, setQueue] = useState<{ id: number; file: File }[]>([]);
  const [songs, setSongs] = useState<Song[]>(() => session.loadLibrary());
  const [libraryError, setLibraryError] = useState<string | null>(null);
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

  const setlistsApi = useMemo(() => new SetlistsApi(services.api), [services]);
  const bandsApi = useMemo(() => new BandsApi(services.api), [services]);
  const setlists = useSetlistLibrary(setlistsApi);
  const { openSong } = processor;
  const setPlayback = useSetlistPlayback(engine, openSong, state.openSong?.id ?? null);
  const { refresh: refreshSetlists } = setlists;
  const onShares = useCallback(() => {
    void refreshSongs();
    void refreshSetlists();
  }, [refreshSongs, refreshSetlists]);

  // Leaving the room (logout, a 401): the engine is the page's, so stop it and drop the stems here.
  useEffect(() => () => engine?.unload(), [engine]);

  return (
    <main className="layout">
      <div className="room-side">
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
        <SetlistsPanel api={setlistsApi} library={setlists} songs={songs} playback={setPlayback} />
        {username && <BandPanel api={bandsApi} me={username} songs={songs} setlists={setlists.setlists} onShares={onShares} />}
      </div>
      <Player services={services} engine={engine} song={state.openSong} stems={state.stems} phase={state.phase} autoPlay={setPlayback.autoPlay} separating={state.progressive} />
    </main>
  );
}
