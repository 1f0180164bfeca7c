/**
 * Hands a file to the browser's download manager. The object URL lives only for the click:
 * it is revoked right after, so no file stays pinned in memory by a link.
 */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // The download took its reference to the blob when the click was dispatched.
    URL.revokeObjectURL(url);
  }
}

/** File extension for an audio MIME type. */
export function extensionOf(mime: string): string {
  if (mime.includes('flac')) return 'flac';
  if (mime.includes('mpeg')) return 'mp3';
  if (mime.includes('ogg') || mime.includes('opus')) return 'opus';
  return 'wav';
}
