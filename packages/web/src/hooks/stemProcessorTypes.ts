/**
 * The shapes of the upload → job → stems lifecycle (`useStemProcessor`): its phases, its state,
 * the stems it hands the player and what it needs from the page.
 */
import type { ApiClient } from '../api/client';
import type { AudioFormat, Job, Song } from '../api/types';
import type { CacheSource, StemCache } from '../services/cacheManager';
import type { HashOptions } from '../services/hashing';
import type { JobEventsSocket } from '../services/websocket';

export type Phase =
  | 'idle'
  | 'hashing'
  | 'uploading'
  | 'queued'
  | 'separating'
  | 'loading'
  | 'ready'
  | 'failed'
  | 'cancelled';

export interface StemAsset {
  name: string;
  /** The decoded audio: the only copy of the stem the page keeps. */
  buffer: AudioBuffer;
  /** The file format it was fetched in (and is cached in, for downloads). */
  format: AudioFormat;
  contentType: string;
  source: CacheSource;
}

export interface PartialSong {
  readySeconds: number;
  totalSeconds: number;
  loading?: boolean;
}

export interface ProcessorState {
  phase: Phase;
  fileName: string | null;
  /** The song being worked on (uploaded, separated or loaded). */
  song: Song | null;
  /** The song open in the player, whose stems are `stems`. */
  openSong: Song | null;
  job: Job | null;
  /** 0..1 within the current phase. */
  progress: number;
  stage: string | null;
  etaSeconds: number | null;
  stems: StemAsset[];
  /**
   * The stems are the ready part of a song still being separated, or (`loading`) the first seconds
   * of a separated song whose full stems are still downloading; null: they are the full stems.
   */
  progressive: PartialSong | null;
  error: string | null;
}

export interface StemProcessorDeps {
  api: ApiClient;
  cache: StemCache;
  createSocket: () => JobEventsSocket;
  /** Decode one encoded stem (e.g. PlayerEngine.decode); may detach `bytes`. */
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>;
  hashFile?: (file: File, opts: HashOptions) => Promise<string>;
  /** Format the stems are fetched and cached in (default FLAC: lossless, about half a WAV). */
  stemFormat?: AudioFormat;
  /** Ask GET /api/jobs/{id} when the socket says nothing about the job for this long. */
  jobPollMs?: number;
  /** Reopen the saved song / resume the saved job on mount (default true). */
  restore?: boolean;
  /**
   * Buffers for the stems that grow while a job runs (e.g. the engine's AudioContext.createBuffer);
   * without it the song opens only when its job is done.
   */
  createBuffer?: (channels: number, length: number, sampleRate: number) => AudioBuffer;
}

export const BUSY_PHASES: ReadonlySet<Phase> = new Set(['hashing', 'uploading', 'queued', 'separating', 'loading']);

export const INITIAL_STATE: ProcessorState = {
  phase: 'idle',
  fileName: null,
  song: null,
  openSong: null,
  job: null,
  progress: 0,
  stage: null,
  etaSeconds: null,
  stems: [],
  progressive: null,
  error: null,
};
