import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Analysis } from '../src/api/analysis';
import { NO_CORRECTIONS } from '../src/api/analysis';
import { ApiClient } from '../src/api/client';
import { AnalysisPanel } from '../src/components/analysis/AnalysisPanel';
import { ChordLane, KeyDisplay } from '../src/components/analysis/ChordLane';
import { DEFAULT_CLICK } from '../src/components/analysis/usePracticeAudio';
import { gridFromAnalysis } from '../src/music/grid';

const chords = [
  { start: 0, end: 2, label: 'C#:min' },
  { start: 2, end: 4, label: 'B:maj' },
  { start: 4, end: 6, label: 'G:7' },
  { start: 6, end: 7, label: 'N' },
];

const analysis: Analysis = {
  version: 1,
  bpm: 120,
  time_signature: '4/4',
  steady_beat: true,
  message: null,
  beats: Array.from({ length: 14 }, (_, i) => i * 0.5),
  downbeats: [0, 2, 4, 6],
  tempo_curve: [],
  key: 'C# minor',
  key_confidence: 0.82,
  chords,
  sections: [{ start: 0, end: 4, label: 'A' }],
  corrections: NO_CORRECTIONS,
};

afterEach(cleanup);

const currentChord = () => screen.getByLabelText('Current chord');

describe('chord lane', () => {
  it('shows the chord sounding at a time, and the next one', () => {
    const view = { transpose: 0, capo: 0, key: 'C# minor' };
    const { rerender } = render(<ChordLane engine={null} chords={chords} view={view} keyConfidence={0.82} time={0.5} />);
    expect(currentChord().textContent).toBe('C#m');
    expect(screen.getByTestId('next-chord').textContent).toBe('B');
    rerender(<ChordLane engine={null} chords={chords} view={view} keyConfidence={0.82} time={3} />);
    expect(currentChord().textContent).toBe('B');
    rerender(<ChordLane engine={null} chords={chords} view={view} keyConfidence={0.82} time={4.2} />);
    expect(currentChord().textContent).toBe('G7');
    rerender(<ChordLane engine={null} chords={chords} view={view} keyConfidence={0.82} time={6.5} />);
    expect(currentChord().textContent).toBe('N.C.');
    // One element only, and the chip of the sounding chord is marked.
    expect(screen.getAllByLabelText('Current chord')).toHaveLength(1);
    expect(screen.getByRole('button', { current: true }).textContent).toBe('N.C.');
  });

  it('announces changes politely: the current chord is inside a polite live region', () => {
    render(<ChordLane engine={null} chords={chords} view={{ transpose: 0, capo: 0, key: null }} keyConfidence={null} time={1} />);
    const region = currentChord().closest('[aria-live]');
    expect(region?.getAttribute('aria-live')).toBe('polite');
  });

  it('transposes the chords and the key with the transpose control; capo shows shapes', () => {
    const { rerender } = render(<ChordLane engine={null} chords={chords} view={{ transpose: 1, capo: 0, key: 'C# minor' }} keyConfidence={0.82} time={3} />);
    expect(currentChord().textContent).toBe('C'); // B up a semitone
    expect(screen.getByTestId('song-key').textContent).toBe('D minor');
    expect(screen.getByText('(82% sure)')).toBeTruthy();
    rerender(<ChordLane engine={null} chords={chords} view={{ transpose: 1, capo: 3, key: 'C# minor' }} keyConfidence={0.82} time={0.5} />);
    expect(currentChord().textContent).toBe('Bm'); // sounds Dm, played as a Bm shape at fret 3
    expect(screen.getByTestId('song-key').textContent).toBe('D minor'); // the key is what sounds
    render(<KeyDisplay songKey="E major" transpose={-1} confidence={null} />);
    expect(screen.getAllByTestId('song-key')[1]?.textContent).toBe('Eb major');
  });
});

describe('analysis panel', () => {
  function server() {
    const calls: { method: string; url: string; body: unknown }[] = [];
    const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const body: unknown = init?.body ? JSON.parse(init.body as string) : null;
      calls.push({ method: init?.method ?? 'GET', url, body });
      const corrected = { ...analysis, corrections: body as Analysis['corrections'] };
      return new Response(JSON.stringify(corrected), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    return { api: new ApiClient('', fetcher), calls };
  }

  function panel(api: ApiClient, a: Analysis, onAnalysis = vi.fn()) {
    return render(
      <AnalysisPanel
        api={api}
        songId="s1"
        engine={null}
        state={{ status: 'ready', analysis: a }}
        grid={gridFromAnalysis(a)}
        transpose={0}
        click={DEFAULT_CLICK}
        capo={0}
        onCapo={vi.fn()}
        onClickChange={vi.fn()}
        onLoop={vi.fn()}
        onAnalysis={onAnalysis}
      />,
    );
  }

  it('sends a chord edited in the lane as a correction and shows the answer', async () => {
    const { api, calls } = server();
    const onAnalysis = vi.fn();
    panel(api, analysis, onAnalysis);
    fireEvent.click(screen.getByRole('button', { name: 'G7 at 0:04, edit' }));
    const editor = screen.getByRole('form', { name: 'Edit the chord at 0:04' });
    fireEvent.change(within(editor).getByLabelText('Root'), { target: { value: '9' } });
    fireEvent.change(within(editor).getByLabelText('Chord'), { target: { value: 'min7' } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onAnalysis).toHaveBeenCalledTimes(1));
    expect(calls).toEqual([
      {
        method: 'PUT',
        url: '/api/songs/s1/analysis/corrections',
        body: { ...NO_CORRECTIONS, chords: [{ start: 4, end: 6, label: 'A:min7' }] },
      },
    ]);
  });

  it('halves the tempo and sets the time signature through corrections', async () => {
    const { api, calls } = server();
    panel(api, analysis);
    fireEvent.click(screen.getByRole('button', { name: '½ tempo' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.body).toEqual({ ...NO_CORRECTIONS, tempo_factor: 0.5 });
    fireEvent.change(screen.getByLabelText('Time signature'), { target: { value: '3/4' } });
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]?.body).toEqual({ ...NO_CORRECTIONS, time_signature: '3/4' });
  });

  it('says when there is no steady beat: no click, no count-in, chords still shown', () => {
    const { api } = server();
    panel(api, { ...analysis, steady_beat: false, beats: [], downbeats: [], message: 'no steady beat found' });
    expect(screen.getByTestId('no-beat').textContent).toContain('No steady beat found');
    expect(screen.getByLabelText<HTMLSelectElement>('Count-in').disabled).toBe(true);
    expect(screen.getByRole('checkbox', { name: 'Click' })).toHaveProperty('disabled', true);
    expect(screen.queryByRole('form', { name: 'Loop bars' })).toBeNull();
    expect(currentChord().textContent).toBe('C#m');
  });
});
