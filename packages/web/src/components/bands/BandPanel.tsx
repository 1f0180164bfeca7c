import { useCallback, useEffect, useState } from 'react';
import type { Band, BandsApi } from '../../api/bands';
import { asSentence, describeError } from '../../api/errors';
import type { SetlistSummary } from '../../api/setlists';
import type { Song } from '../../api/types';
import { BandCard } from './BandCard';
import './bands.css';

interface BandPanelProps {
  api: BandsApi;
  /** Who is logged in: bands need accounts. */
  me: string;
  songs: readonly Song[];
  setlists: readonly SetlistSummary[];
  /** A share began or ended (or a band went): the library and the setlists are asked again. */
  onShares: () => void;
}

/**
 * The band room: the bands you are in, a new band by name, and per band its members and what
 * is shared with it. Members find a shared song in their library with the band named, and play
 * it with a workspace of their own (the server keeps workspaces per user).
 */
export function BandPanel({ api, me, songs, setlists, onShares }: BandPanelProps) {
  const [bands, setBands] = useState<Band[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const list = await api.list(signal);
        if (!signal?.aborted) setBands(list);
      } catch (err) {
        if (!signal?.aborted) setError(`Your bands could not be loaded: ${asSentence(describeError(err))}`);
      }
    },
    [api],
  );

  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  const create = async () => {
    const bandName = name.trim();
    if (!bandName) return;
    setCreating(true);
    setError(null);
    try {
      const band = await api.create(bandName);
      setBands((list) => [...(list ?? []), band]);
      setName('');
    } catch (err) {
      setError(asSentence(describeError(err)));
    } finally {
      setCreating(false);
    }
  };

  const replace = (id: string, band: Band | null) => setBands((list) => (list ?? []).flatMap((b) => (b.id !== id ? [b] : band ? [band] : [])));

  return (
    <section className="panel bands" aria-labelledby="bands-title">
      <h2 id="bands-title">Band room</h2>
      <form
        className="band-row"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <input type="text" maxLength={100} value={name} placeholder="The Testers" aria-label="New band name" onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="btn small" disabled={creating || !name.trim()}>
          Create band
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {bands === null ? (
        !error && <p className="muted">Loading your bands…</p>
      ) : bands.length === 0 ? (
        <p className="muted">You are not in a band yet. Make one, then invite the others by their user names.</p>
      ) : (
        bands.map((band) => (
          <BandCard key={band.id} api={api} band={band} me={me} songs={songs} setlists={setlists} onBand={(next) => replace(band.id, next)} onShares={onShares} />
        ))
      )}
    </section>
  );
}
