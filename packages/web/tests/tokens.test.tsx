import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/api/client';
import type { ApiToken } from '../src/api/types';
import { TokensPanel } from '../src/components/auth/TokensPanel';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The token routes of the server, scripted: tokens live in `stored`, secrets are never listed. */
function tokenServer(initial: ApiToken[] = []) {
  const stored = [...initial];
  const calls: string[] = [];
  let next = 1;
  const fetcher = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    if (url === '/api/auth/tokens' && method === 'GET') return json({ tokens: stored });
    if (url === '/api/auth/tokens' && method === 'POST') {
      const { name } = JSON.parse(init?.body as string) as { name: string };
      if (name === 'x'.repeat(3)) return json({ error: { code: 'invalid_request', message: 'a bad name' } }, 422);
      const made = { id: `t${next}`, name, created_at: 1_700_000_000, last_used_at: null };
      next += 1;
      stored.push(made);
      return json({ ...made, token: `rr_secret_${made.id}` }, 201);
    }
    const revoke = /^\/api\/auth\/tokens\/(\w+)$/.exec(url);
    if (revoke && method === 'DELETE') {
      const at = stored.findIndex((t) => t.id === revoke[1]);
      if (at < 0) return json({ error: { code: 'not_found', message: 'no such token' } }, 404);
      stored.splice(at, 1);
      return new Response(null, { status: 204 });
    }
    return json({ error: { code: 'not_found', message: 'no such thing' } }, 404);
  });
  return { api: new ApiClient('', fetcher), stored, calls };
}

afterEach(cleanup);

describe('the API tokens panel', () => {
  it('lists the tokens with when they were made and last used', async () => {
    const { api } = tokenServer([
      { id: 'a', name: 'backup script', created_at: 1_700_000_000, last_used_at: 1_700_000_500 },
      { id: 'b', name: '', created_at: 1_700_000_100, last_used_at: null },
    ]);
    render(<TokensPanel api={api} open onClose={() => {}} />);
    const list = await screen.findByRole('list', { name: 'Your API tokens' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('backup script');
    expect(rows[0]!.textContent).toContain('last used');
    expect(rows[1]!.textContent).toContain('unnamed');
    expect(rows[1]!.textContent).toContain('never used');
  });

  it('shows a new token once: it is gone when the panel is opened again', async () => {
    const server = tokenServer();
    const { rerender } = render(<TokensPanel api={server.api} open onClose={() => {}} />);
    await screen.findByText('No tokens yet.');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'cron' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    const secret = await screen.findByLabelText(/copy it now/);
    expect((secret as HTMLInputElement).value).toBe('rr_secret_t1');
    expect(within(screen.getByRole('list', { name: 'Your API tokens' })).getByText('cron')).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Name').value).toBe('');

    rerender(<TokensPanel api={server.api} open={false} onClose={() => {}} />);
    rerender(<TokensPanel api={server.api} open onClose={() => {}} />);
    await waitFor(() => expect(server.calls.filter((c) => c === 'GET /api/auth/tokens')).toHaveLength(2));
    expect(screen.queryByLabelText(/copy it now/)).toBeNull();
    expect(document.body.textContent).not.toContain('rr_secret_t1');
  });

  it('revokes a token on the server and drops it from the list', async () => {
    const server = tokenServer([{ id: 'a', name: 'old laptop', created_at: 1_700_000_000, last_used_at: null }]);
    render(<TokensPanel api={server.api} open onClose={() => {}} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke old laptop' }));
    await screen.findByText('No tokens yet.');
    expect(server.calls).toContain('DELETE /api/auth/tokens/a');
    expect(server.stored).toEqual([]);
  });

  it('says what went wrong in words', async () => {
    const server = tokenServer();
    render(<TokensPanel api={server.api} open onClose={() => {}} />);
    await screen.findByText('No tokens yet.');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'xxx' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/bad name/i);
  });
});
