/**
 * "Try again later" for work that waits on the server: one timer at a time with exponential
 * backoff, and at once when the browser says it is back online. Everything it starts is
 * released by `dispose()`.
 */
export class RetryTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private readonly onOnline = () => this.fire();

  constructor(
    private readonly run: () => void,
    private readonly baseMs = 2000,
    private readonly maxMs = 60_000,
  ) {
    if (typeof window !== 'undefined') window.addEventListener('online', this.onOnline);
  }

  /** Run again after the next backoff step (a pending one is kept). */
  schedule(): void {
    if (this.timer !== null) return;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.fire(), delay);
  }

  /** It worked: the next failure starts from the shortest delay again. */
  reset(): void {
    this.attempt = 0;
    this.cancel();
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  dispose(): void {
    this.cancel();
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline);
  }

  private fire(): void {
    this.cancel();
    this.run();
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
