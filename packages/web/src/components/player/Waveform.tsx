import { useEffect, useRef, useState, type PointerEvent } from 'react';
import type { Peaks } from '../../api/types';
import type { Loop } from '../../audio/clock';

interface WaveformProps {
  peaks: Peaks | null;
  color: string;
  duration: number;
  loop: Loop | null;
  loopEnabled: boolean;
  label: string;
  onSeek: (seconds: number) => void;
  onLoop: (a: number, b: number) => void;
}

const DRAG_THRESHOLD_PX = 5;

/** Min/max peaks drawn on a canvas; click seeks, drag selects an A-B loop. */
export function Waveform({ peaks, color, duration, loop, loopEnabled, label, onSeek, onLoop }: WaveformProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x0: number; t0: number; moved: boolean } | null>(null);
  const [selection, setSelection] = useState<Loop | null>(null);
  const [width, setWidth] = useState(0);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.round(entry?.contentRect.width ?? 0)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !peaks || width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    const height = c.clientHeight || 56;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    g.fillStyle = color;
    const n = peaks.max.length;
    const mid = height / 2;
    for (let x = 0; x < width; x++) {
      const i0 = Math.floor((x / width) * n);
      const i1 = Math.max(i0 + 1, Math.floor(((x + 1) / width) * n));
      let lo = 0;
      let hi = 0;
      for (let i = i0; i < i1 && i < n; i++) {
        lo = Math.min(lo, peaks.min[i] ?? 0);
        hi = Math.max(hi, peaks.max[i] ?? 0);
      }
      const top = mid - hi * mid;
      const h = Math.max(1, (hi - lo) * mid);
      g.fillRect(x, top, 1, h);
    }
  }, [peaks, width, color]);

  const timeAt = (clientX: number) => {
    const rect = box.current?.getBoundingClientRect();
    if (!rect || rect.width === 0) return 0;
    return Math.max(0, Math.min(1, (clientX - rect.left) / rect.width)) * duration;
  };

  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x0: e.clientX, t0: timeAt(e.clientX), moved: false };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    if (!d.moved && Math.abs(e.clientX - d.x0) < DRAG_THRESHOLD_PX) return;
    d.moved = true;
    const t = timeAt(e.clientX);
    setSelection({ start: Math.min(d.t0, t), end: Math.max(d.t0, t) });
  };
  const onPointerUp = (e: PointerEvent) => {
    const d = drag.current;
    drag.current = null;
    setSelection(null);
    if (!d) return;
    if (d.moved) onLoop(d.t0, timeAt(e.clientX));
    else onSeek(d.t0);
  };

  const region = selection ?? loop;
  const pct = (t: number) => `${duration > 0 ? (t / duration) * 100 : 0}%`;
  return (
    <div
      ref={box}
      className="waveform"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => {
        drag.current = null;
        setSelection(null);
      }}
      role="img"
      aria-label={`${label} waveform: click to seek, drag to set a loop`}
      data-testid="waveform"
      data-has-peaks={peaks ? 'true' : 'false'}
    >
      <canvas ref={canvas} />
      {!peaks && <div className="waveform-placeholder" />}
      {region && (
        <div
          className={`loop-region${selection ? ' selecting' : ''}${loopEnabled || selection ? '' : ' inactive'}`}
          style={{ left: pct(region.start), width: `calc(${pct(region.end)} - ${pct(region.start)})` }}
        />
      )}
      <div className="playhead" />
    </div>
  );
}
