import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/api/client';
import type { JobOut, Song } from '../src/api/types';
import { EngineBadge, engineLabel, type ModelsStatus } from '../src/components/library/EngineBadge';
import { makeSong } from './songs';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const job = (over: Partial<JobOut> = {}): JobOut => ({
  id: 'j1',
  song_id: 's1',
  state: 'done',
  progress: 1,
  stage: 'done',
  eta_seconds: null,
  error: null,
  error_code: null,
  engine: 'auto',
  model: 'htdemucs',
  engine_used: 'spleeter',
  model_used: '4stems-v1+dsp-v6',
  stems: null,
  attempts: 1,
  created_at: 0,
  seq: 3,
  ...over,
});

const models = (demucsReady: boolean, fetch: Partial<ModelsStatus['fetch']> = {}): ModelsStatus => ({
  auto_engine: demucsReady ? 'demucs' : 'spleeter',
  default_model: 'htdemucs',
  fetch: { state: demucsReady ? 'done' : 'failed', model: 'htdemucs', fraction: demucsReady ? 1 : 0, message: '', ...fetch },
  models: [
    { engine: 'dsp', model: 'dsp', stems: ['drums', 'bass', 'other', 'vocals'], available: true, about: '' },
    { engine: 'spleeter', model: '4stems', stems: ['drums', 'bass', 'other', 'vocals'], available: true, about: '' },
    { engine: 'demucs', model: 'htdemucs', stems: ['drums', 'bass', 'other', 'vocals'], available: demucsReady, about: '' },
  ],
});

/** /api/models as scripted, and the separations route recording what was asked. */
function server(status: ModelsStatus) {
  const posted: unknown[] = [];
  const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url === '/api/models') return json(status);
    if (url === '/api/songs/s1/separations' && init?.method === 'POST') {
      posted.push(JSON.parse(init.body as string));
      return json(job({ id: 'j2', state: 'queued', engine: 'demucs', engine_used: null, model_used: null }), 202);
    }
    return json({ error: { code: 'not_found', message: 'no such thing' } }, 404);
  });
  return { api: new ApiClient('', fetcher), posted, fetcher };
}

const separatedSong = (stemsJob: JobOut, current: JobOut = stemsJob): Song => ({
  ...makeSong('s1', ['vocals', 'drums', 'bass', 'other']),
  job: current,
  stems_job: stemsJob,
});

afterEach(cleanup);

describe('the engine label', () => {
  it('names what made the stems and how to get studio quality', () => {
    expect(engineLabel('spleeter', '4stems-v1+dsp-v6')).toBe(
      'Separated offline with Spleeter + dsp — run `riffroom models fetch htdemucs` for studio quality',
    );
    expect(engineLabel('dsp', 'dsp-v6')).toContain('the dsp engine');
    expect(engineLabel('demucs', 'htdemucs')).toBe('Separated with Demucs (htdemucs)');
    expect(engineLabel(null, null)).toBeNull();
  });

  it('shows the label on a song separated offline, with no re-run while weights are missing', async () => {
    const { api, fetcher } = server(models(false));
    render(<EngineBadge api={api} song={separatedSong(job())} />);
    expect(await screen.findByText(/Separated offline with Spleeter \+ dsp/)).toBeTruthy();
    await waitFor(() => expect(fetcher).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 20)); // the models answer has been applied
    expect(screen.queryByRole('button', { name: /Separate again/ })).toBeNull();
  });

  it('shows the weights download while it runs', async () => {
    const { api } = server(models(false, { state: 'downloading', fraction: 0.42 }));
    render(<EngineBadge api={api} song={separatedSong(job())} />);
    expect((await screen.findByRole('status')).textContent).toBe('Downloading htdemucs weights: 42 %');
  });
});

describe('separate again', () => {
  it('offers htdemucs once its weights exist and keeps the current stems meanwhile', async () => {
    const { api, posted } = server(models(true));
    const followed: string[] = [];
    render(<EngineBadge api={api} song={separatedSong(job())} onRerun={(j) => followed.push(j.id)} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Separate again with htdemucs' }));
    expect((await screen.findByRole('status')).textContent).toContain('the current stems play until the new ones are ready');
    expect(posted).toEqual([{ engine: 'demucs', model: 'htdemucs' }]);
    expect(followed).toEqual(['j2']);
    expect(screen.queryByRole('button', { name: /Separate again/ })).toBeNull();
    expect(screen.getByText(/Separated offline with Spleeter/)).toBeTruthy();
  });

  it('is not offered for stems Demucs made, nor while a re-run is under way', async () => {
    const { api } = server(models(true));
    const demucs = job({ engine: 'demucs', engine_used: 'demucs', model_used: 'htdemucs' });
    render(<EngineBadge api={api} song={separatedSong(demucs)} />);
    expect(await screen.findByText('Separated with Demucs (htdemucs)')).toBeTruthy();
    cleanup();
    const running = job({ id: 'j2', state: 'running', engine: 'demucs', engine_used: 'demucs', model_used: 'htdemucs' });
    render(<EngineBadge api={api} song={separatedSong(job(), running)} />);
    expect((await screen.findByRole('status')).textContent).toContain('Separating again with htdemucs');
    expect(screen.queryByRole('button', { name: /Separate again/ })).toBeNull();
  });
});
