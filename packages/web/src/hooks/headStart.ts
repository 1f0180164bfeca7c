/**
 * A separated song not yet in this browser sounds before its full stems are in: the first
 * HEAD_SECONDS of every stem are fetched as WAV ranges (small, and quick to decode) and the player
 * opens the song from them as a song still loading; the full stems, fetched after the head (alone:
 * neither slows the other down on the network or the cores), then take its place in the engine
 * (the same clock and position; playback that reached the end of the head waits there and plays
 * on by itself). A song held in IndexedDB needs no network head: it opens from the first part of
 * its own cached files (`stemLoad.ts`). A head is never cached: only full stems go to IndexedDB.
 *
 *   const held = await beginHead({ api, decode, isHeld, show }, song, names, signal); // then the full stems
 */
import type { ApiClient } from '../api/client';
import type { Song } from '../api/types';
import type { StemAsset } from './stemProcessorTypes';

/** Whole seconds (a whole number of frames at any context rate, as in progressiveStems.ts). */
export const HEAD_SECONDS = 8;
/** A song shorter than this opens whole: its full stems come about as fast as a head would. */
export const HEAD_MIN_SONG_SECONDS = 20;

/** Whether a head start is worth it for `song`. */
export function wantsHead(song: Song): boolean {
  return song.duration >= HEAD_MIN_SONG_SECONDS;
}

/**
 * The first HEAD_SECONDS of every stem of `song`, decoded; null when any is missing or fails
 * (the song then opens when its full stems are in, as without a head start).
 */
export async function fetchHeads(
  api: Pick<ApiClient, 'stemRange'>,
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>,
  song: Song,
  names: readonly string[],
  signal: AbortSignal,
): Promise<StemAsset[] | null> {
  try {
    return await Promise.all(
      names.map(async (name): Promise<StemAsset> => {
        const bytes = await api.stemRange(song.id, name, 0, HEAD_SECONDS, signal);
        if (!bytes) throw new Error(`no ${name} stem`);
        const buffer = await decode(bytes);
        return { name, buffer, format: 'wav', contentType: 'audio/wav', source: 'network' };
      }),
    );
  } catch {
    return null; // an older server, a stem gone meanwhile, the load cancelled: the full stems still come
  }
}

export interface HeadStartDeps {
  api: Pick<ApiClient, 'stemRange'>;
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>;
  /** Whether stem `name` is in IndexedDB already. */
  isHeld: (name: string) => Promise<boolean>;
  /** Hands the decoded heads on (not called when they come too late, fail, or are not wanted). */
  show: (heads: StemAsset[]) => void;
}

/**
 * Start the head start of `song` when its stems are not all in this browser, and resolve once its
 * full stems should be fetched (after the head). Resolves to whether they are all held (then no
 * network head is asked for: the caller opens the song from its cached files).
 */
export async function beginHead({ api, decode, isHeld, show }: HeadStartDeps, song: Song, names: readonly string[], signal: AbortSignal): Promise<boolean> {
  const held = (await Promise.all(names.map(isHeld))).every(Boolean);
  if (held || !wantsHead(song)) return held;
  const heads = await fetchHeads(api, decode, song, names, signal);
  if (heads && !signal.aborted) show(heads);
  return false;
}
