import type { Permission } from '../auth/permissions.js';

/**
 * What a subscription pattern can deliver decides what it needs: `flotilla.<id>.event.<Type>`
 * subjects carry the event log (`events:read`); status, telemetry and logs are device data
 * (`devices:read`). A wildcard in the kind position, or a `>` before it, can deliver both.
 */
export function subscriptionPermissions(pattern: string): Permission[] {
  const tokens = pattern.split('.');
  const kind = tokens[2];
  const tail = tokens.slice(0, 3).includes('>');
  if (tail || kind === '*') return ['devices:read', 'events:read'];
  if (kind === 'event') return ['events:read'];
  return ['devices:read'];
}
