// Accounts in the browser, against a server of their own: an account `alice` made
// with `riffroom users add` before the server starts, so every /api route needs a login.
// Each scenario builds on the previous one.
import assert from 'node:assert/strict';

export const USER = 'alice';
export const PASSWORD = 'correct horse battery staple';

const alertText = async (page) => ((await page.getByRole('alert').first().textContent()) ?? '').trim();

export const tests = [
  {
    name: 'accounts: the page asks /api/auth/me and shows the login form',
    critical: true,
    async run({ page, appUrl, shot }) {
      const me = page.waitForResponse((r) => r.url().endsWith('/api/auth/me'));
      await page.goto(appUrl);
      assert.deepEqual(await (await me).json(), { auth_required: true, user: null });
      await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 15_000 });
      assert.equal(await page.getByRole('heading', { name: 'Library' }).count(), 0, 'no library before the login');
      assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0);
      const focused = await page.evaluate(() => document.activeElement?.getAttribute('autocomplete'));
      assert.equal(focused, 'username', 'the user name field has the focus');
      await shot('auth-01-login');
    },
  },
  {
    name: 'accounts: a wrong password shows the error',
    critical: true,
    async run({ page, shot }) {
      await page.getByLabel('User name').fill(USER);
      await page.getByLabel('Password').fill('not the password');
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await page.getByRole('button', { name: 'Log in' }).click();
      assert.equal((await answer).status(), 401);
      await page.waitForFunction(() => document.querySelector('[role=alert]')?.textContent?.includes('Wrong user name or password'));
      assert.equal(await alertText(page), 'Wrong user name or password.');
      assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByRole('heading', { name: 'Library' }).count(), 0);
      await shot('auth-02-wrong-password');
    },
  },
  {
    name: 'accounts: the right password shows the library, the user and a logout button',
    critical: true,
    async run({ page, context, shot }) {
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 15_000 });
      assert.equal((await page.getByTestId('user-name').textContent())?.trim(), USER);
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      const cookies = await context.cookies();
      const sessionCookie = cookies.find((c) => c.httpOnly);
      assert.ok(sessionCookie, `an HttpOnly session cookie was set (${cookies.map((c) => c.name).join(', ')})`);
      assert.equal(await page.evaluate((name) => document.cookie.includes(name), sessionCookie.name), false, 'the page script cannot read it');
      await shot('auth-03-library');
    },
  },
  {
    name: 'accounts: upload and separation work when logged in (the WebSocket too)',
    critical: true,
    async run({ page, songPath, shot, sockets }) {
      await page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await page.waitForSelector('[data-testid=work-status][data-phase=ready]', { timeout: 120_000 });
      await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 30_000 });
      assert.ok((await page.getByTestId('song-item').count()) >= 1, 'the song is in the library');
      const frames = sockets.flatMap((s) => s.frames).map((f) => JSON.parse(f));
      assert.ok(frames.some((m) => m.type === 'snapshot'), 'the job was followed over the WebSocket (handshake accepted with the cookie)');
      await shot('auth-04-separated');
    },
  },
  {
    name: 'accounts: an API token made in the page works for scripts until it is revoked',
    async run({ page, appUrl, shot }) {
      await page.getByRole('button', { name: 'API tokens' }).click();
      const dialog = page.getByRole('dialog', { name: 'API tokens' });
      await dialog.getByText('No tokens yet.').waitFor({ timeout: 10_000 });
      await dialog.getByLabel('Name').fill('e2e script');
      await dialog.getByRole('button', { name: 'Create token' }).click();
      const secret = dialog.getByLabel(/copy it now/);
      await secret.waitFor();
      const token = await secret.inputValue();
      assert.match(token, /^rr_/, 'the token is shown once, in full');
      await shot('auth-06-token');
      const asScript = async () =>
        (await fetch(new URL('/api/songs', appUrl), { headers: { Authorization: `Bearer ${token}` } })).status;
      assert.equal(await asScript(), 200, 'a script with the token reads the songs');
      await dialog.getByRole('button', { name: 'Revoke e2e script' }).click();
      await dialog.getByText('No tokens yet.').waitFor();
      assert.equal(await asScript(), 401, 'a revoked token opens nothing');
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 1, 'still logged in');
    },
  },
  {
    name: 'accounts: logout returns to the login form, releases the song and the session',
    async run({ page, appUrl, shot, sockets }) {
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/logout'));
      await page.getByRole('button', { name: 'Log out' }).click();
      assert.equal((await answer).status(), 204);
      await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 10_000 });
      assert.ok((await alertText(page)) === '', 'no error on the form');
      assert.equal(await page.getByRole('button', { name: 'Log out' }).count(), 0);
      assert.equal(await page.evaluate(() => window.riffroom?.engine.snapshot().loaded ?? false), false, 'the stems were dropped');
      assert.ok(sockets.every((s) => s.ws.isClosed()), 'no WebSocket left open');
      const saved = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('riffroom.')));
      assert.deepEqual(saved, [], 'nothing of the account is kept for reload');
      const status = await page.evaluate(async () => (await fetch('/api/songs')).status);
      assert.equal(status, 401, 'the old session opens nothing');
      await page.goto(appUrl);
      await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 10_000 });
      await shot('auth-05-logged-out');
    },
  },
];
