import 'fake-indexeddb/auto';
import { Blob as NodeBlob } from 'node:buffer';
import { afterEach } from 'vitest';

// Browsers store a Blob in IndexedDB as it is; jsdom's cannot be structured-cloned (fake-indexeddb
// would keep a plain object), Node's can: the tests use Node's, as Response.blob() does here.
globalThis.Blob = NodeBlob as unknown as typeof Blob;

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

// jsdom has <dialog> but not its methods: open and close it the way a browser does.
if (!HTMLDialogElement.prototype.showModal) {
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    if (!this.hasAttribute('open')) return;
    this.removeAttribute('open');
    this.dispatchEvent(new Event('close'));
  };
}
