import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { halDocuments, type CapabilityDocument } from '@flotilla/protocol';
import { ApiError, ApiErrors } from '../errors.js';
import { ErrorRef, commonErrorResponses } from '../schemas.js';

/** A capability document: JSON Schemas inside, so described loosely here and exactly in docs/hal.md. */
const Capability = Type.Object(
  {
    name: Type.String({ description: 'e.g. `hal.v1.motor.differential`' }),
    version: Type.String({ description: 'semver; the major is the one in the name' }),
    title: Type.String(),
    description: Type.String(),
    commands: Type.Record(Type.String(), Type.Unknown(), {
      description: 'by name: description, args (JSON Schema), result?, priority?, job?',
    }),
    metrics: Type.Record(Type.String(), Type.Unknown(), {
      description: 'by name: unit, description, minimum?, maximum?',
    }),
    samples: Type.Record(Type.String(), Type.Unknown(), { description: 'by name: JSON Schema of the sample' }),
  },
  { additionalProperties: false },
);

const NameParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128, description: 'Capability name, e.g. `hal.v1.led`' }) },
  { additionalProperties: false },
);

/** The HAL catalogue (packages/protocol/src/hal): what devices may declare and be commanded with. */
export function registerSchemaRoutes(app: FastifyInstance): void {
  const byName = new Map<string, CapabilityDocument>(halDocuments().map((d) => [d.name, d]));

  app.get(
    '/api/v1/schemas',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['schemas'],
        summary: 'Every HAL capability: its commands with argument schemas, its metrics and samples',
        response: { 200: Type.Object({ items: Type.Array(Capability) }), ...commonErrorResponses },
      },
    },
    async () => ({ items: halDocuments() }),
  );

  app.get<{ Params: Static<typeof NameParams> }>(
    '/api/v1/schemas/:name',
    {
      config: { permission: 'devices:read' },
      schema: {
        tags: ['schemas'],
        summary: 'One HAL capability',
        params: NameParams,
        response: { 200: Capability, 404: ErrorRef, ...commonErrorResponses },
      },
    },
    async (request) => {
      const doc = byName.get(request.params.name);
      if (!doc) throw new ApiError(ApiErrors.SCHEMA_NOT_FOUND, `no HAL capability ${request.params.name}`);
      return doc;
    },
  );
}
