// A fresh `riffroom serve` (temporary data dir, one worker) with the built app on its origin, as
// the e2e suites start it: the benches need the same server with other settings per engine.
import { PreviewServer, RiffroomServer, serverServesApp } from '../e2e/harness.mjs';

/** Start a server with `env` added to its environment; `appUrl` serves the built app and the API. */
export async function startApp(env = {}) {
  const server = new RiffroomServer();
  server.env = env;
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
