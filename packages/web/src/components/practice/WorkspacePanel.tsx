import { useState } from 'react';
import type { PracticeState, SavedLoop, StemName } from '../../api/practice';
import { isStemName } from '../../api/practice';
import { formatTime } from '../../audio/clock';
import type { PlayerEngine, PlayerSnapshot } from '../../audio/engine';
import type { PassInfo } from '../../audio/loopPasses';
import { newId } from '../../practice/practiceLog';
import { DEFAULT_TRAINER } from '../../practice/speedTrainer';
import type { SyncInfo } from '../../practice/workspaceSync';
import { SpeedTrainerFields } from './SpeedTrainerFields';
import './practice.css';

interface WorkspacePanelProps {
  engine: PlayerEngine | null;
  snapshot: PlayerSnapshot | null;
  state: PracticeState;
  edit: (change: (s: PracticeState) => PracticeState) => void;
  stems: readonly string[];
  passInfo: PassInfo;
  status: SyncInfo;
}

const STATUS_TEXT: Record<SyncInfo['status'], string> = { idle: '', saving: 'Saving…', saved: 'Saved', offline: 'Offline', error: 'Not saved' };

/** Named loops (with the speed trainer), markers, "my part" and notes: the saved workspace's own parts. */
export function WorkspacePanel({ engine, snapshot, state, edit, stems, passInfo, status }: WorkspacePanelProps) {
  const [loopName, setLoopName] = useState('');
  const [markerLabel, setMarkerLabel] = useState('');
  const loop = snapshot?.loopEnabled ? snapshot.loop : null;
  const unsaved = loop && !state.active_loop_id;
  const patchLoop = (id: string, patch: Partial<SavedLoop>) => edit((s) => ({ ...s, loops: s.loops.map((l) => (l.id === id ? { ...l, ...patch } : l)) }));
  const playLoop = (l: SavedLoop) => {
    engine?.setLoop(l.start, l.end);
    edit((s) => ({ ...s, active_loop_id: l.id }));
  };

  return (
    <section className="workspace" aria-label="Practice workspace" data-testid="workspace">
      <div className="workspace-head">
        <h3>Practice</h3>
        <span className={`sync-status ${status.status}`} role="status" data-testid="sync-status" title={status.message ?? undefined}>
          {STATUS_TEXT[status.status]}
        </span>
        {passInfo.pass > 0 && (
          <span className="pass-info" aria-live="polite" data-testid="pass-info">
            Pass {passInfo.pass} · {Math.round(passInfo.tempo * 100)} %
          </span>
        )}
      </div>
      {status.message && status.status !== 'saved' && <p className="muted small">{status.message}</p>}

      <div className="workspace-loops">
        <h4>Loops</h4>
        <form
          className="save-loop"
          onSubmit={(e) => {
            e.preventDefault();
            if (!loop) return;
            const saved: SavedLoop = { id: newId('l'), name: loopName.trim() || `Loop ${state.loops.length + 1}`, start: loop.start, end: loop.end, speed_trainer: null };
            edit((s) => ({ ...s, loops: [...s.loops, saved], active_loop_id: saved.id }));
            setLoopName('');
          }}
        >
          <input type="text" maxLength={80} value={loopName} placeholder="intro, solo…" aria-label="Loop name" onChange={(e) => setLoopName(e.target.value)} disabled={!unsaved} />
          <button type="submit" className="btn small" disabled={!unsaved}>
            Save loop
          </button>
        </form>
        <ul className="loop-list" aria-label="Saved loops">
          {state.loops.map((l) => {
            const active = l.id === state.active_loop_id;
            return (
              <li key={l.id} className={active ? 'active' : undefined} data-testid="saved-loop">
                <button type="button" className={`btn small toggle-btn${active ? ' on' : ''}`} aria-pressed={active} onClick={() => (active ? engine?.setLoopEnabled(false) : playLoop(l))}>
                  {formatTime(l.start)}–{formatTime(l.end)}
                </button>
                <input type="text" maxLength={80} value={l.name} aria-label={`Name of the loop at ${formatTime(l.start)}`} onChange={(e) => patchLoop(l.id, { name: e.target.value })} />
                <label className="trainer-toggle">
                  <input type="checkbox" checked={l.speed_trainer !== null} onChange={(e) => patchLoop(l.id, { speed_trainer: e.target.checked ? { ...DEFAULT_TRAINER } : null })} /> Speed trainer
                </label>
                {l.speed_trainer && <SpeedTrainerFields trainer={l.speed_trainer} loopName={l.name} onChange={(t) => patchLoop(l.id, { speed_trainer: t })} />}
                <button
                  type="button"
                  className="btn ghost small"
                  aria-label={`Delete loop ${l.name}`}
                  onClick={() => edit((s) => ({ ...s, loops: s.loops.filter((x) => x.id !== l.id), active_loop_id: active ? null : s.active_loop_id }))}
                >
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      </div>

      <div className="workspace-markers">
        <h4>Markers</h4>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!engine) return;
            const marker = { id: newId('m'), time: Math.round(engine.position * 100) / 100, label: markerLabel.trim() };
            edit((s) => ({ ...s, markers: [...s.markers, marker].sort((a, b) => a.time - b.time) }));
            setMarkerLabel('');
          }}
        >
          <input type="text" maxLength={80} value={markerLabel} placeholder="verse 2" aria-label="Marker label" onChange={(e) => setMarkerLabel(e.target.value)} />
          <button type="submit" className="btn small" disabled={!snapshot?.loaded}>
            Add marker
          </button>
        </form>
        <ul className="marker-list" aria-label="Markers">
          {state.markers.map((m) => (
            <li key={m.id} data-testid="marker">
              <button type="button" className="btn ghost small" onClick={() => engine?.seek(m.time)} aria-label={`Go to ${m.label || 'marker'} at ${formatTime(m.time)}`}>
                {formatTime(m.time)}
              </button>
              <input type="text" maxLength={80} value={m.label} aria-label={`Label of the marker at ${formatTime(m.time)}`} onChange={(e) => edit((s) => ({ ...s, markers: s.markers.map((x) => (x.id === m.id ? { ...x, label: e.target.value } : x)) }))} />
              <button type="button" className="btn ghost small" aria-label={`Delete marker ${m.label}`} onClick={() => edit((s) => ({ ...s, markers: s.markers.filter((x) => x.id !== m.id) }))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      </div>

      <div className="workspace-part">
        <label>
          <span className="control-label">My part</span>{' '}
          <select value={state.my_part ?? ''} aria-label="My part" onChange={(e) => edit((s) => ({ ...s, my_part: isStemName(e.target.value) ? e.target.value : null }))}>
            <option value="">none</option>
            {stems.filter(isStemName).map((name: StemName) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {state.my_part && (
          <button type="button" className="btn small" onClick={() => state.my_part && toggleMyPart(engine, state.my_part)} aria-keyshortcuts="P">
            {snapshot?.stems[state.my_part]?.muted ? 'Play my part' : 'Mute my part'} <kbd>P</kbd>
          </button>
        )}
      </div>

      <label className="workspace-notes">
        <span className="control-label">Notes</span>
        <textarea maxLength={10_000} rows={3} value={state.notes} aria-label="Notes" onChange={(e) => edit((s) => ({ ...s, notes: e.target.value }))} />
      </label>
    </section>
  );
}

/** Mute or unmute the stem the user plays (the P key does the same). */
export function toggleMyPart(engine: PlayerEngine | null, part: string): void {
  if (!engine) return;
  engine.updateStem(part, { muted: !engine.snapshot().stems[part]?.muted });
}
