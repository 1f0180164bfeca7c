import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { useMemo } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { BandsApi } from '../src/api/bands';
import type { SetlistSummary } from '../src/api/setlists';
import type { Song } from '../src/api/types';
import { BandPanel } from '../src/components/bands/BandPanel';
import { FakeRoomServer } from './roomServer';
import { makeSong } from './songs';

afterEach(cleanup);

interface HarnessProps {
  server: FakeRoomServer;
  songs: Song[];
  setlists?: SetlistSummary[];
  onShares?: () => void;
}

function Harness({ server, songs, setlists = [], onShares = () => {} }: HarnessProps) {
  const api = useMemo(() => new BandsApi(server.api), [server]);
  return <BandPanel api={api} me={server.me} songs={songs} setlists={setlists} onShares={onShares} />;
}

/** Songs in the server and the same songs as the library lists them. */
function library(server: FakeRoomServer, names: { name: string; owner?: string }[]): Song[] {
  return names.map(({ name, owner = server.me }) => {
    const id = server.addSong({ name, owner });
    return { ...makeSong(id), title: name, owned: owner === server.me };
  });
}

const card = () => screen.getByTestId('band-card');
const alertText = async () => (await within(card()).findByRole('alert')).textContent;

async function createBand(name = 'The Testers') {
  await screen.findByText(/You are not in a band yet/);
  fireEvent.change(screen.getByLabelText('New band name'), { target: { value: name } });
  fireEvent.click(screen.getByRole('button', { name: 'Create band' }));
  return screen.findByRole('region', { name });
}

describe('BandPanel', () => {
  it('creates a band, invites a member by user name, and says in a sentence who does not exist', async () => {
    const server = new FakeRoomServer();
    render(<Harness server={server} songs={[]} />);
    const band = await createBand();
    expect(within(band).getAllByTestId('band-member').map((m) => m.textContent)).toEqual(['anna (owner)']);

    fireEvent.change(within(band).getByLabelText('User name to invite'), { target: { value: 'carol' } });
    fireEvent.click(within(band).getByRole('button', { name: 'Invite' }));
    expect(await alertText()).toBe("No user 'carol'.");
    expect(within(band).getByLabelText('User name to invite')).toHaveProperty('value', 'carol');

    fireEvent.change(within(band).getByLabelText('User name to invite'), { target: { value: 'ben' } });
    fireEvent.click(within(band).getByRole('button', { name: 'Invite' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-member').map((m) => m.textContent)).toEqual(['anna (owner)', 'benRemove']));
    expect(within(band).queryByRole('alert')).toBeNull();
    expect(within(band).getByLabelText('User name to invite')).toHaveProperty('value', '');
    expect([...server.bands.values()][0]?.members.map((m) => m.username)).toEqual(['anna', 'ben']);

    fireEvent.click(within(band).getByRole('button', { name: 'Remove ben from The Testers' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-member')).toHaveLength(1));
    expect([...server.bands.values()][0]?.members.map((m) => m.username)).toEqual(['anna']);
  });

  it('shares one of my songs and a setlist with the band, and unshares them', async () => {
    const server = new FakeRoomServer();
    const songs = library(server, [{ name: 'Intro' }, { name: 'Verse' }]);
    const setlistId = server.addSetlist('Friday', [songs[1]?.id ?? '']);
    const setlists: SetlistSummary[] = [{ id: setlistId, name: 'Friday', owned: true, bands: [], song_count: 1, duration: 3, updated_at: 1 }];
    let shares = 0;
    render(<Harness server={server} songs={songs} setlists={setlists} onShares={() => (shares += 1)} />);
    const band = await createBand();
    expect(within(band).getByText('No songs shared yet.')).toBeTruthy();

    fireEvent.change(within(band).getByLabelText('Song to share'), { target: { value: songs[0]?.id } });
    fireEvent.click(within(band).getByRole('button', { name: 'Share song' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-song').map((s) => s.textContent)).toEqual(['IntroUnshare']));
    expect(shares).toBe(1);
    expect([...server.bands.values()][0]?.songs).toEqual([songs[0]?.id]);
    // A shared song is not offered again.
    expect([...within(band).getByLabelText('Song to share').querySelectorAll('option')].map((o) => o.textContent)).toEqual(['Choose a song…', 'Verse']);

    fireEvent.change(within(band).getByLabelText('Setlist to share'), { target: { value: setlistId } });
    fireEvent.click(within(band).getByRole('button', { name: 'Share setlist' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-setlist').map((s) => s.textContent)).toEqual(['FridayUnshare']));
    // Sharing the setlist shares my songs in it.
    expect(within(band).getAllByTestId('band-song').map((s) => s.textContent)).toEqual(['IntroUnshare', 'VerseUnshare']);
    expect(shares).toBe(2);

    fireEvent.click(within(band).getByRole('button', { name: 'Stop sharing Intro' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-song').map((s) => s.textContent)).toEqual(['VerseUnshare']));
    fireEvent.click(within(band).getByRole('button', { name: 'Stop sharing the setlist Friday' }));
    await waitFor(() => expect(within(band).queryAllByTestId('band-setlist')).toHaveLength(0));
    expect([...server.bands.values()][0]).toMatchObject({ songs: [songs[1]?.id], setlists: [] });
    expect(shares).toBe(4);
  });

  it('shows a member the band without the owner’s controls, and the server’s refusals as sentences', async () => {
    const server = new FakeRoomServer();
    const songs = library(server, [{ name: 'Anna’s riff', owner: 'anna' }, { name: 'Mine', owner: 'ben' }]);
    server.bands.set('b1', { id: 'b1', name: 'The Testers', owner: 'anna', members: [{ username: 'anna', role: 'owner', added_at: 1 }, { username: 'ben', role: 'member', added_at: 2 }], songs: [songs[0]?.id ?? ''], setlists: [] });
    server.me = 'ben';
    const benSongs = songs.map((s) => ({ ...s, owned: s.title === 'Mine', bands: s.title === 'Mine' ? [] : [{ id: 'b1', name: 'The Testers' }] }));
    render(<Harness server={server} songs={benSongs} />);
    const band = await screen.findByRole('region', { name: 'The Testers' });
    expect(within(band).getByText('Owner: anna')).toBeTruthy();
    expect(within(band).queryByLabelText('User name to invite')).toBeNull();
    expect(within(band).queryByRole('button', { name: /^Remove / })).toBeNull();
    // Anna's song is shared; Ben may not end Anna's share.
    expect(within(band).getAllByTestId('band-song').map((s) => s.textContent)).toEqual(['Anna’s riff']);
    // Ben shares his own song; the server refuses once.
    server.refuseNext(404, 'not_found', 'no such song');
    fireEvent.change(within(band).getByLabelText('Song to share'), { target: { value: songs[1]?.id } });
    fireEvent.click(within(band).getByRole('button', { name: 'Share song' }));
    expect(await alertText()).toBe('No such song.');
    fireEvent.click(within(band).getByRole('button', { name: 'Share song' }));
    await waitFor(() => expect(within(band).getAllByTestId('band-song')).toHaveLength(2));
    expect(within(band).queryByRole('alert')).toBeNull();
  });

  it('says in a sentence that bands need accounts', async () => {
    const server = new FakeRoomServer();
    render(<Harness server={server} songs={[]} />);
    await screen.findByText(/You are not in a band yet/);
    server.refuseNext(409, 'accounts_required', 'bands need accounts: add them with `riffroom users add NAME`');
    fireEvent.change(screen.getByLabelText('New band name'), { target: { value: 'Solo' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create band' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Bands need accounts: add them with `riffroom users add NAME`.');
    expect(screen.queryByTestId('band-card')).toBeNull();
  });
});
