import { CLICK_SOUNDS, type ClickSound } from '../../audio/click';
import { COUNT_IN_CHOICES, type CountInBars } from '../../audio/countIn';
import { VolumePan } from '../common/VolumePan';
import type { ClickSettings } from './usePracticeAudio';

interface ClickControlsProps {
  settings: ClickSettings;
  onChange: (patch: Partial<ClickSettings>) => void;
  /** False when the analysis found no steady beat: no click, no count-in. */
  available: boolean;
}

/** The click's on/off, volume, pan and sound, and the count-in before playback. */
export function ClickControls({ settings, onChange, available }: ClickControlsProps) {
  return (
    <div className="control click-controls" role="group" aria-label="Click">
      <label className="control-label">
        <input type="checkbox" checked={settings.enabled && available} disabled={!available} onChange={(e) => onChange({ enabled: e.target.checked })} /> Click
      </label>
      <VolumePan label="Click" volume={settings.volume} pan={settings.pan} disabled={!available} onChange={onChange} />
      <label>
        <span className="sr-only">Click sound</span>
        <select value={settings.sound} disabled={!available} aria-label="Click sound" onChange={(e) => onChange({ sound: e.target.value as ClickSound })}>
          {CLICK_SOUNDS.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="control-label">Count-in</span>{' '}
        <select
          value={available ? settings.countInBars : 0}
          disabled={!available}
          aria-label="Count-in"
          data-testid="count-in"
          onChange={(e) => onChange({ countInBars: Number(e.target.value) as CountInBars })}
        >
          {COUNT_IN_CHOICES.map((n) => (
            <option key={n} value={n}>
              {n === 0 ? 'off' : `${n} bar${n > 1 ? 's' : ''}`}
            </option>
          ))}
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          checked={settings.countInEveryPass && available}
          disabled={!available || settings.countInBars === 0}
          onChange={(e) => onChange({ countInEveryPass: e.target.checked })}
        />{' '}
        before every loop pass
      </label>
    </div>
  );
}
