/**
 * Which engine made the stems being played, the server's weights download, and "separate again"
 * once a better engine's weights are there. The stems playing are those of the song's last
 * finished separation (`stems_job`); they stay until a re-run's own are published.
 */
import { useCallback, useEffect, useState } from 'react';
import { apiPath, type ApiClient } from '../../api/client';
import { describeError } from '../../api/errors';
import type { components } from '../../api/schema';
import type { Job, Song } from '../../api/types';

export type ModelsStatus = components['schemas']['ModelsOut'];

const POLL_MS = 2000;
const ACTIVE = new Set(['queued', 'running']);

/** The sentence shown under the song: what made its stems, and how to do better when there is. */
export function engineLabel(engine: string | null | undefined, model: string | null | undefined, best = 'htdemucs'): string | null {
  const fetchHint = `run \`riffroom models fetch ${best}\` for studio quality`;
  if (engine === 'demucs') return `Separated with Demucs (${model ?? best})`;
  if (engine === 'spleeter') {
    const what = model?.startsWith('2stems') ? 'Spleeter' : 'Spleeter + dsp';
    return `Separated offline with ${what} — ${fetchHint}`;
  }
  if (engine === 'dsp') return `Separated offline with the dsp engine — ${fetchHint}`;
  return null;
}

async function loadModels(api: ApiClient, signal: AbortSignal): Promise<ModelsStatus | null> {
  const response = await api.fetch(api.url(apiPath('/api/models', {})), { signal, headers: { Accept: 'application/json' } });
  return response.ok ? ((await response.json()) as ModelsStatus) : null;
}

interface EngineBadgeProps {
  api: ApiClient;
  song: Song;
  /** Called with the re-run's job, so the caller can follow it and reload the song when done. */
  onRerun?: (job: Job) => void;
}

export function EngineBadge({ api, song, onRerun }: EngineBadgeProps) {
  const [models, setModels] = useState<ModelsStatus | null>(null);
  const [started, setStarted] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const downloading = models?.fetch.state === 'downloading';

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await loadModels(api, abort.signal);
        setModels(next);
        if (next?.fetch.state === 'downloading') timer = setTimeout(() => void poll(), POLL_MS);
      } catch {
        // offline or aborted: the label still shows what made the stems
      }
    };
    void poll();
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, song.id]);

  const best = models?.default_model ?? 'htdemucs';
  const made = song.stems_job ?? null;
  const label = engineLabel(made?.engine_used, made?.model_used, best);
  const bestReady = models?.models.some((m) => m.engine === 'demucs' && m.model === best && m.available) ?? false;
  const rerunning = started ?? (song.job && ACTIVE.has(song.job.state) && song.job.engine === 'demucs' ? song.job : null);
  const canRerun = bestReady && made !== null && made.engine_used !== 'demucs' && !rerunning && !(song.job && ACTIVE.has(song.job.state));

  const rerun = useCallback(async () => {
    setError(null);
    try {
      const job = await api.startSeparation(song.id, { engine: 'demucs', model: best });
      setStarted(job);
      onRerun?.(job);
    } catch (err) {
      setError(describeError(err));
    }
  }, [api, song.id, best, onRerun]);

  if (!label && !downloading) return null;
  return (
    <div className="engine-badge" data-testid="engine-badge">
      {label && <p className="muted">{label}</p>}
      {downloading && models && (
        <p className="muted" role="status">
          Downloading {models.fetch.model} weights: {Math.round(models.fetch.fraction * 100)} %
        </p>
      )}
      {rerunning && (
        <p className="muted" role="status">
          Separating again with {best}; the current stems play until the new ones are ready.
        </p>
      )}
      {canRerun && (
        <button type="button" className="btn small" onClick={() => void rerun()}>
          Separate again with {best}
        </button>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
