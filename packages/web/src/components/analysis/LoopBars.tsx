import { useState } from 'react';
import type { Loop } from '../../audio/clock';
import { barRange, barsOf, type BeatGrid } from '../../music/grid';

/** "Loop bars [17]–[24]": loops whole bars by number. */
export function LoopBars({ grid, onLoop }: { grid: BeatGrid; onLoop: (loop: Loop) => void }) {
  const count = barsOf(grid).length;
  const [from, setFrom] = useState(1);
  const [to, setTo] = useState(Math.min(4, count));
  const range = barRange(grid, from, to);
  const field = (value: number, set: (n: number) => void, label: string) => (
    <input
      type="number"
      className="bar-field"
      min={1}
      max={count}
      value={value}
      aria-label={label}
      onChange={(e) => set(Math.round(Number(e.target.value)) || 1)}
    />
  );
  return (
    <form
      className="control loop-bars"
      aria-label="Loop bars"
      onSubmit={(e) => {
        e.preventDefault();
        if (range) onLoop(range);
      }}
    >
      <button type="submit" className="btn small" disabled={!range}>
        Loop bars
      </button>
      {field(from, setFrom, 'First bar')}–{field(to, setTo, 'Last bar')}
    </form>
  );
}
