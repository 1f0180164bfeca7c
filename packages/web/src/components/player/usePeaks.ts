import { useEffect, useMemo, useRef, useState } from 'react';
import { peaksOf, type ReadyPeaks } from '../../audio/progressiveStems';
import type { Peaks, Song } from '../../api/types';
import type { AppServices } from '../../services/appServices';

export const PEAK_POINTS = 1200;

/** Waveform peaks of every stem, through the cache (so they draw offline too). */
export function usePeaks(services: AppServices, song: Song | null, stems: readonly string[]) {
  const [peaks, setPeaks] = useState<Record<string, Peaks>>({});
  const key = song ? `${song.id}:${stems.join(',')}` : '';
  useEffect(() => {
    setPeaks({});
    if (!song || stems.length === 0) return;
    const abort = new AbortController();
    for (const stem of stems) {
      const url = services.api.peaksUrl(song.id, stem, PEAK_POINTS);
      services.cache
        .get(`peaks:${song.id}:${stem}:${PEAK_POINTS}`, url, { signal: abort.signal })
        .then(({ bytes }) => JSON.parse(new TextDecoder().decode(bytes)) as Peaks)
        .then((p) => {
          if (!abort.signal.aborted) setPeaks((all) => ({ ...all, [stem]: p }));
        })
        .catch(() => {
          // No waveform is not fatal: the stem still plays.
        });
    }
    return () => abort.abort();
    // `key` captures song and stems.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, services]);
  return peaks;
}

/**
 * Peaks of stems still being separated, from their decoded ready part, over the whole song (null:
 * none). Each update computes only what the stems grew by.
 */
export function useReadyPeaks(stems: readonly { name: string; buffer: AudioBuffer }[] | null, totalSeconds: number): Record<string, Peaks> | null {
  const earlier = useRef(new Map<string, ReadyPeaks>());
  return useMemo(() => {
    if (!stems) {
      earlier.current = new Map();
      return null;
    }
    const out: Record<string, Peaks> = {};
    const next = new Map<string, ReadyPeaks>();
    for (const { name, buffer } of stems) {
      const peaks = peaksOf(buffer, totalSeconds, PEAK_POINTS, earlier.current.get(name));
      next.set(name, peaks);
      out[name] = { stem: name, points: PEAK_POINTS, duration: totalSeconds, min: peaks.min, max: peaks.max };
    }
    earlier.current = next;
    return out;
  }, [stems, totalSeconds]);
}
