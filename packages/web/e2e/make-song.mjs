#!/usr/bin/env node
// A short test song as a 16-bit stereo WAV: kick + hi-hat (drums), a bass line, a sung-like
// lead with vibrato and a pad, so every stem of the dsp engine gets something distinct.
//   node e2e/make-song.mjs out.wav [seconds]
import { writeFileSync } from 'node:fs';

export function makeSong(seconds = 8, sampleRate = 44100, variant = 0) {
  const k = 2 ** (variant / 12); // a variant is the same song in another key (different bytes)
  const n = Math.round(seconds * sampleRate);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const beat = 0.5; // 120 bpm
  const bassNotes = [55, 55, 73.42, 65.41];
  const leadNotes = [440, 493.88, 523.25, 587.33, 523.25, 493.88, 440, 392];
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const tb = t % beat;
    const kick = Math.sin(2 * Math.PI * (50 + 80 * Math.exp(-tb * 30)) * tb) * Math.exp(-tb * 12) * 0.8;
    const th = (t + beat / 2) % beat;
    const hat = noise() * Math.exp(-th * 60) * 0.25;
    const bf = bassNotes[Math.floor(t / 2) % bassNotes.length] * k;
    const bass = (Math.sin(2 * Math.PI * bf * t) + 0.3 * Math.sin(4 * Math.PI * bf * t)) * 0.3;
    const lf = k * leadNotes[Math.floor(t / 1) % leadNotes.length] * (1 + 0.006 * Math.sin(2 * Math.PI * 5.5 * t));
    const env = Math.min(1, (t % 1) * 20) * Math.min(1, (1 - (t % 1)) * 10);
    const lead = (Math.sin(2 * Math.PI * lf * t) + 0.5 * Math.sin(4 * Math.PI * lf * t) + 0.25 * Math.sin(6 * Math.PI * lf * t)) * 0.18 * env;
    const pad = (Math.sin(2 * Math.PI * 261.63 * t) + Math.sin(2 * Math.PI * 329.63 * t) + Math.sin(2 * Math.PI * 392 * t)) * 0.04;
    left[i] = kick + hat * 0.8 + bass + lead + pad * 1.3;
    right[i] = kick + hat * 1.2 + bass + lead + pad * 0.7;
  }
  return encodeWav([left, right], sampleRate);
}

/**
 * The truth about `makeChordSong`, in the shape of the corpus's meta.json (make_corpus.py):
 * 120 bpm 4/4 from t = 0, a bar every 2 s, one chord per bar (C, Am, F, G, twice), key C major.
 */
export const CHORD_SONG = (() => {
  const seconds = 16;
  const beat = 0.5;
  const progression = ['C:maj', 'A:min', 'F:maj', 'G:maj'];
  const beats = Array.from({ length: seconds / beat }, (_, i) => i * beat);
  const downbeats = beats.filter((_, i) => i % 4 === 0);
  const chords = downbeats.map((start, i) => ({ start, end: start + 4 * beat, label: progression[i % progression.length] }));
  return { seconds, tempo: 120, time_signature: '4/4', key: 'C major', beats, downbeats, chords };
})();

const CHORD_NOTES = { 'C:maj': [48, 60, 64, 67], 'A:min': [45, 57, 60, 64], 'F:maj': [41, 57, 60, 65], 'G:maj': [43, 59, 62, 67] };
const midiHz = (m) => 440 * 2 ** ((m - 69) / 12);

/**
 * A song whose beats and chords are known exactly (CHORD_SONG): a kick on every beat (harder
 * on beat 1), a bass on the chord's root and a sustained triad, so the server's analysis has an
 * unambiguous answer to find.
 */
export function makeChordSong(sampleRate = 44100) {
  const { seconds, beats, chords } = CHORD_SONG;
  const n = Math.round(seconds * sampleRate);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  for (const [i, start] of beats.entries()) {
    const accent = i % 4 === 0 ? 1 : 0.7;
    const from = Math.round(start * sampleRate);
    for (let j = 0; j < 0.25 * sampleRate && from + j < n; j++) {
      const t = j / sampleRate;
      const x = Math.sin(2 * Math.PI * (50 + 90 * Math.exp(-t * 35)) * t) * Math.exp(-t * 14) * 0.7 * accent;
      left[from + j] += x;
      right[from + j] += x;
    }
  }
  for (const chord of chords) {
    const [bass, ...triad] = CHORD_NOTES[chord.label];
    const from = Math.round(chord.start * sampleRate);
    const to = Math.min(n, Math.round(chord.end * sampleRate));
    for (let i = from; i < to; i++) {
      const t = (i - from) / sampleRate;
      const env = Math.min(1, t * 40) * Math.min(1, (to - i) / sampleRate / 0.02);
      const b = (Math.sin(2 * Math.PI * midiHz(bass) * t) + 0.4 * Math.sin(4 * Math.PI * midiHz(bass) * t)) * 0.22;
      let pad = 0;
      for (const m of triad) {
        const f = midiHz(m);
        pad += Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(4 * Math.PI * f * t) + 0.12 * Math.sin(6 * Math.PI * f * t);
      }
      left[i] += (b + pad * 0.07) * env;
      right[i] += (b + pad * 0.06) * env;
    }
  }
  return encodeWav([left, right], sampleRate);
}

export function encodeWav(channels, sampleRate) {
  const frames = channels[0].length;
  const nch = channels.length;
  const buf = Buffer.alloc(44 + frames * nch * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + frames * nch * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(nch, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * nch * 2, 28);
  buf.writeUInt16LE(nch * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(frames * nch * 2, 40);
  let o = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const x = Math.max(-1, Math.min(1, channels[c][i]));
      buf.writeInt16LE(Math.round(x < 0 ? x * 0x8000 : x * 0x7fff), o);
      o += 2;
    }
  }
  return buf;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'song.wav';
  writeFileSync(out, makeSong(Number(process.argv[3] ?? 8)));
  console.log(`wrote ${out}`);
}
