/** The content hash the page asks the server by: the same SHA-256 read in one go or in slices. */
import { createHash, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../src/services/hashing';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 251);
const expected = createHash('sha256').update(bytes).digest('hex');

describe('sha256File', () => {
  it('reads a song-sized file in one go', async () => {
    const progress: number[] = [];
    expect(await sha256File(new Blob([bytes]), { subtle, onProgress: (p) => progress.push(p) })).toBe(expected);
    expect(progress).toEqual([1]);
  });

  it('reads a larger one in slices, with progress, to the same hash', async () => {
    const progress: number[] = [];
    const hash = await sha256File(new Blob([bytes]), { subtle, oneReadBytes: 50_000, sliceBytes: 30_000, onProgress: (p) => progress.push(p) });
    expect(hash).toBe(expected);
    expect(progress.map((p) => Math.round(p * 100))).toEqual([30, 60, 90, 100]);
  });

  it('stops when cancelled, either way', async () => {
    const signal = AbortSignal.abort();
    await expect(sha256File(new Blob([bytes]), { subtle, signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sha256File(new Blob([bytes]), { subtle, signal, oneReadBytes: 10 })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
