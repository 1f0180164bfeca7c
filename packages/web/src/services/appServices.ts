/** The app's long-lived services, built once per page. */
import { ApiClient } from '../api/client';
import { StemCache } from './cacheManager';
import { JobEventsSocket, wsUrl } from './websocket';

export interface AppServices {
  api: ApiClient;
  cache: StemCache;
  createSocket: () => JobEventsSocket;
}

export function createAppServices(): AppServices {
  const api = new ApiClient('');
  return {
    api,
    cache: new StemCache({ memoryBudgetBytes: 16 * 1024 * 1024, diskBudgetBytes: 2 * 1024 * 1024 * 1024 }),
    createSocket: () => new JobEventsSocket({ url: wsUrl('/api/ws') }),
  };
}
