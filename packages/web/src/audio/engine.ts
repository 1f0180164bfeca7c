/**
 * The player: every stem decoded once into an AudioBuffer (the only copy of its audio the
 * page keeps: the encoded bytes are dropped by decoding), started by one
 * `start(when, offset)` so all are sample-aligned, re-created on every seek.
 *
 *   const engine = new PlayerEngine();
 *   const buffer = await engine.decode(bytes); // detaches `bytes`
 *   engine.load([{ name: 'drums', buffer }, ...]);
 *   engine.play(); engine.setTempo(0.8); engine.setTranspose(-2);
 *
 * Tempo is the sources' playbackRate (one parameter, same instant for all stems, so they
 * stay aligned); the pitch change that causes is undone, and the transpose added, by the
 * stretch routing (`stretchRouting.ts`), which is in the path only while tempo ≠ 100% or
 * transpose ≠ 0. The stems' nodes and their mix (volume, mute, solo, pan) are `StemTracks`
 * (`stemTracks.ts`); this module decides when they start, where, and at what rate.
 */
import { Emitter } from '../services/emitter';
import { clamp, normaliseLoop, positionAt, type ClockAnchor, type Loop } from './clock';
import { StretchRouting } from './stretchRouting';
import { TEMPO_MAX, TEMPO_MIN, TRANSPOSE_LIMIT, type PlayerSnapshot, type StemControls, type StemInput } from './playerTypes';
import { VoiceSet, type SourceTiming, type SyncedVoice } from './sources';
import { MIX_RAMP, StemTracks } from './stemTracks';

export type { SyncedVoice } from './sources';
import { mark } from '../services/perf';
import { frontierStep, type FrontierState } from './progressiveStems';

export { UNPITCHED_STEMS } from './stretchRouting';

export type { PlayerSnapshot, StemControls, StemInput } from './playerTypes';
export { TEMPO_MAX, TEMPO_MIN, TRANSPOSE_LIMIT } from './playerTypes';

type EngineEvents = { change: PlayerSnapshot; ended: void; error: unknown };

const START_LOOKAHEAD = 0.03;

export class PlayerEngine {
  readonly ctx: AudioContext;
  readonly master: GainNode;
  readonly analyser: AnalyserNode;
  private readonly emitter = new Emitter<EngineEvents>();
  private readonly stretch: StretchRouting;
  private readonly tracks: StemTracks;
  private readonly voices: VoiceSet;
  private anchor: ClockAnchor = { contextTime: 0, position: 0, rate: 1 };
  /** Through a hand-over, the old sources are heard until `anchor.contextTime`: their clock until then. */
  private handedOverFrom: ClockAnchor | null = null;
  private pausedAt = 0;
  private isPlaying = false;
  private tempo = 1;
  private transpose = 0;
  private masterVolume = 0.9;
  private loop: Loop | null = null;
  private loopEnabled = false;
  private generation = 0;
  private disposed = false;
  /** While the song is still being separated: its full length, and where playback is at the frontier. */
  private partial: { totalSeconds: number; frontier: FrontierState } | null = null;

  constructor(ctx?: AudioContext) {
    // 'balanced': mute, solo and seeks are heard promptly, with buffers large enough for the
    // stretch worklets on a slow machine ('playback' added ~100 ms before the first sound).
    this.ctx = ctx ?? new AudioContext({ latencyHint: 'balanced' });
    this.master = this.ctx.createGain();
    this.master.gain.value = this.masterVolume;
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 2048;
    this.master.connect(this.analyser);
    this.analyser.connect(this.ctx.destination);
    this.voices = new VoiceSet(this.ctx);
    this.tracks = new StemTracks(this.ctx);
    this.stretch = new StretchRouting(this.ctx, this.master, {
      onChange: () => this.changed(),
      onError: (err) => this.emitter.emit('error', err),
    });
  }

  on<K extends keyof EngineEvents>(event: K, fn: (payload: EngineEvents[K]) => void): () => void {
    return this.emitter.on(event, fn);
  }

  /** Decode one encoded stem (WAV, FLAC, …) to the context's rate. Detaches `bytes`. */
  decode(bytes: ArrayBuffer): Promise<AudioBuffer> {
    return this.ctx.decodeAudioData(bytes);
  }

  // -- loading ------------------------------------------------------------------------

  /**
   * Open a song: already-decoded stems (their buffers are used as they are, not copied).
   * `separatingTotal`: the song is still being separated (the stems hold its ready part; `extend`
   * brings more), and this is its full length.
   */
  load(stems: readonly StemInput[], separatingTotal: number | null = null): void {
    this.unload();
    if (this.disposed) return;
    this.partial = separatingTotal === null ? null : { totalSeconds: separatingTotal, frontier: 'stopped' };
    this.tracks.connect(stems, (name) => this.stretch.busFor(name));
    this.pausedAt = 0;
    this.loop = null;
    this.loopEnabled = false;
    mark('engine-loaded');
    if (this.tracks.length > 0) this.stretch.prefetch();
    this.changed();
  }

  /** Stop and drop every decoded buffer and node of the current song. */
  unload(): void {
    this.generation += 1;
    this.voices.stopAll();
    this.tracks.release();
    this.isPlaying = false;
    this.pausedAt = 0;
    this.partial = null;
    this.changed();
  }

  /** The open song is still being separated (its stems end at the frontier). */
  get separating(): boolean {
    return this.partial !== null;
  }

  /**
   * More of the song being separated: the same stems, longer (`final`: all of it). Playing, the
   * new buffers take over on the same clock at the position the old ones reach then (no gap, no
   * jump); waiting at the frontier, playback goes on by itself. Other stems: `load` instead.
   */
  extend(stems: readonly StemInput[], final: boolean): void {
    const partial = this.partial;
    const heldUpTo = this.duration;
    if (!partial || this.disposed || !this.tracks.replaceBuffers(stems)) return this.load(stems);
    const waited = partial.frontier === 'waiting';
    partial.frontier = frontierStep(partial.frontier, 'extended', true);
    if (final) this.partial = null;
    if (this.isPlaying) {
      // Sources that ran out (at the frontier) go on from where they stopped: clamped to `heldUpTo`.
      const when = Math.max(this.ctx.currentTime + START_LOOKAHEAD, this.anchor.contextTime);
      const at = positionAt(this.anchor, when, this.activeLoop(), heldUpTo);
      this.startSources(at, when - this.ctx.currentTime - START_LOOKAHEAD, !waited);
    }
    this.changed();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.unload();
    this.disposed = true;
    this.voices.clear();
    this.stretch.dispose();
    this.master.disconnect();
    this.analyser.disconnect();
    this.emitter.clear();
    if (this.ctx.state !== 'closed') await this.ctx.close();
  }

  // -- transport ----------------------------------------------------------------------

  get duration(): number {
    return this.tracks.duration;
  }

  get playing(): boolean {
    return this.isPlaying;
  }

  get stemNames(): string[] {
    return this.tracks.names;
  }

  /**
   * The song position being heard, in seconds, from the audio clock: through the stretchers that
   * is `outputDelay` behind the sources, so the cursor, the time and "Set A/B" follow the sound.
   */
  get position(): number {
    return this.positionBefore(this.stretch.latency);
  }

  /** Where the sources are now (ahead of `position` by the stretchers' latency while they run). */
  get sourcePosition(): number {
    return this.positionBefore(0);
  }

  /** The song position the sources were at `seconds` ago (the paused position when paused). */
  private positionBefore(seconds: number): number {
    if (!this.isPlaying) return this.pausedAt;
    const at = this.ctx.currentTime - seconds;
    const anchor = this.handedOverFrom && at < this.anchor.contextTime ? this.handedOverFrom : this.anchor;
    return positionAt(anchor, at, this.activeLoop(), this.duration);
  }

  /** Seconds between the sources and what is heard (0 on the direct path). */
  get outputDelay(): number {
    return this.stretch.latency;
  }

  /**
   * Start from the paused position, `lead` seconds from now (a count-in plays meanwhile; the
   * position stays put until then). Resolves to the context time the sources start, or null.
   */
  async play(lead = 0): Promise<number | null> {
    if (this.isPlaying || this.tracks.length === 0) return null;
    mark('play');
    if (this.ctx.state === 'suspended') await this.ctx.resume();
    // At the frontier of a song still being separated, playback waits there instead of rewinding.
    let from = this.pausedAt >= this.duration - 0.01 && !this.partial ? 0 : this.pausedAt;
    const loop = this.activeLoop();
    if (loop && (from < loop.start || from >= loop.end)) from = loop.start;
    const when = this.startSources(from, lead);
    this.isPlaying = true;
    this.changed();
    return when;
  }

  pause(): void {
    if (!this.isPlaying) return;
    this.pausedAt = this.position;
    this.stopSources();
    this.isPlaying = false;
    if (this.partial) this.partial.frontier = frontierStep(this.partial.frontier, 'pause', true);
    this.changed();
  }

  toggle(): Promise<unknown> | void {
    return this.isPlaying ? this.pause() : this.play();
  }

  // -- voices that play along (the click) ----------------------------------------------------

  /** Play `voice` with the stems from now on (joins at once when playing); returns its removal. */
  addVoice(voice: SyncedVoice): () => void {
    if (!this.disposed && !this.voices.has(voice)) {
      this.voices.add(voice);
      this.refreshVoice(voice);
    }
    return () => this.voices.remove(voice);
  }

  /** Its buffer changed: while playing, restart its source where the stems are. */
  refreshVoice(voice: SyncedVoice): void {
    if (!this.isPlaying) return this.voices.restart(voice, null);
    const when = Math.max(this.ctx.currentTime + START_LOOKAHEAD, this.anchor.contextTime);
    const offset = positionAt(this.anchor, when, this.activeLoop(), this.duration);
    this.voices.restart(voice, { when, offset, rate: this.tempo, loop: this.activeLoop() });
  }

  /** Seconds of song per second of sound (the practice tempo). */
  get rate(): number {
    return this.tempo;
  }

  /** The bus that corrects tempo without transposing (where the click connects). */
  get tempoOnlyInput(): AudioNode {
    return this.stretch.tempoOnlyInput;
  }

  /**
   * Go to `seconds`. While a count-in runs (the sources start in the future) they still start
   * when it ends, from the new place; `lead` asks for that many seconds of count-in instead.
   */
  seek(seconds: number, lead?: number): void {
    const target = clamp(seconds, 0, Math.max(0, this.duration - 0.001));
    const loop = this.activeLoop();
    // Seeking out of the loop means the player wants to leave it.
    if (loop && (target < loop.start || target >= loop.end)) this.loopEnabled = false;
    if (this.isPlaying) {
      const wait = lead ?? Math.max(0, this.anchor.contextTime - this.ctx.currentTime - START_LOOKAHEAD);
      this.stopSources();
      this.startSources(target, wait);
    } else {
      this.pausedAt = target;
    }
    this.changed();
  }

  // -- loop ---------------------------------------------------------------------------

  setLoop(a: number, b: number): void {
    const loop = normaliseLoop(a, b, this.duration);
    if (!loop) return;
    this.loop = loop;
    this.loopEnabled = true;
    this.restartForLoop();
  }

  setLoopEnabled(enabled: boolean): void {
    if (enabled && !this.loop) return;
    this.loopEnabled = enabled;
    this.restartForLoop();
  }

  clearLoop(): void {
    this.loop = null;
    this.loopEnabled = false;
    this.restartForLoop();
  }

  private activeLoop(): Loop | null {
    return this.loopEnabled ? this.loop : null;
  }

  /** Where the sources' clock is anchored and the loop they wrap in (for loop-pass scheduling). */
  get clock(): { anchor: ClockAnchor; loop: Loop | null; playing: boolean } {
    return { anchor: { ...this.anchor }, loop: this.activeLoop(), playing: this.isPlaying };
  }

  /** Silence every source at context time `at` (a pass ends there; a count-in follows). */
  endPassAt(at: number): void {
    this.tracks.stopAt(at);
    this.voices.stopAllAt(at);
  }

  private restartForLoop(): void {
    const loop = this.activeLoop();
    let at = this.sourcePosition; // the sources go on from where they are: no audible jump
    if (loop && (at < loop.start || at >= loop.end)) at = loop.start;
    if (this.isPlaying) {
      this.stopSources();
      this.startSources(at);
    } else {
      this.pausedAt = at;
    }
    this.changed();
  }

  // -- tempo and pitch -------------------------------------------------------------------

  setTempo(rate: number): void {
    const next = clamp(Math.round(rate * 100) / 100, TEMPO_MIN, TEMPO_MAX);
    if (next === this.tempo) return;
    if (this.isPlaying) {
      // Re-anchor the clock, then change every source's rate at the same instant.
      const now = this.ctx.currentTime;
      this.anchor = { contextTime: now, position: this.sourcePosition, rate: next };
      this.tracks.setRate(next, now);
      this.voices.setRate(next, now);
    }
    this.tempo = next;
    this.stretch.update(this.tempo, this.transpose);
    this.changed();
  }

  setTranspose(semitones: number): void {
    this.transpose = clamp(Math.round(semitones), -TRANSPOSE_LIMIT, TRANSPOSE_LIMIT);
    this.stretch.update(this.tempo, this.transpose);
    this.changed();
  }

  // -- mixer ----------------------------------------------------------------------------

  setMasterVolume(volume: number): void {
    this.masterVolume = clamp(volume, 0, 1.5);
    this.master.gain.setTargetAtTime(this.masterVolume, this.ctx.currentTime, MIX_RAMP);
    this.changed();
  }

  updateStem(name: string, update: Partial<StemControls>): void {
    if (this.tracks.update(name, update)) this.changed();
  }

  /** Linear gain each stem is heard at now (mute and solo applied). */
  effectiveGains(): Record<string, number> {
    return this.tracks.effectiveGains();
  }

  snapshot(): PlayerSnapshot {
    const stems = this.tracks.controls();
    return {
      loaded: this.tracks.length > 0,
      playing: this.isPlaying,
      duration: this.duration,
      tempo: this.tempo,
      transpose: this.transpose,
      masterVolume: this.masterVolume,
      loop: this.loop,
      loopEnabled: this.loopEnabled,
      stems,
      stretch: this.stretch.state,
      separating: this.partial && {
        readySeconds: this.duration,
        totalSeconds: this.partial.totalSeconds,
        waiting: this.partial.frontier === 'waiting',
      },
    };
  }

  /** Decoded buffers (for the offline mix render). */
  buffers(): { name: string; buffer: AudioBuffer }[] {
    return this.tracks.buffers();
  }

  /**
   * For tools only (the e2e tests, the benches): each stem's source playing now, in stem order
   * (null while stopped). Read them, never start, stop or reconnect them: the engine owns them.
   */
  get stemSources(): readonly { name: string; source: AudioBufferSourceNode | null }[] {
    return this.tracks.sources();
  }

  // -- sources ----------------------------------------------------------------------------

  /** `handOver`: the stems' sources playing now stop exactly where the new ones start; voices go on. */
  private startSources(offset: number, lead = 0, handOver = false): number {
    const when = this.ctx.currentTime + START_LOOKAHEAD + Math.max(0, lead);
    const generation = this.generation;
    this.handedOverFrom = handOver ? this.anchor : null;
    this.anchor = { contextTime: when, position: offset, rate: this.tempo };
    const timing: SourceTiming = { when, offset, rate: this.tempo, loop: this.activeLoop() };
    if (this.partial) this.partial.frontier = frontierStep(this.partial.frontier, 'play', true);
    // One `when` for every stem: sample-aligned by construction.
    this.tracks.start(timing, () => this.sourcesEnded(generation), handOver);
    if (!handOver) this.voices.startAll(timing);
    return when;
  }

  /** The stems ran out: the song's end, or the frontier of one still being separated (wait there). */
  private sourcesEnded(generation: number): void {
    if (generation !== this.generation || !this.isPlaying) return;
    this.stopSources();
    this.pausedAt = this.duration;
    if (this.partial) {
      this.partial.frontier = frontierStep(this.partial.frontier, 'reached-end', true);
      return this.changed();
    }
    this.isPlaying = false;
    this.changed();
    this.emitter.emit('ended', undefined);
  }

  private stopSources(): void {
    this.tracks.stop();
    this.voices.stopAll();
  }

  private changed(): void {
    if (!this.disposed) this.emitter.emit('change', this.snapshot());
  }
}
