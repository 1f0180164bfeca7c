import { formatTime } from '../../audio/clock';

interface SeparationMarkProps {
  readySeconds: number;
  totalSeconds: number;
  /** Playback reached the frontier and waits there for more to be separated. */
  waiting: boolean;
  /** The song is separated; what is missing is still downloading (a head start, `headStart.ts`). */
  loading?: boolean;
}

/**
 * While the open song is still being separated: a "separated up to here" mark over the position
 * slider (inside its positioned wrapper), and, when playback waits at that mark, a visible
 * "Separating ahead…" that goes away by itself when it plays on. A separated song that plays from
 * its first seconds while the rest downloads says "loaded" and "Loading ahead…" instead.
 */
export function SeparationMark({ readySeconds, totalSeconds, waiting, loading = false }: SeparationMarkProps) {
  const verb = loading ? 'Loaded' : 'Separated';
  const fraction = totalSeconds > 0 ? Math.min(1, readySeconds / totalSeconds) : 0;
  return (
    <>
      <div
        className="ready-mark"
        style={{ left: `${fraction * 100}%` }}
        title={`${verb} up to ${formatTime(readySeconds)}`}
        data-testid="ready-mark"
        data-ready-seconds={readySeconds.toFixed(2)}
        aria-hidden="true"
      />
      <span className="ready-label muted" data-testid="ready-label">
        {waiting ? (
          <span className="notice" role="status" data-testid="separating-ahead">
            {loading ? 'Loading ahead…' : 'Separating ahead…'}
          </span>
        ) : (
          `${verb.toLowerCase()} to ${formatTime(readySeconds)}`
        )}
      </span>
    </>
  );
}
