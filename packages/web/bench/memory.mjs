#!/usr/bin/env node
// Page memory with six stems of a five-minute song loaded in the player (goal: under 1 GB).
// The stems are synthesised in the page as WAV files, then loaded exactly as the app does:
// each file's bytes decoded (which detaches them) to one AudioBuffer, the only copy kept;
// downloads re-read the file from the cache on click. No server is needed.
//   node bench/memory.mjs            (needs dist/: npm run build)
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { exposeEngine } from '../e2e/engineHook.mjs';
import { webDir } from '../e2e/harness.mjs';
import { browserPid, launch, mb, treeByType, treeRss } from './browser.mjs';

const dist = join(webDir, 'dist');
if (!existsSync(join(dist, 'index.html'))) throw new Error('run `npm run build` first');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path.startsWith('/api/')) {
    res.writeHead(path === '/api/songs' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(path === '/api/songs' ? '{"songs":[]}' : '{"error":{"code":"not_found","message":"no"}}');
    return;
  }
  const file = join(dist, path === '/' ? 'index.html' : path);
  if (!file.startsWith(dist) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await launch();
const page = await browser.newPage();
await exposeEngine(page);
await page.goto(url);
await page.waitForFunction(() => window.riffroom?.engine);
const pid = browserPid();
const before = treeRss(pid);
const seconds = Number(process.env.BENCH_SECONDS ?? 300);
const result = await page.evaluate(async (seconds) => {
  const engine = window.riffroom.engine;
  const rate = 44100;
  const frames = seconds * rate;
  const names = ['vocals', 'drums', 'bass', 'guitar', 'piano', 'other'];
  const stems = names.map((name, k) => {
    // 16-bit stereo WAV written straight into one buffer (the size a server stem would have).
    const buf = new ArrayBuffer(44 + frames * 4);
    const v = new DataView(buf);
    const w = (o, s) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
    w(0, 'RIFF'); v.setUint32(4, 36 + frames * 4, true); w(8, 'WAVEfmt '); v.setUint32(16, 16, true);
    v.setUint16(20, 1, true); v.setUint16(22, 2, true); v.setUint32(24, rate, true); v.setUint32(28, rate * 4, true);
    v.setUint16(32, 4, true); v.setUint16(34, 16, true); w(36, 'data'); v.setUint32(40, frames * 4, true);
    const pcm = new Int16Array(buf, 44);
    const f = 110 * (k + 1);
    for (let i = 0; i < frames; i++) pcm[2 * i] = pcm[2 * i + 1] = Math.round(8000 * Math.sin((2 * Math.PI * f * i) / rate));
    return { name, bytes: buf };
  });
  const t0 = performance.now();
  const decoded = await Promise.all(stems.map(async ({ name, bytes }) => ({ name, buffer: await engine.decode(bytes) })));
  stems.length = 0; // the encoded bytes are gone (detached by decoding); nothing else holds them
  engine.load(decoded);
  return { decodeMs: performance.now() - t0, sampleRate: engine.ctx.sampleRate, duration: engine.duration };
}, seconds);
await page.evaluate(async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 500));
  }
});
const after = treeRss(pid);
const parts = [...treeByType(pid)].map(([type, bytes]) => `${type} ${mb(bytes)}`).join(', ');
console.log(`by process: ${parts} (the page itself is the renderer; audio plays in the utility process)`);
const pcmBytes = 6 * seconds * result.sampleRate * 2 * 4;
const goal = 1024 ** 3;
console.log(`six stems of ${seconds} s: decoded in ${(result.decodeMs / 1000).toFixed(1)} s at ${result.sampleRate} Hz`);
console.log(`browser memory (PSS) ${mb(before)} → ${mb(after)} (+${mb(after - before)}); decoded PCM alone ${mb(pcmBytes)}`);
console.log(`ratio to the 1 GB goal: ${(after / goal).toFixed(2)} (total), ${((after - before) / pcmBytes).toFixed(2)}× the PCM size (added)`);
await browser.close();
server.close();
