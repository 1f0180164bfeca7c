/**
 * The open song's analysis: fetched when the song opens, asked again every few seconds while
 * the server answers 409 `not_ready` (the analysis job runs), replaced by the server's answer
 * to a correction. One timer at a time, cleared when the song changes or the page unmounts.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Analysis } from '../../api/analysis';
import type { ApiClient } from '../../api/client';
import { ApiError, describeError } from '../../api/errors';

export const ANALYSIS_RETRY_MS = 4000;

export type AnalysisState =
  | { status: 'none' }
  | { status: 'pending' }
  | { status: 'ready'; analysis: Analysis }
  | { status: 'missing' }
  | { status: 'error'; message: string };

export function useAnalysis(api: ApiClient, songId: string | null) {
  const [state, setState] = useState<AnalysisState>({ status: 'none' });

  useEffect(() => {
    if (!songId) {
      setState({ status: 'none' });
      return;
    }
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    setState({ status: 'pending' });
    const ask = () => {
      timer = null;
      api.getAnalysis(songId, abort.signal).then(
        (analysis) => setState({ status: 'ready', analysis }),
        (err: unknown) => {
          if (abort.signal.aborted) return;
          if (err instanceof ApiError && err.status === 409) {
            setState({ status: 'pending' });
            timer = setTimeout(ask, ANALYSIS_RETRY_MS);
          } else if (err instanceof ApiError && err.status === 404) {
            setState({ status: 'missing' });
          } else {
            setState({ status: 'error', message: describeError(err) });
          }
        },
      );
    };
    ask();
    return () => {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [api, songId]);

  /** The server's answer to a correction replaces what the page shows. */
  const replace = useCallback((analysis: Analysis) => setState({ status: 'ready', analysis }), []);
  return { state, analysis: state.status === 'ready' ? state.analysis : null, replace };
}
