import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../../api/errors';

interface LoginFormProps {
  /** POST /api/auth/login; rejects with the ApiError to show. */
  onLogin: (username: string, password: string) => Promise<unknown>;
  /** Why the form is shown (logged out, session ended), if there is something to say. */
  notice?: string | null;
}

/**
 * The login screen. Labelled fields, the user name focused on arrival, errors announced
 * (role="alert") and tied to the fields (aria-describedby, aria-invalid). After a 429 the
 * button stays disabled for the server's Retry-After seconds, counting down; that one timer is
 * cleared on unmount.
 */
export function LoginForm({ onLogin, notice = null }: LoginFormProps) {
  const id = useId();
  const userRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Seconds left before the server accepts another attempt (429 Retry-After). */
  const [waitLeft, setWaitLeft] = useState(0);
  const tick = useRef<ReturnType<typeof setInterval> | null>(null);
  const mounted = useRef(true);

  const stopTick = () => {
    if (tick.current !== null) clearInterval(tick.current);
    tick.current = null;
  };

  useEffect(() => {
    mounted.current = true;
    userRef.current?.focus();
    return () => {
      mounted.current = false;
      stopTick();
    };
  }, []);

  const startWait = (seconds: number) => {
    stopTick();
    const until = Date.now() + seconds * 1000;
    setWaitLeft(seconds);
    tick.current = setInterval(() => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setWaitLeft(left);
      if (left === 0) stopTick();
    }, 1000);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || waitLeft > 0) return;
    if (!username.trim() || !password) {
      setError('Enter your user name and password.');
      (username.trim() ? passwordRef : userRef).current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onLogin(username.trim(), password);
      // Success unmounts this form; nothing more to do here.
    } catch (err) {
      if (!mounted.current) return;
      setError(describeError(err));
      if (err instanceof ApiError && err.status === 429) startWait(Math.max(1, err.retryAfterSeconds ?? 30));
      if (err instanceof ApiError && err.status === 401) {
        setPassword('');
        passwordRef.current?.focus();
      }
    } finally {
      if (mounted.current) setBusy(false);
    }
  };

  const errorId = `${id}-error`;
  const noticeId = `${id}-notice`;
  const describedBy = [error ? errorId : null, notice ? noticeId : null].filter(Boolean).join(' ') || undefined;
  return (
    <section className="panel login" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Log in</h2>
      {notice && (
        <p id={noticeId} className="notice" role="status">
          {notice}
        </p>
      )}
      <form className="login-form" onSubmit={(e) => void submit(e)} noValidate aria-describedby={describedBy} data-testid="login-form">
        <div className="field">
          <label htmlFor={`${id}-user`}>User name</label>
          <input
            ref={userRef}
            id={`${id}-user`}
            name="username"
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={error !== null && !username.trim() ? true : undefined}
            aria-describedby={error ? errorId : undefined}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            ref={passwordRef}
            id={`${id}-password`}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={error !== null ? true : undefined}
            aria-describedby={error ? errorId : undefined}
          />
        </div>
        <p id={errorId} className="error" role="alert" aria-live="assertive">
          {error ?? ''}
        </p>
        <button type="submit" className="btn primary" disabled={busy || waitLeft > 0} aria-disabled={busy || waitLeft > 0}>
          {busy ? 'Logging in…' : waitLeft > 0 ? `Try again in ${waitLeft} s` : 'Log in'}
        </button>
      </form>
    </section>
  );
}
