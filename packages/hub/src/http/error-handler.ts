import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import { ApiError, ApiErrors, apiErrorSpec, type ApiErrorSpec } from './errors.js';
import { StorageError } from '../storage/errors.js';

/**
 * One place turns every failure into `{"error":{"code","message"}}`: our own ApiErrors, errors
 * from other hub parts that carry a catalogued code (the registry's `device_not_found`), schema
 * validation, fastify's own 4xx errors, storage trouble (503) and anything else (500, with the
 * details in the log and none in the response).
 */

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Fastify's own client errors, by their FST_ code. Anything else 4xx from fastify is a bad request. */
const fastifyCodes: Record<string, ApiErrorSpec> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ApiErrors.PAYLOAD_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ApiErrors.UNSUPPORTED_MEDIA_TYPE,
  FST_ERR_NOT_FOUND: ApiErrors.NOT_FOUND,
};

/** Storage failures a client can do nothing about but retry later. */
const storageUnavailable = new Set(['database_error', 'database_unreachable', 'storage_closed']);

interface Mapped {
  spec: ApiErrorSpec;
  message: string;
}

function map(error: FastifyError | Error): Mapped | undefined {
  if (error instanceof ApiError)
    return { spec: apiErrorSpec(error.code) ?? ApiErrors.INTERNAL, message: error.message };
  const code = (error as { code?: unknown }).code;
  const own = apiErrorSpec(code);
  if (own && own !== ApiErrors.INTERNAL) return { spec: own, message: error.message };
  if ((error as FastifyError).validation) return { spec: ApiErrors.BAD_REQUEST, message: error.message };
  if (error instanceof StorageError && storageUnavailable.has(error.code)) {
    return { spec: ApiErrors.STORAGE_UNAVAILABLE, message: ApiErrors.STORAGE_UNAVAILABLE.message };
  }
  if (typeof code === 'string' && code in fastifyCodes) {
    const spec = fastifyCodes[code] as ApiErrorSpec;
    return { spec, message: spec.message };
  }
  const status = (error as FastifyError).statusCode;
  // Fastify's remaining 4xx (bad JSON body, empty JSON body, bad URL encoding…) carry messages
  // written for clients; a syntax error's message quotes the body, which is the client's own.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { spec: ApiErrors.BAD_REQUEST, message: error.message };
  }
  return undefined;
}

export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = map(error);
  if (!mapped) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(errorBody(ApiErrors.INTERNAL.code, `internal error (request ${request.id})`));
  }
  if (mapped.spec.statusCode >= 500) request.log.error({ err: error }, mapped.spec.code);
  else request.log.debug({ code: mapped.spec.code, message: mapped.message }, 'request refused');
  return reply.code(mapped.spec.statusCode).send(errorBody(mapped.spec.code, mapped.message));
}

/**
 * Ajv's messages with the part of the request they are about, and the offending property named
 * (Ajv's own text for an unknown property does not say which).
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0];
  if (!e) return new Error(`${dataVar} is invalid`);
  const where = `${dataVar}${e.instancePath}`;
  let message: string;
  if (e.keyword === 'additionalProperties') {
    const prop = String(e.params['additionalProperty']);
    message = where.endsWith('/labels')
      ? `${where}: invalid label key '${prop}' (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)`
      : `${where} has unknown property '${prop}'`;
  } else if (e.keyword === 'pattern' && /\/labels\/[^/]+$/.test(e.instancePath)) {
    message = `${where}: invalid label value (up to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit, or null to remove the label)`;
  } else if (e.keyword === 'enum' || e.keyword === 'const') {
    const allowed = (e.params['allowedValues'] ?? [e.params['allowedValue']]) as unknown[];
    message = `${where} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  } else {
    message = `${where} ${e.message ?? 'is invalid'}`;
  }
  return new Error(message);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(ApiErrors.NOT_FOUND.code, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
