/**
 * The open song's stems as the player holds them: per stem its decoded buffer, a gain (volume,
 * mute, solo) into a panner into its stretch bus, and the one source playing it now. The engine
 * decides when and where to start; this module only knows the nodes and the mix.
 */
import { clamp } from './clock';
import type { StemControls, StemInput } from './playerTypes';
import { audibleGains, releaseSource, startSource, stopAt, type SourceTiming } from './sources';

interface Track {
  name: string;
  buffer: AudioBuffer;
  gain: GainNode;
  panner: StereoPannerNode;
  controls: StemControls;
  source: AudioBufferSourceNode | null;
}

/** Gain and pan changes glide over this time constant (seconds), so they never click. */
export const MIX_RAMP = 0.015;

export class StemTracks {
  private tracks: Track[] = [];

  constructor(private readonly ctx: BaseAudioContext) {}

  /** Replace the stems (the old ones must be released first); each connects to `busFor(name)`. */
  connect(stems: readonly StemInput[], busFor: (name: string) => AudioNode): void {
    this.tracks = stems.map(({ name, buffer }) => {
      const gain = this.ctx.createGain();
      const panner = this.ctx.createStereoPanner();
      gain.connect(panner);
      panner.connect(busFor(name));
      return { name, buffer, gain, panner, controls: { volume: 1, muted: false, soloed: false, pan: 0 }, source: null };
    });
    this.applyGains(true);
  }

  /** Stop every source and disconnect every node; no stem is left. */
  release(): void {
    this.stop();
    for (const t of this.tracks) {
      t.gain.disconnect();
      t.panner.disconnect();
    }
    this.tracks = [];
  }

  get length(): number {
    return this.tracks.length;
  }

  get duration(): number {
    return this.tracks.reduce((d, t) => Math.max(d, t.buffer.duration), 0);
  }

  get names(): string[] {
    return this.tracks.map((t) => t.name);
  }

  /**
   * Start every stem with the same timing (sample-aligned by construction). `onEnded` runs when
   * the first stem's source ends while it is still the one playing. `handOver`: the sources playing
   * now go on until `timing.when` (new buffers take over there without a gap).
   */
  start(timing: SourceTiming, onEnded: () => void, handOver = false): void {
    let first = true;
    for (const t of this.tracks) {
      // Handing over, the source playing now stops at the very time the new one starts.
      if (handOver && t.source) retire(t.source, timing.when);
      else releaseSource(t.source);
      const source = startSource(this.ctx, t.buffer, t.gain, timing);
      if (first) {
        first = false;
        source.onended = () => {
          if (t.source === source) onEnded();
        };
      }
      t.source = source;
    }
  }

  /** Same stems, new (longer) buffers: the next `start` plays them. False if the names differ. */
  replaceBuffers(stems: readonly StemInput[]): boolean {
    const byName = new Map(stems.map((s) => [s.name, s.buffer]));
    if (byName.size !== this.tracks.length || this.tracks.some((t) => !byName.has(t.name))) return false;
    for (const t of this.tracks) t.buffer = byName.get(t.name) ?? t.buffer;
    return true;
  }

  stop(): void {
    for (const t of this.tracks) {
      releaseSource(t.source);
      t.source = null;
    }
  }

  /** Silence every source at context time `at`; that stop is not the end of the song. */
  stopAt(at: number): void {
    for (const t of this.tracks) {
      if (t.source) t.source.onended = null;
      stopAt(t.source, at);
    }
  }

  /** Change every playing source's rate at context time `at`. */
  setRate(rate: number, at: number): void {
    for (const t of this.tracks) t.source?.playbackRate.setValueAtTime(rate, at);
  }

  /** Returns false when there is no stem of that name. */
  update(name: string, update: Partial<StemControls>): boolean {
    const track = this.tracks.find((t) => t.name === name);
    if (!track) return false;
    track.controls = { ...track.controls, ...update };
    track.controls.volume = clamp(track.controls.volume, 0, 1.5);
    track.controls.pan = clamp(track.controls.pan, -1, 1);
    this.applyGains();
    return true;
  }

  /** Linear gain each stem is heard at now (mute and solo applied). */
  effectiveGains(): Record<string, number> {
    return audibleGains(this.tracks);
  }

  controls(): Record<string, StemControls> {
    const stems: Record<string, StemControls> = {};
    for (const t of this.tracks) stems[t.name] = { ...t.controls };
    return stems;
  }

  buffers(): { name: string; buffer: AudioBuffer }[] {
    return this.tracks.map((t) => ({ name: t.name, buffer: t.buffer }));
  }

  /** Each stem's source playing now (null while stopped): for PlayerEngine.stemSources. */
  sources(): { name: string; source: AudioBufferSourceNode | null }[] {
    return this.tracks.map((t) => ({ name: t.name, source: t.source }));
  }

  private applyGains(immediate = false): void {
    const gains = this.effectiveGains();
    const now = this.ctx.currentTime;
    for (const t of this.tracks) {
      const g = gains[t.name] ?? 0;
      if (immediate) t.gain.gain.value = g;
      else t.gain.gain.setTargetAtTime(g, now, MIX_RAMP);
      t.panner.pan.setTargetAtTime(t.controls.pan, now, MIX_RAMP);
    }
  }
}

/** Stop `source` at context time `at` and disconnect it once it has. */
function retire(source: AudioBufferSourceNode, at: number): void {
  source.onended = () => source.disconnect();
  stopAt(source, at);
}
