/**
 * The one clock every stem follows: song position as a function of the audio context's time.
 * Pure arithmetic, so alignment through seeks, loops and tempo changes is unit-testable.
 */
export interface Loop {
  start: number;
  end: number;
}

export interface ClockAnchor {
  /** Context time at which `position` was (or will be) heard. */
  contextTime: number;
  position: number;
  rate: number;
}

export const MIN_LOOP_SECONDS = 0.05;

/** Song position at context time `now`, wrapping inside `loop` the way AudioBufferSourceNode does. */
export function positionAt(anchor: ClockAnchor, now: number, loop: Loop | null, duration: number): number {
  const elapsed = Math.max(0, now - anchor.contextTime) * anchor.rate;
  const raw = anchor.position + elapsed;
  if (loop && anchor.position < loop.end && raw >= loop.end) {
    const length = loop.end - loop.start;
    return loop.start + ((raw - loop.start) % length);
  }
  return Math.min(raw, duration);
}

/** A loop with start < end inside the song, at least MIN_LOOP_SECONDS long; null if impossible. */
export function normaliseLoop(a: number, b: number, duration: number): Loop | null {
  const start = Math.max(0, Math.min(a, b));
  const end = Math.min(duration, Math.max(a, b));
  return end - start >= MIN_LOOP_SECONDS ? { start, end } : null;
}

/** Semitones each stretcher must shift: playbackRate moves pitch by 12·log2(rate); undo that, add transpose. */
export function compensatingSemitones(rate: number, transpose: number): number {
  return transpose - 12 * Math.log2(rate);
}

export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** `m:ss` (or `h:mm:ss`) for a position in seconds. */
export function formatTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
