/**
 * One AudioBufferSourceNode as the player starts them all: same `when`, offset, playbackRate
 * and loop for every buffer, so stems and the click stay sample-aligned by construction.
 */
import type { Loop } from './clock';

export interface SourceTiming {
  when: number;
  offset: number;
  rate: number;
  loop: Loop | null;
}

export function startSource(ctx: BaseAudioContext, buffer: AudioBuffer, destination: AudioNode, timing: SourceTiming): AudioBufferSourceNode {
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.playbackRate.value = timing.rate;
  if (timing.loop) {
    source.loop = true;
    source.loopStart = timing.loop.start;
    source.loopEnd = timing.loop.end;
  }
  source.connect(destination);
  source.start(timing.when, timing.offset);
  return source;
}

/** Stop and disconnect; a source that was already stopped is fine. */
export function releaseSource(source: AudioBufferSourceNode | null): void {
  if (!source) return;
  source.onended = null;
  try {
    source.stop();
  } catch {
    // Already stopped.
  }
  source.disconnect();
}

/** Schedule a stop at context time `at`; a source that already ended is fine. */
export function stopAt(source: AudioBufferSourceNode | null, at: number): void {
  try {
    source?.stop(at);
  } catch {
    // Already stopped.
  }
}

/**
 * A buffer in song time that plays along with the stems (the click): same start, offset, rate
 * and loop, so it stays sample-aligned with them. `buffer` null: silent for now.
 */
export interface SyncedVoice {
  readonly buffer: AudioBuffer | null;
  readonly input: AudioNode;
}

/** The voices playing along and their current sources (at most one each). */
export class VoiceSet {
  private readonly voices = new Map<SyncedVoice, AudioBufferSourceNode | null>();

  constructor(private readonly ctx: BaseAudioContext) {}

  has(voice: SyncedVoice): boolean {
    return this.voices.has(voice);
  }

  add(voice: SyncedVoice): void {
    if (!this.voices.has(voice)) this.voices.set(voice, null);
  }

  remove(voice: SyncedVoice): void {
    releaseSource(this.voices.get(voice) ?? null);
    this.voices.delete(voice);
  }

  /** (Re)start one voice's source with `timing`, or only stop it (timing null). */
  restart(voice: SyncedVoice, timing: SourceTiming | null): void {
    if (!this.voices.has(voice)) return;
    releaseSource(this.voices.get(voice) ?? null);
    this.voices.set(voice, timing && voice.buffer ? startSource(this.ctx, voice.buffer, voice.input, timing) : null);
  }

  startAll(timing: SourceTiming): void {
    for (const voice of this.voices.keys()) this.restart(voice, timing);
  }

  stopAll(): void {
    for (const voice of this.voices.keys()) this.restart(voice, null);
  }

  /** Stop every voice's source at context time `at` (released on the next restart). */
  stopAllAt(at: number): void {
    for (const source of this.voices.values()) stopAt(source, at);
  }

  setRate(rate: number, at: number): void {
    for (const source of this.voices.values()) source?.playbackRate.setValueAtTime(rate, at);
  }

  clear(): void {
    this.stopAll();
    this.voices.clear();
  }
}

/** Linear gain each stem is heard at (mute and solo applied): a soloed stem silences the unsoloed. */
export function audibleGains(stems: readonly { name: string; controls: { volume: number; muted: boolean; soloed: boolean } }[]): Record<string, number> {
  const anySolo = stems.some((t) => t.controls.soloed);
  const out: Record<string, number> = {};
  for (const { name, controls } of stems) out[name] = controls.muted || (anySolo && !controls.soloed) ? 0 : controls.volume;
  return out;
}
