interface VolumePanProps {
  /** Whose sliders: "Drums" gives "Drums volume" and "Drums pan". */
  label: string;
  volume: number;
  pan: number;
  disabled?: boolean;
  onChange: (patch: { volume?: number; pan?: number }) => void;
}

const panText = (pan: number) => (pan === 0 ? 'centre' : `${Math.round(Math.abs(pan) * 100)}% ${pan < 0 ? 'left' : 'right'}`);

/** A volume (0-150 %) and a pan slider; a double click centres the pan. Stems and the click share them. */
export function VolumePan({ label, volume, pan, disabled = false, onChange }: VolumePanProps) {
  return (
    <>
      <label className="slider">
        <span>Vol</span>
        <input
          type="range"
          min={0}
          max={1.5}
          step={0.01}
          value={volume}
          disabled={disabled}
          aria-label={`${label} volume`}
          aria-valuetext={`${Math.round(volume * 100)}%`}
          onChange={(e) => onChange({ volume: Number(e.target.value) })}
        />
      </label>
      <label className="slider">
        <span>Pan</span>
        <input
          type="range"
          min={-1}
          max={1}
          step={0.05}
          value={pan}
          disabled={disabled}
          aria-label={`${label} pan`}
          aria-valuetext={panText(pan)}
          onChange={(e) => onChange({ pan: Number(e.target.value) })}
          onDoubleClick={() => onChange({ pan: 0 })}
        />
      </label>
    </>
  );
}
