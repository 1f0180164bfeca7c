import { useRef, useState, type DragEvent } from 'react';
import type { Song } from '../../api/types';
import { songTitle } from '../../api/types';
import { formatTime } from '../../audio/clock';
import type { useStemProcessor } from '../../hooks/useStemProcessor';
import { CurrentWork } from './CurrentWork';

interface LibraryProps {
  songs: Song[];
  error: string | null;
  processor: ReturnType<typeof useStemProcessor>;
  queue: { id: number; name: string }[];
  onFiles: (files: File[]) => void;
  onRemoveQueued: (id: number) => void;
  onOpen: (song: Song) => void;
  onDelete: (song: Song) => void;
}

export function Library({ songs, error, processor, queue, onFiles, onRemoveQueued, onOpen, onDelete }: LibraryProps) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const openId = processor.state.openSong?.id;

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length > 0) onFiles(files);
  };

  return (
    <section className="panel library" aria-labelledby="library-title">
      <h2 id="library-title">Library</h2>
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop songs here</p>
        <button type="button" className="btn primary" onClick={() => input.current?.click()}>
          Choose files…
        </button>
        <input
          ref={input}
          type="file"
          accept="audio/*,.mp3,.wav,.flac,.ogg,.opus,.m4a,.aac"
          multiple
          hidden
          data-testid="file-input"
          aria-label="Choose audio files"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length > 0) onFiles(files);
          }}
        />
      </div>

      <CurrentWork processor={processor} />

      {queue.length > 0 && (
        <div>
          <h3 className="subhead">Waiting</h3>
          <ul className="queue" aria-label="Files waiting to be processed">
            {queue.map((item) => (
              <li key={item.id} className="queue-item">
                <span className="truncate">{item.name}</span>
                <button type="button" className="btn ghost small" onClick={() => onRemoveQueued(item.id)} aria-label={`Remove ${item.name} from the queue`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}

      <h3 className="subhead">Songs</h3>
      {error && (
        <p className="notice" role="status">
          {error}
        </p>
      )}
      {songs.length === 0 ? (
        <p className="muted">No songs yet. Drop a song to split it into stems.</p>
      ) : (
        <ul className="songs" aria-label="Songs">
          {songs.map((song) => {
            const title = songTitle(song);
            const state = song.job?.state;
            const shared = song.owned === false;
            const bandNames = (song.bands ?? []).map((b) => b.name).join(', ');
            const status = song.stems.length > 0 ? `${song.stems.length} stems` : state === 'failed' ? 'failed' : state ? state : 'not separated';
            return (
              <li key={song.id} className={`song${song.id === openId ? ' open' : ''}`} data-testid="song-item">
                <button
                  type="button"
                  className="song-open"
                  onClick={() => onOpen(song)}
                  disabled={processor.busy || song.stems.length === 0}
                  aria-current={song.id === openId ? 'true' : undefined}
                  aria-label={`Open ${title}${bandNames ? ` (${shared ? 'from' : 'shared with'} ${bandNames})` : ''}`}
                >
                  <span className="song-title truncate">{title}</span>
                  <span className="song-meta">
                    {song.artist ? `${song.artist} · ` : ''}
                    {formatTime(song.duration)} · {status}
                  </span>
                  {bandNames && (
                    <span className="song-band" data-testid="song-band">
                      {shared ? `From ${bandNames}` : `Shared with ${bandNames}`}
                    </span>
                  )}
                </button>
                {!shared && (
                  <button
                    type="button"
                    className="btn ghost small"
                    aria-label={`Delete ${title}`}
                    disabled={processor.busy}
                    onClick={() => {
                      if (window.confirm(`Delete “${title}” and its stems?`)) onDelete(song);
                    }}
                  >
                    Delete
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
