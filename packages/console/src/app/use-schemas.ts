import type { Capability, FlotillaClient } from '@flotilla/sdk';
import { useSession } from './session.tsx';
import { useAsync, type AsyncState } from './use-async.ts';

// The HAL catalogue changes only with the hub's version: fetched once per signed-in client.
const cache = new WeakMap<FlotillaClient, Promise<Map<string, Capability>>>();

function load(client: FlotillaClient): Promise<Map<string, Capability>> {
  let pending = cache.get(client);
  if (!pending) {
    pending = client.schemas().then((items) => new Map(items.map((c) => [c.name, c])));
    pending.catch(() => cache.delete(client));
    cache.set(client, pending);
  }
  return pending;
}

/** The HAL capabilities by name (`GET /api/v1/schemas`). */
export function useSchemas(): AsyncState<Map<string, Capability>> {
  const { client } = useSession();
  return useAsync(() => load(client), [client])[0];
}
