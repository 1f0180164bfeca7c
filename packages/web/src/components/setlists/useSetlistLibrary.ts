/**
 * The setlists the page lists (the caller's and those shared with a band the caller is in): one
 * list for the setlists panel and the band room, asked again after anything changes them.
 */
import { useCallback, useEffect, useState } from 'react';
import { asSentence, describeError } from '../../api/errors';
import type { SetlistSummary, SetlistsApi } from '../../api/setlists';

export function useSetlistLibrary(api: SetlistsApi) {
  const [setlists, setSetlists] = useState<SetlistSummary[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const list = await api.list(signal);
        if (signal?.aborted) return;
        setSetlists(list);
        setError(null);
      } catch (err) {
        if (!signal?.aborted) setError(`Setlists could not be loaded: ${asSentence(describeError(err))}`);
      }
    },
    [api],
  );

  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  const refresh = useCallback(() => load(), [load]);
  return { setlists, error, refresh };
}

export type SetlistLibrary = ReturnType<typeof useSetlistLibrary>;
