import { useState } from 'react';
import { asSentence, describeError } from '../../api/errors';
import type { SetlistsApi } from '../../api/setlists';
import type { Song } from '../../api/types';
import { formatTime } from '../../audio/clock';
import { SetlistEditor } from './SetlistEditor';
import type { SetlistLibrary } from './useSetlistLibrary';
import type { SetlistPlayback } from './useSetlistPlayback';
import './setlists.css';

interface SetlistsPanelProps {
  api: SetlistsApi;
  library: SetlistLibrary;
  songs: readonly Song[];
  playback: SetlistPlayback;
}

/** The set being played: where it is, previous/next, auto-advance, stop. */
function SetRun({ playback }: { playback: SetlistPlayback }) {
  const { run } = playback;
  if (!run) return null;
  const entry = run.setlist.songs[run.index];
  const count = run.setlist.songs.length;
  return (
    <div className="set-run" role="group" aria-label="Playing a set" data-testid="set-run">
      <p>
        <strong>{run.setlist.name}</strong>{' '}
        <span className="muted" data-testid="set-run-position">
          {run.index + 1} of {count}: {entry?.name ?? ''}
        </span>
      </p>
      <div className="setlist-row">
        <button type="button" className="btn small" onClick={playback.previous} disabled={run.index === 0}>
          Previous song
        </button>
        <button type="button" className="btn small" onClick={playback.next} disabled={run.index + 1 >= count}>
          Next song
        </button>
        <button type="button" className="btn ghost small" onClick={playback.stop}>
          Stop the set
        </button>
      </div>
      <label>
        <input type="checkbox" checked={playback.autoAdvance} onChange={(e) => playback.setAutoAdvance(e.target.checked)} /> Next song at the end
      </label>
    </div>
  );
}

/** Setlists: the list (own and shared with a band), a new one by name, the one open for editing. */
export function SetlistsPanel({ api, library, songs, playback }: SetlistsPanelProps) {
  const [newName, setNewName] = useState('');
  const [openId, setOpenId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  const create = async () => {
    const name = newName.trim();
    if (!name) return;
    setCreating(true);
    setError(null);
    try {
      const created = await api.create(name);
      setNewName('');
      setOpenId(created.id);
      await library.refresh();
    } catch (err) {
      setError(asSentence(describeError(err)));
    } finally {
      setCreating(false);
    }
  };

  return (
    <section className="panel setlists" aria-labelledby="setlists-title">
      <h2 id="setlists-title">Setlists</h2>
      <SetRun playback={playback} />
      <form
        className="setlist-row"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <input type="text" maxLength={200} value={newName} placeholder="Friday gig" aria-label="New setlist name" onChange={(e) => setNewName(e.target.value)} />
        <button type="submit" className="btn small" disabled={!newName.trim() || creating}>
          Create setlist
        </button>
      </form>
      {(error ?? library.error) && (
        <p className="error" role="alert">
          {error ?? library.error}
        </p>
      )}
      {library.setlists.length === 0 ? (
        <p className="muted">No setlists yet.</p>
      ) : (
        <ul className="setlists-list" aria-label="Setlists">
          {library.setlists.map((s) => (
            <li key={s.id} data-testid="setlist-item">
              <button type="button" className="setlist-open" aria-current={s.id === openId ? 'true' : undefined} onClick={() => setOpenId(s.id === openId ? null : s.id)} aria-label={`Open setlist ${s.name}`}>
                <span className="truncate">{s.name}</span>
                <span className="song-meta">
                  {s.song_count} {s.song_count === 1 ? 'song' : 'songs'} · {formatTime(s.duration)}
                  {s.bands.length > 0 && ` · ${s.owned ? 'shared with' : 'from'} ${s.bands.map((b) => b.name).join(', ')}`}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {openId && (
        <SetlistEditor
          key={openId}
          api={api}
          setlistId={openId}
          songs={songs}
          playback={playback}
          onChanged={() => void library.refresh()}
          onDeleted={() => {
            setOpenId(null);
            void library.refresh();
          }}
          onClose={() => setOpenId(null)}
        />
      )}
    </section>
  );
}
