// A fresh `riffroom serve` (temporary data dir, one worker unless BENCH_WORKERS says otherwise)
// with the built app on its origin, as the e2e suites start it: the benches need the same server
// with other settings per engine. BENCH_WORKERS=0 starts as many as `riffroom serve` would by
// default (one per core, as `make run` does).
import { cpus } from 'node:os';
import { PreviewServer, RiffroomServer, serverServesApp } from '../e2e/harness.mjs';

/** Worker processes of the bench's servers. */
export const benchWorkers = (() => {
  const n = Number(process.env.BENCH_WORKERS ?? 1);
  if (!Number.isInteger(n) || n < 0) throw new Error(`BENCH_WORKERS must be a whole number >= 0, not ${process.env.BENCH_WORKERS}`);
  return n === 0 ? cpus().length : n;
})();

/** Start a server with `env` added to its environment; `appUrl` serves the built app and the API. */
export async function startApp(env = {}) {
  const server = new RiffroomServer();
  server.env = env;
  server.workers = benchWorkers;
  let preview = null;
  const dispose = async () => {
    await preview?.dispose();
    await server.dispose();
  };
  try {
    await server.start();
    let appUrl = server.url;
    if (!(await serverServesApp(server.url))) {
      preview = new PreviewServer();
      await preview.start(server.url);
      appUrl = preview.url;
    }
    return { server, appUrl, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
