"""`analyze`: mixture (and stems, when there are any) in, `Analysis` out.

Beats come from the drums stem, harmony from the pitched accompaniment (bass, guitar, piano,
other: no drums, no vocals), the chord root from the bass stem. Without stems everything is read
from the mixture.

Meters: 4/4, 3/4 and 6/8. In 6/8 the `beats` are the dotted quarters, two a bar (`beat_positions`
count 1, 2), each split in three eighths; `bpm` counts dotted quarters a minute.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from . import chords as chord_model
from .beats import BeatTrack, track_at_period, track_beats
from .chroma import bass_chroma, synchronise, treble_chroma
from .keys import PITCH_NAMES, ChordSpan, estimate_key
from .meter import Meter, bar_positions, downbeat_cue, estimate_meter, harmonic_change, is_compound
from .result import Analysis, BeatPosition, Segment
from .sections import boundaries, label_sections
from .signal import FRAME_RATE, log_bands, onset_strength, to_mono

HARMONIC_STEMS = ("bass", "guitar", "piano", "other")
SILENCE_RMS = 1e-4
FREE_UNIT_S = 0.5  # chord step when there is no beat to follow
NO_BEAT = "no steady beat found"


def analyze(
    mixture: np.ndarray,
    stems: dict[str, np.ndarray] | None,
    sample_rate: int,
    progress: Callable[[float], None] | None = None,
) -> Analysis:
    """Analyse one song: float [channels, samples] arrays at `sample_rate` (stems optional)."""
    report = progress or (lambda _f: None)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    mono = to_mono(mixture, sample_rate)
    stems_mono = {k: to_mono(v, sample_rate) for k, v in (stems or {}).items()}
    duration = len(mono) / 22050.0
    report(0.05)
    if len(mono) == 0 or float(np.sqrt(np.mean(mono.astype(np.float64) ** 2))) < SILENCE_RMS:
        report(1.0)
        return Analysis.empty("silent audio: " + NO_BEAT)

    drums = stems_mono.get("drums")
    beat_source = drums if drums is not None and _audible(drums) else mono
    beat_onset = onset_strength(beat_source)
    track = track_beats(beat_onset)
    compound = False
    if track.steady:
        track, compound = _compound_beats(track, beat_onset)
    report(0.3)

    harmonic = [stems_mono[k] for k in HARMONIC_STEMS if k in stems_mono and _audible(stems_mono[k])]
    treble_src = np.sum(harmonic, axis=0) if harmonic else mono
    bass_src = stems_mono["bass"] if "bass" in stems_mono and _audible(stems_mono["bass"]) else treble_src
    treble = treble_chroma(treble_src)
    bass = bass_chroma(bass_src)
    n_frames = min(treble.shape[1], bass.shape[1])
    treble, bass = treble[:, :n_frames], bass[:, :n_frames]
    report(0.6)

    if track.steady:
        beats = track.beats
        bounds = _beat_bounds(beats, n_frames)
    else:
        beats = np.zeros(0)
        bounds = np.arange(0, n_frames + 1, FREE_UNIT_S * FRAME_RATE)
        bounds = np.append(bounds, n_frames) if bounds[-1] < n_frames else bounds
    units_t, units_b = synchronise(treble, bounds), synchronise(bass, bounds)
    scores = chord_model.chord_scores(units_t, units_b)
    pre = 1 if track.steady and bounds[0] == 0 and len(bounds) - 1 > len(beats) else 0

    meter: Meter | None = None
    mask = None
    if track.steady:
        first = chord_model.decode(scores)[pre:]
        changes = np.r_[0.0, (np.diff(first) != 0).astype(float)]
        bass_onset = onset_strength(bass_src)
        at_beats = bass_onset[np.clip((beats * FRAME_RATE).astype(int), 0, len(bass_onset) - 1)]
        cue = downbeat_cue([harmonic_change(units_t[:, pre:]), harmonic_change(units_b[:, pre:]), changes, at_beats])
        meter = estimate_meter(cue, compound)
        mask = np.zeros(scores.shape[1], dtype=bool)
        mask[pre + meter.first_downbeat :: meter.beats_per_bar] = True
    path = chord_model.decode(scores, mask)
    report(0.8)

    labels = chord_model.chord_labels()
    unit_times = bounds / FRAME_RATE
    triads = _merge([(unit_times[i], unit_times[i + 1], labels[k]) for i, k in enumerate(path)])
    chord_segments = _sevenths(triads, treble)
    if not track.steady or meter is None:
        key, key_conf = estimate_key(
            treble.sum(axis=1), bass.sum(axis=1), [_chord_span(s) for s in chord_segments if s.label != "N"], []
        )
        report(1.0)
        # No grid, but a key, chords and sections still help a rubato song.
        return dataclasses.replace(
            Analysis.empty(NO_BEAT),
            key=key or None,
            key_confidence=key_conf,
            chords=chord_segments,
            sections=_free_sections(mono, duration),
        )
    positions = bar_positions(len(beats), meter)
    downbeats = [float(b) for b, (_, k) in zip(beats, positions, strict=True) if k == 1]
    curve = _tempo_curve(beats)
    sections = _sections(mono, treble, bass, downbeats, duration)
    report(0.9)
    key, key_conf = estimate_key(
        treble.sum(axis=1),
        bass.sum(axis=1),
        [_chord_span(s) for s in chord_segments if s.label != "N"],
        [s.start for s in sections],
    )
    report(1.0)
    return Analysis(
        bpm=float(np.median([b for _, b in curve])),
        time_signature=meter.time_signature,
        beats=[float(b) for b in beats],
        downbeats=downbeats,
        beat_positions=[BeatPosition(float(t), bar, k) for t, (bar, k) in zip(beats, positions, strict=True)],
        tempo_curve=curve,
        key=key or None,
        key_confidence=key_conf,
        chords=chord_segments,
        sections=sections,
        steady_beat=True,
    )


def _compound_beats(track: BeatTrack, onset: np.ndarray) -> tuple[BeatTrack, bool]:
    """Dotted-quarter beats when the tracked beats are every second eighth of a compound meter."""
    b = track.beats
    if len(b) < 12:
        return track, False
    grid = np.empty(2 * len(b) - 1)
    grid[0::2], grid[1::2] = b, (b[:-1] + b[1:]) / 2
    frames = np.clip(np.round(grid * FRAME_RATE).astype(int), 0, len(onset) - 1)
    if not is_compound(np.array([onset[max(0, f - 2) : f + 3].max() for f in frames])):
        return track, False
    times = np.arange(len(onset)) / FRAME_RATE
    period = 1.5 * np.interp(times, (b[:-1] + b[1:]) / 2, np.diff(b)) * FRAME_RATE  # follows tempo changes
    return track_at_period(onset, period), True


def _audible(y: np.ndarray) -> bool:
    return len(y) > 0 and float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) >= SILENCE_RMS


def _beat_bounds(beats: np.ndarray, n_frames: int) -> np.ndarray:
    """Frame boundaries of the chord units: [0, first beat), then beat to beat, the last to the end."""
    frames = beats * FRAME_RATE
    period = float(np.median(np.diff(frames))) if len(frames) > 1 else FRAME_RATE
    end = min(float(n_frames), frames[-1] + period)
    head = [0.0] if frames[0] > 0.25 * period else []
    return np.array([*head, *frames, end])


def _merge(units: list[tuple[float, float, str]]) -> list[Segment]:
    out: list[Segment] = []
    for start, end, label in units:
        if out and out[-1].label == label:
            out[-1] = Segment(out[-1].start, float(end), label)
        elif end > start:
            out.append(Segment(float(start), float(end), label))
    return out


def _sevenths(segments: list[Segment], treble: np.ndarray) -> list[Segment]:
    """Each triad as its seventh chord where the seventh is clearly there (`chords.with_seventh`)."""
    out = []
    for seg in segments:
        if seg.label == "N":
            out.append(seg)
            continue
        root, triad = seg.label.split(":")
        lo = int(seg.start * FRAME_RATE)
        span = treble[:, lo : max(lo + 1, int(seg.end * FRAME_RATE))]
        if span.shape[1] == 0:
            out.append(seg)
            continue
        quality = chord_model.with_seventh(span.mean(axis=1), PITCH_NAMES.index(root), triad)
        out.append(Segment(seg.start, seg.end, f"{root}:{quality}"))
    return out


def _chord_span(seg: Segment) -> ChordSpan:
    root, qual = seg.label.split(":")
    return ChordSpan(PITCH_NAMES.index(root), qual, seg.start, seg.end)


def _tempo_curve(beats: np.ndarray) -> list[tuple[float, float]]:
    """[time, bpm] at each beat from the median of the surrounding inter-beat intervals."""
    if len(beats) < 2:
        return []
    ibi = np.diff(beats)
    out = []
    for i in range(len(beats)):
        win = ibi[max(0, i - 2) : i + 2]
        out.append((float(beats[i]), float(60.0 / np.median(win))))
    return out


def _sections(
    mono: np.ndarray, treble: np.ndarray, bass: np.ndarray, downbeats: list[float], duration: float
) -> list[Segment]:
    bars = np.array([*downbeats, duration]) * FRAME_RATE
    if len(bars) < 3:
        return [Segment(0.0, duration, "A")]
    bands = log_bands(mono)[::8]
    n = min(treble.shape[1], bands.shape[1])
    feats = np.vstack([treble[:, :n], bass[:, :n], 0.5 * bands[:, :n]])
    per_bar = synchronise(feats, bars).T
    cuts = boundaries(per_bar)
    labels = label_sections(per_bar, cuts)
    times = [0.0] + [downbeats[c] for c in cuts[1:]] + [duration]
    return [Segment(times[i], times[i + 1], lab) for i, lab in enumerate(labels)]


def _free_sections(mono: np.ndarray, duration: float) -> list[Segment]:
    return [Segment(0.0, duration, "A")] if duration > 0 else []
