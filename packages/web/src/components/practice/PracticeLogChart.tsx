import type { PracticeLogOut } from '../../api/practice';

const minutes = (seconds: number) => Math.round(seconds / 60);
const pct = (tempo: number) => `${Math.round(tempo * 100)} %`;

/** "This week 42 min; bridge loop 70 % → 95 %", over one bar per day. */
export function practiceSummary(log: PracticeLogOut): string {
  const parts = [`This week ${minutes(log.week_seconds)} min`];
  for (const loop of log.loops.slice(0, 3)) {
    const name = loop.name ?? 'a deleted loop';
    parts.push(loop.first_tempo === loop.best_tempo ? `${name} loop at ${pct(loop.best_tempo)}` : `${name} loop ${pct(loop.first_tempo)} → ${pct(loop.best_tempo)}`);
  }
  return parts.join('; ');
}

export function PracticeLogChart({ log }: { log: PracticeLogOut | null }) {
  if (!log) return null;
  const most = Math.max(60, ...log.days.map((d) => d.seconds));
  const dayName = (date: string) => new Date(`${date}T12:00:00`).toLocaleDateString(undefined, { weekday: 'short' });
  return (
    <figure className="practice-log" data-testid="practice-log">
      <ul className="practice-days" aria-label="Minutes practised per day">
        {log.days.map((d) => (
          <li key={d.date} aria-label={`${dayName(d.date)} ${d.date}: ${minutes(d.seconds)} min`}>
            <span className="practice-bar" style={{ height: `${Math.round((100 * d.seconds) / most)}%` }} />
            <span className="practice-day" aria-hidden="true">
              {dayName(d.date).slice(0, 2)}
            </span>
          </li>
        ))}
      </ul>
      <figcaption data-testid="practice-summary">{practiceSummary(log)}</figcaption>
    </figure>
  );
}
