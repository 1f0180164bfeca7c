import { afterEach, describe, expect, it } from 'vitest';
import { defaultPracticeState, type PracticeState } from '../src/api/practice';
import { openPracticeDb } from '../src/practice/practiceDb';
import { WorkspaceSync } from '../src/practice/workspaceSync';
import { FakePracticeServer } from './practiceServer';

let counter = 0;
const syncs: WorkspaceSync[] = [];

function device(server: FakePracticeServer, dbName = `practice-${++counter}`) {
  const sync = new WorkspaceSync(server.api, { debounceMs: 0, db: openPracticeDb(dbName) });
  syncs.push(sync);
  return { sync, dbName };
}

afterEach(() => {
  for (const s of syncs.splice(0)) s.dispose();
});

const change = (s: PracticeState, patch: Partial<PracticeState>): PracticeState => ({ ...s, ...patch });

describe('WorkspaceSync', () => {
  it('opens the server state and saves changes with the next revision', async () => {
    const server = new FakePracticeServer();
    server.saveFromElsewhere('s1', (s) => change(s, { tempo: 0.75 }));
    const { sync } = device(server);
    const opened = await sync.open('s1');
    expect(opened.tempo).toBe(0.75);
    sync.update('s1', change(opened, { notes: 'slow down at bar 17' }));
    await sync.flush();
    expect(server.workspaces.get('s1')).toMatchObject({ revision: 2, state: { tempo: 0.75, notes: 'slow down at bar 17' } });
    expect(sync.status.status).toBe('saved');
  });

  it('on 409 merges: my last change and the other device’s change both survive', async () => {
    const server = new FakePracticeServer();
    const { sync } = device(server);
    const merged: PracticeState[] = [];
    sync.onMerged('s1', (s) => merged.push(s));
    const opened = await sync.open('s1');
    server.saveFromElsewhere('s1', (s) => change(s, { transpose: -3, notes: 'theirs' }));
    sync.update('s1', change(opened, { tempo: 0.6 }));
    await sync.flush();
    const saved = server.workspaces.get('s1');
    expect(saved?.revision).toBe(2);
    expect(saved?.state).toMatchObject({ tempo: 0.6, transpose: -3, notes: 'theirs' });
    expect(merged.at(-1)).toMatchObject({ tempo: 0.6, transpose: -3 });
    expect(sync.current('s1')).toEqual(saved?.state);
  });

  it('offline: keeps changes on the device, restores them on a new page, sends them when the server is back', async () => {
    const server = new FakePracticeServer();
    const first = device(server);
    const opened = await first.sync.open('s1');
    server.online = false;
    first.sync.update('s1', change(opened, { tempo: 0.85, my_part: 'guitar' }));
    await first.sync.flush();
    expect(first.sync.status.status).toBe('offline');
    expect(server.workspaces.has('s1')).toBe(false);
    first.sync.dispose();

    // A reload while still offline: the page restores this device's copy.
    const again = device(server, first.dbName);
    expect(await again.sync.open('s1')).toMatchObject({ tempo: 0.85, my_part: 'guitar' });
    again.sync.dispose();

    // Meanwhile another device saved; the server comes back; this device opens the song.
    server.saveFromElsewhere('s1', (s) => change(s, { capo: 2 }));
    server.online = true;
    const back = device(server, first.dbName);
    const restored = await back.sync.open('s1');
    expect(restored).toMatchObject({ tempo: 0.85, my_part: 'guitar', capo: 2 });
    await back.sync.flush();
    expect(server.workspaces.get('s1')).toMatchObject({ revision: 2, state: { tempo: 0.85, my_part: 'guitar', capo: 2 } });
  });

  it('the browser coming back online sends what waited', async () => {
    const server = new FakePracticeServer();
    const { sync } = device(server);
    const opened = await sync.open('s1');
    server.online = false;
    sync.update('s1', change(opened, { master_db: -4 }));
    await sync.flush();
    server.online = true;
    window.dispatchEvent(new Event('online'));
    await new Promise((r) => setTimeout(r, 20));
    await sync.flush();
    expect(server.workspaces.get('s1')?.state.master_db).toBe(-4);
  });

  it('a song without a server copy and no network opens with the defaults', async () => {
    const server = new FakePracticeServer();
    server.online = false;
    const { sync } = device(server);
    expect(await sync.open('nowhere')).toEqual(defaultPracticeState());
  });
});
