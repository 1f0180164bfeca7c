/** Errors a person can act on; the server answers `{"error": {"code", "message"}}`. */

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked us to wait (`Retry-After`), when it said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly url: string,
    override readonly cause?: unknown,
  ) {
    super('Cannot reach the RiffRoom server. Check that it is running and try again.');
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  401: 'Please log in.',
  404: 'Not found on the server (it may have been deleted).',
  413: 'The file is too large for this server.',
  415: 'This file is not audio the server can read.',
  429: 'The server is busy; try again in a moment.',
  503: 'The server is not ready yet; try again in a moment.',
};

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Codes whose server message is written for people: shown as a sentence. */
const PEOPLE_CODES = new Set(['quota_exceeded', 'too_many_requests', 'invalid_credentials']);

/** "wrong user name or password" → "Wrong user name or password." */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

export async function errorFromResponse(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = STATUS_MESSAGES[response.status] ?? `The server answered ${response.status} ${response.statusText}.`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string }; detail?: unknown };
    if (body.error?.message) message = body.error.message;
    if (body.error?.code) code = body.error.code;
    else if (typeof body.detail === 'string') message = body.detail;
  } catch {
    // Not our JSON (a proxy or gateway answered): the server itself is likely down.
    if (response.status >= 500) message = `The RiffRoom server is not answering properly (HTTP ${response.status}). Try again in a moment.`;
  }
  if (PEOPLE_CODES.has(code)) message = asSentence(message);
  return new ApiError(response.status, code, message, parseRetryAfter(response.headers.get('retry-after')));
}

/** One sentence for the UI, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof NetworkError) return err.message;
  if (err instanceof DOMException && err.name === 'AbortError') return 'Cancelled.';
  if (err instanceof DOMException && err.name === 'EncodingError') {
    return 'The browser could not decode this audio.';
  }
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
