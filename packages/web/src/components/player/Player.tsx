import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Song } from '../../api/types';
import { songTitle } from '../../api/types';
import { formatTime } from '../../audio/clock';
import { TEMPO_MAX, TEMPO_MIN, TRANSPOSE_LIMIT, type PlayerEngine, type StemControls } from '../../audio/engine';
import { encodeWav, mixSuffix, renderMix } from '../../audio/mixdown';
import { describeError } from '../../api/errors';
import { stemCacheKey, type PartialSong, type Phase, type StemAsset } from '../../hooks/useStemProcessor';
import { usePlayer } from '../../hooks/usePlayer';
import type { AppServices } from '../../services/appServices';
import { extensionOf, saveFile } from '../../services/download';
import { AnalysisPanel } from '../analysis/AnalysisPanel';
import { EngineBadge } from '../library/EngineBadge';
import { BarRuler } from '../analysis/BarRuler';
import { useAnalysis } from '../analysis/useAnalysis';
import { usePracticeAudio } from '../analysis/usePracticeAudio';
import { gridFromAnalysis, snapLoop } from '../../music/grid';
import { StemRow } from './StemRow';
import type { SavedLoop } from '../../api/practice';
import { PracticeLogChart } from '../practice/PracticeLogChart';
import { usePracticeLog } from '../practice/usePracticeLog';
import { useWorkspace } from '../practice/useWorkspace';
import { WorkspacePanel } from '../practice/WorkspacePanel';
import { usePeaks, useReadyPeaks } from './usePeaks';
import { SeparationMark } from './SeparationMark';

const NO_STEMS: readonly string[] = [];
import { useShortcuts } from './useShortcuts';
import type { AutoPlayRequest } from '../setlists/useSetlistPlayback';

interface PlayerProps {
  services: AppServices;
  engine: PlayerEngine | null;
  song: Song | null;
  stems: StemAsset[];
  phase: Phase;
  /** A setlist asks for this song to start once it is loaded (after its workspace is applied). */
  autoPlay?: AutoPlayRequest | null;
  /** The stems are the ready part of a song still being separated (or, `loading`, still downloading). */
  separating?: PartialSong | null;
}

export function Player({ services, engine, song, stems, phase, autoPlay = null, separating = null }: PlayerProps) {
  const inputs = useMemo(() => stems.map(({ name, buffer }) => ({ name, buffer })), [stems]);
  const { snapshot, error } = usePlayer(engine, inputs, song?.id ?? null, separating?.totalSeconds ?? null);
  const stemNames = useMemo(() => stems.map((s) => s.name), [stems]);
  // While separating, the waveforms are drawn from what is ready; the server's peaks come after
  // (at once for a separated song still downloading: the server has its whole waveform).
  const growing = separating !== null && !separating.loading;
  const serverPeaks = usePeaks(services, song, growing ? NO_STEMS : stemNames);
  const readyPeaks = useReadyPeaks(growing ? stems : null, separating?.totalSeconds ?? 0);
  const peaks = readyPeaks ?? serverPeaks;
  const root = useRef<HTMLElement>(null);
  const timeText = useRef<HTMLSpanElement>(null);
  const seekInput = useRef<HTMLInputElement>(null);
  const seeking = useRef(false);
  const [markA, setMarkA] = useState<number | null>(null);
  const [mixing, setMixing] = useState(false);
  const [mixError, setMixError] = useState<string | null>(null);
  const markRef = useRef<number | null>(null);
  markRef.current = markA;
  const loopMarks = useMemo(
    () => ({
      get a() {
        return markRef.current;
      },
      setA: setMarkA,
    }),
    [],
  );
  // The timeline is the whole song, also while only its start is separated (and playable).
  const duration = snapshot?.separating?.totalSeconds ?? separating?.totalSeconds ?? snapshot?.duration ?? 0;
  const durationRef = useRef(duration);
  durationRef.current = duration;
  const { state: analysisState, analysis, replace: replaceAnalysis } = useAnalysis(services.api, song?.id ?? null);
  const grid = useMemo(() => gridFromAnalysis(analysis), [analysis]);
  const [activeLoop, setActiveLoop] = useState<SavedLoop | null>(null);
  const practice = usePracticeAudio(engine, grid, duration, activeLoop);
  const workspace = useWorkspace({ sync: services.practice, songId: song?.id ?? null, engine, snapshot, click: practice.settings, replaceClick: practice.replace });
  const ws = workspace.state;
  const active = ws?.loops.find((l) => l.id === ws.active_loop_id) ?? null;
  useEffect(() => setActiveLoop(active), [active]);
  const practiceLog = usePracticeLog(services.api, services.practiceLog, engine, song?.id ?? null, active?.id ?? null);
  // The first sound waits for the saved workspace (mix, tempo, loop) to be applied.
  const { whenReady } = workspace;
  const { toggle: toggleAudio } = practice;
  const play = useCallback(async () => {
    if (engine && !engine.playing) await whenReady();
    await toggleAudio();
  }, [engine, whenReady, toggleAudio]);
  const gridRef = useRef(grid);
  gridRef.current = grid;
  const myPart = ws?.my_part ?? null;
  const music = useMemo(
    () => ({
      get grid() {
        return gridRef.current;
      },
      toggle: play,
      myPart,
    }),
    [play, myPart],
  );
  useShortcuts(engine, loopMarks, music);

  const loaded = Boolean(snapshot?.loaded);

  // Each setlist request plays once, when its song is the one loaded (play waits for the workspace).
  const autoPlayed = useRef(0);
  useEffect(() => {
    if (!autoPlay || !engine || !loaded || song?.id !== autoPlay.songId || autoPlayed.current === autoPlay.token) return;
    autoPlayed.current = autoPlay.token;
    if (!engine.playing) void play();
  }, [autoPlay, engine, loaded, song?.id, play]);

  // The playhead follows the audio clock every frame without re-rendering React.
  useEffect(() => {
    if (!engine) return;
    let frame = 0;
    const tick = () => {
      const d = durationRef.current || engine.duration;
      const pos = engine.position;
      root.current?.style.setProperty('--playhead', String(d > 0 ? pos / d : 0));
      if (timeText.current) timeText.current.textContent = formatTime(pos);
      if (seekInput.current && !seeking.current) seekInput.current.value = String(pos);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [engine]);

  const onStemChange = useCallback((name: string, update: Partial<StemControls>) => engine?.updateStem(name, update), [engine]);
  const onSeek = useCallback((t: number) => engine?.seek(t), [engine]);
  // A dragged loop snaps to the beats (to the bar line when close) when the song has a grid.
  const onLoop = useCallback(
    (a: number, b: number) => {
      const snapped = gridRef.current ? snapLoop(gridRef.current, a, b) : null;
      engine?.setLoop(snapped?.start ?? a, snapped?.end ?? b);
    },
    [engine],
  );
  const onLoopRange = useCallback((loop: { start: number; end: number }) => engine?.setLoop(loop.start, loop.end), [engine]);

  const downloadMix = async () => {
    if (!engine || !song) return;
    setMixing(true);
    setMixError(null);
    try {
      const snap = engine.snapshot();
      const timing = { tempo: snap.tempo, transpose: snap.transpose };
      const blob = await renderMix(engine.buffers(), engine.effectiveGains(), snap.stems, snap.masterVolume, timing);
      saveFile(blob, `${songTitle(song)} - mix${mixSuffix(timing)}.wav`);
    } catch (err) {
      setMixError(describeError(err));
    } finally {
      setMixing(false);
    }
  };

  // A stem's file is built only when asked for: read from the cache (IndexedDB, else the
  // server) at that moment, so the page never keeps encoded copies next to the decoded audio.
  const stemsRef = useRef(stems);
  stemsRef.current = stems;
  const onDownload = useCallback(
    async (name: string) => {
      const stem = stemsRef.current.find((s) => s.name === name);
      if (!song || !stem) return;
      const base = `${songTitle(song)} - ${name}`;
      setMixError(null);
      try {
        const { bytes, contentType } = await services.cache.get(
          stemCacheKey(song.id, name, stem.format),
          services.api.stemUrl(song.id, name, stem.format),
          undefined,
          { keepInMemory: false },
        );
        saveFile(new Blob([bytes], { type: contentType }), `${base}.${extensionOf(contentType)}`);
      } catch (err) {
        // Neither the cache nor the server has the file (offline with a full disk): write a
        // WAV from the decoded audio instead.
        try {
          const { buffer } = stem;
          const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
          saveFile(new Blob([encodeWav(channels, buffer.sampleRate)], { type: 'audio/wav' }), `${base}.wav`);
        } catch {
          setMixError(describeError(err));
        }
      }
    },
    [services, song],
  );

  if (!song || stems.length === 0) {
    return (
      <section className="panel player empty" aria-label="Player" data-testid="player" data-phase={phase}>
        <div className="empty-state">
          <h2>{phase === 'loading' ? 'Loading the song…' : 'Nothing open'}</h2>
          <p className="muted">
            {phase === 'loading' ? 'Fetching stems.' : 'Drop a song in the library, or open one that is already separated.'}
          </p>
        </div>
      </section>
    );
  }

  const title = songTitle(song);
  const tempoPct = Math.round((snapshot?.tempo ?? 1) * 100);
  const transpose = snapshot?.transpose ?? 0;
  const gains = engine?.effectiveGains() ?? {};
  const loop = snapshot?.loop ?? null;

  return (
    <section ref={root} className="panel player" aria-label={`Player: ${title}`} data-testid="player" data-phase={phase}>
      <div className="player-head">
        <div>
          <h2 className="truncate">{title}</h2>
          {song.artist && <p className="muted">{song.artist}</p>}
          <EngineBadge api={services.api} song={song} />
        </div>
        <button type="button" className="btn" onClick={() => void downloadMix()} disabled={!loaded || mixing}>
          {mixing ? 'Rendering…' : 'Download mix'}
        </button>
      </div>
      {(error || mixError) && (
        <p className="error" role="alert">
          {error ?? mixError}
        </p>
      )}

      <div className="transport" role="group" aria-label="Transport">
        <button
          type="button"
          className="btn play"
          onClick={() => void play()}
          disabled={!loaded}
          aria-label={snapshot?.playing ? 'Pause' : 'Play'}
          data-testid="play"
        >
          {snapshot?.playing ? '❚❚' : '▶'}
        </button>
        <div className="time" aria-live="off">
          <span ref={timeText} data-testid="time">
            0:00
          </span>
          <span className="muted"> / {formatTime(duration)}</span>
        </div>
        <div className="seek-wrap">
        <input
          ref={seekInput}
          className="seek"
          type="range"
          min={0}
          max={duration || 1}
          step={0.01}
          defaultValue={0}
          aria-label="Position"
          disabled={!loaded}
          onPointerDown={() => (seeking.current = true)}
          onPointerUp={() => (seeking.current = false)}
          onChange={(e) => engine?.seek(Number(e.target.value))}
        />
        {snapshot?.separating && <SeparationMark {...snapshot.separating} loading={separating?.loading ?? false} />}
        </div>
      </div>

      <div className="controls-row">
        <div className="control" role="group" aria-label="Loop">
          <span className="control-label">Loop</span>
          <button type="button" className="btn small" onClick={() => engine && setMarkA(engine.position)} disabled={!loaded}>
            {markA === null ? 'Set A' : `A ${formatTime(markA)}`}
          </button>
          <button
            type="button"
            className="btn small"
            disabled={!loaded}
            onClick={() => {
              if (!engine) return;
              engine.setLoop(markA ?? loop?.start ?? 0, engine.position);
              setMarkA(null);
            }}
          >
            Set B
          </button>
          <button
            type="button"
            className={`btn small toggle-btn${snapshot?.loopEnabled ? ' on' : ''}`}
            aria-pressed={Boolean(snapshot?.loopEnabled)}
            disabled={!loop}
            onClick={() => engine?.setLoopEnabled(!snapshot?.loopEnabled)}
            data-testid="loop-toggle"
          >
            {loop ? `${formatTime(loop.start)}–${formatTime(loop.end)}` : 'Off'}
          </button>
          {loop && (
            <button type="button" className="btn ghost small" onClick={() => engine?.clearLoop()}>
              Clear
            </button>
          )}
        </div>

        <div className="control" role="group" aria-label="Tempo">
          <label className="control-label" htmlFor="tempo">
            Tempo
          </label>
          <input
            id="tempo"
            type="range"
            min={TEMPO_MIN * 100}
            max={TEMPO_MAX * 100}
            step={1}
            value={tempoPct}
            aria-valuetext={`${tempoPct}%`}
            onChange={(e) => engine?.setTempo(Number(e.target.value) / 100)}
            data-testid="tempo"
          />
          <button type="button" className="btn ghost small value" onClick={() => engine?.setTempo(1)} aria-label={`Tempo ${tempoPct}%, reset to 100%`}>
            {tempoPct}%
          </button>
        </div>

        <div className="control" role="group" aria-label="Transpose">
          <span className="control-label">Key</span>
          <button type="button" className="btn small" aria-label="Transpose down" onClick={() => engine?.setTranspose(transpose - 1)} disabled={transpose <= -TRANSPOSE_LIMIT}>
            −
          </button>
          <output className="value" aria-live="polite" aria-label="Transpose">
            {transpose > 0 ? `+${transpose}` : transpose} st
          </output>
          <button type="button" className="btn small" aria-label="Transpose up" onClick={() => engine?.setTranspose(transpose + 1)} disabled={transpose >= TRANSPOSE_LIMIT}>
            +
          </button>
        </div>

        <div className="control" role="group" aria-label="Master volume">
          <label className="control-label" htmlFor="master">
            Master
          </label>
          <input
            id="master"
            type="range"
            min={0}
            max={1.5}
            step={0.01}
            value={snapshot?.masterVolume ?? 0.9}
            aria-valuetext={`${Math.round((snapshot?.masterVolume ?? 0.9) * 100)}%`}
            onChange={(e) => engine?.setMasterVolume(Number(e.target.value))}
          />
        </div>
      </div>
      <AnalysisPanel
        api={services.api}
        songId={song.id}
        engine={engine}
        state={analysisState}
        grid={grid}
        transpose={transpose}
        click={practice.settings}
        capo={ws?.capo ?? 0}
        onCapo={(capo) => workspace.edit((s) => ({ ...s, capo }))}
        onClickChange={practice.update}
        onLoop={onLoopRange}
        onAnalysis={replaceAnalysis}
      />
      {workspace.error && (
        <p className="error" role="alert">
          {workspace.error}
        </p>
      )}
      {snapshot?.stretch === 'unavailable' && (
        <p className="notice">This browser cannot run the time-stretcher: tempo changes will also change the pitch.</p>
      )}

      {analysis && <BarRuler engine={engine} grid={grid} sections={analysis.sections} duration={duration || song.duration} onLoopSection={onLoopRange} />}
      <ul className="stems" aria-label="Stems">
        {stems.map((stem) => (
          <StemRow
            key={stem.name}
            name={stem.name}
            controls={snapshot?.stems[stem.name] ?? { volume: 1, muted: false, soloed: false, pan: 0 }}
            peaks={peaks[stem.name] ?? null}
            duration={duration || song.duration}
            loop={loop}
            loopEnabled={Boolean(snapshot?.loopEnabled)}
            onDownload={onDownload}
            audible={(gains[stem.name] ?? 1) > 0}
            source={stem.source}
            onChange={onStemChange}
            onSeek={onSeek}
            onLoop={onLoop}
          />
        ))}
      </ul>
      {/* Below the mixer: the stems stay next to the transport. */}
      {ws && (
        <WorkspacePanel engine={engine} snapshot={snapshot} state={ws} edit={workspace.edit} stems={stemNames} passInfo={practice.passInfo} status={workspace.status} />
      )}
      <PracticeLogChart log={practiceLog} />
    </section>
  );
}
