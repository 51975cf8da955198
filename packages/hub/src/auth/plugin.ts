import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { ApiError, ApiErrors } from '../http/errors.js';
import type { Identity } from './identity.js';
import { PERMISSIONS, roleAllows, type Permission } from './permissions.js';
import type { Principal } from './principal.js';
import type { RequestLimiter } from './request-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a caller's role needs for this route (docs/security.md). */
    permission?: Permission;
    /** The route needs no caller (health, readiness, docs, login). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who made the request; null on public routes. */
    principal: Principal | null;
  }
}

export interface AuthPluginOptions {
  identity: Identity;
  /** Routes under these prefixes are public without declaring it (plugins we do not write: the docs UI). */
  publicPrefixes?: readonly string[];
  /** Requests per API token; absent: unlimited. */
  requestLimiter?: RequestLimiter;
  /** Counts refused requests by code. */
  refused?: Counter<'code'>;
}

/** A route as registered, with what it requires: the table the route × role test walks. */
export interface DeclaredRoute {
  method: string;
  url: string;
  permission: Permission | undefined;
  public: boolean;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on an app since registerAuth, as Fastify reported it (HEAD routes included). */
export function declaredRoutes(app: FastifyInstance): readonly DeclaredRoute[] {
  return declared.get(app) ?? [];
}

/** Raised at route registration, so a route that forgot to say who may call it stops the hub from starting. */
export class RouteAuthError extends Error {
  override readonly name = 'RouteAuthError';
}

/** The bearer token of a request; `access_token` in the query only on WebSocket upgrades (browsers cannot set headers there). */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) {
    const upgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
    const query = request.query as Record<string, unknown> | undefined;
    const fromQuery = upgrade ? query?.['access_token'] : undefined;
    if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
    throw new ApiError(ApiErrors.MISSING_TOKEN);
  }
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match?.[1]) throw new ApiError(ApiErrors.MALFORMED_TOKEN, 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

/**
 * Authentication and authorization for every route, in `onRequest`: before the body is read or
 * validated, so a caller without the right role learns nothing from the schema's answers. Every
 * route declares `config.permission` or `config.public`; registering one with neither throws.
 */
export function registerAuth(app: FastifyInstance, options: AuthPluginOptions): void {
  const prefixes = options.publicPrefixes ?? [];
  const routes: DeclaredRoute[] = [];
  declared.set(app, routes);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    if (prefixes.some((prefix) => route.url.startsWith(prefix))) {
      route.config = { ...route.config, public: true };
    }
    const config = route.config;
    const permission = config?.permission;
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, permission, public: config?.public === true });
    }
    if (config?.public === true && permission === undefined) return;
    if (config?.public === true) {
      throw new RouteAuthError(`${route.method} ${route.url} is both public and needs ${permission}`);
    }
    if (permission === undefined || !(permission in PERMISSIONS)) {
      throw new RouteAuthError(
        `${String(route.method)} ${route.url} must declare config.permission (one of permissions.ts) or config.public`,
      );
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    // Unmatched URLs have no config and go on to the 404 handler.
    if (config.public === true || config.permission === undefined) return;
    let principal: Principal;
    try {
      principal = await options.identity.authenticate(bearerToken(request));
    } catch (err) {
      if (err instanceof ApiError) {
        reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${err.code}"`);
        options.refused?.inc({ code: err.code });
      }
      throw err;
    }
    request.principal = principal;
    request.actor = principal.actor;
    if (principal.tokenId !== undefined && options.requestLimiter) {
      const wait = options.requestLimiter.take(principal.tokenId);
      if (wait > 0) {
        options.refused?.inc({ code: ApiErrors.RATE_LIMITED.code });
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new ApiError(ApiErrors.RATE_LIMITED);
      }
    }
    if (!roleAllows(principal.role, config.permission)) {
      options.refused?.inc({ code: ApiErrors.FORBIDDEN.code });
      throw new ApiError(ApiErrors.FORBIDDEN, `role ${principal.role} lacks ${config.permission}`);
    }
  });
}

/** The authenticated caller of a route that declared a permission. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.routeOptions.url} used principalOf without a permission`);
  return request.principal;
}
