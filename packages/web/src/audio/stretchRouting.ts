/**
 * The path from the stems to the master: two buses (pitched stems; drums), played direct while
 * tempo is 100% and transpose 0, and through two Signalsmith Stretch worklets otherwise. The
 * sources' playbackRate makes the tempo; the stretchers undo the pitch change that causes and
 * add the transpose, the drums' one with tempo correction only, so drums never transpose.
 *
 * The stretchers exist only while needed (no worklet load before first sound, no latency and no
 * CPU at 100%/0); while they are in the path the sound lags the sources by their `latency`.
 */
import { compensatingSemitones } from './clock';
import type { Stretcher } from './stretch';
import { mark } from '../services/perf';

/** off: not needed (100%, 0 st), stems play direct; loading: being created; on: in the path. */
export type StretchState = 'off' | 'loading' | 'on' | 'unavailable';

/** Stems whose pitch must not move when transposing. */
export const UNPITCHED_STEMS: ReadonlySet<string> = new Set(['drums']);

export interface StretchRoutingEvents {
  /** The state or the latency changed. */
  onChange: () => void;
  /** The stretchers could not be made (no AudioWorklet, a failing module): tempo changes pitch. */
  onError: (err: unknown) => void;
}

export class StretchRouting {
  private readonly pitchedBus: GainNode;
  private readonly unpitchedBus: GainNode;
  private stretchers: { pitched: Stretcher; unpitched: Stretcher } | null = null;
  private current: StretchState = 'off';
  /** Bumped whenever the stretchers are dropped, so a creation that finishes late is discarded. */
  private generation = 0;
  private prefetchTimer: ReturnType<typeof setTimeout> | null = null;
  /** Seconds the sound lags the sources: the stretchers' latency while they are in the path. */
  private delay = 0;
  private tempo = 1;
  private transpose = 0;
  private disposed = false;

  constructor(
    private readonly ctx: BaseAudioContext,
    private readonly destination: AudioNode,
    private readonly events: StretchRoutingEvents,
  ) {
    this.pitchedBus = ctx.createGain();
    this.unpitchedBus = ctx.createGain();
    // Direct until tempo or transpose need the stretchers (and if the browser lacks AudioWorklet).
    this.pitchedBus.connect(destination);
    this.unpitchedBus.connect(destination);
  }

  get state(): StretchState {
    return this.current;
  }

  /** Seconds between the sources and what is heard (0 on the direct path). */
  get latency(): number {
    return this.delay;
  }

  /** The tempo-only bus (the drums'): the click goes here, so it keeps its pitch and the stems' latency. */
  get tempoOnlyInput(): AudioNode {
    return this.unpitchedBus;
  }

  /** Where a stem's chain connects. */
  busFor(stem: string): AudioNode {
    return UNPITCHED_STEMS.has(stem) ? this.unpitchedBus : this.pitchedBus;
  }

  /** Put the stretchers in the path when tempo/transpose need them; take them out when not. */
  update(tempo: number, transpose: number): void {
    this.tempo = tempo;
    this.transpose = transpose;
    if (this.disposed || this.current === 'unavailable') return;
    if (tempo === 1 && transpose === 0) {
      if (this.current !== 'off') this.drop();
      return;
    }
    if (this.current === 'on') this.applyPitch();
    else if (this.current === 'off') void this.create();
  }

  /**
   * Load the worklet module while the page is idle after a song opened, so the first tempo
   * change engages the stretcher quickly; never on the way to the first sound.
   */
  prefetch(delayMs = 3000): void {
    if (this.disposed || this.prefetchTimer !== null || this.current !== 'off') return;
    this.prefetchTimer = setTimeout(() => {
      if (this.disposed) return;
      void import('./stretch')
        .then(({ preloadStretch }) => preloadStretch(this.ctx))
        .catch(() => {
          // Reported when the stretcher is really needed.
        });
    }, delayMs);
  }

  /** Release the stretchers and the buses; a creation still under way is discarded when done. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation += 1;
    if (this.prefetchTimer !== null) clearTimeout(this.prefetchTimer);
    this.prefetchTimer = null;
    this.stretchers?.pitched.dispose();
    this.stretchers?.unpitched.dispose();
    this.stretchers = null;
    this.pitchedBus.disconnect();
    this.unpitchedBus.disconnect();
  }

  private async create(): Promise<void> {
    const generation = ++this.generation;
    this.current = 'loading';
    this.events.onChange();
    try {
      const { createStretch } = await import('./stretch');
      const [pitched, unpitched] = await Promise.all([createStretch(this.ctx), createStretch(this.ctx)]);
      const latency = await pitched.latency(); // both are alike
      if (this.disposed || generation !== this.generation) {
        pitched.dispose();
        unpitched.dispose();
        return;
      }
      this.stretchers = { pitched, unpitched };
      this.delay = latency;
      this.applyPitch();
      this.pitchedBus.disconnect();
      this.unpitchedBus.disconnect();
      this.pitchedBus.connect(pitched.input);
      this.unpitchedBus.connect(unpitched.input);
      pitched.output.connect(this.destination);
      unpitched.output.connect(this.destination);
      this.current = 'on';
      mark('stretch-ready');
    } catch (err) {
      if (generation !== this.generation) return;
      this.current = 'unavailable';
      this.events.onError(err);
    }
    this.events.onChange();
  }

  /** Back to the direct path; the stretchers are released (a disconnected worklet costs nothing). */
  private drop(): void {
    this.generation += 1;
    const stretchers = this.stretchers;
    this.stretchers = null;
    this.current = 'off';
    this.delay = 0;
    if (stretchers) {
      this.pitchedBus.disconnect();
      this.unpitchedBus.disconnect();
      this.pitchedBus.connect(this.destination);
      this.unpitchedBus.connect(this.destination);
      stretchers.pitched.dispose();
      stretchers.unpitched.dispose();
    }
    this.events.onChange();
  }

  private applyPitch(): void {
    if (!this.stretchers) return;
    const when = this.ctx.currentTime;
    this.stretchers.pitched.setSemitones(compensatingSemitones(this.tempo, this.transpose), when);
    this.stretchers.unpitched.setSemitones(compensatingSemitones(this.tempo, 0), when);
  }
}
