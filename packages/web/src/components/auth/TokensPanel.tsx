import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ApiClient } from '../../api/client';
import { describeError } from '../../api/errors';
import type { ApiToken } from '../../api/types';
import { useModalDialog } from '../common/useModalDialog';

/** A date the way the reader's locale writes it, from seconds since 1970. */
const when = (seconds: number) => new Date(seconds * 1000).toLocaleString();

/**
 * The account's API tokens, for scripts (`Authorization: Bearer …`): list, create, revoke. A new
 * token's secret is shown once, in this dialog only; the server keeps just its hash.
 */
export function TokensPanel({ api, open, onClose }: { api: ApiClient; open: boolean; onClose: () => void }) {
  const dialog = useModalDialog(open);
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiToken | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Loaded each time the dialog opens; a secret shown before is forgotten on close.
  useEffect(() => {
    if (!open) return;
    const abort = new AbortController();
    setCreated(null);
    setError(null);
    api.listTokens(abort.signal).then(setTokens, (err: unknown) => {
      if (!abort.signal.aborted) setError(describeError(err));
    });
    return () => abort.abort();
  }, [api, open]);

  const create = useCallback(
    async (e: FormEvent) => {
      e.preventDefault();
      setBusy(true);
      setError(null);
      try {
        const token = await api.createToken(name.trim());
        setCreated(token);
        setName('');
        setTokens((list) => [...(list ?? []), { ...token, token: null }]);
      } catch (err) {
        setError(describeError(err));
      } finally {
        setBusy(false);
      }
    },
    [api, name],
  );

  const revoke = useCallback(
    async (token: ApiToken) => {
      setError(null);
      try {
        await api.revokeToken(token.id);
        setTokens((list) => (list ?? []).filter((t) => t.id !== token.id));
        setCreated((shown) => (shown?.id === token.id ? null : shown));
      } catch (err) {
        setError(describeError(err));
      }
    },
    [api],
  );

  const copy = () => {
    if (created?.token) void navigator.clipboard?.writeText(created.token);
  };

  return (
    <dialog ref={dialog} className="help tokens" aria-labelledby="tokens-title" onClose={onClose} onCancel={onClose}>
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">
        For scripts: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you until you revoke it.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {tokens === null && !error && <p className="muted">Loading…</p>}
      {tokens !== null && tokens.length === 0 && <p className="muted">No tokens yet.</p>}
      {tokens !== null && tokens.length > 0 && (
        <ul className="token-list" aria-label="Your API tokens">
          {tokens.map((t) => (
            <li key={t.id} className="token-row">
              <span className="token-info">
                <strong>{t.name || 'unnamed'}</strong>
                <span className="muted">
                  {' '}
                  made {when(t.created_at)}, {t.last_used_at ? `last used ${when(t.last_used_at)}` : 'never used'}
                </span>
              </span>
              <button type="button" className="btn small" onClick={() => void revoke(t)} aria-label={`Revoke ${t.name || 'unnamed'}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {created?.token && (
        <div className="token-secret" role="status">
          <label htmlFor="new-token">New token “{created.name || 'unnamed'}”: copy it now, it is not shown again</label>
          <input id="new-token" readOnly value={created.token} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" className="btn small" onClick={copy}>
            Copy
          </button>
        </div>
      )}
      <form className="token-form" onSubmit={(e) => void create(e)}>
        <label htmlFor="token-name">Name</label>
        <input
          id="token-name"
          value={name}
          maxLength={100}
          placeholder="e.g. backup script"
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" className="btn" disabled={busy}>
          Create token
        </button>
      </form>
      <button type="button" className="btn primary" onClick={onClose}>
        Close
      </button>
    </dialog>
  );
}
