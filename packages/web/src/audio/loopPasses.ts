/**
 * The passes of a loop, for the speed trainer and "count in before every pass": a silent
 * one-sample source is started at the context time of the next loop wrap (computed from the
 * engine's clock anchor), and its `ended` event, fired by the audio clock, counts the pass.
 * Then the next pass's tempo is set and, with a count-in per pass, the stems (already stopped
 * exactly at the wrap by `endPassAt`) start again from the loop start after the clicks. No
 * timer: every step hangs on the audio clock, and a seek, tempo change or loop change re-arms it.
 */
import type { SpeedTrainer } from '../api/practice';
import { NO_PASSES, nextWrapAfter, passReducer, trainerPercent, type PassState } from '../practice/speedTrainer';
import { Emitter } from '../services/emitter';
import type { CountIn, CountInOptions } from './countIn';
import type { PlayerEngine } from './engine';

export interface PassPlan {
  /** Changes when the loop or its trainer changes (counting starts over). */
  key: string;
  trainer: SpeedTrainer | null;
  /** The count-in to play before every pass, or null. */
  countIn: (() => CountInOptions | null) | null;
}

export interface PassInfo {
  /** From 1, as shown; 0 when no loop is being counted. */
  pass: number;
  /** The tempo of this pass (ratio). */
  tempo: number;
  training: boolean;
}

export class LoopPasses {
  private plan: PassPlan | null = null;
  private state: PassState = NO_PASSES;
  private sentinel: AudioBufferSourceNode | null = null;
  private armedFor = '';
  private lastWrap = -Infinity;
  private readonly emitter = new Emitter<{ pass: PassInfo }>();
  private readonly offChange: () => void;

  constructor(
    private readonly engine: PlayerEngine,
    private readonly countIn: CountIn,
  ) {
    this.offChange = engine.on('change', () => this.follow());
  }

  on(fn: (info: PassInfo) => void): () => void {
    return this.emitter.on('pass', fn);
  }

  get info(): PassInfo {
    const { plan } = this;
    const training = Boolean(plan?.trainer) && this.state.key !== null;
    return { pass: this.state.key === null ? 0 : this.state.pass + 1, tempo: this.engine.rate, training };
  }

  /** The tempo the trainer wants for the pass about to play (null: no trainer). */
  tempoNow(): number | null {
    const trainer = this.plan?.trainer;
    if (!trainer) return null;
    const pass = this.state.key === this.plan?.key ? this.state.pass : 0;
    return trainerPercent(trainer, pass) / 100;
  }

  setPlan(plan: PassPlan | null): void {
    if (plan?.key !== this.plan?.key) this.state = NO_PASSES;
    this.plan = plan;
    this.armedFor = '';
    this.follow();
  }

  dispose(): void {
    this.offChange();
    this.disarm();
    this.emitter.clear();
  }

  /** Arm at the next wrap while a counted loop plays; disarm otherwise. */
  private follow(): void {
    const { plan, engine } = this;
    const { anchor, loop, playing } = engine.clock;
    if (!plan || !loop || !playing) {
      this.disarm();
      if (!loop) this.state = NO_PASSES;
      return;
    }
    const started = passReducer(this.state, { type: 'start', key: plan.key });
    if (started !== this.state) {
      this.state = started;
      this.emit();
    }
    const armKey = `${anchor.contextTime}|${anchor.position}|${anchor.rate}|${loop.start}|${loop.end}`;
    if (armKey === this.armedFor && this.sentinel) return;
    this.disarm();
    this.armedFor = armKey;
    const at = nextWrapAfter(anchor, loop, Math.max(this.lastWrap, engine.ctx.currentTime, anchor.contextTime));
    if (plan.countIn?.()) engine.endPassAt(at);
    const { ctx } = engine;
    const source = ctx.createBufferSource();
    source.buffer = ctx.createBuffer(1, 1, ctx.sampleRate);
    source.connect(engine.master);
    source.onended = () => {
      if (this.sentinel === source) this.wrapped(at);
    };
    source.start(at);
    this.sentinel = source;
  }

  private wrapped(at: number): void {
    this.disarm();
    this.lastWrap = at;
    const { plan, engine } = this;
    const loop = engine.clock.loop;
    if (!plan || !loop || !engine.playing) return;
    this.state = passReducer(this.state, { type: 'wrap' });
    const tempo = this.tempoNow();
    if (tempo !== null && tempo !== engine.rate) engine.setTempo(tempo);
    const countIn = plan.countIn?.() ?? null;
    if (countIn) this.countIn.replay(countIn, loop.start);
    this.follow();
    this.emit();
  }

  private emit(): void {
    this.emitter.emit('pass', this.info);
  }

  private disarm(): void {
    const source = this.sentinel;
    this.sentinel = null;
    if (!source) return;
    source.onended = null;
    try {
      source.stop();
    } catch {
      // Already ended.
    }
    source.disconnect();
  }
}
