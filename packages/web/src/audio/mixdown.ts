/**
 * The current mix rendered offline to a WAV file: volume, mute, solo, pan and master, and the
 * practice tempo and transpose too, through the same two stretchers as playback (pitched stems,
 * and drums with tempo correction only), so the download sounds like what was practised.
 */
import { compensatingSemitones } from './clock';
import type { StemControls } from './engine';
import { UNPITCHED_STEMS } from './stretchRouting';

export interface MixTiming {
  tempo: number;
  transpose: number;
}

/** ' (80%, +2)' for a mix at another tempo or key, so downloads of one song tell themselves apart. */
export function mixSuffix({ tempo, transpose }: MixTiming): string {
  const parts = [
    ...(tempo !== 1 ? [`${Math.round(tempo * 100)}%`] : []),
    ...(transpose !== 0 ? [`${transpose > 0 ? '+' : ''}${transpose}`] : []),
  ];
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export async function renderMix(
  stems: { name: string; buffer: AudioBuffer }[],
  gains: Record<string, number>,
  controls: Record<string, StemControls>,
  masterVolume: number,
  timing: MixTiming = { tempo: 1, transpose: 0 },
): Promise<Blob> {
  const first = stems[0];
  if (!first) throw new Error('No stems to mix.');
  const sampleRate = first.buffer.sampleRate;
  const { tempo, transpose } = timing;
  const stretched = tempo !== 1 || transpose !== 0;
  const frames = Math.ceil(Math.max(...stems.map((s) => s.buffer.length)) / tempo);
  // The stretchers delay their output by their latency: render that much more, then trim it off
  // the front. It is not known before a stretcher exists, so allow up to a second.
  const spare = stretched ? sampleRate : 0;
  const ctx = new OfflineAudioContext(2, frames + spare, sampleRate);
  const master = ctx.createGain();
  master.gain.value = masterVolume;
  master.connect(ctx.destination);
  const buses: { pitched: AudioNode; unpitched: AudioNode } = { pitched: master, unpitched: master };
  let skip = 0;
  const disposers: (() => void)[] = [];
  try {
    if (stretched) {
      const { createStretch } = await import('./stretch');
      const [pitched, unpitched] = await Promise.all([
        createStretch(ctx, compensatingSemitones(tempo, transpose)),
        createStretch(ctx, compensatingSemitones(tempo, 0)),
      ]);
      disposers.push(() => pitched.dispose(), () => unpitched.dispose());
      pitched.output.connect(master);
      unpitched.output.connect(master);
      buses.pitched = pitched.input;
      buses.unpitched = unpitched.input;
      skip = Math.round((await pitched.latency()) * sampleRate);
      if (skip > spare) throw new Error('The pitch shifter reports a latency over a second; cannot render this mix.');
    }
    for (const { name, buffer } of stems) {
      const gain = gains[name] ?? 0;
      if (gain === 0) continue;
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.playbackRate.value = tempo;
      const g = ctx.createGain();
      g.gain.value = gain;
      const pan = ctx.createStereoPanner();
      pan.pan.value = controls[name]?.pan ?? 0;
      source.connect(g).connect(pan).connect(UNPITCHED_STEMS.has(name) ? buses.unpitched : buses.pitched);
      source.start(0);
    }
    const rendered = await ctx.startRendering();
    const channels = Array.from({ length: rendered.numberOfChannels }, (_, c) =>
      rendered.getChannelData(c).subarray(skip, skip + frames),
    );
    return new Blob([encodeWav(channels, rendered.sampleRate)], { type: 'audio/wav' });
  } finally {
    for (const dispose of disposers) dispose(); // also when the render fails or is refused
  }
}

/** 16-bit PCM WAV from planar float channels (clipped to ±1). */
export function encodeWav(channels: Float32Array[], sampleRate: number): ArrayBuffer {
  const numChannels = channels.length;
  const frames = channels[0]?.length ?? 0;
  const dataBytes = frames * numChannels * 2;
  const out = new ArrayBuffer(44 + dataBytes);
  const view = new DataView(out);
  const ascii = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, numChannels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * numChannels * 2, true);
  view.setUint16(32, numChannels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  let offset = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < numChannels; c++) {
      const x = Math.max(-1, Math.min(1, channels[c]![i]!));
      view.setInt16(offset, x < 0 ? x * 0x8000 : x * 0x7fff, true);
      offset += 2;
    }
  }
  return out;
}
