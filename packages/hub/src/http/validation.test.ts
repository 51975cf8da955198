import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { buildValidator } from './validation.js';

/** The factory as fastify calls it: external schemas in, a compiler of route definitions out. */
type Validate = ((value: unknown) => boolean) & { errors?: unknown };
const factory = buildValidator as unknown as (
  externalSchemas: Record<string, unknown>,
  options?: { customOptions?: Record<string, unknown> },
) => (route: { schema: unknown; httpPart?: string }) => Validate;

const external = { Thing: Type.Object({ id: Type.String() }, { $id: 'Thing' }) };
const Filter = Type.Object({ online: Type.Boolean(), tag: Type.Array(Type.String()) }, { additionalProperties: false });

test('fastify asks for a compiler per route; every ask reuses the validators already compiled', () => {
  // A new Ajv per ask compiled the JSON-Schema meta-schema twice per route: most of a hub's start.
  const first = factory(external, {})({ schema: Filter, httpPart: 'body' });
  const again = factory(external, {})({ schema: Filter, httpPart: 'body' });
  assert.equal(again, first);
  assert.equal(
    factory(external, {})({ schema: Filter, httpPart: 'querystring' }),
    factory(external, {})({ schema: Filter, httpPart: 'querystring' }),
  );
});

test('query strings are coerced to the schema types; bodies keep theirs; unknown properties are refused in both', () => {
  const query = factory(external, {})({ schema: Filter, httpPart: 'querystring' });
  const value = { online: 'true', tag: 'a' };
  assert.equal(query(value), true);
  assert.deepEqual(value, { online: true, tag: ['a'] });
  assert.equal(query({ online: 'true', tag: 'a', onlin: 'true' }), false);

  const body = factory(external, {})({ schema: Filter, httpPart: 'body' });
  assert.equal(body({ online: 'true', tag: ['a'] }), false);
  assert.equal(body({ online: true, tag: ['a'] }), true);
  assert.equal(body({ online: true, tag: ['a'], extra: 1 }), false);
});
