/** The app's long-lived services, built once per page. */
import { ApiClient } from '../api/client';
import { AuthStore } from './auth';
import { StemCache } from './cacheManager';
import { announceCache, cacheSettingsFromStorage } from './cacheSettings';
import { JobEventsSocket, wsUrl, type WebSocketFactory } from './websocket';
import { clearPracticeDb, openPracticeDb } from '../practice/practiceDb';
import { PracticeLogOutbox } from '../practice/practiceLog';
import { WorkspaceSync } from '../practice/workspaceSync';

export interface AppServices {
  api: ApiClient;
  cache: StemCache;
  auth: AuthStore;
  /** Each song's practice workspace, synced with the server (IndexedDB offline). */
  practice: WorkspaceSync;
  practiceLog: PracticeLogOutbox;
  createSocket: () => JobEventsSocket;
}

export interface AppServiceOptions {
  /** Tests pass fakes; the page uses the browser's. */
  fetcher?: typeof fetch;
  createWebSocket?: WebSocketFactory;
  cacheName?: string;
  practiceDbName?: string;
}

export function createAppServices(options: AppServiceOptions = {}): AppServices {
  const api = new ApiClient('', options.fetcher);
  // Stem downloads go through the client too, so a 401 there brings the login form like any other.
  const cache = new StemCache({
    memoryBudgetBytes: 16 * 1024 * 1024,
    diskBudgetBytes: 2 * 1024 * 1024 * 1024,
    fetcher: api.fetch,
    ...(options.cacheName ? { dbName: options.cacheName } : {}),
    ...cacheSettingsFromStorage(),
  });
  announceCache(cache);
  const practiceDb = openPracticeDb(options.practiceDbName);
  const practice = new WorkspaceSync(api, { db: practiceDb });
  const practiceLog = new PracticeLogOutbox(api, { db: practiceDb });
  const forget = async () => {
    practice.forget();
    await Promise.all([cache.clear(), practiceDb.then(clearPracticeDb).catch(() => undefined)]);
  };
  const auth = new AuthStore(api, { forget });
  // A refused handshake is a 1006 close to the browser: ask /api/auth/me whether it was the login.
  const authCheck = () => api.me().then((me) => !me.auth_required || me.user !== null);
  return {
    api,
    cache,
    auth,
    practice,
    practiceLog,
    createSocket: () => {
      const socket = new JobEventsSocket({
        url: wsUrl('/api/ws'),
        authCheck,
        ...(options.createWebSocket ? { createSocket: options.createWebSocket } : {}),
      });
      socket.on('unauthorized', () => auth.unauthorized());
      return socket;
    },
  };
}
