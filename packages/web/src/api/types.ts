/** Names the app uses for the server's schema types (see schema.d.ts, generated). */
import type { components } from './schema';

type Schemas = components['schemas'];

/** A job as the server sends it (GET /api/jobs/{id}, and in snapshot and final frames). */
export type JobOut = Schemas['JobOut'];
type JobCore = 'id' | 'song_id' | 'state' | 'progress' | 'stage' | 'eta_seconds' | 'error';
/** The job fields every client can count on; the rest may be absent (e.g. a job built from events). */
export type Job = Pick<JobOut, JobCore> & Partial<Omit<JobOut, JobCore>>;
export type JobState = Job['state'];
export type Song = Schemas['SongOut'];
export type Peaks = Schemas['PeaksOut'];
export type SeparationRequest = Schemas['SeparationRequest'];
export type SongList = Schemas['SongList'];
export type MixRequest = Schemas['MixRequest'];
export type AudioFormat = NonNullable<MixRequest['format']>;
/** GET /api/auth/me and POST /api/auth/login: whether login is required, and who is logged in. */
export type Me = Schemas['MeOut'];
export type User = Schemas['UserOut'];
export type LoginRequest = Schemas['LoginRequest'];
/** An API token for scripts; `token` is present only in the answer that creates it. */
export type ApiToken = Schemas['TokenOut'];
export type TokenList = Schemas['TokenList'];
export type TokenRequest = Schemas['TokenRequest'];

export const FINAL_STATES: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);
export const isFinal = (state: JobState): boolean => FINAL_STATES.has(state);

/** WebSocket /api/ws frames: the server's models (api/ws_messages.py), published in its OpenAPI schema. */
export type ServerMessage = Schemas['ServerMessage'];
export type ClientMessage = Schemas['ClientMessage'];
/** The one event that ends a job's stream on a connection. */
export type FinalMessage = Schemas['DoneMessage'] | Schemas['FailedMessage'] | Schemas['CancelledMessage'];
export type FinalType = FinalMessage['type'];
export type ProgressMessage = Schemas['ProgressMessage'];
export type SnapshotMessage = Schemas['SnapshotMessage'];
/** `{"type": "error", "code", "message"}`, with `job_id` when the error is about one job. */
export type ErrorMessage = Schemas['ErrorMessage'];

/** Stem names a song has, in a stable display order. */
export const STEM_ORDER = ['vocals', 'drums', 'bass', 'guitar', 'piano', 'other'];
export function songStems(song: Song): string[] {
  const raw = (song as { stems?: unknown }).stems;
  const names = Array.isArray(raw) ? raw.map(String) : raw && typeof raw === 'object' ? Object.keys(raw) : [];
  const rank = (s: string) => (STEM_ORDER.indexOf(s) + STEM_ORDER.length + 1) % (STEM_ORDER.length + 1);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const FOUR_STEMS = ['vocals', 'drums', 'bass', 'other'];
/** Demucs models that make FOUR_STEMS (`htdemucs_6s` adds guitar and piano). */
const DEMUCS_FOUR = new Set(['htdemucs', 'htdemucs_ft', 'demucs_unittest']);

/**
 * The stems a job makes, as far as the server says: those asked for (`stems`), else those of the
 * engine and model its worker chose (`engine_used`/`model_used`: 4 for dsp, spleeter `4stems` and
 * the 4-stem demucs models, 6 for `htdemucs_6s`, vocals and accompaniment for spleeter `2stems`);
 * null when it does not say (not chosen yet, or a model this page does not know).
 */
export function jobStems(job: Pick<Job, 'stems' | 'engine_used' | 'model_used'>): string[] | null {
  if (job.stems?.length) return [...job.stems];
  const model = job.model_used?.split('-')[0] ?? null; // spleeter's are versioned: "4stems-v1+dsp-v6"
  switch (job.engine_used) {
    case 'dsp':
      return [...FOUR_STEMS];
    case 'spleeter':
      return model === '2stems' ? ['vocals', 'accompaniment'] : model === '4stems' ? [...FOUR_STEMS] : null;
    case 'demucs':
      return model === 'htdemucs_6s' ? [...STEM_ORDER] : model !== null && DEMUCS_FOUR.has(model) ? [...FOUR_STEMS] : null;
    default:
      return null;
  }
}

export function songTitle(song: Pick<Song, 'title' | 'name' | 'original_filename'>): string {
  return song.title || song.name || song.original_filename || 'Untitled';
}
