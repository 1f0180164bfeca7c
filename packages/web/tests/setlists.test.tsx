import { act, cleanup, fireEvent, render, renderHook, screen, waitFor, within } from '@testing-library/react';
import { useMemo } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SetlistsApi, type Setlist } from '../src/api/setlists';
import { PlayerEngine } from '../src/audio/engine';
import type { Song } from '../src/api/types';
import { moveAnnouncement, moveItem } from '../src/components/setlists/reorder';
import { SetlistsPanel } from '../src/components/setlists/SetlistsPanel';
import { useSetlistLibrary } from '../src/components/setlists/useSetlistLibrary';
import { useSetlistPlayback } from '../src/components/setlists/useSetlistPlayback';
import { FakeRoomServer } from './roomServer';
import { makeSong } from './songs';
import { FakeAudioContext, bufferSources, resetWebAudio } from './fakeWebAudio';

afterEach(cleanup);

function Harness({ server, songs = [], opened = [] }: { server: FakeRoomServer; songs?: Song[]; opened?: string[] }) {
  const api = useMemo(() => new SetlistsApi(server.api), [server]);
  const library = useSetlistLibrary(api);
  const openSong = useMemo(
    () => (id: string) => {
      opened.push(id);
      return Promise.resolve(true);
    },
    [opened],
  );
  const playback = useSetlistPlayback(null, openSong, null);
  return <SetlistsPanel api={api} library={library} songs={songs} playback={playback} />;
}

/** A server with a three-song setlist "Friday", opened in the panel. */
async function openFriday() {
  const server = new FakeRoomServer();
  const ids = ['Intro', 'Verse', 'Outro'].map((name, i) => server.addSong({ name, duration: 60 * (i + 1), key: i === 0 ? 'A minor' : null, bpm: i === 0 ? 119.6 : null }));
  const setlistId = server.addSetlist('Friday', ids);
  const opened: string[] = [];
  render(<Harness server={server} opened={opened} />);
  fireEvent.click(await screen.findByRole('button', { name: /^Open setlist Friday/ }));
  await screen.findAllByTestId('setlist-song');
  return { server, ids, setlistId, opened };
}

const titles = () => screen.getAllByTestId('setlist-song-title').map((el) => el.textContent);
const serverOrder = (server: FakeRoomServer, id: string) => server.setlists.get(id)?.entries.map((e) => server.songs.get(e.song_id)?.name);
const orderPuts = (server: FakeRoomServer) => server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/order'));

describe('setlist reorder', () => {
  it('moves a song within the list and clamps at its ends', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, -4)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
    expect(moveAnnouncement('Intro', 1, 3)).toBe('“Intro” moved to position 2 of 3.');
  });

  it('moves the focused song with Alt+↓ / Alt+↑, keeps its focus, says so politely and saves the order', async () => {
    const { server, ids, setlistId } = await openFriday();
    const intro = screen.getAllByTestId('setlist-song')[0] as HTMLElement;
    intro.focus();
    fireEvent.keyDown(intro, { key: 'ArrowDown', altKey: true });
    expect(titles()).toEqual(['Verse', 'Intro', 'Outro']);
    const live = screen.getByTestId('setlist-announcement');
    expect(live.getAttribute('aria-live')).toBe('polite');
    expect(live.textContent).toBe('“Intro” moved to position 2 of 3.');
    expect(document.activeElement).toBe(screen.getAllByTestId('setlist-song')[1]);
    await waitFor(() => expect(serverOrder(server, setlistId)).toEqual(['Verse', 'Intro', 'Outro']));
    expect(orderPuts(server).at(-1)?.body).toEqual({ song_ids: [ids[1], ids[0], ids[2]] });

    fireEvent.keyDown(document.activeElement as HTMLElement, { key: 'ArrowUp', altKey: true });
    expect(titles()).toEqual(['Intro', 'Verse', 'Outro']);
    expect(live.textContent).toBe('“Intro” moved to position 1 of 3.');
    await waitFor(() => expect(serverOrder(server, setlistId)).toEqual(['Intro', 'Verse', 'Outro']));

    // Already first; plain arrows and Alt+↑ inside the notes field move nothing.
    const puts = orderPuts(server).length;
    fireEvent.keyDown(document.activeElement as HTMLElement, { key: 'ArrowUp', altKey: true });
    fireEvent.keyDown(document.activeElement as HTMLElement, { key: 'ArrowDown' });
    fireEvent.keyDown(screen.getByLabelText('Notes for Verse'), { key: 'ArrowUp', altKey: true });
    expect(titles()).toEqual(['Intro', 'Verse', 'Outro']);
    expect(orderPuts(server)).toHaveLength(puts);
  });

  it('moves a dragged song to where it is dropped and saves the order', async () => {
    const { server, setlistId } = await openFriday();
    const items = screen.getAllByTestId('setlist-song');
    const intro = items[0] as HTMLElement;
    const outro = items[2] as HTMLElement;
    expect(outro.getAttribute('draggable')).toBe('true');
    fireEvent.dragStart(outro);
    fireEvent.dragOver(intro);
    expect(intro.className).toContain('drop-target');
    fireEvent.drop(intro);
    expect(titles()).toEqual(['Outro', 'Intro', 'Verse']);
    expect(screen.getByTestId('setlist-announcement').textContent).toBe('“Outro” moved to position 1 of 3.');
    await waitFor(() => expect(serverOrder(server, setlistId)).toEqual(['Outro', 'Intro', 'Verse']));
    expect(screen.getAllByTestId('setlist-song')[0]?.className).not.toContain('drop-target');
  });

  it('puts the server’s order back, and says why in a sentence, when the server refuses a move', async () => {
    const { server, setlistId } = await openFriday();
    server.refuseNext(403, 'forbidden', "only the setlist's owner can change it");
    fireEvent.keyDown(screen.getAllByTestId('setlist-song')[0] as HTMLElement, { key: 'ArrowDown', altKey: true });
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', "Only the setlist's owner can change it.");
    expect(titles()).toEqual(['Intro', 'Verse', 'Outro']);
    expect(serverOrder(server, setlistId)).toEqual(['Intro', 'Verse', 'Outro']);
  });

  it('offers a setlist shared by a band to play and print, not to change', async () => {
    const server = new FakeRoomServer();
    const a = server.addSong({ name: 'Intro', owner: 'ben' });
    const b = server.addSong({ name: 'Verse', owner: 'ben' });
    const setlistId = server.addSetlist('Ben’s set', [a, b], 'ben');
    server.bands.set('band', { id: 'band', name: 'The Testers', owner: 'ben', members: [{ username: 'ben', role: 'owner', added_at: 1 }, { username: 'anna', role: 'member', added_at: 2 }], songs: [a, b], setlists: [setlistId] });
    render(<Harness server={server} />);
    fireEvent.click(await screen.findByRole('button', { name: /^Open setlist Ben’s set/ }));
    await screen.findAllByTestId('setlist-song');
    expect(screen.getByText(/Shared with The Testers/)).toBeTruthy();
    expect(screen.getAllByTestId('setlist-song')[0]?.getAttribute('draggable')).toBe('false');
    fireEvent.keyDown(screen.getAllByTestId('setlist-song')[0] as HTMLElement, { key: 'ArrowDown', altKey: true });
    expect(titles()).toEqual(['Intro', 'Verse']);
    expect(screen.queryByRole('button', { name: 'Delete setlist' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Play set' })).toBeTruthy();
  });
});

describe('setlist editing and playing', () => {
  it('creates a setlist, adds songs, renames it, keeps notes, and plays it from the first song', async () => {
    const server = new FakeRoomServer();
    const intro = server.addSong({ name: 'Intro' });
    const verse = server.addSong({ name: 'Verse' });
    const songs = [{ ...makeSong(intro), title: 'Intro' }, { ...makeSong(verse), title: 'Verse' }];
    const opened: string[] = [];
    render(<Harness server={server} songs={songs} opened={opened} />);
    await screen.findByText('No setlists yet.');
    fireEvent.change(screen.getByLabelText('New setlist name'), { target: { value: 'Friday gig' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create setlist' }));
    const editor = await screen.findByTestId('setlist-editor');
    for (const id of [intro, verse]) {
      await waitFor(() => expect(within(editor).getByLabelText('Song to add')).toHaveProperty('disabled', false));
      fireEvent.change(within(editor).getByLabelText('Song to add'), { target: { value: id } });
      fireEvent.click(within(editor).getByRole('button', { name: 'Add to set' }));
      await waitFor(() => expect([...server.setlists.values()][0]?.entries.map((e) => e.song_id)).toContain(id));
    }
    await waitFor(() => expect(titles()).toEqual(['Intro', 'Verse']));
    fireEvent.change(within(editor).getByLabelText('Setlist name'), { target: { value: 'Saturday gig' } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Rename' }));
    await waitFor(() => expect(within(editor).getByRole('heading', { name: 'Saturday gig' })).toBeTruthy());
    await screen.findByRole('button', { name: /^Open setlist Saturday gig/ });
    const notes = within(editor).getByLabelText('Notes for Verse');
    fireEvent.change(notes, { target: { value: 'capo 2, count in' } });
    fireEvent.blur(notes);
    await waitFor(() => expect([...server.setlists.values()][0]?.entries[1]?.notes).toBe('capo 2, count in'));

    fireEvent.click(within(editor).getByRole('button', { name: 'Play set' }));
    expect(opened).toEqual([intro]);
    expect((await screen.findByTestId('set-run-position')).textContent).toBe('1 of 2: Intro');
    fireEvent.click(screen.getByRole('button', { name: 'Next song' }));
    expect(opened).toEqual([intro, verse]);
    expect(screen.getByTestId('set-run-position').textContent).toBe('2 of 2: Verse');
    expect(screen.getByRole('button', { name: 'Next song' })).toHaveProperty('disabled', true);
  });
});

describe('set sheet', () => {
  it('shows title, key, tempo, duration and notes per song from the server, and prints', async () => {
    const { server, setlistId } = await openFriday();
    const entries = server.setlists.get(setlistId)?.entries ?? [];
    if (entries[0]) entries[0].notes = 'start on the count';
    const print = vi.spyOn(window, 'print').mockImplementation(() => {});
    fireEvent.click(screen.getByRole('button', { name: 'Set sheet' }));
    const sheet = screen.getByTestId('set-sheet');
    expect(sheet.parentElement).toBe(document.body);
    expect(sheet.hasAttribute('open')).toBe(true);
    const rows = await within(sheet).findAllByTestId('sheet-row');
    expect(within(sheet).getByRole('heading', { name: 'Friday' })).toBeTruthy();
    const cells = rows.map((row) => [...row.querySelectorAll('th, td')].map((c) => c.textContent));
    expect(cells).toEqual([
      ['1', 'Intro', 'A minor', '120 BPM', '1:00', 'start on the count'],
      ['2', 'Verse', '—', '—', '2:00', ''],
      ['3', 'Outro', '—', '—', '3:00', ''],
    ]);
    expect(within(sheet).getByTestId('sheet-total').textContent).toBe('3 songs · 6:00 in all');
    expect(server.requests.some((r) => r.method === 'GET' && r.path === `/api/setlists/${setlistId}/sheet`)).toBe(true);
    fireEvent.click(within(sheet).getByRole('button', { name: 'Print' }));
    expect(print).toHaveBeenCalledTimes(1);
    fireEvent.click(within(sheet).getByRole('button', { name: 'Close' }));
    expect(sheet.hasAttribute('open')).toBe(false);
  });

  it('says in a sentence why the sheet is not there', async () => {
    const { server, setlistId } = await openFriday();
    server.setlists.delete(setlistId);
    fireEvent.click(screen.getByRole('button', { name: 'Set sheet' }));
    const sheet = screen.getByTestId('set-sheet');
    expect((await within(sheet).findByRole('alert')).textContent).toBe('The set sheet could not be loaded: No such setlist.');
    expect(within(sheet).getByRole('button', { name: 'Print' })).toHaveProperty('disabled', true);
  });
});

describe('playing a set through', () => {
  it('opens the next song when the set’s song reaches its end, only with auto-advance on and only for the set’s song', async () => {
    resetWebAudio();
    const engine = new PlayerEngine(new FakeAudioContext() as unknown as AudioContext);
    try {
      const buffer = await engine.decode(new ArrayBuffer(8));
      const entry = (song_id: string, position: number) => ({ song_id, position, notes: '', name: song_id, artist: null, duration: 3 });
      const setlist: Setlist = { id: 'set', name: 'Set', owned: true, bands: [], songs: [entry('a', 0), entry('b', 1), entry('c', 2)], duration: 9, created_at: 1, updated_at: 1 };
      const opened: string[] = [];
      const openSong = (id: string) => {
        opened.push(id);
        return Promise.resolve(true);
      };
      const { result, rerender } = renderHook(({ open }: { open: string | null }) => useSetlistPlayback(engine, openSong, open), { initialProps: { open: null as string | null } });
      /** The open song plays, and its stems reach their end. */
      const playToTheEnd = async (songId: string) => {
        rerender({ open: songId });
        engine.load([{ name: 'vocals', buffer }]);
        await engine.play();
        act(() => bufferSources().at(-1)?.onended?.());
      };

      act(() => result.current.start(setlist, 0));
      expect(opened).toEqual(['a']);
      expect(result.current.autoPlay).toEqual({ songId: 'a', token: 1 });
      await playToTheEnd('a');
      expect(opened).toEqual(['a', 'b']);
      expect(result.current.run?.index).toBe(1);
      expect(result.current.autoPlay).toEqual({ songId: 'b', token: 2 });

      // A song opened from the library meanwhile does not move the set on.
      await playToTheEnd('elsewhere');
      expect(opened).toEqual(['a', 'b']);

      act(() => result.current.setAutoAdvance(false));
      await playToTheEnd('b');
      expect(opened).toEqual(['a', 'b']);
      act(() => result.current.setAutoAdvance(true));
      await playToTheEnd('b');
      expect(opened).toEqual(['a', 'b', 'c']);
      // The last song's end ends nothing more.
      await playToTheEnd('c');
      expect(opened).toEqual(['a', 'b', 'c']);
      expect(result.current.run?.index).toBe(2);
    } finally {
      await engine.dispose();
    }
  });
});
