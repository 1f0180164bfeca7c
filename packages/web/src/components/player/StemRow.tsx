import { memo } from 'react';
import type { Peaks } from '../../api/types';
import type { Loop } from '../../audio/clock';
import type { StemControls } from '../../audio/engine';
import { VolumePan } from '../common/VolumePan';
import { Waveform } from './Waveform';

export const STEM_COLORS: Record<string, string> = {
  vocals: '#e9a3c9',
  drums: '#f2b872',
  bass: '#7fcfa9',
  guitar: '#8fb4ff',
  piano: '#c8a2ff',
  other: '#a7b0c0',
};

interface StemRowProps {
  name: string;
  controls: StemControls;
  peaks: Peaks | null;
  duration: number;
  loop: Loop | null;
  loopEnabled: boolean;
  onDownload: (name: string) => void;
  audible: boolean;
  source: string;
  onChange: (name: string, update: Partial<StemControls>) => void;
  onSeek: (t: number) => void;
  onLoop: (a: number, b: number) => void;
}

export const StemRow = memo(function StemRow(props: StemRowProps) {
  const { name, controls, peaks, duration, loop, loopEnabled, onDownload, audible, source, onChange, onSeek, onLoop } = props;
  const color = STEM_COLORS[name] ?? '#a7b0c0';
  const label = name[0]?.toUpperCase() + name.slice(1);
  return (
    <li className={`stem${audible ? '' : ' silent'}`} data-stem={name} data-testid={`stem-${name}`} data-source={source} style={{ ['--stem-color' as string]: color }}>
      <div className="stem-controls" role="group" aria-label={`${label} stem`}>
        <span className="stem-name">{label}</span>
        <div className="stem-buttons">
          <button
            type="button"
            className={`toggle mute${controls.muted ? ' on' : ''}`}
            aria-pressed={controls.muted}
            aria-label={`Mute ${label}`}
            title="Mute (M)"
            onClick={() => onChange(name, { muted: !controls.muted })}
          >
            M
          </button>
          <button
            type="button"
            className={`toggle solo${controls.soloed ? ' on' : ''}`}
            aria-pressed={controls.soloed}
            aria-label={`Solo ${label}`}
            title="Solo (S)"
            onClick={() => onChange(name, { soloed: !controls.soloed })}
          >
            S
          </button>
          <button type="button" className="toggle download" onClick={() => onDownload(name)} aria-label={`Download the ${label} stem`} title="Download">
            ↓
          </button>
        </div>
        <VolumePan label={label} volume={controls.volume} pan={controls.pan} onChange={(patch) => onChange(name, patch)} />
      </div>
      <Waveform peaks={peaks} color={color} duration={duration} loop={loop} loopEnabled={loopEnabled} label={label} onSeek={onSeek} onLoop={onLoop} />
    </li>
  );
});
