/**
 * The running job's song, playable before the job is done: a ProgressiveStems fed by the job's
 * progress (`update(job)`, from the socket or the poll), for the song the job separates. The
 * segments are fetched straight from the server (`Cache-Control: no-store`), never through the
 * stem cache: only finished stems go to IndexedDB. Only the stems the job makes are asked for:
 * the server says which (`jobStems`: the job's stems, or its engine's) once the job runs.
 */
import type { ApiClient } from '../api/client';
import type { Job, Song } from '../api/types';
import { STEM_ORDER, jobStems } from '../api/types';
import { ProgressiveStems } from '../audio/progressiveStems';
import { mark } from '../services/perf';
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
  private song: Song | null = null;
  /** The stems the job makes, once the server has said (the job as started, its later states). */
  private names: string[] | null;
  /** GET /api/jobs/{id} for them, when nothing else said (the socket's progress events do not carry the engine). */
  private asked: 'no' | 'asking' | 'answered' = 'no';
  private ready = 0;
  private stopped = false;
  /** Whether any stems were handed on (the player shows the song). */
  shown = false;

  constructor(
    private readonly job: Job,
    song: Song | null,
    private readonly deps: ProgressiveJobDeps,
    private readonly signal: AbortSignal,
  ) {
    this.names = jobStems(job);
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
    this.names ??= jobStems(job);
    if (this.ready <= 0 && (job.ready_seconds ?? 0) > 0) mark('first-ready');
    this.ready = Math.max(this.ready, job.ready_seconds ?? 0);
    this.feed();
  }

  stop(): void {
    this.stopped = true;
    this.stems?.stop();
  }

  private begin(song: Song): void {
    if (this.stopped || !(song.duration > 0)) return;
    this.song = song;
    this.feed();
  }

  /** Once the song is known and some of it is ready: the stems the job makes, grown as more is. */
  private feed(): void {
    const song = this.song;
    if (this.stopped || !song || this.ready <= 0) return;
    if (this.stems) return this.stems.update(this.ready);
    if (!this.names && this.asked !== 'answered') return this.askForStems();
    const { api, decode, createBuffer, onUpdate } = this.deps;
    // Nothing known (an older server, a model this page does not know): every candidate is tried once.
    this.stems = new ProgressiveStems(this.names ?? STEM_ORDER, song.duration, {
      fetchRange: (stem, segment, signal) => api.stemRange(song.id, stem, segment.start, segment.end, signal),
      decode,
      ctx: { createBuffer },
      onUpdate: (stems, seconds) => {
        if (this.stopped) return;
        const first = !this.shown;
        if (first) mark('first-segments');
        this.shown = true;
        const assets = stems.map(({ name, buffer }): StemAsset => ({ name, buffer, format: 'wav', contentType: 'audio/wav', source: 'network' }));
        onUpdate(song, assets, seconds, first);
      },
    });
    this.stems.update(this.ready);
  }

  /** A running job's engine is chosen (and recorded) before any of it is ready: ask the server, once. */
  private askForStems(): void {
    if (this.asked !== 'no') return;
    this.asked = 'asking';
    void this.deps.api
      .getJob(this.job.id, this.signal)
      .then(
        (job) => {
          this.names ??= jobStems(job);
        },
        () => {},
      )
      .finally(() => {
        this.asked = 'answered';
        this.feed();
      });
  }
}
