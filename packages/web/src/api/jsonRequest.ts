/**
 * A JSON request through the app's ApiClient, for the resource modules (setlists, bands) that
 * live beside `client.ts`: the same URL base, the same 401 report (`api.fetch`), the same errors
 * (`ApiError` with the server's code and message, `NetworkError` when the server is unreachable).
 */
import type { ApiClient } from './client';
import { NetworkError, errorFromResponse } from './errors';

export interface JsonInit {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** The answer's JSON (undefined for a 204); throws ApiError for any other status than 2xx. */
export async function requestJson<T>(api: ApiClient, path: string, { method = 'GET', body, signal }: JsonInit = {}): Promise<T> {
  const hasBody = body !== undefined;
  let response: Response;
  try {
    response = await api.fetch(api.url(path), {
      method,
      signal,
      body: hasBody ? JSON.stringify(body) : undefined,
      headers: { Accept: 'application/json', ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new NetworkError(path, err);
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
