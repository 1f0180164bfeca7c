// The saved practice workspace, against a real server (no accounts): change the mix, the tempo
// and a named loop, then open the song in a new browser context (nothing kept in the browser):
// everything is back before the first sound. Each scenario builds on the previous one.
import assert from 'node:assert/strict';
import { exposeEngine } from './engineHook.mjs';

/** Records the engine's state at its first play() call: what the first sound is made of. */
function recordFirstPlay() {
  window.addEventListener('riffroom:engine', (event) => {
    const engine = event.detail;
    if (!engine) return;
    const play = engine.play.bind(engine);
    engine.play = (...args) => {
      window.firstPlay ??= engine.snapshot();
      return play(...args);
    };
  });
}

const saved = (page) => page.waitForFunction(() => document.querySelector('[data-testid=sync-status]')?.textContent === 'Saved', null, { timeout: 15_000 });

export const tests = [
  {
    name: 'workspace: a separated song shows the practice panel',
    critical: true,
    async run({ page, appUrl, songPath }) {
      await page.goto(appUrl);
      await page.locator('[data-testid=file-input]').setInputFiles(songPath);
      await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 120_000 });
      await page.getByTestId('workspace').waitFor({ timeout: 15_000 });
    },
  },
  {
    name: 'workspace: mix, tempo and a named loop are saved on the server',
    critical: true,
    async run({ page, appUrl, shot }) {
      await page.evaluate(() => {
        const e = window.riffroom.engine;
        const stem = e.stemNames[0];
        e.updateStem(stem, { muted: true, pan: -0.5 });
        e.setTempo(0.8);
        e.setLoop(1, 3);
      });
      await page.getByLabel('Loop name').fill('intro');
      await page.getByRole('button', { name: 'Save loop' }).click();
      await page.getByLabel('Notes').fill('count the rests');
      await saved(page);
      const songId = await page.evaluate(() => JSON.parse(localStorage.getItem('riffroom.session') ?? '{}').songId);
      const res = await fetch(new URL(`/api/songs/${songId}/practice`, appUrl));
      const body = await res.json();
      assert.equal(body.state.tempo, 0.8);
      assert.equal(body.state.notes, 'count the rests');
      assert.deepEqual(body.state.loops.map((l) => [l.name, l.start, l.end]), [['intro', 1, 3]]);
      assert.equal(body.state.active_loop_id, body.state.loops[0].id);
      assert.ok(Object.values(body.state.stems).some((s) => s.muted && s.pan === -0.5), 'the muted, panned stem is saved');
      assert.ok(body.revision >= 1);
      await shot('workspace-01-saved');
    },
  },
  {
    name: 'workspace: a new browser context restores it all before the first sound',
    async run({ context, appUrl, shot }) {
      const fresh = await context.browser().newContext({ viewport: { width: 1360, height: 900 } });
      try {
        await exposeEngine(fresh);
        await fresh.addInitScript(recordFirstPlay);
        const page = await fresh.newPage();
        await page.goto(appUrl);
        await page.getByTestId('song-item').first().getByRole('button').first().click();
        await page.waitForSelector('[data-testid=player][data-phase=ready]', { timeout: 60_000 });
        await page.getByTestId('play').click();
        await page.waitForFunction(() => window.firstPlay !== undefined, null, { timeout: 15_000 });
        const first = await page.evaluate(() => window.firstPlay);
        assert.equal(first.tempo, 0.8, 'the saved tempo plays from the first sound');
        assert.deepEqual(first.loop, { start: 1, end: 3 });
        assert.equal(first.loopEnabled, true);
        assert.ok(Object.values(first.stems).some((s) => s.muted && s.pan === -0.5), 'the saved mix plays from the first sound');
        assert.equal(await page.getByLabel('Notes').inputValue(), 'count the rests');
        assert.equal(await page.getByTestId('saved-loop').locator('input[type=text]').inputValue(), 'intro');
        await shot('workspace-02-restored');
      } finally {
        await fresh.close();
      }
    },
  },
];
