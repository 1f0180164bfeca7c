import { useState } from 'react';

export interface ShareChoice {
  id: string;
  label: string;
}

interface SharedItemsProps {
  /** "song" or "setlist": the words of the labels and buttons. */
  kind: string;
  bandName: string;
  /** The ids shared with the band now. */
  shared: readonly string[];
  /** What the caller may share next (their own, not shared yet). */
  choices: readonly ShareChoice[];
  busy: boolean;
  nameOf: (id: string) => string;
  mayUnshare: (id: string) => boolean;
  /** Start a share; resolves true when the server took it (the choice is then cleared). */
  share: (id: string) => Promise<boolean>;
  unshare: (id: string) => void;
  /** Shown instead of an empty list; none: an empty list shows nothing. */
  emptyText?: string;
}

/**
 * What of one kind is shared with a band, with "Unshare" where the caller may end the share and a
 * picker to share one more. Songs and setlists are shared the same way, so one component lists both.
 */
export function SharedItems({ kind, bandName, shared, choices, busy, nameOf, mayUnshare, share, unshare, emptyText }: SharedItemsProps) {
  const [chosen, setChosen] = useState('');
  const plural = `${kind.charAt(0).toUpperCase()}${kind.slice(1)}s`;
  return (
    <>
      <h4 className="band-subhead">Shared {kind}s</h4>
      {shared.length === 0 ? (
        emptyText && <p className="muted">{emptyText}</p>
      ) : (
        <ul className="band-list" aria-label={`${plural} shared with ${bandName}`}>
          {shared.map((id) => (
            <li key={id} data-testid={`band-${kind}`}>
              <span className="truncate">{nameOf(id)}</span>
              {mayUnshare(id) && (
                <button type="button" className="btn ghost small" disabled={busy} aria-label={`Stop sharing ${kind === 'song' ? '' : `the ${kind} `}${nameOf(id)}`} onClick={() => unshare(id)}>
                  Unshare
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form
        className="band-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) void share(chosen).then((ok) => ok && setChosen(''));
        }}
      >
        <select value={chosen} aria-label={`${plural.slice(0, -1)} to share`} onChange={(e) => setChosen(e.target.value)} disabled={choices.length === 0}>
          <option value="">{choices.length === 0 ? 'Nothing to share' : `Choose a ${kind}…`}</option>
          {choices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
        <button type="submit" className="btn small" disabled={busy || !chosen}>
          Share {kind}
        </button>
      </form>
    </>
  );
}
