import { useEffect, useId, useState } from 'react';
import { createPortal } from 'react-dom';
import { asSentence, describeError } from '../../api/errors';
import type { SetSheet, SetlistsApi } from '../../api/setlists';
import { formatTime } from '../../audio/clock';
import { useModalDialog } from '../common/useModalDialog';
import './setSheet.css';

const tempoText = (bpm: number | null) => (bpm === null ? '—' : `${Math.round(bpm)} BPM`);

/** The sheet itself: one row per song (title, artist, key, tempo, duration, notes) and the total. */
export function SetSheetView({ sheet }: { sheet: SetSheet }) {
  return (
    <>
      <table className="set-sheet-table">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Title</th>
            <th scope="col">Key</th>
            <th scope="col">Tempo</th>
            <th scope="col">Duration</th>
            <th scope="col">Notes</th>
          </tr>
        </thead>
        <tbody>
          {sheet.songs.map((song) => (
            <tr key={song.song_id} data-testid="sheet-row">
              <td>{song.position}</td>
              <th scope="row">
                {song.title}
                {song.artist && <span className="set-sheet-artist"> · {song.artist}</span>}
              </th>
              <td>{song.key ?? '—'}</td>
              <td>{tempoText(song.tempo_bpm)}</td>
              <td>{formatTime(song.duration)}</td>
              <td className="set-sheet-notes">{song.notes}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="set-sheet-total" data-testid="sheet-total">
        {sheet.songs.length} {sheet.songs.length === 1 ? 'song' : 'songs'} · {formatTime(sheet.total_duration)} in all
      </p>
    </>
  );
}

/**
 * The printable set sheet (`GET /api/setlists/{id}/sheet`, asked each time it opens), in a modal
 * dialog put straight under <body>: the print stylesheet (`setSheet.css`) prints only the sheet
 * while it is open, on white paper, without the buttons. "Print" is `window.print()`.
 */
export function SetSheetDialog({ api, setlistId, open, onClose }: { api: SetlistsApi; setlistId: string; open: boolean; onClose: () => void }) {
  const dialog = useModalDialog(open);
  const titleId = useId();
  const [sheet, setSheet] = useState<SetSheet | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    const abort = new AbortController();
    setSheet(null);
    setError(null);
    api.sheet(setlistId, abort.signal).then(setSheet, (err: unknown) => {
      if (!abort.signal.aborted) setError(`The set sheet could not be loaded: ${asSentence(describeError(err))}`);
    });
    return () => abort.abort();
  }, [api, setlistId, open]);

  return createPortal(
    <dialog ref={dialog} className="set-sheet" aria-labelledby={titleId} onClose={onClose} data-testid="set-sheet">
      {open && (
        <>
          <h2 id={titleId}>{sheet?.title ?? 'Set sheet'}</h2>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {!sheet && !error && <p className="muted no-print">Loading the set sheet…</p>}
          {sheet && <SetSheetView sheet={sheet} />}
          <div className="set-sheet-actions no-print">
            <button type="button" className="btn primary" onClick={() => window.print()} disabled={!sheet}>
              Print
            </button>
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      )}
    </dialog>,
    document.body,
  );
}
