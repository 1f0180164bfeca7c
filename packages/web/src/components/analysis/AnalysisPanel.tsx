import { useState } from 'react';
import type { Analysis, AnalysisCorrections, ChordSpan } from '../../api/analysis';
import type { ApiClient } from '../../api/client';
import { describeError } from '../../api/errors';
import type { Loop } from '../../audio/clock';
import type { PlayerEngine } from '../../audio/engine';
import type { BeatGrid } from '../../music/grid';
import { ChordLane } from './ChordLane';
import { ClickControls } from './ClickControls';
import { Corrections } from './Corrections';
import { LoopBars } from './LoopBars';
import type { AnalysisState } from './useAnalysis';
import type { ClickSettings } from './usePracticeAudio';

interface AnalysisPanelProps {
  api: ApiClient;
  songId: string;
  engine: PlayerEngine | null;
  state: AnalysisState;
  grid: BeatGrid | null;
  transpose: number;
  click: ClickSettings;
  /** Capo fret (saved with the workspace). */
  capo: number;
  onCapo: (capo: number) => void;
  onClickChange: (patch: Partial<ClickSettings>) => void;
  onLoop: (loop: Loop) => void;
  onAnalysis: (analysis: Analysis) => void;
}

export const CAPO_FRETS = [0, 1, 2, 3, 4, 5, 6, 7];

/** The music of the song beside the player: chords and key, click and count-in, bar loops, fixes. */
export function AnalysisPanel(props: AnalysisPanelProps) {
  const { api, songId, engine, state, grid, transpose, click, capo, onCapo, onClickChange, onLoop, onAnalysis } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (state.status !== 'ready') {
    const text =
      state.status === 'pending'
        ? 'Analysing the beats and chords…'
        : state.status === 'error'
          ? `No chords or bars: ${state.message}`
          : state.status === 'missing'
            ? 'This song has no analysis.'
            : '';
    return text ? (
      <p className="muted analysis-status" data-testid="analysis-status">
        {text}
      </p>
    ) : null;
  }
  const { analysis } = state;

  const send = async (corrections: AnalysisCorrections) => {
    setBusy(true);
    setError(null);
    try {
      onAnalysis(await api.putAnalysisCorrections(songId, corrections));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const editChord = (span: ChordSpan, label: string) => {
    const others = analysis.corrections.chords.filter((c) => c.end <= span.start || c.start >= span.end);
    void send({ ...analysis.corrections, chords: [...others, { start: span.start, end: span.end, label }] });
  };
  const view = { transpose, capo, key: analysis.key };

  return (
    <div className="analysis" data-testid="analysis">
      {!grid && (
        <p className="notice" data-testid="no-beat">
          {analysis.message ? `${analysis.message[0]?.toUpperCase()}${analysis.message.slice(1)}` : 'No steady beat found'}: the click, the
          count-in and snapping loops to bars are off.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="analysis-head">
        {analysis.bpm !== null && grid && (
          <span className="muted" data-testid="song-tempo">
            {Math.round(analysis.bpm)} bpm · {analysis.time_signature ?? '4/4'}
          </span>
        )}
        <label className="capo">
          <span className="control-label">Capo</span>{' '}
          <select value={capo} onChange={(e) => onCapo(Number(e.target.value))} aria-label="Capo">
            {CAPO_FRETS.map((f) => (
              <option key={f} value={f}>
                {f === 0 ? 'none' : `fret ${f}`}
              </option>
            ))}
          </select>
        </label>
      </div>
      {analysis.chords.length > 0 ? (
        <ChordLane engine={engine} chords={analysis.chords} view={view} keyConfidence={analysis.key_confidence} onEdit={busy ? undefined : editChord} />
      ) : (
        <p className="muted">No chords found.</p>
      )}
      <div className="controls-row">
        <ClickControls settings={click} onChange={onClickChange} available={grid !== null} />
        {grid && grid.downbeats.length > 0 && <LoopBars grid={grid} onLoop={onLoop} />}
        <Corrections engine={engine} grid={grid} timeSignature={analysis.time_signature} corrections={analysis.corrections} busy={busy} onSend={(c) => void send(c)} />
      </div>
    </div>
  );
}
