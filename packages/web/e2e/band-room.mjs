// Two band members in two browser contexts against one server with accounts: A shares a song
// with the band; B opens it and changes the mix; A's mix and loop names are A's own; B's
// settings come back after a reload in a new context. The band is set up through the API
// from A's page (same cookie), as a script would.
import assert from 'node:assert/strict';
import { exposeEngine } from './engineHook.mjs';

export const MEMBERS = [
  { name: 'anna', password: 'anna plays the bass line' },
  { name: 'ben', password: 'ben plays the guitar solo' },
];

async function loggedIn(browser, appUrl, member) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await exposeEngine(context);
  const page = await context.newPage();
  await page.goto(appUrl);
  await page.getByLabel('User name').fill(member.name);
  await page.getByLabel('Password').fill(member.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 15_000 });
  return { context, page };
}

const api = (page, method, path, body) =>
  page.evaluate(
    async ([m, p, b]) => {
      const res = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json' }, body: b === null ? undefined : JSON.stringify(b) });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    },
    [method, path, body ?? null],
  );

const saved = (page) => page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.textContent === 'Saved', null, { timeout: 15_000 });

const openShared = async (page) => {
  await page.getByTestId('song-item').first().getByRole('button').first().click();
  await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 60_000 });
  await page.getByTestId('workspace').waitFor();
};

const state = { songId: null, a: null };

export const tests = [
  {
    name: 'band room: A uploads a song, names a loop, makes a band with B and shares the song',
    critical: true,
    async run({ context, appUrl, songPath }) {
      const a = await loggedIn(context.browser(), appUrl, MEMBERS[0]);
      state.a = a;
      await a.page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await a.page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 120_000 });
      await a.page.evaluate(() => window.riffroom.engine.setLoop(1, 2));
      await a.page.getByLabel('Loop name').fill('A riff');
      await a.page.getByRole('button', { name: 'Save loop' }).click();
      await saved(a.page);
      state.songId = await a.page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}').songId);
      const band = await api(a.page, 'POST', '/api/bands', { name: 'The Testers' });
      assert.equal(band.status, 201, JSON.stringify(band.body));
      const bandId = band.body.id;
      const member = await api(a.page, 'POST', `/api/bands/${bandId}/members`, { username: MEMBERS[1].name });
      assert.ok(member.status === 200 || member.status === 201, JSON.stringify(member.body));
      const share = await api(a.page, 'POST', `/api/bands/${bandId}/songs`, { song_id: state.songId });
      assert.ok(share.status === 200 || share.status === 201, JSON.stringify(share.body));
    },
  },
  {
    name: 'band room: B sees the shared song, changes the mix; A keeps A’s own mix and loop names',
    critical: true,
    async run({ context, appUrl, shot }) {
      const b = await loggedIn(context.browser(), appUrl, MEMBERS[1]);
      try {
        const songs = await api(b.page, 'GET', '/api/songs');
        const shared = songs.body.songs.find((s) => s.id === state.songId);
        assert.ok(shared, 'the shared song is in B’s library');
        assert.equal(shared.owned, false);
        assert.deepEqual(shared.bands.map((x) => x.name), ['The Testers']);
        await b.page.reload();
        await openShared(b.page);
        assert.equal(await b.page.getByTestId('saved-loop').count(), 0, 'A’s loop names are not B’s');
        await b.page.evaluate(() => {
          const e = window.riffroom.engine;
          e.updateStem(e.stemNames[0], { muted: true });
          e.setTempo(0.7);
        });
        await saved(b.page);
        await shot('band-01-b-mix');
      } finally {
        await b.context.close();
      }
      const mine = await api(state.a.page, 'GET', `/api/songs/${state.songId}/practice`);
      assert.equal(mine.body.state.tempo, 1, 'A’s tempo is A’s');
      assert.ok(Object.values(mine.body.state.stems).every((s) => !s.muted), 'A’s mix is unchanged');
      assert.deepEqual(mine.body.state.loops.map((l) => l.name), ['A riff']);
    },
  },
  {
    name: 'band room: B’s settings come back after a reload in a new context',
    async run({ context, appUrl }) {
      const b = await loggedIn(context.browser(), appUrl, MEMBERS[1]);
      try {
        await openShared(b.page);
        const snap = await b.page.evaluate(() => window.riffroom.engine.snapshot());
        assert.equal(snap.tempo, 0.7);
        assert.ok(Object.values(snap.stems).some((s) => s.muted), 'B’s muted stem is back');
      } finally {
        await b.context.close();
        await state.a?.context.close();
      }
    },
  },
];
