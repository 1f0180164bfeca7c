// Counters the reliability suite reads in the page, installed with an init script before the
// app loads (Playwright's addInitScript): live WebSockets, pending timers, connected AudioNodes
// and unrevoked object URLs, the final frames (done/failed/cancelled) each job's sockets
// received, and the app's stem cache (announced with CACHE_EVENT, src/services/cacheSettings.ts).
// Everything is read through `window.__counters` in page.evaluate.

/** Must match CACHE_EVENT in src/services/cacheSettings.ts. */
export const CACHE_EVENT = 'riffroom:cache';

function install(cacheEvent) {
  if (window.__counters) return;
  const sockets = new Set();
  const timers = new Map(); // id -> where it was set (a short stack, to name a leak)
  const nodes = new Map(); // AudioNode -> outgoing connections
  const urls = new Set();
  const finals = []; // { jobId, type }
  const where = () => (new Error().stack ?? '').split('\n').slice(3, 6).map((l) => l.trim()).join(' < ');

  // WebSockets: live from construction until their close event.
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class CountedWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      sockets.add(this);
      this.addEventListener('close', () => sockets.delete(this));
      this.addEventListener('message', (event) => {
        try {
          const msg = JSON.parse(event.data);
          if (msg.type === 'done' || msg.type === 'failed' || msg.type === 'cancelled') finals.push({ jobId: msg.job_id, type: msg.type });
        } catch {
          // not JSON: not ours to count
        }
      });
    }
  };

  // Timers: pending from set until fired (a timeout) or cleared. Timeouts and intervals share ids.
  const nativeSetTimeout = window.setTimeout;
  const nativeSetInterval = window.setInterval;
  const nativeClearTimeout = window.clearTimeout;
  const nativeClearInterval = window.clearInterval;
  window.setTimeout = function (fn, ms, ...rest) {
    let id;
    const run = typeof fn === 'function' ? function (...a) { timers.delete(id); return fn.apply(this, a); } : fn;
    id = nativeSetTimeout.call(window, run, ms, ...rest);
    timers.set(id, `timeout ${ms ?? 0} ms at ${where()}`);
    return id;
  };
  window.setInterval = function (fn, ms, ...rest) {
    const id = nativeSetInterval.call(window, fn, ms, ...rest);
    timers.set(id, `interval ${ms ?? 0} ms at ${where()}`);
    return id;
  };
  window.clearTimeout = (id) => { timers.delete(id); nativeClearTimeout.call(window, id); };
  window.clearInterval = (id) => { timers.delete(id); nativeClearInterval.call(window, id); };

  // AudioNodes: live while connected to something; a source node also stops being live once it ended.
  const connect = AudioNode.prototype.connect;
  const disconnect = AudioNode.prototype.disconnect;
  AudioNode.prototype.connect = function (target, ...rest) {
    const out = connect.call(this, target, ...rest);
    if (!(this instanceof AudioScheduledSourceNode && this.__ended)) nodes.set(this, (nodes.get(this) ?? 0) + 1);
    return out;
  };
  AudioNode.prototype.disconnect = function (...args) {
    const out = disconnect.apply(this, args);
    const left = args.length === 0 || typeof args[0] === 'number' ? 0 : (nodes.get(this) ?? 1) - 1;
    if (left > 0) nodes.set(this, left);
    else nodes.delete(this);
    return out;
  };
  const start = AudioScheduledSourceNode.prototype.start;
  AudioScheduledSourceNode.prototype.start = function (...args) {
    this.addEventListener('ended', () => { this.__ended = true; nodes.delete(this); }, { once: true });
    return start.apply(this, args);
  };

  // Object URLs: live until revoked.
  const createObjectURL = URL.createObjectURL;
  const revokeObjectURL = URL.revokeObjectURL;
  URL.createObjectURL = (obj) => { const url = createObjectURL(obj); urls.add(url); return url; };
  URL.revokeObjectURL = (url) => { urls.delete(url); revokeObjectURL(url); };

  let cache = null;
  window.addEventListener(cacheEvent, (event) => { cache = event.detail; });

  window.__counters = {
    counts: () => ({ sockets: sockets.size, timers: timers.size, nodes: nodes.size, urls: urls.size }),
    detail: () => ({
      timers: [...timers.values()],
      nodes: [...nodes.keys()].map((n) => n.constructor.name),
      urls: [...urls],
    }),
    finals: () => finals.slice(),
    cache: () => cache,
  };
}

/** Install the counters in every page of `target` (a BrowserContext or Page) from its next load. */
export function installCounters(target) {
  return target.addInitScript(install, CACHE_EVENT);
}
