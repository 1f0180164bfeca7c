import { useEffect } from 'react';
import type { PlayerEngine } from '../../audio/engine';
import { moveLoop, type BeatGrid } from '../../music/grid';
import { isTyping } from '../common/keyboard';

export const SHORTCUTS: { keys: string; action: string }[] = [
  { keys: 'Space', action: 'Play / pause' },
  { keys: '← / →', action: 'Back / forward 5 s (Shift: 1 s)' },
  { keys: 'Home', action: 'Go to the start (or the loop start)' },
  { keys: 'A / B', action: 'Set loop start / end at the playhead' },
  { keys: 'L', action: 'Loop on / off' },
  { keys: ', / .', action: 'Move the loop a bar earlier / later' },
  { keys: '< / >', action: 'Move the loop by its length earlier / later' },
  { keys: '[ / ]', action: 'Slower / faster (5%)' },
  { keys: '- / =', action: 'Transpose down / up a semitone' },
  { keys: 'M / S', action: 'Mute / solo the focused stem' },
  { keys: 'P', action: 'Mute / unmute my part (chosen under Practice)' },
  { keys: '?', action: 'Show / hide this help' },
];

/** What the song's analysis adds: its beat grid (null without one) and play with the count-in. */
export interface MusicShortcuts {
  readonly grid: BeatGrid | null;
  toggle: () => unknown;
  /** The stem the user plays (the workspace's "my part"). */
  readonly myPart?: string | null;
}

/** Global player shortcuts; ignored while typing in a text field. */
export function useShortcuts(engine: PlayerEngine | null, loopMarks: { a: number | null; setA: (t: number | null) => void }, music?: MusicShortcuts) {
  useEffect(() => {
    if (!engine) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const snap = engine.snapshot();
      if (!snap.loaded) return;
      const onSlider = e.target instanceof HTMLInputElement && e.target.type === 'range';
      const stemEl = e.target instanceof Element ? e.target.closest<HTMLElement>('[data-stem]') : null;
      const stem = stemEl?.dataset.stem;
      let handled = true;
      switch (e.key) {
        case ' ':
          void (music ? music.toggle() : engine.toggle());
          break;
        case ',':
        case '.':
        case '<':
        case '>': {
          if (!snap.loop) return;
          const by = e.key === '<' || e.key === '>' ? 'length' : 'bar';
          if (by === 'bar' && !music?.grid) return;
          const moved = moveLoop(music?.grid ?? null, snap.loop, e.key === ',' || e.key === '<' ? -1 : 1, by);
          if (moved.start < 0 || moved.end > snap.duration) return;
          engine.setLoop(moved.start, moved.end);
          break;
        }
        case 'ArrowLeft':
        case 'ArrowRight':
          if (onSlider) return; // the slider's own arrows win
          engine.seek(engine.position + (e.key === 'ArrowLeft' ? -1 : 1) * (e.shiftKey ? 1 : 5));
          break;
        case 'Home':
          if (onSlider) return;
          engine.seek(snap.loopEnabled && snap.loop ? snap.loop.start : 0);
          break;
        case 'l':
        case 'L':
          if (snap.loop) engine.setLoopEnabled(!snap.loopEnabled);
          else engine.setLoop(engine.position, engine.position + 4);
          break;
        case 'a':
        case 'A':
          loopMarks.setA(engine.position);
          break;
        case 'b':
        case 'B': {
          const a = loopMarks.a ?? snap.loop?.start ?? 0;
          engine.setLoop(a, engine.position);
          loopMarks.setA(null);
          break;
        }
        case '[':
          engine.setTempo(snap.tempo - 0.05);
          break;
        case ']':
          engine.setTempo(snap.tempo + 0.05);
          break;
        case '-':
          engine.setTranspose(snap.transpose - 1);
          break;
        case '=':
        case '+':
          engine.setTranspose(snap.transpose + 1);
          break;
        case 'm':
        case 'M':
          if (!stem) return;
          engine.updateStem(stem, { muted: !snap.stems[stem]?.muted });
          break;
        case 's':
        case 'S':
          if (!stem) return;
          engine.updateStem(stem, { soloed: !snap.stems[stem]?.soloed });
          break;
        case 'p':
        case 'P':
          if (!music?.myPart || !snap.stems[music.myPart]) return;
          engine.updateStem(music.myPart, { muted: !snap.stems[music.myPart]?.muted });
          break;
        default:
          handled = false;
      }
      if (handled) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [engine, loopMarks, music]);
}
