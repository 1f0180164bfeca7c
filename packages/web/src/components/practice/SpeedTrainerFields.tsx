import type { SpeedTrainer } from '../../api/practice';

const FIELDS: { key: keyof SpeedTrainer; label: string; min: number; max: number; step: number }[] = [
  { key: 'start_pct', label: 'Start %', min: 50, max: 150, step: 1 },
  { key: 'step_pct', label: 'Add %', min: 1, max: 50, step: 1 },
  { key: 'every_passes', label: 'Every passes', min: 1, max: 100, step: 1 },
  { key: 'stop_pct', label: 'Stop %', min: 50, max: 150, step: 1 },
];

/** Start at X %, add Y % every N passes, stop at Z %: the numbers, kept within the server's ranges. */
export function SpeedTrainerFields({ trainer, loopName, onChange }: { trainer: SpeedTrainer; loopName: string; onChange: (t: SpeedTrainer) => void }) {
  return (
    <span className="speed-trainer" role="group" aria-label={`Speed trainer for ${loopName}`}>
      {FIELDS.map((f) => (
        <label key={f.key} className="trainer-field">
          <span>{f.label}</span>
          <input
            type="number"
            min={f.min}
            max={f.max}
            step={f.step}
            value={trainer[f.key]}
            aria-label={`${f.label} (${loopName})`}
            onChange={(e) => {
              const value = Math.min(f.max, Math.max(f.min, Number(e.target.value) || f.min));
              const next = { ...trainer, [f.key]: value };
              if (next.stop_pct < next.start_pct) next.stop_pct = next.start_pct;
              onChange(next);
            }}
          />
        </label>
      ))}
    </span>
  );
}
