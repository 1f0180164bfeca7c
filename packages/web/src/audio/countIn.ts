/**
 * The count-in: N bars of clicks at the practice tempo, then the stems start exactly N bar
 * lengths later. Both are scheduled on the audio clock in one go: the engine starts its sources
 * `lead` seconds ahead, and one buffer holding every count-in click starts at the same instant
 * minus `lead` (plus the stretchers' latency, so the clicks line up with what is heard). No timer:
 * the buffer's own `ended` event releases it.
 */
import { clickShape, type ClickSound } from './click';
import type { PlayerEngine } from './engine';

export const COUNT_IN_CHOICES = [0, 1, 2, 4] as const;
export type CountInBars = (typeof COUNT_IN_CHOICES)[number];

/** Offsets (seconds of sound from the first click) of the count-in's clicks; the first of each bar is accented. */
export function countInClicks(bars: number, beatsPerBar: number, beatSeconds: number): { at: number; accent: boolean }[] {
  const out: { at: number; accent: boolean }[] = [];
  for (let i = 0; i < bars * beatsPerBar; i++) out.push({ at: i * beatSeconds, accent: i % beatsPerBar === 0 });
  return out;
}

export function renderCountIn(bars: number, beatsPerBar: number, beatSeconds: number, sampleRate: number, sound: ClickSound): Float32Array {
  const length = Math.ceil(bars * beatsPerBar * beatSeconds * sampleRate);
  const out = new Float32Array(Math.max(1, length));
  const accented = clickShape(sound, true, sampleRate);
  const plain = clickShape(sound, false, sampleRate);
  for (const { at, accent } of countInClicks(bars, beatsPerBar, beatSeconds)) {
    const start = Math.round(at * sampleRate);
    const shape = accent ? accented : plain;
    for (let i = 0; i < shape.length && start + i < out.length; i++) out[start + i] = shape[i] ?? 0;
  }
  return out;
}

export interface CountInOptions {
  bars: number;
  beatsPerBar: number;
  /** Seconds of song per beat where playback starts (the grid's, before the practice tempo). */
  songBeatSeconds: number;
  sound: ClickSound;
  volume: number;
}

export class CountIn {
  private source: AudioBufferSourceNode | null = null;
  private gain: GainNode | null = null;
  private offChange: (() => void) | null = null;

  constructor(private readonly engine: PlayerEngine) {}

  /** Whether clicks are counting in now. */
  get active(): boolean {
    return this.source !== null;
  }

  /**
   * Play from the paused position after the count-in; resolves to the context time the stems
   * start (null when the engine would not play).
   */
  async play(options: CountInOptions): Promise<number | null> {
    this.cancel();
    const { engine } = this;
    if (options.bars <= 0) return engine.play();
    const lead = this.leadOf(options);
    const when = await engine.play(lead);
    if (when !== null) this.schedule(options, when, lead);
    return when;
  }

  /**
   * Count in again while playing (before another pass of a loop): the stems go on from `from`
   * once the clicks are done. Resolves to the context time they start, or null when not playing.
   */
  replay(options: CountInOptions, from: number): number | null {
    this.cancel();
    const { engine } = this;
    if (!engine.playing || options.bars <= 0) return null;
    const lead = this.leadOf(options);
    engine.seek(from, lead);
    const when = engine.clock.anchor.contextTime;
    this.schedule(options, when, lead);
    return when;
  }

  /** Seconds of sound the count-in lasts at the practice tempo. */
  private leadOf(options: CountInOptions): number {
    return (options.bars * options.beatsPerBar * options.songBeatSeconds) / this.engine.rate;
  }

  private schedule(options: CountInOptions, when: number, lead: number): void {
    const { engine } = this;
    const { ctx } = engine;
    const beatSeconds = options.songBeatSeconds / engine.rate;
    const samples = renderCountIn(options.bars, options.beatsPerBar, beatSeconds, ctx.sampleRate, options.sound);
    const buffer = ctx.createBuffer(1, samples.length, ctx.sampleRate);
    buffer.getChannelData(0).set(samples);
    const gain = ctx.createGain();
    gain.gain.value = options.volume;
    gain.connect(engine.master);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(gain);
    source.onended = () => {
      if (this.source === source) this.cancel();
    };
    source.start(when - lead + engine.outputDelay);
    this.source = source;
    this.gain = gain;
    // A pause during the count-in silences it at once; a seek keeps it going (the stems wait for it).
    this.offChange = engine.on('change', (snap) => {
      if (!snap.playing) this.cancel();
    });
  }

  /** Stop the clicks and release their nodes (playback itself is the engine's). */
  cancel(): void {
    this.offChange?.();
    this.offChange = null;
    const { source, gain } = this;
    this.source = null;
    this.gain = null;
    if (source) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // Already ended.
      }
      source.disconnect();
    }
    gain?.disconnect();
  }

  dispose(): void {
    this.cancel();
  }
}
