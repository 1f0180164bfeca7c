/**
 * Signalsmith Stretch (MIT, WASM AudioWorklet) in live-input mode: a pitch shifter with a known
 * latency. This module is loaded on demand (a separate chunk): the player needs it only once
 * tempo or transpose leave 100% / 0.
 */
import SignalsmithStretch, { type StretchNode } from 'signalsmith-stretch';

export interface Stretcher {
  input: AudioNode;
  output: AudioNode;
  setSemitones(semitones: number, when: number): void;
  /** Seconds from input to output in live-input mode (an offline render trims this much). */
  latency(): Promise<number>;
  dispose(): void;
}

function assertWorklet(ctx: BaseAudioContext): void {
  if (typeof AudioWorkletNode === 'undefined' || !('audioWorklet' in ctx)) {
    throw new Error('This browser has no AudioWorklet: tempo changes will also change pitch.');
  }
}

/**
 * SignalsmithStretch() for `ctx`, without its leak: the library writes its worklet module into a
 * new object URL for every context it first meets (the page's, and one OfflineAudioContext per
 * stretched mix download) and never revokes it. It makes that URL synchronously, before its first
 * await, so the URLs made during the call are exactly its own; once the node exists the module is
 * loaded into the context and the URL is needed no more.
 */
async function createNode(ctx: BaseAudioContext): Promise<StretchNode> {
  const options = { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [2] };
  const original = Object.getOwnPropertyDescriptor(URL, 'createObjectURL');
  const create = original?.value as ((obj: Blob | MediaSource) => string) | undefined;
  if (!original?.configurable || typeof create !== 'function') return SignalsmithStretch(ctx, options);
  const made: string[] = [];
  let pending: Promise<StretchNode>;
  Object.defineProperty(URL, 'createObjectURL', {
    ...original,
    value: (obj: Blob | MediaSource) => {
      const url = create.call(URL, obj);
      made.push(url);
      return url;
    },
  });
  try {
    pending = SignalsmithStretch(ctx, options);
  } finally {
    Object.defineProperty(URL, 'createObjectURL', original);
  }
  try {
    return await pending;
  } finally {
    for (const url of made) URL.revokeObjectURL(url);
  }
}

export async function createStretch(ctx: BaseAudioContext, semitones = 0): Promise<Stretcher> {
  assertWorklet(ctx);
  const node = await createNode(ctx);
  await node.schedule({ active: true, semitones });
  return {
    input: node,
    output: node,
    setSemitones(semitones, when) {
      void node.schedule({ output: when, active: true, semitones });
    },
    latency() {
      return node.latency();
    },
    dispose() {
      void node.stop();
      node.disconnect();
      node.port.close();
    },
  };
}

/** Load and compile the worklet module for `ctx` ahead of need (one throwaway, never-connected node). */
export async function preloadStretch(ctx: BaseAudioContext): Promise<void> {
  (await createStretch(ctx)).dispose();
}
