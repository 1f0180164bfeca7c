import { afterEach, describe, expect, it, vi } from 'vitest';
import { extensionOf, saveFile } from '../src/services/download';
import { liveObjectUrls } from './setup';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('saveFile', () => {
  it('clicks a download link and revokes its object URL right after', () => {
    const clicks: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download });
      expect(liveObjectUrls.has(this.href)).toBe(true); // alive while the click is dispatched
    });
    saveFile(new Blob(['x'], { type: 'audio/flac' }), 'Song - bass.flac');
    expect(clicks).toHaveLength(1);
    expect(clicks[0]?.href).toMatch(/^blob:/);
    expect(clicks[0]?.download).toBe('Song - bass.flac');
    expect(liveObjectUrls.size).toBe(0);
    expect(document.querySelectorAll('a').length).toBe(0);
  });

  it('revokes the URL even when the click throws', () => {
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {
      throw new Error('blocked');
    });
    expect(() => saveFile(new Blob(['x']), 'a.wav')).toThrow('blocked');
    expect(liveObjectUrls.size).toBe(0);
  });

  it('names files by MIME type', () => {
    expect(extensionOf('audio/flac')).toBe('flac');
    expect(extensionOf('audio/mpeg')).toBe('mp3');
    expect(extensionOf('audio/ogg')).toBe('opus');
    expect(extensionOf('audio/wav')).toBe('wav');
  });
});
