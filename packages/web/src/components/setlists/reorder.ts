/** Pure helpers of the setlist's reordering (drag and Alt+↑/↓), kept apart so they are tested alone. */

/** A copy of `items` with the item at `from` moved to `to` (both clamped to the list). */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const out = [...items];
  if (from < 0 || from >= out.length) return out;
  const target = Math.max(0, Math.min(out.length - 1, to));
  const [item] = out.splice(from, 1);
  if (item !== undefined) out.splice(target, 0, item);
  return out;
}

/** What a screen reader hears after a move: “Intro” moved to position 2 of 5. */
export function moveAnnouncement(title: string, position: number, count: number): string {
  return `“${title}” moved to position ${position + 1} of ${count}.`;
}

/** The move an Alt+↑/↓ key press asks for (−1, +1), or 0 for any other key. */
export function keyboardMove(e: { key: string; altKey: boolean; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }): -1 | 0 | 1 {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return 0;
  if (e.key === 'ArrowUp') return -1;
  if (e.key === 'ArrowDown') return 1;
  return 0;
}
