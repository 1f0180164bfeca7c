import { fireEvent, render, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { defaultPracticeState, type PracticeState } from '../src/api/practice';
import type { PlayerSnapshot } from '../src/audio/engine';
import { PracticeLogChart, practiceSummary } from '../src/components/practice/PracticeLogChart';
import { WorkspacePanel } from '../src/components/practice/WorkspacePanel';

const snapshot: PlayerSnapshot = {
  loaded: true,
  playing: false,
  duration: 60,
  tempo: 1,
  transpose: 0,
  masterVolume: 1,
  loop: { start: 8, end: 16 },
  loopEnabled: true,
  stems: { vocals: { volume: 1, muted: false, soloed: false, pan: 0 }, guitar: { volume: 1, muted: false, soloed: false, pan: 0 } },
  stretch: 'off',
};

function Harness({ onState }: { onState: (s: PracticeState) => void }) {
  const [state, setState] = useState(defaultPracticeState());
  return (
    <WorkspacePanel
      engine={null}
      snapshot={snapshot}
      state={state}
      edit={(change) =>
        setState((s) => {
          const next = change(s);
          onState(next);
          return next;
        })
      }
      stems={['vocals', 'guitar']}
      passInfo={{ pass: 3, tempo: 0.75, training: true }}
      status={{ status: 'saved', message: null }}
    />
  );
}

describe('WorkspacePanel', () => {
  it('saves the playing loop with a name, gives it a speed trainer, picks my part and keeps notes', () => {
    let last = defaultPracticeState();
    render(<Harness onState={(s) => (last = s)} />);
    fireEvent.change(screen.getByLabelText('Loop name'), { target: { value: 'solo' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save loop' }));
    expect(last.loops).toMatchObject([{ name: 'solo', start: 8, end: 16, speed_trainer: null }]);
    expect(last.active_loop_id).toBe(last.loops[0]?.id);
    const row = screen.getByTestId('saved-loop');
    fireEvent.click(within(row).getByRole('checkbox', { name: 'Speed trainer' }));
    fireEvent.change(within(row).getByLabelText('Stop % (solo)'), { target: { value: '95' } });
    expect(last.loops[0]?.speed_trainer).toEqual({ start_pct: 70, step_pct: 5, every_passes: 2, stop_pct: 95 });
    fireEvent.change(screen.getByLabelText('My part'), { target: { value: 'guitar' } });
    expect(last.my_part).toBe('guitar');
    fireEvent.change(screen.getByLabelText('Notes'), { target: { value: 'watch the bends' } });
    expect(last.notes).toBe('watch the bends');
    expect(screen.getByTestId('pass-info').textContent).toBe('Pass 3 · 75 %');
    expect(screen.getByTestId('sync-status').textContent).toBe('Saved');
  });
});

describe('PracticeLogChart', () => {
  const log = {
    days: Array.from({ length: 7 }, (_, i) => ({ date: `2026-03-0${i + 1}`, seconds: i === 6 ? 2520 : 0 })),
    loops: [{ loop_id: 'l1', name: 'bridge', seconds: 900, first_tempo: 0.7, best_tempo: 0.95 }],
    total_seconds: 2520,
    week_seconds: 2520,
  };
  it('says the week and the loop progress, with one bar per day', () => {
    expect(practiceSummary(log)).toBe('This week 42 min; bridge loop 70 % → 95 %');
    render(<PracticeLogChart log={log} />);
    expect(screen.getByTestId('practice-summary').textContent).toBe('This week 42 min; bridge loop 70 % → 95 %');
    expect(within(screen.getByRole('list', { name: 'Minutes practised per day' })).getAllByRole('listitem')).toHaveLength(7);
  });
});
