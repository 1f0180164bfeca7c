import type { Song } from '../src/api/types';

/** A song row as the server lists it; tests differ only in id and stems. */
export const makeSong = (id = 's1', stems: string[] = ['vocals', 'drums']): Song => ({
  id,
  sha256: 'abc',
  name: `song-${id}`,
  title: `Song ${id}`,
  artist: null,
  original_filename: 'song.wav',
  format: 'wav',
  duration: 3,
  sample_rate: 44100,
  channels: 2,
  size_bytes: 32,
  created_at: 0,
  stems,
});
