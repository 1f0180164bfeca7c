/**
 * Practised time of the open song: the engine's play/pause, the active loop and the tempo feed a
 * PracticeTimer; the chunks it closes go to the outbox (server, IndexedDB while offline). The
 * song's totals for the chart are fetched on open and after each delivery.
 */
import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import type { PracticeLogOut } from '../../api/practice';
import type { PlayerEngine } from '../../audio/engine';
import { PracticeTimer, type PracticeLogOutbox } from '../../practice/practiceLog';

export function usePracticeLog(api: ApiClient, outbox: PracticeLogOutbox, engine: PlayerEngine | null, songId: string | null, activeLoopId: string | null) {
  const [log, setLog] = useState<PracticeLogOut | null>(null);
  const loopRef = useRef(activeLoopId);
  loopRef.current = activeLoopId;

  useEffect(() => {
    if (!engine || !songId) return;
    const timer = new PracticeTimer();
    const feed = () => {
      const snap = engine.snapshot();
      const closed = timer.update({ playing: snap.playing, loopId: snap.loopEnabled ? loopRef.current : null, tempo: snap.tempo }, Date.now());
      void outbox.add(songId, closed);
    };
    feed();
    const off = engine.on('change', feed);
    return () => {
      off();
      void outbox.add(songId, timer.stop(Date.now()));
    };
  }, [engine, songId, outbox, activeLoopId]);

  useEffect(() => {
    setLog(null);
    if (!songId) return;
    const abort = new AbortController();
    const load = () =>
      api.getPracticeLog(songId, 7, abort.signal).then(
        (out) => {
          if (!abort.signal.aborted) setLog(out);
        },
        () => {}, // no server (offline) or no log route yet: no chart
      );
    void load();
    const off = outbox.onDelivered((id) => {
      if (id === songId) void load();
    });
    return () => {
      abort.abort();
      off();
    };
  }, [api, outbox, songId]);

  return log;
}
