import 'fake-indexeddb/auto';
import { afterEach } from 'vitest';

/** Object URLs alive right now; jsdom has no createObjectURL, so we count our own. */
export const liveObjectUrls = new Set<string>();
let nextUrl = 0;

Object.defineProperty(URL, 'createObjectURL', {
  configurable: true,
  value: (_obj: Blob) => {
    const url = `blob:test/${++nextUrl}`;
    liveObjectUrls.add(url);
    return url;
  },
});
Object.defineProperty(URL, 'revokeObjectURL', {
  configurable: true,
  value: (url: string) => {
    liveObjectUrls.delete(url);
  },
});

afterEach(() => {
  liveObjectUrls.clear();
  localStorage.clear();
});
