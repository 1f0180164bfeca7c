// Play while it separates, the issue's own case: a new 2-minute song on a server whose engine is
// an untrained htdemucs of the published shape (the real network's speed, on this CPU, eagerly),
// one worker on every core. The same scenarios as the dsp suite: playable before the job is done,
// the clock runs and it sounds, playback waits at the frontier and plays on, the finished stems
// take over at the same position (within 10 ms).
import { join } from 'node:path';
import { engineEnv, makeRandomHtdemucsDir } from '../bench/engines.mjs';
import { progressiveTests } from './progressive.mjs';

export const SONG_SECONDS = 120;

export const tests = progressiveTests({ songSeconds: SONG_SECONDS, playableMs: 120_000, handOverMs: 900_000 }).slice(0, 3);

/** The server's settings: the model is written into its data dir (gone with it). */
export function prepareServer(server) {
  const { dir } = makeRandomHtdemucsDir(join(server.dataDir, 'models'));
  Object.assign(server.env, engineEnv('htdemucs', dir), { RIFFROOM_DEMUCS_COMPILE: '0' });
}
