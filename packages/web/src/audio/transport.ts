/**
 * `PlayerEngine`'s transport, apart from its nodes: whether the sources play and where they are
 * in the song. The clock anchor (the context time a song position is heard at, and the rate) is
 * set on every start, seek and tempo change; through a progressive hand-over the old sources'
 * anchor stays in use until the new ones start. Besides: the position while paused, the A/B loop
 * the sources wrap in, and where playback is at the frontier of a song still being separated.
 * No audio here: the engine starts and stops the sources when and where this says.
 */
import { normaliseLoop, positionAt, type ClockAnchor, type Loop } from './clock';
import type { PlayerSnapshot } from './playerTypes';
import { frontierStep, type FrontierEvent, type FrontierState } from './progressiveStems';
import type { SourceTiming } from './sources';

/** Sources start this long after "now", so every stem's `start(when)` is still ahead of the audio thread. */
export const START_LOOKAHEAD = 0.03;

export class Transport {
  playing = false;
  /** The position while paused (where `play` starts). */
  pausedAt = 0;
  loop: Loop | null = null;
  loopEnabled = false;
  private anchor: ClockAnchor = { contextTime: 0, position: 0, rate: 1 };
  /** Through a hand-over, the old sources are heard until `anchor.contextTime`: their clock until then. */
  private handedOverFrom: ClockAnchor | null = null;
  /** While the song is still being separated: its full length, and where playback is at the frontier. */
  private partial: { totalSeconds: number; frontier: FrontierState } | null = null;

  /** A new song, at its start, no loop; `separatingTotal`: still being separated, this long in all. */
  reset(separatingTotal: number | null): void {
    this.partial = separatingTotal === null ? null : { totalSeconds: separatingTotal, frontier: 'stopped' };
    this.pausedAt = 0;
    this.loop = null;
    this.loopEnabled = false;
  }

  /** No song: stopped at 0, nothing being separated (the loop stays until the next `reset`). */
  empty(): void {
    this.playing = false;
    this.pausedAt = 0;
    this.partial = null;
  }

  // -- the clock ------------------------------------------------------------------------

  get activeLoop(): Loop | null {
    return this.loopEnabled ? this.loop : null;
  }

  /** The anchor (a copy), the loop the sources wrap in and whether they play (for loop-pass scheduling). */
  get clock(): { anchor: ClockAnchor; loop: Loop | null; playing: boolean } {
    return { anchor: { ...this.anchor }, loop: this.activeLoop, playing: this.playing };
  }

  /**
   * The sources start at context time `when` from song position `offset`: the clock's new anchor.
   * `handOver`: the sources playing now are heard until then (their clock is used till `when`).
   */
  start(when: number, offset: number, rate: number, handOver: boolean): SourceTiming {
    this.handedOverFrom = handOver ? this.anchor : null;
    this.anchor = { contextTime: when, position: offset, rate };
    this.frontier('play');
    return { when, offset, rate, loop: this.activeLoop };
  }

  /** The rate changes at context time `now`, where the sources are at `position`. */
  retime(now: number, position: number, rate: number): void {
    this.anchor = { contextTime: now, position, rate };
  }

  /** The song position the sources are at (or were, or will be) at context time `at`; the paused position when paused. */
  positionAt(at: number, duration: number): number {
    if (!this.playing) return this.pausedAt;
    const anchor = this.handedOverFrom && at < this.anchor.contextTime ? this.handedOverFrom : this.anchor;
    return positionAt(anchor, at, this.activeLoop, duration);
  }

  /**
   * A source started at `now` that joins the ones playing (at `rate`, in a song of `duration`):
   * it starts after the lookahead but not before them, where they are then.
   */
  joining(now: number, rate: number, duration: number): SourceTiming {
    const when = Math.max(now + START_LOOKAHEAD, this.anchor.contextTime);
    return { when, offset: this.positionAt(when, duration), rate, loop: this.activeLoop };
  }

  /** Seconds of lead left before the sources start (a count-in running), beyond the lookahead. */
  leadLeft(now: number): number {
    return Math.max(0, this.anchor.contextTime - now - START_LOOKAHEAD);
  }

  /**
   * Where `play` starts in a song of `duration`: the paused position, or the start again once at
   * the end (at the frontier of a song still being separated, playback waits there instead); inside the loop.
   */
  playFrom(duration: number): number {
    return this.intoLoop(this.pausedAt >= duration - 0.01 && !this.partial ? 0 : this.pausedAt);
  }

  // -- the loop -------------------------------------------------------------------------

  /** `at`, or the active loop's start when `at` is outside it. */
  intoLoop(at: number): number {
    const loop = this.activeLoop;
    return loop && (at < loop.start || at >= loop.end) ? loop.start : at;
  }

  /** A seek to `target`: seeking out of the loop means the player wants to leave it. */
  seekingTo(target: number): void {
    const loop = this.activeLoop;
    if (loop && (target < loop.start || target >= loop.end)) this.loopEnabled = false;
  }

  /** Loop `a`–`b` (either order) and turn it on; false (nothing changes) when no such loop fits the song. */
  setLoop(a: number, b: number, duration: number): boolean {
    const loop = normaliseLoop(a, b, duration);
    if (!loop) return false;
    this.loop = loop;
    this.loopEnabled = true;
    return true;
  }

  /** False (nothing changes) when asked to turn on a loop that is not set. */
  setLoopEnabled(enabled: boolean): boolean {
    if (enabled && !this.loop) return false;
    this.loopEnabled = enabled;
    return true;
  }

  clearLoop(): void {
    this.loop = null;
    this.loopEnabled = false;
  }

  // -- the frontier of a song still being separated ----------------------------------------

  get separating(): boolean {
    return this.partial !== null;
  }

  /** All of the song is separated now: its end is the song's end. */
  separated(): void {
    this.partial = null;
  }

  /** Playback meets the frontier: `event` moves its state (nothing while the song is whole). True if it was waiting there. */
  frontier(event: FrontierEvent): boolean {
    const waited = this.partial?.frontier === 'waiting';
    if (this.partial) this.partial.frontier = frontierStep(this.partial.frontier, event, true);
    return waited;
  }

  /** The snapshot's `separating`, the stems holding `readySeconds`. */
  separatingState(readySeconds: number): PlayerSnapshot['separating'] {
    return this.partial && { readySeconds, totalSeconds: this.partial.totalSeconds, waiting: this.partial.frontier === 'waiting' };
  }
}
