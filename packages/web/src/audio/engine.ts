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
 * (`stemTracks.ts`); whether they play and where in the song (the clock, the paused position, the
 * loop, the frontier) is `Transport` (`transport.ts`); this module starts and stops them.
 */
import { Emitter } from '../services/emitter';
import { mark } from '../services/perf';
import { clamp, type ClockAnchor, type Loop } from './clock';
import { StretchRouting } from './stretchRouting';
import { TEMPO_MAX, TEMPO_MIN, TRANSPOSE_LIMIT, type PlayerSnapshot, type StemControls, type StemInput } from './playerTypes';
import { VoiceSet, type SyncedVoice } from './sources';
import { MIX_RAMP, StemTracks } from './stemTracks';
import { START_LOOKAHEAD, Transport } from './transport';

export type { SyncedVoice } from './sources';
export { UNPITCHED_STEMS } from './stretchRouting';
export type { PlayerSnapshot, StemControls, StemInput } from './playerTypes';
export { TEMPO_MAX, TEMPO_MIN, TRANSPOSE_LIMIT } from './playerTypes';

type EngineEvents = { change: PlayerSnapshot; ended: void; error: unknown };

export class PlayerEngine {
  readonly ctx: AudioContext;
  readonly master: GainNode;
  readonly analyser: AnalyserNode;
  private readonly emitter = new Emitter<EngineEvents>();
  private readonly stretch: StretchRouting;
  private readonly tracks: StemTracks;
  private readonly voices: VoiceSet;
  private readonly transport = new Transport();
  private tempo = 1;
  private transpose = 0;
  private masterVolume = 0.9;
  private generation = 0;
  private disposed = false;

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
    this.transport.reset(separatingTotal);
    this.tracks.connect(stems, (name) => this.stretch.busFor(name));
    mark('engine-loaded');
    if (this.tracks.length > 0) this.stretch.prefetch();
    this.changed();
  }

  /** Stop and drop every decoded buffer and node of the current song. */
  unload(): void {
    this.generation += 1;
    this.voices.stopAll();
    this.tracks.release();
    this.transport.empty();
    this.changed();
  }

  /** The open song is still being separated (its stems end at the frontier). */
  get separating(): boolean {
    return this.transport.separating;
  }

  /**
   * More of the song being separated: the same stems, longer (`final`: all of it). Playing, the
   * new buffers take over on the same clock at the position the old ones reach then (no gap, no
   * jump); waiting at the frontier, playback goes on by itself. Other stems: `load` instead.
   */
  extend(stems: readonly StemInput[], final: boolean): void {
    const heldUpTo = this.duration;
    if (!this.transport.separating || this.disposed || !this.tracks.replaceBuffers(stems)) return this.load(stems);
    const waited = this.transport.frontier('extended');
    if (final) this.transport.separated();
    if (this.transport.playing) {
      // Sources that ran out (at the frontier) go on from where they stopped: clamped to `heldUpTo`.
      const { when, offset } = this.transport.joining(this.ctx.currentTime, this.tempo, heldUpTo);
      this.startSources(offset, when - this.ctx.currentTime - START_LOOKAHEAD, !waited);
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
    return this.transport.playing;
  }

  get stemNames(): string[] {
    return this.tracks.names;
  }

  /**
   * The song position being heard, in seconds, from the audio clock: through the stretchers that
   * is `outputDelay` behind the sources, so the cursor, the time and "Set A/B" follow the sound.
   */
  get position(): number {
    return this.transport.positionAt(this.ctx.currentTime - this.stretch.latency, this.duration);
  }

  /** Where the sources are now (ahead of `position` by the stretchers' latency while they run). */
  get sourcePosition(): number {
    return this.transport.positionAt(this.ctx.currentTime, this.duration);
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
    if (this.transport.playing || this.tracks.length === 0) return null;
    mark('play');
    if (this.ctx.state === 'suspended') await this.ctx.resume();
    const when = this.startSources(this.transport.playFrom(this.duration), lead);
    this.transport.playing = true;
    this.changed();
    return when;
  }

  pause(): void {
    if (!this.transport.playing) return;
    this.transport.pausedAt = this.position;
    this.stopSources();
    this.transport.playing = false;
    this.transport.frontier('pause');
    this.changed();
  }

  toggle(): Promise<unknown> | void {
    return this.transport.playing ? this.pause() : this.play();
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
    if (!this.transport.playing) return this.voices.restart(voice, null);
    this.voices.restart(voice, this.transport.joining(this.ctx.currentTime, this.tempo, this.duration));
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
    this.transport.seekingTo(target);
    this.moveTo(target, lead ?? this.transport.leadLeft(this.ctx.currentTime));
  }

  /** Playing, the sources restart from `at` (`lead` seconds from now); paused, play will start there. */
  private moveTo(at: number, lead = 0): void {
    if (this.transport.playing) {
      this.stopSources();
      this.startSources(at, lead);
    } else {
      this.transport.pausedAt = at;
    }
    this.changed();
  }

  // -- loop ---------------------------------------------------------------------------

  setLoop(a: number, b: number): void {
    if (this.transport.setLoop(a, b, this.duration)) this.restartForLoop();
  }

  setLoopEnabled(enabled: boolean): void {
    if (this.transport.setLoopEnabled(enabled)) this.restartForLoop();
  }

  clearLoop(): void {
    this.transport.clearLoop();
    this.restartForLoop();
  }

  /** Where the sources' clock is anchored and the loop they wrap in (for loop-pass scheduling). */
  get clock(): { anchor: ClockAnchor; loop: Loop | null; playing: boolean } {
    return this.transport.clock;
  }

  /** Silence every source at context time `at` (a pass ends there; a count-in follows). */
  endPassAt(at: number): void {
    this.tracks.stopAt(at);
    this.voices.stopAllAt(at);
  }

  private restartForLoop(): void {
    this.moveTo(this.transport.intoLoop(this.sourcePosition)); // the sources go on from where they are: no audible jump
  }

  // -- tempo and pitch -------------------------------------------------------------------

  setTempo(rate: number): void {
    const next = clamp(Math.round(rate * 100) / 100, TEMPO_MIN, TEMPO_MAX);
    if (next === this.tempo) return;
    if (this.transport.playing) {
      // Re-anchor the clock, then change every source's rate at the same instant.
      const now = this.ctx.currentTime;
      this.transport.retime(now, this.sourcePosition, next);
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
      playing: this.transport.playing,
      duration: this.duration,
      tempo: this.tempo,
      transpose: this.transpose,
      masterVolume: this.masterVolume,
      loop: this.transport.loop,
      loopEnabled: this.transport.loopEnabled,
      stems,
      stretch: this.stretch.state,
      separating: this.transport.separatingState(this.duration),
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
    const timing = this.transport.start(when, offset, this.tempo, handOver);
    // One `when` for every stem: sample-aligned by construction.
    this.tracks.start(timing, () => this.sourcesEnded(generation), handOver);
    if (!handOver) this.voices.startAll(timing);
    return when;
  }

  /** The stems ran out: the song's end, or the frontier of one still being separated (wait there). */
  private sourcesEnded(generation: number): void {
    if (generation !== this.generation || !this.transport.playing) return;
    this.stopSources();
    this.transport.pausedAt = this.duration;
    if (this.transport.separating) {
      this.transport.frontier('reached-end');
      return this.changed();
    }
    this.transport.playing = false;
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
