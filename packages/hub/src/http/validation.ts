import AjvCompiler from '@fastify/ajv-compiler';

/**
 * Request validation with two Ajv settings. Query strings, path parameters and headers arrive as
 * text, so their values are coerced to the schema's types (`?online=true` → boolean, a single
 * `?label=` → array). Bodies are JSON and keep their types: coercion there would quietly turn
 * `{"labels":{"zone":5}}` into `"5"` and `{"old":null}` into `""` (Ajv coerces inside `anyOf`),
 * so a body with a wrong type is refused instead.
 *
 * In both, unknown properties are refused rather than stripped, so a typo in a filter
 * (`?onlin=true`) is an error and not a silently unfiltered list.
 */
interface RouteDefinition {
  schema: unknown;
  httpPart?: string;
}
type Compile = (route: RouteDefinition) => unknown;
type CompilerPool = (
  externalSchemas: Record<string, unknown>,
  options?: { customOptions?: Record<string, unknown>; plugins?: unknown[] },
) => Compile;

// The package's typings describe the returned compiler as Ajv's own `compile`; at run time it
// takes fastify's route definition ({schema, httpPart, ...}), as fastify calls it.
//
// One pool for the process (fastify's default compiler keeps one per server, for this reason):
// fastify asks for a validator compiler again for every route of a context that added schemas,
// and the pool answers with the same Ajv instances, keyed by the shared schemas and options. A
// pool per call built two Ajv instances per route, each compiling the JSON-Schema meta-schema:
// two thirds of a hub's start. Hubs started in one process (tests) share compiled validators too.
const pool = AjvCompiler() as unknown as CompilerPool;

function twoPartValidator(externalSchemas: Record<string, unknown>, options?: Parameters<CompilerPool>[1]): Compile {
  const custom = { ...options?.customOptions, removeAdditional: false, allErrors: false };
  const coercing = pool(externalSchemas, { ...options, customOptions: { ...custom, coerceTypes: 'array' } });
  const exact = pool(externalSchemas, { ...options, customOptions: { ...custom, coerceTypes: false } });
  return (route) => (route.httpPart === 'body' ? exact(route) : coercing(route));
}

export const buildValidator = twoPartValidator as unknown as AjvCompiler.ValidatorFactory;
