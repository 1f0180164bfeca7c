/**
 * Playing a setlist through: each song opens like any other (its saved workspace is restored by
 * the player before the first sound) and is asked to start once it is ready; with auto-advance
 * on, the song's end (the engine's `ended`, which a loop never reaches) opens the next one.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Setlist } from '../../api/setlists';
import type { PlayerEngine } from '../../audio/engine';

export interface SetlistRun {
  setlist: Setlist;
  /** The entry playing now (from 0). */
  index: number;
}

/** The player starts this song once it is loaded and its workspace applied; `token` makes each request new. */
export interface AutoPlayRequest {
  songId: string;
  token: number;
}

export function useSetlistPlayback(engine: PlayerEngine | null, openSong: (songId: string) => Promise<boolean>, openSongId: string | null) {
  const [run, setRun] = useState<SetlistRun | null>(null);
  const [autoAdvance, setAutoAdvance] = useState(true);
  const [autoPlay, setAutoPlay] = useState<AutoPlayRequest | null>(null);
  const tokens = useRef(0);
  const latest = useRef({ run, autoAdvance, openSongId });
  latest.current = { run, autoAdvance, openSongId };

  /** Open entry `index` of `setlist` and have it start when ready. */
  const start = useCallback(
    (setlist: Setlist, index = 0) => {
      const entry = setlist.songs[index];
      if (!entry) return;
      tokens.current += 1;
      setRun({ setlist, index });
      setAutoPlay({ songId: entry.song_id, token: tokens.current });
      void openSong(entry.song_id);
    },
    [openSong],
  );

  const step = useCallback(
    (by: 1 | -1) => {
      const current = latest.current.run;
      if (current && current.setlist.songs[current.index + by]) start(current.setlist, current.index + by);
    },
    [start],
  );

  const stop = useCallback(() => {
    setRun(null);
    setAutoPlay(null);
  }, []);

  useEffect(() => {
    if (!engine) return;
    return engine.on('ended', () => {
      const { run: current, autoAdvance: advance, openSongId: open } = latest.current;
      // Only the set's own song moves the set on (not a song opened from the library meanwhile).
      if (!current || !advance || current.setlist.songs[current.index]?.song_id !== open) return;
      step(1);
    });
  }, [engine, step]);

  return { run, start, next: () => step(1), previous: () => step(-1), stop, autoAdvance, setAutoAdvance, autoPlay };
}

export type SetlistPlayback = ReturnType<typeof useSetlistPlayback>;
