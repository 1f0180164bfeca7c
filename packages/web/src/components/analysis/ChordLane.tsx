import { useEffect, useRef, useState } from 'react';
import type { ChordSpan } from '../../api/analysis';
import { formatTime } from '../../audio/clock';
import type { PlayerEngine } from '../../audio/engine';
import { EDITABLE_QUALITIES, chordIndexAt, labelFromView, noteName, parseHarte, parseKey, shownOffset, spellingFor, transposeKey, transposeParsedKey, viewSymbol, type ChordView } from '../../music/chords';
import { useFrame } from './useFrame';

interface ChordLaneProps {
  engine: PlayerEngine | null;
  chords: readonly ChordSpan[];
  view: ChordView;
  keyConfidence: number | null;
  /** A chord corrected in the lane (label in the recording's key); absent: no editing. */
  onEdit?: (span: ChordSpan, label: string) => void;
  /** For tests: the time to show instead of the engine's position. */
  time?: number;
}

/** The song's key as it sounds now ("D minor" at +1), with how sure the analysis is. */
export function KeyDisplay({ songKey, transpose, confidence }: { songKey: string | null; transpose: number; confidence: number | null }) {
  if (!songKey) return null;
  const pct = confidence === null ? null : Math.round(confidence * 100);
  return (
    <p className="key-display" title={pct === null ? undefined : `The analysis is ${pct}% sure of the key`}>
      <span className="control-label">Key</span> <strong data-testid="song-key">{transposeKey(songKey, transpose)}</strong>
      {pct !== null && <span className="muted"> ({pct}% sure)</span>}
    </p>
  );
}

/**
 * The chords in time with playback: the current and the next one large, the whole song in a
 * strip that scrolls along. A click on a chord in the strip opens its editor.
 */
export function ChordLane({ engine, chords, view, keyConfidence, onEdit, time }: ChordLaneProps) {
  const [index, setIndex] = useState(() => chordIndexAt(chords, time ?? 0));
  const [editing, setEditing] = useState<number | null>(null);
  const strip = useRef<HTMLOListElement>(null);

  useFrame(() => {
    if (!engine) return;
    const next = chordIndexAt(chords, engine.position);
    setIndex((i) => (i === next ? i : next));
  }, engine !== null && time === undefined);
  useEffect(() => {
    if (time !== undefined) setIndex(chordIndexAt(chords, time));
  }, [chords, time]);

  useEffect(() => {
    const list = strip.current;
    const item = list?.children[index] as HTMLElement | undefined;
    if (list && item) list.scrollLeft = Math.max(0, item.offsetLeft - list.clientWidth / 2 + item.offsetWidth / 2);
  }, [index]);

  const current = chords[index];
  const upcoming = chords[index + 1] ?? (index < 0 ? chords.find((c) => c.start > (time ?? engine?.position ?? 0)) : undefined);
  const edited = editing === null ? undefined : chords[editing];
  return (
    <section className="chord-lane" aria-label="Chords">
      <div className="chord-big">
        <div aria-live="polite" aria-atomic="true" className="chord-now">
          <output aria-label="Current chord" data-testid="current-chord">
            {current ? viewSymbol(current.label, view) : '–'}
          </output>
        </div>
        <div className="chord-next">
          <span className="control-label">Next</span> <span data-testid="next-chord">{upcoming ? viewSymbol(upcoming.label, view) : '–'}</span>
        </div>
        <KeyDisplay songKey={view.key} transpose={view.transpose} confidence={keyConfidence} />
      </div>
      <ol ref={strip} className="chord-strip" aria-label="All chords">
        {chords.map((c, i) => (
          <li key={`${c.start}-${i}`}>
            <button
              type="button"
              className={`chord-chip${i === index ? ' current' : ''}`}
              aria-current={i === index ? 'true' : undefined}
              aria-label={`${viewSymbol(c.label, view)} at ${formatTime(c.start)}${onEdit ? ', edit' : ''}`}
              disabled={!onEdit}
              onClick={() => setEditing(i)}
            >
              {viewSymbol(c.label, view)}
            </button>
          </li>
        ))}
      </ol>
      {edited && onEdit && (
        <ChordEditor
          key={`${edited.start}`}
          span={edited}
          view={view}
          onCancel={() => setEditing(null)}
          onSave={(label) => {
            setEditing(null);
            onEdit(edited, label);
          }}
        />
      )}
    </section>
  );
}

const NO_CHORD = 'N';

function ChordEditor({ span, view, onSave, onCancel }: { span: ChordSpan; view: ChordView; onSave: (label: string) => void; onCancel: () => void }) {
  const parsed = parseHarte(span.label);
  const offset = shownOffset(view);
  const [root, setRoot] = useState(parsed ? (parsed.root + offset + 120) % 12 : 0);
  const [quality, setQuality] = useState<string>(parsed ? parsed.quality : NO_CHORD);
  const key = parseKey(view.key);
  const spelling = spellingFor(key ? transposeParsedKey(key, offset) : null);
  return (
    <form
      className="chord-editor"
      aria-label={`Edit the chord at ${formatTime(span.start)}`}
      onSubmit={(e) => {
        e.preventDefault();
        onSave(quality === NO_CHORD ? NO_CHORD : labelFromView(root, quality, view));
      }}
    >
      <label>
        Root{' '}
        <select value={root} onChange={(e) => setRoot(Number(e.target.value))} disabled={quality === NO_CHORD}>
          {Array.from({ length: 12 }, (_, pc) => (
            <option key={pc} value={pc}>
              {noteName(pc, spelling)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Chord{' '}
        <select value={quality} onChange={(e) => setQuality(e.target.value)}>
          {EDITABLE_QUALITIES.map((q) => (
            <option key={q} value={q}>
              {viewSymbol(`C:${q}`, { transpose: 0, capo: 0, key: null }).replace(/^C/, '') || 'major'}
            </option>
          ))}
          <option value={NO_CHORD}>no chord (N.C.)</option>
        </select>
      </label>
      <button type="submit" className="btn small primary">
        Save
      </button>
      <button type="button" className="btn small ghost" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}
