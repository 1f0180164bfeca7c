/** The current mix (volume, mute, solo, pan, master) rendered offline to a WAV file. */
import type { StemControls } from './engine';

export async function renderMix(
  stems: { name: string; buffer: AudioBuffer }[],
  gains: Record<string, number>,
  controls: Record<string, StemControls>,
  masterVolume: number,
): Promise<Blob> {
  const first = stems[0];
  if (!first) throw new Error('No stems to mix.');
  const length = Math.max(...stems.map((s) => s.buffer.length));
  const ctx = new OfflineAudioContext(2, length, first.buffer.sampleRate);
  const master = ctx.createGain();
  master.gain.value = masterVolume;
  master.connect(ctx.destination);
  for (const { name, buffer } of stems) {
    const gain = gains[name] ?? 0;
    if (gain === 0) continue;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    const g = ctx.createGain();
    g.gain.value = gain;
    const pan = ctx.createStereoPanner();
    pan.pan.value = controls[name]?.pan ?? 0;
    source.connect(g).connect(pan).connect(master);
    source.start(0);
  }
  const rendered = await ctx.startRendering();
  const channels = Array.from({ length: rendered.numberOfChannels }, (_, c) => rendered.getChannelData(c));
  return new Blob([encodeWav(channels, rendered.sampleRate)], { type: 'audio/wav' });
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
