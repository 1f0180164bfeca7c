/**
 * Named moments on the page's performance timeline (`riffroom:<name>`), read by
 * bench/first-sound.mjs to show where the time from drop to first sound goes.
 */
export const MARK_PREFIX = 'riffroom:';

export function mark(name: string): void {
  try {
    globalThis.performance?.mark?.(MARK_PREFIX + name);
  } catch {
    // No User Timing (old test environments): marks are only for benches.
  }
}
