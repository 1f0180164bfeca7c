/**
 * The full stems of a separated song: each fetched (the cache: memory, IndexedDB, else the
 * network) and decoded as soon as its bytes arrive, all in parallel. The encoded bytes are
 * dropped once decoded (decodeAudioData detaches them): the page keeps one copy, the AudioBuffer.
 *
 * Held in IndexedDB, a song plays from its own first seconds before the whole stems are decoded
 * (`localHead`): the browser decodes a FLAC cut short to the frames it holds, so the first part of
 * each cached file decodes in a fraction of the time of the whole; those heads open the song, and
 * the whole stems, decoded after them, take their place.
 *
 *   const stems = await loadStems(deps, names, signal, { localHead: { duration, show } });
 */
import type { CacheSource, StemCache } from '../services/cacheManager';
import type { AudioFormat } from '../api/types';
import { mark } from '../services/perf';
import { HEAD_SECONDS } from './headStart';
import type { StemAsset } from './stemProcessorTypes';

/** Fewer whole seconds than this decoded from the first part of the files: no head (the whole stems come soon). */
export const MIN_LOCAL_HEAD_SECONDS = 4;
/** The share of a file cut for its head covers this much more than HEAD_SECONDS of average density. */
const PREFIX_MARGIN = 1.5;
/** Room for the FLAC metadata blocks before the first audio frame. */
const PREFIX_HEADER_BYTES = 16 * 1024;
/** A decode cut short may end differently where the browser resamples: this much is left off its end. */
const RESAMPLER_EDGE_SECONDS = 0.05;

export interface StemLoadDeps {
  cache: StemCache;
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>;
  createBuffer: ((channels: number, length: number, sampleRate: number) => AudioBuffer) | undefined;
  format: AudioFormat;
  url: (name: string) => string;
  key: (name: string) => string;
}

export interface LocalHead {
  /** The song's length in seconds (how much of each file to cut). */
  duration: number;
  /** The heads, `seconds` long each (not called when a head fails or comes after the whole stems). */
  show: (heads: StemAsset[], seconds: number) => void;
}

export interface StemLoadOptions {
  /** Every stem is in IndexedDB: open the song from the first part of its files first. */
  localHead?: LocalHead | null;
  /** Called as each stem is decoded (how many of them are). */
  onDecoded?: (count: number) => void;
}

/** Bytes to cut from the start of a FLAC of `byteLength` holding `duration` s for a head. */
export function prefixLength(byteLength: number, duration: number): number {
  const share = ((HEAD_SECONDS + 2) * PREFIX_MARGIN) / Math.max(duration, 1);
  return share >= 1 ? byteLength : Math.min(byteLength, Math.ceil(byteLength * share) + PREFIX_HEADER_BYTES);
}

/** The first whole seconds every one of `buffers` holds (less the resampler's edge), copied; null when too short. */
export function trimHeads(
  buffers: readonly AudioBuffer[],
  createBuffer: (channels: number, length: number, sampleRate: number) => AudioBuffer,
): { buffers: AudioBuffer[]; seconds: number } | null {
  const seconds = Math.floor(Math.min(...buffers.map((b) => b.duration)) - RESAMPLER_EDGE_SECONDS);
  if (!(seconds >= MIN_LOCAL_HEAD_SECONDS)) return null;
  const trimmed = buffers.map((b) => {
    const frames = seconds * b.sampleRate; // whole seconds: a whole number of frames at any rate
    const out = createBuffer(b.numberOfChannels, frames, b.sampleRate);
    for (let c = 0; c < b.numberOfChannels; c++) out.getChannelData(c).set(b.getChannelData(c).subarray(0, frames));
    return out;
  });
  return { buffers: trimmed, seconds };
}

const aborted = () => new DOMException('Cancelled', 'AbortError');

export async function loadStems(deps: StemLoadDeps, names: readonly string[], signal: AbortSignal, options: StemLoadOptions = {}): Promise<StemAsset[]> {
  const { cache, decode, createBuffer, format } = deps;
  const localHead = createBuffer && names.length > 0 ? (options.localHead ?? null) : null;
  // With a local head, the whole stems are decoded once every head is (or has failed): the heads
  // first, so no whole decode holds one up.
  const heads = localHead ? new Map<string, Promise<AudioBuffer | null>>() : null;
  let headsSettled = () => {};
  const headsDone = new Promise<void>((resolve) => (headsSettled = resolve));
  let decoded = 0;

  const showHeads = async (): Promise<void> => {
    if (!heads || !localHead || !createBuffer) return;
    try {
      const buffers = await Promise.all(names.map((name) => heads.get(name)!));
      if (signal.aborted || buffers.some((b) => b === null)) return;
      const cut = trimHeads(buffers as AudioBuffer[], createBuffer);
      if (!cut) return;
      mark('local-head');
      localHead.show(
        names.map((name, i) => ({ name, buffer: cut.buffers[i]!, format, contentType: `audio/${format}`, source: 'idb' })),
        cut.seconds,
      );
    } finally {
      headsSettled();
    }
  };

  /** Held in IndexedDB with a head wanted: its Blob, of which the head reads only the first part. */
  const fromHeld = async (name: string, duration: number): Promise<{ whole: Promise<ArrayBuffer>; contentType: string; source: CacheSource } | null> => {
    const held = await cache.getHeld(deps.key(name));
    if (!held) return null;
    const { blob } = held;
    const prefix = blob.slice(0, prefixLength(blob.size, duration)).arrayBuffer();
    heads!.set(name, prefix.then(decode).catch(() => null));
    // The whole file is read once its first part is (no race for the disk), decoded after the heads;
    // one the browser cannot read back comes through the cache again (which then fetches it).
    const whole = prefix
      .catch(() => null)
      .then(() => blob.arrayBuffer())
      .catch(async () => (await cache.get(deps.key(name), deps.url(name), { signal }, { keepInMemory: false })).bytes);
    return { whole, contentType: held.contentType, source: 'idb' };
  };

  const fetched = async (name: string): Promise<{ whole: Promise<ArrayBuffer>; contentType: string; source: CacheSource }> => {
    // Not kept in the memory tier: once decoded, the AudioBuffer is the only copy.
    const { bytes, contentType, source } = await cache.get(deps.key(name), deps.url(name), { signal }, { keepInMemory: false });
    if (heads && localHead) heads.set(name, decode(bytes.slice(0, prefixLength(bytes.byteLength, localHead.duration))).catch(() => null));
    return { whole: Promise.resolve(bytes), contentType, source };
  };

  const one = async (name: string, onBytes: () => void): Promise<StemAsset> => {
    const got = (heads && localHead ? await fromHeld(name, localHead.duration) : null) ?? (await fetched(name));
    const { contentType, source } = got;
    mark(`stem-bytes:${name}:${source}`);
    if (signal.aborted) throw aborted();
    onBytes();
    if (heads) await headsDone;
    if (signal.aborted) throw aborted();
    const buffer = await decode(await got.whole);
    mark(`decoded:${name}`);
    decoded += 1;
    options.onDecoded?.(decoded);
    return { name, buffer, format, contentType, source };
  };

  let arrived = 0;
  const onBytes = () => {
    arrived += 1;
    if (arrived === names.length) void showHeads();
  };
  try {
    return await Promise.all(names.map((name) => one(name, onBytes)));
  } finally {
    headsSettled(); // a stem that failed before its bytes came leaves no one waiting
  }
}
