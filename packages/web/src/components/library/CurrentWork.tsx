import { songTitle } from '../../api/types';
import { formatTime } from '../../audio/clock';
import type { useStemProcessor } from '../../hooks/useStemProcessor';
import { ProgressBar } from '../common/ProgressBar';

const PHASE_LABEL = {
  idle: '',
  hashing: 'Reading the file',
  uploading: 'Uploading',
  queued: 'Waiting for a worker',
  separating: 'Separating',
  loading: 'Loading stems',
  ready: 'Ready',
  failed: 'Failed',
  cancelled: 'Cancelled',
} as const;

/** The song being worked on: its phase, progress, ETA, cancel and errors. */
export function CurrentWork({ processor }: { processor: ReturnType<typeof useStemProcessor> }) {
  const { state, busy, cancel } = processor;
  if (state.phase === 'idle' || (state.phase === 'ready' && !state.fileName)) return null;
  const name = state.song ? songTitle(state.song) : (state.fileName ?? 'Song');
  const stage = state.phase === 'separating' && state.stage ? ` · ${state.stage}` : '';
  const pct = Math.round(state.progress * 100);
  const eta = state.etaSeconds !== null && state.phase === 'separating' ? ` · about ${formatTime(state.etaSeconds)} left` : '';
  const label = `${PHASE_LABEL[state.phase]}${stage}`;
  return (
    <div className={`work work-${state.phase}`} data-testid="current-work" aria-live="polite">
      <div className="work-head">
        <span className="truncate work-name">{name}</span>
        {busy && (
          <button type="button" className="btn danger small" onClick={() => void cancel()}>
            Cancel
          </button>
        )}
      </div>
      <div className="work-status" data-testid="work-status" data-phase={state.phase}>
        {label}
        {busy && state.phase !== 'queued' ? ` ${pct}%` : ''}
        {eta}
      </div>
      {busy && <ProgressBar value={state.phase === 'queued' ? null : state.progress} label={`${label} ${name}`} />}
      {state.error && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}
