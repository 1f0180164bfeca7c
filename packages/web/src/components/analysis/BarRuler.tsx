import { memo, useMemo, useRef } from 'react';
import type { SectionSpan } from '../../api/analysis';
import { formatTime } from '../../audio/clock';
import type { PlayerEngine } from '../../audio/engine';
import { barBeatAt, barsOf, type BeatGrid } from '../../music/grid';
import { useFrame } from './useFrame';

interface BarRulerProps {
  engine: PlayerEngine | null;
  grid: BeatGrid | null;
  sections: readonly SectionSpan[];
  duration: number;
  onLoopSection: (section: SectionSpan) => void;
}

/** "Bar 17 · 3" for the bar and beat being heard (the pickup is bar 0). */
export function barBeatText(grid: BeatGrid | null, t: number): string {
  const at = grid ? barBeatAt(grid, t) : null;
  return at ? `Bar ${at.bar} · ${at.beat}` : 'Bar –';
}

/**
 * Over the waveforms: bar lines with their numbers, beat ticks, the sections (a click loops
 * one), and the bar and beat being heard, big enough to read from a music stand.
 */
export const BarRuler = memo(function BarRuler({ engine, grid, sections, duration, onLoopSection }: BarRulerProps) {
  const readout = useRef<HTMLOutputElement>(null);
  useFrame(() => {
    if (engine && readout.current) {
      const text = barBeatText(grid, engine.position);
      if (readout.current.textContent !== text) readout.current.textContent = text;
    }
  }, engine !== null);

  const bars = useMemo(() => (grid ? barsOf(grid) : []), [grid]);
  const every = bars.length > 96 ? 8 : bars.length > 48 ? 4 : bars.length > 24 ? 2 : 1;
  const pct = (t: number) => `${duration > 0 ? (t / duration) * 100 : 0}%`;
  const downbeats = useMemo(() => new Set(grid?.downbeats ?? []), [grid]);
  return (
    <div className="bar-ruler-row">
      <output ref={readout} className="bar-readout" aria-label="Bar and beat" data-testid="bar-beat">
        {grid ? 'Bar –' : 'No bars'}
      </output>
      <div className="bar-ruler" data-testid="bar-ruler">
        {grid && (
          <div className="ruler-ticks" aria-hidden="true">
            {grid.beats.length < 1500 &&
              grid.beats.filter((b) => !downbeats.has(b)).map((b) => <span key={`b${b}`} className="beat-tick" style={{ left: pct(b) }} />)}
            {bars.map((bar) => (
              <span key={bar.number} className="bar-line" style={{ left: pct(bar.start) }}>
                {(bar.number - 1) % every === 0 && <span className="bar-number">{bar.number}</span>}
              </span>
            ))}
          </div>
        )}
        {sections.length > 0 && (
          <div className="sections" role="group" aria-label="Sections">
            {sections.map((s) => (
              <button
                key={`${s.start}-${s.label}`}
                type="button"
                className="section"
                data-section={s.label}
                style={{ left: pct(s.start), width: `calc(${pct(s.end)} - ${pct(s.start)})` }}
                aria-label={`Loop section ${s.label} (${formatTime(s.start)}–${formatTime(s.end)})`}
                title={`Loop section ${s.label}`}
                onClick={() => onLoopSection(s)}
              >
                {s.label}
              </button>
            ))}
          </div>
        )}
        <div className="playhead" />
      </div>
    </div>
  );
});
