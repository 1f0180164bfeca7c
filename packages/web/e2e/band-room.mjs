// Two band members in two browser contexts against one server with accounts. A makes the band,
// invites B and shares a song, all through the page's band room; B finds the song in the library
// with the band named, opens it and changes the mix; A's mix and loop names are A's own; B's
// settings come back after a reload in a new context. Then A's setlist: created, filled and
// reordered with the keyboard, its set sheet opened (and printed only it), the set played through.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exposeEngine } from './engineHook.mjs';
import { makeSong } from './make-song.mjs';

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

const state = { songId: null, a: null, songTitle: null };

const bandRegion = (page) => page.getByRole('region', { name: 'The Testers' });
const setlistTitles = (page) => page.getByTestId('setlist-song-title').allTextContents();

export const tests = [
  {
    name: 'band room: A uploads a song, names a loop, makes a band, invites B and shares the song in the page',
    critical: true,
    async run({ context, appUrl, songPath, results }) {
      const a = await loggedIn(context.browser(), appUrl, MEMBERS[0]);
      state.a = a;
      await a.page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await a.page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 120_000 });
      await a.page.evaluate(() => window.riffroom.engine.setLoop(1, 2));
      await a.page.getByLabel('Loop name').fill('A riff');
      await a.page.getByRole('button', { name: 'Save loop' }).click();
      await saved(a.page);
      state.songId = await a.page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}').songId);
      const { page } = a;
      await page.getByLabel('New band name').fill('The Testers');
      await page.getByRole('button', { name: 'Create band' }).click();
      const band = bandRegion(page);
      await band.waitFor();
      // A user name nobody has: the server's refusal, as a sentence.
      await band.getByLabel('User name to invite').fill('nobody');
      await band.getByRole('button', { name: 'Invite' }).click();
      await band.getByRole('alert').waitFor();
      assert.equal(await band.getByRole('alert').textContent(), "No user 'nobody'.");
      await band.getByLabel('User name to invite').fill(MEMBERS[1].name);
      await band.getByRole('button', { name: 'Invite' }).click();
      await band.getByTestId('band-member').nth(1).waitFor();
      assert.deepEqual(await band.getByTestId('band-member').allTextContents(), ['anna (owner)', 'benRemove']);
      assert.equal(await band.getByRole('alert').count(), 0, 'the earlier error is gone');
      const share = band.getByLabel('Song to share');
      state.songTitle = (await share.locator('option').nth(1).textContent()).trim();
      await share.selectOption({ index: 1 });
      await band.getByRole('button', { name: 'Share song' }).click();
      await band.getByTestId('band-song').waitFor();
      assert.equal(await band.getByTestId('band-song').textContent(), `${state.songTitle}Unshare`);
      // A's library says whom the song is shared with.
      await page.getByTestId('song-band').waitFor();
      assert.equal(await page.getByTestId('song-band').textContent(), 'Shared with The Testers');
      const bands = await api(page, 'GET', '/api/bands');
      assert.deepEqual(bands.body.bands.map((b) => [b.name, b.members.map((m) => m.username), b.songs]), [['The Testers', ['anna', 'ben'], [state.songId]]]);
      await page.screenshot({ path: join(results, 'band-00-a-band-room.png'), fullPage: true });
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
        // The library names the band, and B's band room shows it with A as its owner.
        await b.page.getByTestId('song-band').waitFor();
        assert.equal(await b.page.getByTestId('song-band').textContent(), 'From The Testers');
        assert.equal(await b.page.getByRole('button', { name: 'Delete', exact: true }).count(), 0, 'B cannot delete A’s song');
        await bandRegion(b.page).getByText('Owner: anna').waitFor();
        await b.page.getByRole('button', { name: `Open ${state.songTitle} (from The Testers)` }).click();
        await b.page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 60_000 });
        await b.page.getByTestId('workspace').waitFor();
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
    name: 'setlist: A makes a set of two songs, reorders it with the keyboard, opens and prints the set sheet, plays it through',
    async run({ songPath, results }) {
      const { page } = state.a;
      const second = join(dirname(songPath), 'e2e-song-2.wav');
      writeFileSync(second, makeSong(6, 44100, 1));
      await page.locator('[data-testid=file-input]').setInputFiles(second);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=song-item]').length === 2, null, { timeout: 60_000 });
      await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 120_000 });

      await page.getByLabel('New setlist name').fill('Friday gig');
      await page.getByRole('button', { name: 'Create setlist' }).click();
      const editor = page.getByTestId('setlist-editor');
      await editor.waitFor();
      for (let n = 1; n <= 2; n++) {
        await editor.getByLabel('Song to add').selectOption({ index: 1 });
        await editor.getByRole('button', { name: 'Add to set' }).click();
        await page.waitForFunction((count) => document.querySelectorAll('[data-testid=setlist-song]').length === count, n);
      }
      const before = await setlistTitles(page);
      assert.equal(before.length, 2);
      await page.getByTestId('setlist-song').first().focus();
      await page.keyboard.press('Alt+ArrowDown');
      assert.deepEqual(await setlistTitles(page), [before[1], before[0]]);
      assert.equal(await page.getByTestId('setlist-announcement').textContent(), `“${before[0]}” moved to position 2 of 2.`);
      assert.equal(await page.evaluate(() => document.activeElement?.querySelector('[data-testid=setlist-song-title]')?.textContent), before[0], 'the moved song keeps the focus');
      const list = await api(page, 'GET', '/api/setlists');
      const setlistId = list.body.setlists.find((s) => s.name === 'Friday gig').id;
      await page.waitForFunction(
        async ([id, want]) => (await (await fetch(`/api/setlists/${id}`)).json()).songs.map((s) => s.name).join('|') === want,
        [setlistId, [before[1], before[0]].join('|')],
        { timeout: 10_000 },
      );
      await editor.getByLabel(`Notes for ${before[0]}`).fill('segue, no count-in');
      await editor.getByLabel(`Notes for ${before[0]}`).press('Tab');
      await page.waitForFunction(async (id) => (await (await fetch(`/api/setlists/${id}`)).json()).songs[1].notes === 'segue, no count-in', setlistId, { timeout: 10_000 });

      await editor.getByRole('button', { name: 'Set sheet' }).click();
      const sheet = page.getByTestId('set-sheet');
      await sheet.getByTestId('sheet-row').nth(1).waitFor();
      assert.equal(await sheet.getByRole('heading', { level: 2 }).textContent(), 'Friday gig');
      const rows = await sheet.getByTestId('sheet-row').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
      assert.deepEqual(rows.map((r) => [r[0], r[1], r[5]]), [['1', before[1], ''], ['2', before[0], 'segue, no count-in']]);
      for (const r of rows) assert.match(r[4], /^0:0[5-9]$/, 'the duration is the song’s');
      await page.screenshot({ path: join(results, 'setlist-01-sheet.png') });
      // On paper: only the sheet, without its buttons.
      await page.emulateMedia({ media: 'print' });
      const printed = await page.evaluate(() => ({
        root: getComputedStyle(document.getElementById('root')).display,
        sheet: getComputedStyle(document.querySelector('[data-testid=set-sheet]')).display,
        buttons: getComputedStyle(document.querySelector('.set-sheet-actions')).display,
      }));
      assert.deepEqual(printed, { root: 'none', sheet: 'block', buttons: 'none' });
      await page.screenshot({ path: join(results, 'setlist-02-print.png') });
      await page.emulateMedia({ media: 'screen' });
      await sheet.getByRole('button', { name: 'Close' }).click();

      // Played through: the first song starts by itself, and its end opens and starts the next.
      await editor.getByRole('button', { name: 'Play set' }).click();
      await page.getByTestId('set-run-position').waitFor();
      await page.waitForFunction((title) => document.querySelector('[data-testid=player] h2')?.textContent === title && window.riffroom.engine.playing, before[1], { timeout: 60_000 });
      await page.evaluate(() => window.riffroom.engine.seek(window.riffroom.engine.duration - 0.3));
      await page.waitForFunction((title) => document.querySelector('[data-testid=player] h2')?.textContent === title && window.riffroom.engine.playing, before[0], { timeout: 60_000 });
      assert.equal(await page.getByTestId('set-run-position').textContent(), `2 of 2: ${before[0]}`);
      await page.evaluate(() => window.riffroom.engine.pause());
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
