import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { commonErrorResponses } from '../http/schemas.js';
import type { HubDiscovery } from './service.js';

const DiscoveredDevice = Type.Object(
  {
    id: Type.String(),
    type: Type.Union([Type.String(), Type.Null()]),
    enrollment: Type.Union([Type.Literal('unenrolled'), Type.Literal('enrolled')], {
      description: 'What the device advertises: `enrolled` means enrolled with another hub',
    }),
    agentVersion: Type.String(),
    host: Type.String({ description: 'Its mDNS host name, `<host>.local`' }),
    addresses: Type.Array(Type.String(), { description: 'IPv4 addresses it was seen at' }),
    firstSeen: Type.Integer({ description: 'ms since the epoch' }),
    lastSeen: Type.Integer({ description: 'ms since the epoch' }),
  },
  { additionalProperties: false },
);

const DiscoveredList = Type.Object(
  {
    items: Type.Array(DiscoveredDevice),
    browsing: Type.Boolean({ description: 'false when the hub runs with --mdns off (or mDNS is unavailable)' }),
  },
  { additionalProperties: false },
);

export function registerDiscoveryRoutes(app: FastifyInstance, deps: { discovery: HubDiscovery }): void {
  app.get(
    '/api/v1/discovered',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['devices'],
        summary: 'Devices seen on the local network over mDNS that this hub has not enrolled',
        response: { 200: DiscoveredList, ...commonErrorResponses },
      },
    },
    async () => ({ items: deps.discovery.discovered(), browsing: deps.discovery.browsing }),
  );
}
