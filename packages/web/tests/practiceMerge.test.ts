import { describe, expect, it } from 'vitest';
import { defaultPracticeState, type PracticeState, type SavedLoop } from '../src/api/practice';
import { mergePracticeState } from '../src/practice/merge';

const loop = (id: string, name: string, start = 1, end = 5): SavedLoop => ({ id, name, start, end, speed_trainer: null });
const with_ = (patch: Partial<PracticeState>, from = defaultPracticeState()): PracticeState => ({ ...structuredClone(from), ...patch });

describe('mergePracticeState (base, mine, theirs)', () => {
  it('keeps my changed fields and takes theirs for the rest', () => {
    const base = defaultPracticeState();
    const mine = with_({ tempo: 0.8, notes: 'mine' });
    const theirs = with_({ tempo: 1.2, transpose: -2, master_db: -3 });
    const merged = mergePracticeState(base, mine, theirs);
    expect(merged.tempo).toBe(0.8);
    expect(merged.notes).toBe('mine');
    expect(merged.transpose).toBe(-2);
    expect(merged.master_db).toBe(-3);
  });

  it('merges stems and click field by field', () => {
    const base = with_({ stems: { drums: { volume_db: 0, muted: false, solo: false, pan: 0 } } });
    const mine = with_({ stems: { drums: { volume_db: -6, muted: false, solo: false, pan: 0 } }, click: { ...base.click, enabled: true } });
    const theirs = with_({
      stems: { drums: { volume_db: 0, muted: true, solo: false, pan: 0.5 }, bass: { volume_db: 3, muted: false, solo: true, pan: 0 } },
      click: { ...base.click, sound: 'beep', count_in_bars: 2 },
    });
    const merged = mergePracticeState(base, mine, theirs);
    expect(merged.stems.drums).toEqual({ volume_db: -6, muted: true, solo: false, pan: 0.5 });
    expect(merged.stems.bass).toEqual({ volume_db: 3, muted: false, solo: true, pan: 0 });
    expect(merged.click).toMatchObject({ enabled: true, sound: 'beep', count_in_bars: 2 });
  });

  it('merges loops by id: both sides add, my rename wins, their move stays, my delete wins', () => {
    const base = with_({ loops: [loop('a', 'intro', 0, 4), loop('b', 'solo', 10, 20), loop('c', 'outro', 30, 40)] });
    const mine = with_({ loops: [loop('a', 'Intro riff', 0, 4), loop('b', 'solo', 10, 20), loop('m', 'mine', 5, 6)] }); // c deleted
    const theirs = with_({ loops: [loop('a', 'intro', 0.5, 4), loop('b', 'solo', 10, 20), loop('c', 'outro', 30, 40), loop('t', 'theirs', 7, 8)] });
    const merged = mergePracticeState(base, mine, theirs);
    expect(merged.loops.map((l) => l.id)).toEqual(['a', 'b', 't', 'm']);
    expect(merged.loops[0]).toEqual(loop('a', 'Intro riff', 0.5, 4));
  });

  it('a loop they deleted goes, unless I changed it; the active loop must still exist', () => {
    const base = with_({ loops: [loop('a', 'intro'), loop('b', 'solo')], active_loop_id: 'b' });
    const mine = with_({ loops: [loop('a', 'intro, slow'), loop('b', 'solo')], active_loop_id: 'b' });
    const theirs = with_({ loops: [], active_loop_id: null });
    const merged = mergePracticeState(base, mine, theirs);
    expect(merged.loops.map((l) => l.id)).toEqual(['a']);
    expect(merged.active_loop_id).toBeNull();
  });

  it('merges markers by id and keeps a speed trainer set on one side', () => {
    const trainer = { start_pct: 70, step_pct: 5, every_passes: 2, stop_pct: 100 };
    const base = with_({ loops: [loop('a', 'bridge')], markers: [{ id: 'm1', time: 3, label: 'verse' }] });
    const mine = with_({ loops: [{ ...loop('a', 'bridge'), speed_trainer: trainer }], markers: [{ id: 'm1', time: 3, label: 'Verse 1' }] });
    const theirs = with_({ loops: [loop('a', 'bridge')], markers: [{ id: 'm1', time: 3.5, label: 'verse' }, { id: 'm2', time: 9, label: 'chorus' }] });
    const merged = mergePracticeState(base, mine, theirs);
    expect(merged.loops[0]?.speed_trainer).toEqual(trainer);
    expect(merged.markers).toEqual([
      { id: 'm1', time: 3.5, label: 'Verse 1' },
      { id: 'm2', time: 9, label: 'chorus' },
    ]);
  });

  it('with nothing changed here, the result is theirs', () => {
    const base = with_({ tempo: 0.9 });
    const theirs = with_({ tempo: 0.7, my_part: 'bass', loops: [loop('x', 'x')] });
    expect(mergePracticeState(base, structuredClone(base), theirs)).toEqual(theirs);
  });
});
