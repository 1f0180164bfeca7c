// Starts what the end-to-end tests need: a real `riffroom serve` (dsp engine) on a free
// loopback port with a temporary data dir, and the built web app on the same origin.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(webDir, '../..');

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

export function pythonCommand() {
  if (process.env.RIFFROOM_PYTHON) return [process.env.RIFFROOM_PYTHON, '-m', 'riffroom.cli'];
  const venv = join(repoDir, '.venv/bin/python');
  if (existsSync(venv)) return [venv, '-m', 'riffroom.cli'];
  return ['riffroom'];
}

async function waitFor(url, timeoutMs, proc, name) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${proc.logs()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms (${last}):\n${proc.logs()}`);
}

function start(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => {
    log = (log + d.toString()).slice(-20000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.logs = () => log;
  return child;
}

function stop(child) {
  return new Promise((resolveStop) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolveStop();
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

export class RiffroomServer {
  constructor() {
    this.dataDir = mkdtempSync(join(tmpdir(), 'riffroom-e2e-'));
    this.proc = null;
    this.port = 0;
    /** Extra environment for `riffroom serve` (e.g. a small RIFFROOM_DSP_CHUNK_SECONDS for a slow job). */
    this.env = {};
    /** Worker processes (`--workers`): one, so the suites' jobs run one at a time. */
    this.workers = 1;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port = this.port || (await freePort());
    const [cmd, ...pre] = pythonCommand();
    this.proc = start(cmd, [...pre, 'serve', '--host', '127.0.0.1', '--port', String(this.port), '--data-dir', this.dataDir, '--workers', String(this.workers)], {
      cwd: this.dataDir,
      env: { ...process.env, RIFFROOM_DEFAULT_ENGINE: 'dsp', ...this.env },
    });
    await waitFor(`${this.url}/health/ready`, 90_000, this.proc, 'riffroom serve');
  }

  /**
   * `riffroom users add NAME` on this server's database (its --data-dir, as `serve` gets it),
   * the password on standard input (not a terminal: its first line). Once an account exists,
   * the server requires a login.
   */
  addUser(name, password) {
    const [cmd, ...pre] = pythonCommand();
    const r = spawnSync(cmd, [...pre, 'users', 'add', name, '--data-dir', this.dataDir], {
      cwd: this.dataDir,
      input: `${password}\n`,
      env: { ...process.env, RIFFROOM_DATA_DIR: this.dataDir },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`riffroom users add ${name} failed (${r.status}): ${r.stderr}${r.stdout}`);
  }

  async stop() {
    await stop(this.proc);
    this.proc = null;
  }

  /**
   * SIGKILL the server, as a crash would: no shutdown, its workers die with it (they hold
   * PR_SET_PDEATHSIG). The port and data dir stay, so start() brings the same server back.
   */
  async kill() {
    const child = this.proc;
    this.proc = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolveKill) => {
      child.once('exit', resolveKill);
      child.kill('SIGKILL');
    });
  }

  /** kill() then start() again on the same port and data dir. */
  async restart() {
    await this.kill();
    await this.start();
  }

  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Serves dist/ through `vite preview`, proxying /api (and its WebSocket) to the server. */
export class PreviewServer {
  async start(apiUrl) {
    this.port = await freePort();
    const vite = join(webDir, 'node_modules/vite/bin/vite.js');
    this.proc = start(process.execPath, [vite, 'preview', '--host', '127.0.0.1', '--port', String(this.port), '--strictPort'], {
      cwd: webDir,
      env: { ...process.env, RIFFROOM_API: apiUrl },
    });
    await waitFor(`http://127.0.0.1:${this.port}/`, 30_000, this.proc, 'vite preview');
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async dispose() {
    await stop(this.proc);
  }
}

/** True when the server serves the built app at `/` itself (`riffroom serve` does when dist/ exists). */
export async function serverServesApp(url) {
  try {
    const res = await fetch(`${url}/`);
    return res.ok && (await res.text()).includes('id="root"');
  } catch {
    return false;
  }
}

export function ensureBuilt() {
  const index = join(webDir, 'dist/index.html');
  if (existsSync(index) && process.env.E2E_SKIP_BUILD) return;
  const r = spawnSync(process.execPath, [join(webDir, 'node_modules/vite/bin/vite.js'), 'build'], { cwd: webDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build failed');
  readFileSync(index);
}
