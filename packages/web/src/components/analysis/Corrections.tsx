import type { AnalysisCorrections, TempoFactor } from '../../api/analysis';
import { NO_CORRECTIONS } from '../../api/analysis';
import type { PlayerEngine } from '../../audio/engine';
import type { BeatGrid } from '../../music/grid';

interface CorrectionsProps {
  engine: PlayerEngine | null;
  grid: BeatGrid | null;
  timeSignature: string | null;
  corrections: AnalysisCorrections;
  busy: boolean;
  onSend: (corrections: AnalysisCorrections) => void;
}

export const TIME_SIGNATURES = ['2/4', '3/4', '4/4', '5/4', '6/8', '7/8', '12/8'];

const FACTORS: readonly TempoFactor[] = [0.5, 1, 2];

/** The tempo factor after halving (0.5) or doubling (2) the current one, kept to 0.5, 1 or 2. */
export function nextTempoFactor(current: TempoFactor, by: 0.5 | 2): TempoFactor {
  const next = current * by;
  return FACTORS.find((f) => f === next) ?? current;
}

/** Fix what the analysis got wrong: where beat 1 is, double/half tempo, the time signature. */
export function Corrections({ engine, grid, timeSignature, corrections, busy, onSend }: CorrectionsProps) {
  const send = (patch: Partial<AnalysisCorrections>) => onSend({ ...corrections, ...patch });
  const nearestBeat = () => {
    if (!engine || !grid) return null;
    const t = engine.position;
    return grid.beats.reduce((best, b) => (Math.abs(b - t) < Math.abs(best - t) ? b : best), grid.beats[0] ?? t);
  };
  return (
    <div className="control corrections" role="group" aria-label="Corrections">
      <span className="control-label">Fix</span>
      <button
        type="button"
        className="btn small"
        disabled={busy || !grid}
        title="Count the beat at the playhead as beat 1 of a bar"
        onClick={() => {
          const beat = nearestBeat();
          if (beat !== null) send({ first_downbeat: beat });
        }}
      >
        Beat 1 here
      </button>
      <button type="button" className="btn small" disabled={busy || corrections.tempo_factor === 0.5} onClick={() => send({ tempo_factor: nextTempoFactor(corrections.tempo_factor, 0.5) })}>
        ½ tempo
      </button>
      <button type="button" className="btn small" disabled={busy || corrections.tempo_factor === 2} onClick={() => send({ tempo_factor: nextTempoFactor(corrections.tempo_factor, 2) })}>
        2× tempo
      </button>
      <select
        aria-label="Time signature"
        disabled={busy}
        value={corrections.time_signature ?? ''}
        onChange={(e) => send({ time_signature: e.target.value || null })}
      >
        <option value="">{timeSignature ? `${timeSignature} (analysed)` : 'as analysed'}</option>
        {TIME_SIGNATURES.map((ts) => (
          <option key={ts} value={ts}>
            {ts}
          </option>
        ))}
      </select>
      <button type="button" className="btn small ghost" disabled={busy} onClick={() => onSend(NO_CORRECTIONS)}>
        Undo fixes
      </button>
    </div>
  );
}
