/**
 * Upload → job → stems lifecycle of one song at a time.
 *
 *   const { state, processSong, openSong, cancel } = useStemProcessor(deps);
 *   await processSong(file); // false when another song is still being processed
 *
 * A second processSong()/openSong() while one runs is refused. The open song keeps playing
 * while the next one is processed; when the new song's stems are ready, the previous song's
 * subscriptions are closed and its decoded stems dropped. Each run's cleanup is in a
 * `finally`, so an exception still closes its socket; unmounting aborts the run and
 * releases everything (no socket, timer or object URL is left behind).
 *
 * Stems are fetched (cache → network) and decoded as each arrives, all in parallel (`stemLoad.ts`);
 * the page holds one copy of each stem: its AudioBuffer. Downloads re-read the file from the cache on click.
 * While a job runs, its song plays as far as it is separated (`progressiveJob.ts`); the finished
 * stems then take its place. A separated song not yet in this browser plays from the first seconds
 * of its stems while the rest downloads (`headStart.ts`); one held in IndexedDB, from the first part
 * of its cached files while they decode (`stemLoad.ts`).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, asSentence, describeError } from '../api/errors';
import type { AudioFormat, Job, Song } from '../api/types';
import { isFinal, songStems, songTitle } from '../api/types';
import { sha256File } from '../services/hashing';
import { session } from '../services/session';
import { mark } from '../services/perf';
import { HEAD_SECONDS, beginHead, wantsHead } from './headStart';
import { loadStems } from './stemLoad';
import { ProgressiveJob } from './progressiveJob';
import { BUSY_PHASES, INITIAL_STATE, type Phase, type ProcessorState, type StemAsset, type StemProcessorDeps } from './stemProcessorTypes';

export { INITIAL_STATE } from './stemProcessorTypes';
export type { PartialSong, Phase, ProcessorState, StemAsset, StemProcessorDeps } from './stemProcessorTypes';

/** Resources of the song on screen; released when another song opens or on unmount. */
interface SongResources {
  unsubscribers: (() => void)[];
}

export const DEFAULT_STEM_FORMAT: AudioFormat = 'flac';

interface LoadOptions {
  /** The song's metadata, when the caller has it (`fresh`: as the server has it now). */
  knownSong?: Song;
  fresh?: boolean;
  /** Open the song from the first seconds of its stems while they download (`headStart.ts`). */
  headStart?: boolean;
}

/** The server says the job followed over the socket is not there (deleted, or another account's). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super('The server has no such job any more (it may have been deleted).');
  }
}

export const stemCacheKey = (songId: string, stem: string, format: string) => `stem:${songId}:${stem}:${format}`;

export function useStemProcessor(deps: StemProcessorDeps) {
  const [state, setState] = useState<ProcessorState>(INITIAL_STATE);
  const depsRef = useRef(deps);
  depsRef.current = deps;
  const mounted = useRef(true);
  // The running operation, if any; its controller doubles as the run's identity.
  const runAbort = useRef<AbortController | null>(null);
  const currentJob = useRef<string | null>(null);
  const songRes = useRef<SongResources>({ unsubscribers: [] });

  const patch = useCallback((update: Partial<ProcessorState>) => {
    if (mounted.current) setState((s) => ({ ...s, ...update }));
  }, []);

  const releaseSong = useCallback(() => {
    const res = songRes.current;
    songRes.current = { unsubscribers: [] };
    for (const off of res.unsubscribers) off();
  }, []);

  /** Run `body` as the one active operation; refused (false) when another runs. */
  const exclusive = useCallback(
    async (fileName: string | null, phase: Phase, body: (signal: AbortSignal, res: SongResources) => Promise<void>): Promise<boolean> => {
      if (runAbort.current) return false;
      const abort = new AbortController();
      runAbort.current = abort;
      const res: SongResources = { unsubscribers: [] };
      patch({ fileName, phase, song: null, job: null, progress: 0, stage: null, etaSeconds: null, error: null });
      try {
        await body(abort.signal, res);
      } catch (err) {
        if (runAbort.current !== abort) return true; // unmounted or superseded: nothing to show
        if (err instanceof ApiError && err.status === 401) {
          // Logged out: the login form replaces the room; the saved job resumes after the login.
          patch({ phase: 'idle', error: null, etaSeconds: null });
          return true;
        }
        if (abort.signal.aborted) patch({ phase: 'cancelled', error: null, etaSeconds: null });
        else patch({ phase: 'failed', error: describeError(err), etaSeconds: null });
        const saved = session.load();
        if (saved.jobId) session.save({ songId: saved.songId });
      } finally {
        // Runs whatever happened: no socket, listener or in-flight request survives the run.
        for (const off of res.unsubscribers.splice(0)) off();
        abort.abort();
        if (runAbort.current === abort) {
          runAbort.current = null;
          currentJob.current = null;
        }
      }
      return true;
    },
    [patch],
  );

  const waitForJob = useCallback(
    (job: Job, signal: AbortSignal, res: SongResources, progressive: ProgressiveJob | null): Promise<Job> => {
      currentJob.current = job.id;
      const showJob = (j: Job) => {
        progressive?.update(j);
        patch({
          job: j,
          phase: j.state === 'queued' ? 'queued' : 'separating',
          progress: j.progress,
          stage: j.stage,
          etaSeconds: j.eta_seconds,
        });
      };
      showJob(job);
      if (isFinal(job.state)) return Promise.resolve(job);
      const socket = depsRef.current.createSocket();
      res.unsubscribers.push(() => socket.destroy());
      return new Promise<Job>((resolve, reject) => {
        // Safety net: if the socket is quiet about this job for a while, ask the server directly,
        // so a lost event can delay the result but never hide it.
        const pollMs = depsRef.current.jobPollMs ?? 8000;
        let watchdog: ReturnType<typeof setTimeout> | null = null;
        const arm = () => {
          if (watchdog !== null) clearTimeout(watchdog);
          watchdog = setTimeout(() => {
            watchdog = null;
            depsRef.current.api.getJob(job.id, signal).then(
              (j) => {
                if (signal.aborted) return;
                if (isFinal(j.state)) resolve(j);
                else {
                  showJob(j);
                  arm();
                }
              },
              () => {
                if (!signal.aborted) arm();
              },
            );
          }, pollMs);
        };
        res.unsubscribers.push(() => {
          if (watchdog !== null) clearTimeout(watchdog);
          watchdog = null;
        });
        res.unsubscribers.push(
          socket.on('job', (j) => {
            if (j.id !== job.id) return;
            arm();
            if (!isFinal(j.state)) showJob(j);
          }),
          socket.on('final', (j) => {
            if (j.id === job.id) resolve(j);
          }),
          socket.on('error', (problem) => {
            if (problem.code === 'not_found' && problem.jobId === job.id) {
              reject(new JobNotFoundError(job.id));
            } else if (problem.jobId === null || problem.jobId === job.id) {
              // The job is still followed by polling; say what the server said meanwhile.
              patch({ error: asSentence(problem.message || `The server reported ${problem.code}.`) });
            }
          }),
        );
        const onAbort = () => reject(new DOMException('Cancelled', 'AbortError'));
        signal.addEventListener('abort', onAbort, { once: true });
        res.unsubscribers.push(() => signal.removeEventListener('abort', onAbort));
        arm();
        socket.subscribe([job.id]);
        socket.connect();
      });
    },
    [patch],
  );

  const loadSong = useCallback(
    async (songId: string, signal: AbortSignal, res: SongResources, { knownSong, fresh = false, headStart = true }: LoadOptions = {}) => {
      const { api, cache, decode, createBuffer, stemFormat = DEFAULT_STEM_FORMAT } = depsRef.current;
      let song = knownSong ?? null;
      if (!fresh || !song) {
        try {
          song = await api.getSong(songId, signal);
          session.saveSong(song);
        } catch (err) {
          // Offline: the song's metadata saved on an earlier visit is enough to play from the cache.
          song = song ?? session.loadSong(songId);
          if (!song) throw err;
        }
      }
      const current = song;
      session.save({ songId: current.id });
      mark('song-meta');
      const names = songStems(current);
      patch({ song: current, phase: 'loading', progress: 0, stage: null, etaSeconds: null });
      if (names.length === 0) throw new Error(`${current.title ?? 'This song'} has no stems yet.`);
      let headShown = false;
      const show = (heads: StemAsset[], readySeconds: number) => {
        releaseSong(); // the song open until now stops here: this one is playable
        headShown = true;
        mark('head-start');
        patch({ openSong: current, stems: heads, progressive: { readySeconds, totalSeconds: current.duration, loading: true } });
      };
      const key = (name: string) => stemCacheKey(current.id, name, stemFormat);
      // Not in this browser: a head over the network first; held: the song opens from its cached files.
      const headDeps = { api, decode, isHeld: (name: string) => cache.has(key(name)), show: (heads: StemAsset[]) => show(heads, HEAD_SECONDS) };
      const held = headStart && createBuffer ? await beginHead(headDeps, current, names, signal) : false;
      const url = (name: string) => api.stemUrl(current.id, name, stemFormat);
      let stems: StemAsset[];
      try {
        stems = await loadStems({ cache, decode, createBuffer, format: stemFormat, key, url }, names, signal, {
          localHead: held && wantsHead(current) ? { duration: current.duration, show } : null,
          onDecoded: (count) => patch({ progress: count / names.length }),
        });
      } catch (err) {
        if (headShown) patch({ stems: [], openSong: null, progressive: null }); // no half a song left playing
        throw err;
      }
      if (signal.aborted) throw new DOMException('Cancelled', 'AbortError');
      // The new song replaces the open one only now, so the old one played on until here.
      releaseSong();
      songRes.current = res;
      mark('stems-ready');
      // Over stems of the same song that played while it was separated, the engine hands over in place.
      patch({ phase: 'ready', stems, openSong: current, progress: 1, progressive: null });
    },
    [patch, releaseSong],
  );

  /** Follow `job` to its end; true once its stems are loaded (false: it failed or was cancelled). */
  const followJob = useCallback(
    async (job: Job, song: Song | null, signal: AbortSignal, res: SongResources, progressive: ProgressiveJob | null): Promise<boolean> => {
      const final = await waitForJob(job, signal, res, progressive);
      progressive?.stop();
      mark('job-final');
      // A socket or cancel error shown while the job ran is moot once it is over.
      patch({ job: final, error: null });
      if (final.state === 'cancelled') {
        session.save({ songId: job.song_id });
        patch({ phase: 'cancelled', etaSeconds: null });
        return false;
      }
      if (final.state === 'failed') {
        session.save({ songId: job.song_id });
        patch({ phase: 'failed', error: final.error ?? 'Separation failed.', etaSeconds: null });
        return false;
      }
      // A job that was already done when started (content separated before) leaves the song's
      // metadata as it was: no need to ask for it again.
      const fresh = isFinal(job.state) && song !== null && songStems(song).length > 0;
      // Over the ready part the job already showed, the finished stems hand over: no head needed.
      await loadSong(job.song_id, signal, res, { knownSong: song ?? undefined, fresh, headStart: !progressive?.shown });
      return true;
    },
    [loadSong, patch, waitForJob],
  );

  /** While `job` runs, its song plays as far as it is separated (when the engine can grow stems). */
  const openProgressive = useCallback(
    (job: Job, song: Song | null, signal: AbortSignal): ProgressiveJob | null => {
      const { api, decode, createBuffer } = depsRef.current;
      if (!createBuffer || isFinal(job.state)) return null;
      const onUpdate = (s: Song, stems: StemAsset[], seconds: number, first: boolean) => {
        if (signal.aborted) return;
        if (first) releaseSong(); // the song open until now stops here: this one is playable
        patch({ openSong: s, stems, progressive: { readySeconds: seconds, totalSeconds: s.duration } });
      };
      return new ProgressiveJob(job, song, { api, decode, createBuffer, onUpdate }, signal);
    },
    [patch, releaseSong],
  );

  const finishJob = useCallback(
    async (job: Job, song: Song | null, signal: AbortSignal, res: SongResources) => {
      // The name too, so the status line after a reload says which song the job is for.
      session.save({ songId: job.song_id, jobId: job.id, fileName: song ? songTitle(song) : undefined });
      const progressive = openProgressive(job, song, signal);
      let loaded = false;
      try {
        loaded = await followJob(job, song, signal, res, progressive);
      } finally {
        progressive?.stop();
        // The job ended without its stems (failed, cancelled, an error): its partial song goes.
        if (progressive?.shown && !loaded) patch({ stems: [], openSong: null, progressive: null });
      }
    },
    [followJob, openProgressive, patch],
  );

  const processSong = useCallback(
    (file: File): Promise<boolean> =>
      exclusive(file.name, 'hashing', async (signal, res) => {
        const { api, hashFile = sha256File } = depsRef.current;
        mark('drop');
        const sha = await hashFile(file, { signal, onProgress: (p) => patch({ progress: p }) });
        mark('hashed');
        let song = await api.songByHash(sha, signal);
        mark('by-hash');
        if (!song) {
          patch({ phase: 'uploading', progress: 0 });
          song = await api.uploadSong(file, {
            signal,
            onProgress: (loaded, total) => patch({ progress: total > 0 ? loaded / total : 0 }),
          });
        }
        session.saveSong(song);
        patch({ song, phase: 'queued', progress: 0 });
        if (signal.aborted) throw new DOMException('Cancelled', 'AbortError');
        const job = await api.startSeparation(song.id, {});
        mark(`job-started:${job.state}`);
        await finishJob(job, song, signal, res);
      }),
    [exclusive, finishJob, patch],
  );

  const openSong = useCallback(
    (songId: string): Promise<boolean> => exclusive(null, 'loading', (signal, res) => loadSong(songId, signal, res)),
    [exclusive, loadSong],
  );

  /** Follow a job started earlier (e.g. before a reload) through to its stems. */
  const resumeJob = useCallback(
    (jobId: string, fileName: string | null = null): Promise<boolean> =>
      exclusive(fileName, 'queued', async (signal, res) => {
        const job = await depsRef.current.api.getJob(jobId, signal);
        await finishJob(job, null, signal, res);
      }),
    [exclusive, finishJob],
  );

  /** Cancel what runs now: the server job if there is one, else the local hashing/upload. */
  const cancel = useCallback(async () => {
    const jobId = currentJob.current;
    if (jobId) {
      try {
        await depsRef.current.api.cancelJob(jobId);
        return;
      } catch (err) {
        patch({ error: describeError(err) });
      }
    }
    runAbort.current?.abort();
  }, [patch]);

  /** Close the song on screen (its subscriptions closed, its decoded stems dropped). */
  const close = useCallback(() => {
    if (runAbort.current) return false;
    releaseSong();
    session.clear();
    patch(INITIAL_STATE);
    return true;
  }, [patch, releaseSong]);

  useEffect(() => {
    mounted.current = true;
    if (depsRef.current.restore !== false) {
      const saved = session.load();
      if (saved.jobId) void resumeJob(saved.jobId, saved.fileName ?? null);
      else if (saved.songId) void openSong(saved.songId);
    }
    return () => {
      mounted.current = false;
      runAbort.current?.abort();
      runAbort.current = null;
      currentJob.current = null;
      releaseSong();
    };
    // Mount/unmount only: the callbacks are stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const busy = BUSY_PHASES.has(state.phase);
  return { state, processSong, openSong, resumeJob, cancel, close, busy };
}
