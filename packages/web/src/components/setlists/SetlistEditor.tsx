import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { asSentence, describeError } from '../../api/errors';
import { entriesIn, type Setlist, type SetlistsApi } from '../../api/setlists';
import type { Song } from '../../api/types';
import { songTitle } from '../../api/types';
import { formatTime } from '../../audio/clock';
import { keyboardMove, moveAnnouncement, moveItem } from './reorder';
import { SetSheetDialog } from './SetSheetDialog';
import type { SetlistPlayback } from './useSetlistPlayback';

interface SetlistEditorProps {
  api: SetlistsApi;
  setlistId: string;
  /** The library: the songs that can be added. */
  songs: readonly Song[];
  playback: SetlistPlayback;
  /** Something the summaries show changed (name, songs, order). */
  onChanged: () => void;
  onDeleted: () => void;
  onClose: () => void;
}

/**
 * One setlist: rename it, add and remove songs, notes per song, reorder by drag or with
 * Alt+↑/↓ on a focused song (announced politely), play it through, print its set sheet.
 * A reorder shows at once and is saved after; a refusal puts back what the server has.
 * A setlist shared with a band is read-only here (only its owner changes it).
 */
export function SetlistEditor({ api, setlistId, songs, playback, onChanged, onDeleted, onClose }: SetlistEditorProps) {
  const [setlist, setSetlist] = useState<Setlist | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [name, setName] = useState('');
  const [adding, setAdding] = useState('');
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [dropAt, setDropAt] = useState<number | null>(null);
  const [sheetOpen, setSheetOpen] = useState(false);
  const confirmed = useRef<Setlist | null>(null);
  const requests = useRef(0);
  const dragFrom = useRef<number | null>(null);
  const items = useRef(new Map<string, HTMLLIElement>());
  const focusAfter = useRef<string | null>(null);
  const helpId = useId();

  useEffect(() => {
    const abort = new AbortController();
    api.get(setlistId, abort.signal).then(
      (loaded) => {
        confirmed.current = loaded;
        setSetlist(loaded);
        setName(loaded.name);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(asSentence(describeError(err)));
      },
    );
    return () => abort.abort();
  }, [api, setlistId]);

  // A song moved with the keyboard keeps the focus in its new place.
  useLayoutEffect(() => {
    const id = focusAfter.current;
    if (!id) return;
    focusAfter.current = null;
    items.current.get(id)?.focus();
  });

  /** Show `optimistic` now, save with `call`; only the latest answer is shown, a refusal reverts. */
  const save = useCallback(
    async (optimistic: Setlist | null, call: () => Promise<Setlist>): Promise<boolean> => {
      const mine = ++requests.current;
      if (optimistic) setSetlist(optimistic);
      setError(null);
      try {
        const saved = await call();
        confirmed.current = saved;
        if (mine === requests.current) setSetlist(saved);
        onChanged();
        return true;
      } catch (err) {
        if (mine === requests.current) setSetlist(confirmed.current);
        setError(asSentence(describeError(err)));
        return false;
      }
    },
    [onChanged],
  );

  if (!setlist) {
    return (
      <div className="setlist-editor">
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : (
          <p className="muted">Loading the setlist…</p>
        )}
        <button type="button" className="btn small" onClick={onClose}>
          Close
        </button>
      </div>
    );
  }

  const owned = setlist.owned;
  const count = setlist.songs.length;

  const move = (from: number, to: number, keyboard: boolean) => {
    if (!owned || from === to || to < 0 || to >= count) return;
    const reordered = moveItem(setlist.songs, from, to).map((entry, position) => ({ ...entry, position }));
    const moved = reordered[to];
    if (!moved) return;
    setAnnouncement(moveAnnouncement(moved.name, to, count));
    if (keyboard) focusAfter.current = moved.song_id;
    void save({ ...setlist, songs: reordered }, () => api.reorder(setlist.id, reordered.map((e) => e.song_id)));
  };

  const saveNotes = (songId: string) => {
    const draft = drafts[songId];
    const entry = setlist.songs.find((e) => e.song_id === songId);
    if (draft === undefined || !entry || draft === entry.notes) return;
    const entries = entriesIn(setlist.songs).map((e) => (e.song_id === songId ? { ...e, notes: draft } : e));
    void save(null, () => api.setSongs(setlist.id, entries)).then((ok) => {
      if (ok)
        setDrafts((d) => {
          const { [songId]: _saved, ...rest } = d;
          return rest;
        });
    });
  };

  const inSet = new Set(setlist.songs.map((e) => e.song_id));
  const addable = songs.filter((s) => !inSet.has(s.id));
  const playingHere = playback.run?.setlist.id === setlist.id;

  return (
    <div className="setlist-editor" data-testid="setlist-editor">
      <div className="setlist-head">
        <h3 className="truncate">{setlist.name}</h3>
        <span className="muted">
          {count} {count === 1 ? 'song' : 'songs'} · {formatTime(setlist.duration)}
        </span>
      </div>
      {!owned && <p className="muted">Shared with {setlist.bands.map((b) => b.name).join(', ') || 'a band'}: only its owner changes it.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {owned && (
        <form
          className="setlist-row"
          onSubmit={(e) => {
            e.preventDefault();
            const next = name.trim();
            if (next && next !== setlist.name) void save(null, () => api.rename(setlist.id, next));
          }}
        >
          <input type="text" maxLength={200} value={name} aria-label="Setlist name" onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="btn small" disabled={!name.trim() || name.trim() === setlist.name}>
            Rename
          </button>
        </form>
      )}

      {owned && count > 1 && (
        <p id={helpId} className="muted small">
          Drag a song, or focus it and press Alt+↑ / Alt+↓, to move it.
        </p>
      )}
      <p className="sr-only" aria-live="polite" data-testid="setlist-announcement">
        {announcement}
      </p>
      {count === 0 ? (
        <p className="muted">No songs in this set yet.</p>
      ) : (
        <ol className="setlist-songs" aria-label={`Songs in ${setlist.name}`} aria-describedby={owned && count > 1 ? helpId : undefined}>
          {setlist.songs.map((entry, i) => {
            const current = playingHere && playback.run?.index === i;
            return (
              <li
                key={entry.song_id}
                ref={(el) => {
                  if (el) items.current.set(entry.song_id, el);
                  else items.current.delete(entry.song_id);
                }}
                tabIndex={0}
                draggable={owned}
                aria-label={`${i + 1}. ${entry.name}`}
                aria-current={current ? 'true' : undefined}
                className={`setlist-song${dropAt === i ? ' drop-target' : ''}${current ? ' current' : ''}`}
                data-testid="setlist-song"
                onKeyDown={(e) => {
                  if (e.target !== e.currentTarget) return;
                  const by = keyboardMove(e);
                  if (by === 0) return;
                  e.preventDefault();
                  move(i, i + by, true);
                }}
                onDragStart={(e) => {
                  dragFrom.current = i;
                  e.dataTransfer?.setData('text/plain', entry.song_id);
                  if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
                }}
                onDragOver={(e) => {
                  if (dragFrom.current === null) return;
                  e.preventDefault();
                  setDropAt(i);
                }}
                onDrop={(e) => {
                  e.preventDefault();
                  const from = dragFrom.current;
                  dragFrom.current = null;
                  setDropAt(null);
                  if (from !== null) move(from, i, false);
                }}
                onDragEnd={() => {
                  dragFrom.current = null;
                  setDropAt(null);
                }}
              >
                <span className="setlist-pos" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="setlist-song-title truncate" data-testid="setlist-song-title">
                  {entry.name}
                </span>
                <span className="muted setlist-song-time">{formatTime(entry.duration)}</span>
                <div className="setlist-song-actions">
                  <button type="button" className="btn ghost small" aria-label={`Play ${entry.name}`} onClick={() => playback.start(setlist, i)}>
                    ▶
                  </button>
                  {owned && (
                    <button
                      type="button"
                      className="btn ghost small"
                      aria-label={`Remove ${entry.name} from the set`}
                      onClick={() => {
                        const rest = setlist.songs.filter((e) => e.song_id !== entry.song_id);
                        void save(null, () => api.setSongs(setlist.id, entriesIn(rest)));
                      }}
                    >
                      ✕
                    </button>
                  )}
                </div>
                {owned ? (
                  <input
                    type="text"
                    className="setlist-notes"
                    maxLength={2000}
                    placeholder="Notes for the set sheet"
                    aria-label={`Notes for ${entry.name}`}
                    value={drafts[entry.song_id] ?? entry.notes}
                    onChange={(e) => setDrafts((d) => ({ ...d, [entry.song_id]: e.target.value }))}
                    onBlur={() => saveNotes(entry.song_id)}
                  />
                ) : (
                  entry.notes && <span className="setlist-notes muted">{entry.notes}</span>
                )}
              </li>
            );
          })}
        </ol>
      )}

      {owned && (
        <form
          className="setlist-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (!adding) return;
            const entries = [...entriesIn(setlist.songs), { song_id: adding, notes: '' }];
            void save(null, () => api.setSongs(setlist.id, entries)).then((ok) => ok && setAdding(''));
          }}
        >
          <select value={adding} aria-label="Song to add" onChange={(e) => setAdding(e.target.value)} disabled={addable.length === 0}>
            <option value="">{addable.length === 0 ? 'All songs are in it' : 'Choose a song…'}</option>
            {addable.map((s) => (
              <option key={s.id} value={s.id}>
                {songTitle(s)}
              </option>
            ))}
          </select>
          <button type="submit" className="btn small" disabled={!adding}>
            Add to set
          </button>
        </form>
      )}

      <div className="setlist-row">
        <button type="button" className="btn small primary" disabled={count === 0} onClick={() => playback.start(setlist, 0)}>
          Play set
        </button>
        <button type="button" className="btn small" disabled={count === 0} onClick={() => setSheetOpen(true)} aria-haspopup="dialog">
          Set sheet
        </button>
        {owned && (
          <button
            type="button"
            className="btn small danger"
            onClick={() => {
              if (!window.confirm(`Delete the setlist “${setlist.name}”? Its songs stay in the library.`)) return;
              api.remove(setlist.id).then(
                () => {
                  if (playingHere) playback.stop();
                  onDeleted();
                },
                (err: unknown) => setError(asSentence(describeError(err))),
              );
            }}
          >
            Delete setlist
          </button>
        )}
        <button type="button" className="btn ghost small" onClick={onClose}>
          Close
        </button>
      </div>
      <SetSheetDialog api={api} setlistId={setlist.id} open={sheetOpen} onClose={() => setSheetOpen(false)} />
    </div>
  );
}
