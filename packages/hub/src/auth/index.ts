/**
 * Users, roles, sessions and API tokens; the authentication + authorization hook every HTTP route
 * and `/ws/client` goes through. Device credentials live in ../enrollment.
 */
export { Accounts, type NewToken, type NewUser, type UserChange } from './accounts.js';
export { IdentityEventTypes, SYSTEM_ACTOR, type IdentityEventType } from './audit.js';
export { ADMIN_USERNAME, Identity, TooManyAttemptsError, type LoginResult } from './identity.js';
export { LoginLimiter } from './login-limiter.js';
export { bearerToken, principalOf, registerAuth, RouteAuthError, type AuthPluginOptions } from './plugin.js';
export { PERMISSIONS, ROLES, ROLE_PERMISSIONS, isRole, roleAllows, type Permission, type Role } from './permissions.js';
export { roleWithin, tokenActor, userActor, type Principal } from './principal.js';
export { RequestLimiter } from './request-limiter.js';
