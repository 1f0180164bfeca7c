/**
 * The running job's song, playable before the job is done: a ProgressiveStems fed by the job's
 * progress (`update(job)`, from the socket or the poll), for the song the job separates. The
 * segments are fetched straight from the server (`Cache-Control: no-store`), never through the
 * stem cache: only finished stems go to IndexedDB.
 */
import type { ApiClient } from '../api/client';
import type { Job, Song } from '../api/types';
import { STEM_ORDER } from '../api/types';
import { ProgressiveStems } from '../audio/progressiveStems';
import type { StemAsset } from './stemProcessorTypes';

export interface ProgressiveJobDeps {
  api: ApiClient;
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>;
  createBuffer: (channels: number, length: number, sampleRate: number) => AudioBuffer;
  /** The grown stems of `song`, holding its first `seconds` (`first`: the first time). */
  onUpdate: (song: Song, stems: StemAsset[], seconds: number, first: boolean) => void;
}

export class ProgressiveJob {
  private stems: ProgressiveStems | null = null;
  private ready = 0;
  private stopped = false;
  /** Whether any stems were handed on (the player shows the song). */
  shown = false;

  constructor(
    private readonly job: Job,
    song: Song | null,
    private readonly deps: ProgressiveJobDeps,
    signal: AbortSignal,
  ) {
    if (song) this.begin(song);
    else {
      // Resumed after a reload: the song's length is needed first.
      deps.api.getSong(job.song_id, signal).then(
        (s) => this.begin(s),
        () => this.stop(),
      );
    }
  }

  /** A new state of the job: fetch what became ready. */
  update(job: Job): void {
    if (job.id !== this.job.id || job.state !== 'running') return;
    this.ready = Math.max(this.ready, job.ready_seconds ?? 0);
    this.stems?.update(this.ready);
  }

  stop(): void {
    this.stopped = true;
    this.stems?.stop();
  }

  private begin(song: Song): void {
    if (this.stopped || !(song.duration > 0)) return;
    const { api, decode, createBuffer, onUpdate } = this.deps;
    // The job names its stems when they were asked for; otherwise every candidate is tried once.
    const names = this.job.stems?.length ? this.job.stems : STEM_ORDER;
    this.stems = new ProgressiveStems(names, song.duration, {
      fetchRange: (stem, segment, signal) => api.stemRange(song.id, stem, segment.start, segment.end, signal),
      decode,
      ctx: { createBuffer },
      onUpdate: (stems, seconds) => {
        if (this.stopped) return;
        const first = !this.shown;
        this.shown = true;
        const assets = stems.map(({ name, buffer }): StemAsset => ({ name, buffer, format: 'wav', contentType: 'audio/wav', source: 'network' }));
        onUpdate(song, assets, seconds, first);
      },
    });
    if (this.ready > 0) this.stems.update(this.ready);
  }
}
