/**
 * Signalsmith Stretch (MIT, WASM AudioWorklet) in live-input mode: a pitch shifter with a known
 * latency. This module is loaded on demand (a separate chunk): the player needs it only once
 * tempo or transpose leave 100% / 0.
 */
import SignalsmithStretch from 'signalsmith-stretch';

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

export async function createStretch(ctx: BaseAudioContext, semitones = 0): Promise<Stretcher> {
  assertWorklet(ctx);
  const node = await SignalsmithStretch(ctx, { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [2] });
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
