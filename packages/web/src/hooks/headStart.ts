/**
 * A separated song sounds before its full stems are in: the first HEAD_SECONDS of every stem are
 * fetched as WAV ranges (small, and quick to decode) and the player opens the song from them as a
 * song still loading; the full stems then take its place in the engine (the same clock and
 * position; playback that reached the end of the head waits there and plays on by itself).
 * Not yet in this browser, the full FLAC stems are fetched after the head (alone: neither slows
 * the other down on the network or the cores); held in IndexedDB, they are decoded at once and, for
 * a long song (whose whole stems take a while to decode), the head plays if it comes first (an
 * unreachable server never holds them up). A head is never cached: only full stems go to IndexedDB.
 *
 *   await beginHead({ api, decode, isHeld, show }, song, names, signal); // then fetch the full stems
 */
import type { ApiClient } from '../api/client';
import type { Song } from '../api/types';
import type { StemAsset } from './stemProcessorTypes';

/** Whole seconds (a whole number of frames at any context rate, as in progressiveStems.ts). */
export const HEAD_SECONDS = 8;
/** A song shorter than this opens whole: its full stems come about as fast as a head would. */
export const HEAD_MIN_SONG_SECONDS = 20;
/**
 * Held in IndexedDB, a song shorter than this opens whole: decoding its stems takes about as long
 * as fetching a head (60 s: both about half a second here), and the head would compete with it.
 */
export const HEAD_MIN_HELD_SONG_SECONDS = 120;

/** Whether a head start is worth it for `song` (`held`: all its stems are in IndexedDB). */
export function wantsHead(song: Song, held: boolean): boolean {
  return song.duration >= (held ? HEAD_MIN_HELD_SONG_SECONDS : HEAD_MIN_SONG_SECONDS);
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
 * Start the head start of `song`; resolves when its full stems should be fetched: after the head
 * when they are not in this browser, at once when they are (the head then shows if it comes first).
 */
export async function beginHead({ api, decode, isHeld, show }: HeadStartDeps, song: Song, names: readonly string[], signal: AbortSignal): Promise<void> {
  const held = (await Promise.all(names.map(isHeld))).every(Boolean);
  if (!wantsHead(song, held)) return;
  const head = fetchHeads(api, decode, song, names, signal).then((heads) => {
    if (heads && !signal.aborted) show(heads);
  });
  if (!held) await head;
}
