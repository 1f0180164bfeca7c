/**
 * Instrumented stand-ins for the parts of the Web Audio API jsdom lacks (AudioContext, its nodes,
 * AudioWorklet): they do no DSP, they record every connect/disconnect, start/stop, worklet node
 * and closed port, so a test can count what the code under test left open. The worklet node
 * speaks the Signalsmith Stretch message protocol, so the real library runs on top of it.
 */
import { liveObjectUrls } from './setup';

/** Every node made since the last resetWebAudio(), in creation order. */
const nodes: FakeAudioNode[] = [];
const contexts: FakeAudioContext[] = [];
/** How many worklet modules were loaded (each from a live object URL). */
const loaded = { modules: 0, settled: 0 };

export function resetWebAudio(): void {
  nodes.length = 0;
  contexts.length = 0;
  loaded.modules = 0;
  loaded.settled = 0;
}

export function modulesLoaded(): number {
  return loaded.modules;
}

/** addModule() calls that resolved or failed. */
export function moduleLoadsSettled(): number {
  return loaded.settled;
}

class FakeAudioParam {
  constructor(public value: number) {}
  setValueAtTime(value: number): this {
    this.value = value;
    return this;
  }
  setTargetAtTime(value: number): this {
    this.value = value;
    return this;
  }
}

export class FakeAudioNode {
  readonly outputs = new Set<FakeAudioNode>();
  constructor(readonly context: FakeAudioContext) {
    nodes.push(this);
  }
  connect<T extends FakeAudioNode>(destination: T): T {
    if (destination.context !== this.context) throw new DOMException('nodes of different contexts', 'InvalidAccessError');
    this.outputs.add(destination);
    return destination;
  }
  disconnect(destination?: FakeAudioNode): void {
    if (destination) this.outputs.delete(destination);
    else this.outputs.clear();
  }
}

class FakeBufferSource extends FakeAudioNode {
  buffer: FakeAudioBuffer | null = null;
  readonly playbackRate = new FakeAudioParam(1);
  loop = false;
  loopStart = 0;
  loopEnd = 0;
  onended: (() => void) | null = null;
  started = false;
  stopped = false;
  /** The arguments of start(): context time and buffer offset. */
  when = 0;
  offset = 0;
  start(when = 0, offset = 0): void {
    if (this.started) throw new DOMException('start() twice', 'InvalidStateError');
    this.started = true;
    this.when = when;
    this.offset = offset;
  }
  /** The context time stop() was asked for (undefined: at once). */
  stopWhen: number | undefined = undefined;
  stop(when?: number): void {
    if (!this.started) throw new DOMException('stop() before start()', 'InvalidStateError');
    this.stopWhen = when;
    this.stopped = true;
    // A browser fires `ended` after a stop, later.
    void Promise.resolve().then(() => this.onended?.());
  }
}

export class FakeAudioBuffer {
  private readonly data: Float32Array[] = [];
  constructor(
    readonly duration: number,
    readonly sampleRate: number,
    readonly numberOfChannels = 2,
  ) {}
  get length(): number {
    return Math.round(this.duration * this.sampleRate);
  }
  getChannelData(channel: number): Float32Array {
    this.data[channel] ??= new Float32Array(this.length);
    return this.data[channel];
  }
}

/** Every buffer source made since the last resetWebAudio(), in creation order. */
export function bufferSources(): FakeBufferSource[] {
  return nodes.filter((n): n is FakeBufferSource => n instanceof FakeBufferSource);
}

export type { FakeBufferSource };

export class FakeAudioContext {
  state: 'suspended' | 'running' | 'closed' = 'suspended';
  currentTime = 0;
  readonly sampleRate = 48000;
  readonly destination: FakeAudioNode;
  /** Processor names the loaded worklet modules registered. */
  readonly processors = new Set<string>();
  readonly audioWorklet = {
    addModule: async (url: string): Promise<void> => {
      try {
        this.assertOpen();
        // A browser fetches the module: a revoked object URL fails, as it would there.
        if (!liveObjectUrls.has(url)) throw new DOMException(`cannot load ${url}`, 'AbortError');
        await Promise.resolve();
        this.assertOpen();
        loaded.modules += 1;
        this.processors.add('signalsmith-stretch');
      } finally {
        loaded.settled += 1;
      }
    },
  };

  constructor() {
    contexts.push(this);
    this.destination = new FakeAudioNode(this);
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new DOMException('the context is closed', 'InvalidStateError');
  }

  createGain() {
    this.assertOpen();
    return Object.assign(new FakeAudioNode(this), { gain: new FakeAudioParam(1) });
  }
  createStereoPanner() {
    this.assertOpen();
    return Object.assign(new FakeAudioNode(this), { pan: new FakeAudioParam(0) });
  }
  createAnalyser() {
    this.assertOpen();
    return Object.assign(new FakeAudioNode(this), { fftSize: 2048 });
  }
  createBuffer(channels: number, length: number, sampleRate: number): FakeAudioBuffer {
    this.assertOpen();
    return new FakeAudioBuffer(length / sampleRate, sampleRate, channels);
  }
  createBufferSource(): FakeBufferSource {
    this.assertOpen();
    return new FakeBufferSource(this);
  }
  async decodeAudioData(_bytes: ArrayBuffer): Promise<FakeAudioBuffer> {
    this.assertOpen();
    return new FakeAudioBuffer(10, this.sampleRate);
  }
  async resume(): Promise<void> {
    this.assertOpen();
    this.state = 'running';
  }
  async close(): Promise<void> {
    this.assertOpen();
    this.state = 'closed';
  }
  /** Let `seconds` of audio time pass. */
  advance(seconds: number): void {
    this.currentTime += seconds;
  }
}

/** The message port of a worklet node; answers the way Signalsmith Stretch's processor does. */
class FakeWorkletPort {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  closed = false;
  constructor(private readonly answer: (method: string, args: unknown[]) => unknown) {}
  postMessage(data: unknown): void {
    if (this.closed) return;
    const [id, method, ...args] = data as [number, string, ...unknown[]];
    this.reply([id, this.answer(method, args)]);
  }
  reply(data: unknown): void {
    void Promise.resolve().then(() => {
      if (!this.closed) this.onmessage?.({ data });
    });
  }
  close(): void {
    this.closed = true;
  }
}

/** Seconds from input to output the fake stretcher reports. */
export const FAKE_STRETCH_LATENCY = 0.12;

export class FakeAudioWorkletNode extends FakeAudioNode {
  readonly port: FakeWorkletPort;
  constructor(context: BaseAudioContext, name: string) {
    const ctx = context as unknown as FakeAudioContext;
    // As in a browser: no node before its module registered the processor.
    if (!ctx.processors.has(name)) throw new DOMException(`no processor ${name}`, 'InvalidStateError');
    super(ctx);
    this.port = new FakeWorkletPort((method) => (method === 'latency' ? FAKE_STRETCH_LATENCY : null));
    // The processor announces its remote methods and how many arguments each takes.
    this.port.reply(['ready', { schedule: 1, start: 1, stop: 1, latency: 0 }]);
  }
}

export interface OpenAudio {
  /** Contexts not closed. */
  contexts: number;
  /** Nodes with a connection to another node. */
  connectedNodes: number;
  /** Buffer sources started and not stopped. */
  playingSources: number;
  /** Worklet nodes whose port is open or that are still connected. */
  worklets: number;
}

export function openAudio(): OpenAudio {
  return {
    contexts: contexts.filter((c) => c.state !== 'closed').length,
    connectedNodes: nodes.filter((n) => n.outputs.size > 0).length,
    playingSources: nodes.filter((n) => n instanceof FakeBufferSource && n.started && !n.stopped).length,
    worklets: nodes.filter((n) => n instanceof FakeAudioWorkletNode && (!n.port.closed || n.outputs.size > 0)).length,
  };
}

/** How many worklet nodes were made so far (to show a test reached the stretchers at all). */
export function workletsMade(): number {
  return nodes.filter((n) => n instanceof FakeAudioWorkletNode).length;
}
