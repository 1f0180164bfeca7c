/**
 * A separated song that is not in this browser's cache sounds before its full stems have come:
 * the first HEAD_SECONDS of every stem are fetched as WAV ranges (small, and quick to decode) while
 * the full FLAC stems download, and the player opens the song from them as a song still loading.
 * The full stems then take its place in the engine (the same clock and position; playback that
 * reached the end of the head waits there and plays on by itself). A head is never cached: only
 * full stems go to IndexedDB.
 *
 *   const heads = await fetchHeads(api, decode, song, names, signal); // null: open it whole
 */
import type { ApiClient } from '../api/client';
import type { Song } from '../api/types';
import type { StemAsset } from './stemProcessorTypes';

/** Whole seconds (a whole number of frames at any context rate, as in progressiveStems.ts). */
export const HEAD_SECONDS = 8;
/** A song shorter than this opens whole: its full stems come about as fast as a head would. */
export const HEAD_MIN_SONG_SECONDS = 20;

/** Whether a head start is worth it for `song` (none of its stems is held locally: `cached`). */
export function wantsHead(song: Song, cached: boolean): boolean {
  return !cached && song.duration >= HEAD_MIN_SONG_SECONDS;
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
