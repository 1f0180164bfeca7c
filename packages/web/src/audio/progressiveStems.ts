/**
 * A song that plays while it is being separated: the ready part of every stem is fetched in
 * segments (WAV ranges the server cuts sample-exactly) as the job's `ready_seconds` grows,
 * decoded, and appended to one growing AudioBuffer per stem. Every stem gets the same segment
 * before any is handed on, so the stems stay sample-aligned; the engine plays the grown buffers
 * on its one clock (`PlayerEngine.extend`). No timer drives it: each progress event of the job
 * (`update`) asks for what became ready, and a finished segment asks for the next.
 *
 * Segment boundaries are whole seconds (except the song's end), so a segment holds a whole
 * number of frames at 44.1 kHz and at the context's rate alike, and appending never shifts one
 * stem against another.
 */
import type { StemInput } from './playerTypes';

/** Play is enabled once this much of the song is ready (the first segment). */
export const FIRST_SEGMENT_SECONDS = 3;
/** Later segments: at least this long (unless the song ends sooner)… */
export const SEGMENT_MIN_SECONDS = 5;
/** …and at most this long, so a fast job still fills in in steps the page can decode quickly. */
export const SEGMENT_MAX_SECONDS = 10;
/** A frontier this close to the song's end counts as the end (a rounded duration). */
const END_EPSILON = 1e-3;

export interface Segment {
  start: number;
  end: number;
}

/**
 * The next range to fetch, given what is fetched (`fetched` seconds from the start), what the
 * server has ready and the song's length; null when not enough is ready for a segment yet.
 */
export function nextSegment(fetched: number, ready: number, total: number): Segment | null {
  const atEnd = ready >= total - END_EPSILON;
  const limit = Math.min(fetched + SEGMENT_MAX_SECONDS, atEnd ? total : ready);
  const end = limit >= total - END_EPSILON ? total : Math.floor(limit);
  if (end <= fetched + END_EPSILON) return null;
  const min = fetched === 0 ? FIRST_SEGMENT_SECONDS : SEGMENT_MIN_SECONDS;
  if (end - fetched < min && end < total) return null;
  return { start: fetched, end };
}

/**
 * What playback does at the frontier (the end of what is separated): `playing` runs into it and
 * `waiting`, where it stays until more is ready (`extended`) and then plays on by itself.
 */
export type FrontierState = 'stopped' | 'playing' | 'waiting';
export type FrontierEvent = 'play' | 'pause' | 'reached-end' | 'extended';

/** `partial`: the song is still being separated (its end is a frontier, not the song's end). */
export function frontierStep(state: FrontierState, event: FrontierEvent, partial: boolean): FrontierState {
  switch (event) {
    case 'play':
      return 'playing';
    case 'pause':
      return 'stopped';
    case 'reached-end':
      return state === 'playing' && partial ? 'waiting' : 'stopped';
    case 'extended':
      return state === 'waiting' ? 'playing' : state;
  }
}

/** `previous` followed by `segment`, as one new buffer (channel counts may differ: the larger wins). */
export function appendSegment(ctx: Pick<BaseAudioContext, 'createBuffer'>, previous: AudioBuffer | null, segment: AudioBuffer): AudioBuffer {
  if (!previous) return segment;
  const channels = Math.max(previous.numberOfChannels, segment.numberOfChannels);
  const out = ctx.createBuffer(channels, previous.length + segment.length, previous.sampleRate);
  for (let c = 0; c < channels; c++) {
    const target = out.getChannelData(c);
    target.set(previous.getChannelData(Math.min(c, previous.numberOfChannels - 1)));
    target.set(segment.getChannelData(Math.min(c, segment.numberOfChannels - 1)), previous.length);
  }
  return out;
}

export interface ReadyPeaks {
  min: number[];
  max: number[];
  /** Frames of the buffer they were computed from. */
  frames: number;
}

/**
 * Min/max waveform points of `buffer` laid over a song of `totalSeconds` (what is not there is
 * flat). `earlier`: the peaks of a shorter buffer with the same start: only the points past it
 * are computed again, so a growing stem costs only its new part.
 */
export function peaksOf(buffer: AudioBuffer, totalSeconds: number, points: number, earlier?: ReadyPeaks): ReadyPeaks {
  const data = buffer.getChannelData(0);
  const perPoint = (Math.max(totalSeconds, buffer.duration) * buffer.sampleRate) / points;
  const reuse = earlier && earlier.min.length === points && earlier.frames <= data.length ? earlier : null;
  const min = reuse ? reuse.min.slice() : new Array<number>(points).fill(0);
  const max = reuse ? reuse.max.slice() : new Array<number>(points).fill(0);
  if (perPoint <= 0) return { min, max, frames: data.length };
  for (let p = reuse ? Math.floor(reuse.frames / perPoint) : 0; p < points; p++) {
    const i0 = Math.floor(p * perPoint);
    if (i0 >= data.length) break;
    const i1 = Math.min(data.length, Math.floor((p + 1) * perPoint));
    let lo = 0;
    let hi = 0;
    for (let i = i0; i < i1; i++) {
      const v = data[i] ?? 0;
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    min[p] = lo;
    max[p] = hi;
  }
  return { min, max, frames: data.length };
}

/** A stem's range fetch: its encoded bytes, or null when the separation makes no such stem. */
export type FetchRange = (stem: string, segment: Segment, signal: AbortSignal) => Promise<ArrayBuffer | null>;

export interface ProgressiveDeps {
  fetchRange: FetchRange;
  decode: (bytes: ArrayBuffer) => Promise<AudioBuffer>;
  ctx: Pick<BaseAudioContext, 'createBuffer'>;
  /** The grown stems (all the same length) and how many seconds they hold. */
  onUpdate: (stems: StemInput[], seconds: number) => void;
}

/** Segments that fail this many times in a row stop the progressive load (the finished stems still come). */
const MAX_FAILURES = 3;

/** The growing stems of one running job. */
export class ProgressiveStems {
  private fetched = 0;
  private ready = 0;
  private busy = false;
  private failures = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private stems = new Map<string, AudioBuffer | null>();

  /**
   * `names`: the stems the job makes, or null when it does not say: then every candidate is
   * asked for in the first segment and those the server has no range for (404) are dropped.
   */
  constructor(
    names: readonly string[],
    private readonly totalSeconds: number,
    private readonly deps: ProgressiveDeps,
  ) {
    for (const name of names) this.stems.set(name, null);
  }

  /** Seconds of every stem held so far. */
  get seconds(): number {
    return this.fetched;
  }

  get active(): boolean {
    return !this.stopped;
  }

  /** The job says `readySeconds` are final now: fetch what is new (one segment at a time). */
  update(readySeconds: number): void {
    if (this.stopped || !Number.isFinite(readySeconds)) return;
    this.ready = Math.max(this.ready, readySeconds);
    void this.pump();
  }

  /** No more segments: the job is over (or the page moved on); a fetch in flight is aborted. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async pump(): Promise<void> {
    if (this.busy || this.stopped) return;
    const segment = nextSegment(this.fetched, this.ready, this.totalSeconds);
    if (!segment) return;
    this.busy = true;
    try {
      const decoded = await this.fetchSegment(segment);
      if (this.stopped) return;
      this.append(decoded);
      this.fetched = segment.end;
      this.failures = 0;
      this.deps.onUpdate(this.inputs(), this.fetched);
    } catch {
      // A range past the frontier (409) or a network hiccup: the next progress event asks again.
      this.failures += 1;
      if (this.failures >= MAX_FAILURES) this.stop();
      return;
    } finally {
      this.busy = false;
    }
    void this.pump();
  }

  private async fetchSegment(segment: Segment): Promise<Map<string, AudioBuffer>> {
    const { signal } = this.abort;
    const results = await Promise.all(
      [...this.stems.keys()].map(async (name) => {
        const bytes = await this.deps.fetchRange(name, segment, signal);
        return [name, bytes ? await this.deps.decode(bytes) : null] as const;
      }),
    );
    const decoded = new Map<string, AudioBuffer>();
    for (const [name, buffer] of results) {
      if (buffer) decoded.set(name, buffer);
      else if (this.fetched === 0) this.stems.delete(name); // the separation makes no such stem
      else throw new Error(`the ${name} stem went missing`);
    }
    if (decoded.size === 0) throw new Error('no stem has a range');
    return decoded;
  }

  private append(decoded: Map<string, AudioBuffer>): void {
    // All stems the same length: a decoder that rounds differently must not shift one stem.
    const length = Math.min(...[...decoded.values()].map((b) => b.length));
    for (const [name, segment] of decoded) {
      const previous = this.stems.get(name) ?? null;
      const piece = segment.length === length ? segment : trimmed(this.deps.ctx, segment, length);
      this.stems.set(name, appendSegment(this.deps.ctx, previous, piece));
    }
  }

  private inputs(): StemInput[] {
    const out: StemInput[] = [];
    for (const [name, buffer] of this.stems) if (buffer) out.push({ name, buffer });
    return out;
  }
}

function trimmed(ctx: Pick<BaseAudioContext, 'createBuffer'>, buffer: AudioBuffer, length: number): AudioBuffer {
  const out = ctx.createBuffer(buffer.numberOfChannels, length, buffer.sampleRate);
  for (let c = 0; c < buffer.numberOfChannels; c++) out.getChannelData(c).set(buffer.getChannelData(c).subarray(0, length));
  return out;
}
