/**
 * Which stems a job makes, from what the server says (`jobStems`), and a running job's song asking
 * for only those: the job's stems, its engine's, or (engine not said yet) the job read once.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../src/api/client';
import { STEM_ORDER, jobStems, type Job } from '../src/api/types';
import { ProgressiveJob } from '../src/hooks/progressiveJob';
import { FakeAudioBuffer } from './fakeWebAudio';
import { makeSong } from './songs';

const FOUR = ['vocals', 'drums', 'bass', 'other'];

describe('jobStems', () => {
  it('the stems asked for win', () => {
    expect(jobStems({ stems: ['drums', 'vocals'], engine_used: 'demucs', model_used: 'htdemucs_6s' })).toEqual(['drums', 'vocals']);
  });

  it('else the engine and model the worker chose', () => {
    expect(jobStems({ stems: null, engine_used: 'dsp', model_used: 'dsp-v6' })).toEqual(FOUR);
    expect(jobStems({ stems: [], engine_used: 'spleeter', model_used: '4stems-v1+dsp-v6' })).toEqual(FOUR);
    expect(jobStems({ engine_used: 'spleeter', model_used: '4stems' })).toEqual(FOUR);
    expect(jobStems({ engine_used: 'spleeter', model_used: '2stems-v1' })).toEqual(['vocals', 'accompaniment']);
    for (const model of ['htdemucs', 'htdemucs_ft']) expect(jobStems({ engine_used: 'demucs', model_used: model })).toEqual(FOUR);
    expect(jobStems({ engine_used: 'demucs', model_used: 'htdemucs_6s' })).toEqual(STEM_ORDER);
  });

  it('null when nothing is known', () => {
    expect(jobStems({})).toBeNull();
    expect(jobStems({ stems: null, engine_used: null, model_used: null })).toBeNull();
    expect(jobStems({ engine_used: 'demucs', model_used: 'some_new_model' })).toBeNull();
    expect(jobStems({ engine_used: 'spleeter', model_used: null })).toBeNull();
    expect(jobStems({ engine_used: 'auto' })).toBeNull();
  });
});

describe('ProgressiveJob asks only for the stems the job makes', () => {
  const song = { ...makeSong('s1', []), duration: 60 };
  const queued: Job = { id: 'j1', song_id: 's1', state: 'queued', progress: 0, stage: 'queued', eta_seconds: null, error: null, stems: null, engine_used: null };
  const running = (over: Partial<Job> = {}): Job => ({ ...queued, state: 'running', ready_seconds: 4, ...over });

  function setup(getJob: () => Promise<Job>) {
    const asked: string[] = [];
    const api = {
      getJob: vi.fn(getJob),
      // What a 4-stem engine has: any other stem is a 404 (null).
      stemRange: vi.fn(async (_id: string, stem: string, start: number, end: number) => {
        asked.push(stem);
        return FOUR.includes(stem) ? new Float64Array([end - start]).buffer : null;
      }),
    };
    const onUpdate = vi.fn();
    const job = new ProgressiveJob(
      queued,
      song,
      {
        api: api as unknown as ApiClient,
        decode: async (bytes) => new FakeAudioBuffer(new Float64Array(bytes)[0]!, 48000) as unknown as AudioBuffer,
        createBuffer: (channels, length, rate) => new FakeAudioBuffer(length / rate, rate, channels) as unknown as AudioBuffer,
        onUpdate,
      },
      new AbortController().signal,
    );
    return { job, api, asked, onUpdate };
  }

  it("uses the engine a running job's state names", async () => {
    const { job, api, asked, onUpdate } = setup(async () => running());
    job.update(running({ engine_used: 'dsp' }));
    await vi.waitFor(() => expect(onUpdate).toHaveBeenCalled());
    expect(asked.sort()).toEqual([...FOUR].sort());
    expect(api.getJob).not.toHaveBeenCalled();
    job.stop();
  });

  it('reads the job once when its state does not say (progress events carry no engine)', async () => {
    const { job, api, asked, onUpdate } = setup(async () => running({ engine_used: 'spleeter', model_used: '4stems-v1+dsp-v6' }));
    job.update(running());
    job.update(running({ ready_seconds: 5 }));
    await vi.waitFor(() => expect(onUpdate).toHaveBeenCalled());
    expect(api.getJob).toHaveBeenCalledTimes(1);
    expect(asked.sort()).toEqual([...FOUR].sort());
    job.stop();
  });

  it('tries every candidate when the server does not say at all', async () => {
    const { job, api, asked, onUpdate } = setup(async () => {
      throw new Error('offline');
    });
    job.update(running());
    await vi.waitFor(() => expect(onUpdate).toHaveBeenCalled());
    expect(api.getJob).toHaveBeenCalledTimes(1);
    expect(asked.sort()).toEqual([...STEM_ORDER].sort());
    const [, stems] = onUpdate.mock.calls[0] as [unknown, { name: string }[]];
    expect(stems.map((s) => s.name)).toEqual(FOUR); // the 404s dropped
    job.stop();
  });
});
