import { useId, useState } from 'react';
import type { Band, BandsApi } from '../../api/bands';
import { asSentence, describeError } from '../../api/errors';
import type { SetlistSummary } from '../../api/setlists';
import type { Song } from '../../api/types';
import { songTitle } from '../../api/types';
import { SharedItems } from './SharedItems';

interface BandCardProps {
  api: BandsApi;
  band: Band;
  /** Who is logged in (their user name). */
  me: string;
  songs: readonly Song[];
  setlists: readonly SetlistSummary[];
  /** The band as the server has it now; null when it is gone for this user (deleted, left). */
  onBand: (band: Band | null) => void;
  /** A share began or ended: the library's and the setlists' band names changed. */
  onShares: () => void;
}

/**
 * One band: its members (the owner invites by user name and removes; a member may leave), the
 * songs and setlists shared with it, and sharing one of your own. The server's refusals are
 * shown as sentences ("No user 'carol'.", "Only the band's owner can add members.").
 */
export function BandCard({ api, band, me, songs, setlists, onBand, onShares }: BandCardProps) {
  const titleId = useId();
  const [invitee, setInvitee] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const owner = band.role === 'owner';

  /** Run one change and show the band's new state (asked again when the answer is a 204). */
  const act = async (call: () => Promise<Band | void>, changesShares = false): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      const answer = await call();
      onBand(answer ?? (await api.get(band.id)));
      if (changesShares) onShares();
      return true;
    } catch (err) {
      setError(asSentence(describeError(err)));
      return false;
    } finally {
      setBusy(false);
    }
  };

  /** Delete the band or leave it: it is gone from this user's list. */
  const end = async (call: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await call();
      onBand(null);
      onShares();
    } catch (err) {
      setError(asSentence(describeError(err)));
      setBusy(false);
    }
  };

  const songName = (id: string) => {
    const song = songs.find((s) => s.id === id);
    return song ? songTitle(song) : 'A song not in your library';
  };
  const setlistName = (id: string) => setlists.find((s) => s.id === id)?.name ?? 'A setlist you cannot see';
  const mySongs = songs.filter((s) => s.owned !== false && !band.songs.includes(s.id));
  const mySetlists = setlists.filter((s) => s.owned && !band.setlists.includes(s.id));
  const mayUnshareSong = (id: string) => owner || songs.find((s) => s.id === id)?.owned === true;
  const mayUnshareSetlist = (id: string) => owner || setlists.find((s) => s.id === id)?.owned === true;

  return (
    <section className="band-card" aria-labelledby={titleId} data-testid="band-card">
      <div className="band-head">
        <h3 id={titleId} className="truncate">
          {band.name}
        </h3>
        <span className="muted">{owner ? 'You own this band' : `Owner: ${band.owner}`}</span>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <h4 className="band-subhead">Members</h4>
      <ul className="band-list" aria-label={`Members of ${band.name}`}>
        {band.members.map((m) => (
          <li key={m.username} data-testid="band-member">
            <span className="truncate">
              {m.username}
              {m.role === 'owner' && <span className="muted"> (owner)</span>}
            </span>
            {owner && m.role !== 'owner' && (
              <button type="button" className="btn ghost small" disabled={busy} aria-label={`Remove ${m.username} from ${band.name}`} onClick={() => void act(() => api.removeMember(band.id, m.username))}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <form
          className="band-row"
          onSubmit={(e) => {
            e.preventDefault();
            const name = invitee.trim();
            if (name) void act(() => api.invite(band.id, name)).then((ok) => ok && setInvitee(''));
          }}
        >
          <input type="text" maxLength={64} autoComplete="off" value={invitee} placeholder="their user name" aria-label="User name to invite" onChange={(e) => setInvitee(e.target.value)} />
          <button type="submit" className="btn small" disabled={busy || !invitee.trim()}>
            Invite
          </button>
        </form>
      )}

      <SharedItems
        kind="song"
        bandName={band.name}
        shared={band.songs}
        choices={mySongs.map((s) => ({ id: s.id, label: songTitle(s) }))}
        busy={busy}
        nameOf={songName}
        mayUnshare={mayUnshareSong}
        share={(id) => act(() => api.shareSong(band.id, id), true)}
        unshare={(id) => void act(() => api.unshareSong(band.id, id), true)}
        emptyText="No songs shared yet."
      />
      <SharedItems
        kind="setlist"
        bandName={band.name}
        shared={band.setlists}
        choices={mySetlists.map((s) => ({ id: s.id, label: s.name }))}
        busy={busy}
        nameOf={setlistName}
        mayUnshare={mayUnshareSetlist}
        share={(id) => act(() => api.shareSetlist(band.id, id), true)}
        unshare={(id) => void act(() => api.unshareSetlist(band.id, id), true)}
      />

      <div className="band-row">
        {owner ? (
          <button
            type="button"
            className="btn small danger"
            disabled={busy}
            onClick={() => {
              if (!window.confirm(`Delete the band “${band.name}”? Everything shared with it stops being shared.`)) return;
              void end(() => api.remove(band.id));
            }}
          >
            Delete band
          </button>
        ) : (
          <button
            type="button"
            className="btn small"
            disabled={busy}
            onClick={() => {
              if (!window.confirm(`Leave “${band.name}”? Its songs leave your library.`)) return;
              void end(() => api.removeMember(band.id, me));
            }}
          >
            Leave band
          </button>
        )}
      </div>
    </section>
  );
}
