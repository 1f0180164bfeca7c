// The end-to-end tests and the benches read and drive the page's PlayerEngine. The app keeps no
// global for that: it announces its engine with a `riffroom:engine` event on window (see
// ENGINE_EVENT in src/hooks/usePlayer.ts), and this init script, added before the page loads,
// keeps the latest one as `window.riffroom.engine` for page.evaluate / waitForFunction. Read its
// public API only (snapshot(), position, stemSources, …): its private fields move with refactors.

/** The event name the app dispatches; must match ENGINE_EVENT in src/hooks/usePlayer.ts. */
export const ENGINE_EVENT = 'riffroom:engine';

function keepEngine(eventName) {
  window.addEventListener(eventName, (event) => {
    if (event.detail) window.riffroom = { engine: event.detail };
    else delete window.riffroom;
  });
}

/** Expose the engine of every page of `target` (a Playwright BrowserContext or Page) as `window.riffroom.engine`. */
export function exposeEngine(target) {
  return target.addInitScript(keepEngine, ENGINE_EVENT);
}
