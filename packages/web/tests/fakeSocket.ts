import type { WebSocketLike } from '../src/services/websocket';

/** A scriptable WebSocket; `FakeSocket.open` counts sockets not yet closed. */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  static get open(): number {
    return FakeSocket.all.filter((s) => s.readyState !== 3).length;
  }
  static reset(): void {
    FakeSocket.all = [];
  }

  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  // -- server side --
  accept(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  serverSend(msg: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(msg) }));
  }

  /** The server closes the socket (after or, as a refused handshake, before accept()). */
  serverClose(code = 1006): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code }));
  }

  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => (m as { type: string }).type === type) as Record<string, unknown>[];
  }
}

export const lastSocket = (): FakeSocket => {
  const s = FakeSocket.all.at(-1);
  if (!s) throw new Error('no socket created');
  return s;
};
