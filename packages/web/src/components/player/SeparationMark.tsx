import { formatTime } from '../../audio/clock';

interface SeparationMarkProps {
  readySeconds: number;
  totalSeconds: number;
  /** Playback reached the frontier and waits there for more to be separated. */
  waiting: boolean;
}

/**
 * While the open song is still being separated: a "separated up to here" mark over the position
 * slider (inside its positioned wrapper), and, when playback waits at that mark, a visible
 * "Separating ahead…" that goes away by itself when it plays on.
 */
export function SeparationMark({ readySeconds, totalSeconds, waiting }: SeparationMarkProps) {
  const fraction = totalSeconds > 0 ? Math.min(1, readySeconds / totalSeconds) : 0;
  return (
    <>
      <div
        className="ready-mark"
        style={{ left: `${fraction * 100}%` }}
        title={`Separated up to ${formatTime(readySeconds)}`}
        data-testid="ready-mark"
        data-ready-seconds={readySeconds.toFixed(2)}
        aria-hidden="true"
      />
      <span className="ready-label muted" data-testid="ready-label">
        {waiting ? (
          <span className="notice" role="status" data-testid="separating-ahead">
            Separating ahead…
          </span>
        ) : (
          `separated to ${formatTime(readySeconds)}`
        )}
      </span>
    </>
  );
}
