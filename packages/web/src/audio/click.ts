/**
 * The click track: a click at every beat of the analysis (accented on downbeats), rendered once
 * into an AudioBuffer in song time and played by the engine as one more source beside the stems
 * (same start, offset, playbackRate and loop), through the tempo-only stretch bus. So it follows
 * the beat grid (hence the tempo curve) and the practice tempo, sample-accurately, without any
 * timer; it is rendered again only when the grid or the sound changes.
 */
import type { PlayerEngine, SyncedVoice } from './engine';

export type ClickSound = 'wood' | 'beep' | 'tick';

export const CLICK_SOUNDS: { value: ClickSound; label: string }[] = [
  { value: 'wood', label: 'Woodblock' },
  { value: 'beep', label: 'Beep' },
  { value: 'tick', label: 'Tick' },
];

/** The click buffer's rate: plenty for a click, a quarter of a stem's memory. */
export const CLICK_SAMPLE_RATE = 22050;

export interface ClickGrid {
  beats: readonly number[];
  downbeats: readonly number[];
}

const CLICK_SECONDS = 0.04;

/**
 * One click, starting at full level on its first sample (so its onset is exact). Accented
 * clicks are higher and louder.
 */
export function clickShape(sound: ClickSound, accent: boolean, sampleRate: number): Float32Array {
  const n = Math.round(CLICK_SECONDS * sampleRate);
  const out = new Float32Array(n);
  const level = accent ? 0.9 : 0.55;
  let seed = accent ? 7 : 3;
  const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    let x: number;
    if (sound === 'wood') {
      const f = accent ? 1800 : 1200;
      x = Math.cos(2 * Math.PI * f * t) * Math.exp(-t * 140) + 0.4 * Math.cos(2 * Math.PI * f * 2.7 * t) * Math.exp(-t * 260);
      x /= 1.4;
    } else if (sound === 'beep') {
      const f = accent ? 1500 : 1000;
      x = Math.cos(2 * Math.PI * f * t) * Math.min(1, (CLICK_SECONDS - t) * 200);
    } else {
      x = (i === 0 ? 1 : noise()) * Math.exp(-t * (accent ? 180 : 260));
    }
    out[i] = x * level;
  }
  return out;
}

/** Mono samples, `seconds` long at `sampleRate`, with a click starting at each beat's sample. */
export function renderClicks(grid: ClickGrid, seconds: number, sampleRate: number, sound: ClickSound): Float32Array {
  const length = Math.max(1, Math.ceil(seconds * sampleRate));
  const out = new Float32Array(length);
  const accented = clickShape(sound, true, sampleRate);
  const plain = clickShape(sound, false, sampleRate);
  const downbeats = [...grid.downbeats];
  for (const beat of grid.beats) {
    const at = Math.round(beat * sampleRate);
    if (at < 0 || at >= length) continue;
    const shape = downbeats.some((d) => Math.abs(d - beat) < 0.02) ? accented : plain;
    const end = Math.min(length, at + shape.length);
    for (let i = at; i < end; i++) out[i] = (out[i] ?? 0) + (shape[i - at] ?? 0);
  }
  return out;
}

/** The click as a voice of the engine: its own volume, pan and sound; on or off. */
export class ClickTrack implements SyncedVoice {
  readonly input: GainNode;
  private readonly panner: StereoPannerNode;
  private current: AudioBuffer | null = null;
  private grid: ClickGrid | null = null;
  private seconds = 0;
  private sound: ClickSound = 'wood';
  private enabled = false;
  private removeVoice: (() => void) | null = null;
  private rendered = '';

  constructor(private readonly engine: PlayerEngine) {
    this.input = engine.ctx.createGain();
    this.panner = engine.ctx.createStereoPanner();
    this.input.gain.value = 0.8;
    this.input.connect(this.panner);
    this.panner.connect(engine.tempoOnlyInput);
  }

  get buffer(): AudioBuffer | null {
    return this.enabled ? this.current : null;
  }

  /** The song's beats (null: no steady beat, no click) and its length in seconds. */
  setGrid(grid: ClickGrid | null, seconds: number): void {
    this.grid = grid;
    this.seconds = seconds;
    this.update();
  }

  setSound(sound: ClickSound): void {
    this.sound = sound;
    this.update();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.update();
  }

  setVolume(volume: number): void {
    this.input.gain.setTargetAtTime(Math.min(1.5, Math.max(0, volume)), this.engine.ctx.currentTime, 0.015);
  }

  setPan(pan: number): void {
    this.panner.pan.setTargetAtTime(Math.min(1, Math.max(-1, pan)), this.engine.ctx.currentTime, 0.015);
  }

  dispose(): void {
    this.removeVoice?.();
    this.removeVoice = null;
    this.current = null;
    this.input.disconnect();
    this.panner.disconnect();
  }

  /** Render when the grid, length or sound changed; join or leave the engine. */
  private update(): void {
    const { grid } = this;
    const key = grid ? `${this.sound}|${this.seconds}|${grid.beats.length}|${grid.beats[0]}|${grid.downbeats.join(',')}|${grid.beats.join(',')}` : '';
    let changed = false;
    if (key !== this.rendered) {
      this.rendered = key;
      changed = true;
      this.current = null;
      if (grid && grid.beats.length > 0 && this.seconds > 0) {
        const samples = renderClicks(grid, this.seconds, CLICK_SAMPLE_RATE, this.sound);
        const buffer = this.engine.ctx.createBuffer(1, samples.length, CLICK_SAMPLE_RATE);
        buffer.getChannelData(0).set(samples);
        this.current = buffer;
      }
    }
    const wanted = this.enabled && this.current !== null;
    if (wanted && !this.removeVoice) {
      this.removeVoice = this.engine.addVoice(this);
    } else if (!wanted && this.removeVoice) {
      this.removeVoice();
      this.removeVoice = null;
    } else if (wanted && changed) {
      this.engine.refreshVoice(this);
    }
  }
}
