export { FlotillaClient, type FetchLike, type FlotillaClientOptions } from './client.js';
export {
  LiveClient,
  type LiveClientOptions,
  type LiveEvent,
  type LiveHandler,
  type LiveMessage,
  type LiveState,
  type WebSocketConstructor,
  type WebSocketLike,
} from './live.js';
export {
  FlotillaError,
  FlotillaApiError,
  FlotillaConnectionError,
  SdkErrorCodes,
  type SdkErrorCode,
} from './errors.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { liveUrl } from './url.js';
export type * from './types.js';
export type * from './report-types.js';
export { AlertsApi } from './alerts.js';
export type {
  Alert,
  AlertCondition,
  AlertDetail,
  AlertDuration,
  AlertFilter,
  AlertRule,
  AlertRuleInput,
  AlertRulePatch,
  AlertSeverity,
  AlertStatus,
  WebhookDelivery,
} from './alerts.js';
export { UsersApi, TokensApi } from './accounts.js';
export type { ApiToken, CreatedApiToken, NewApiToken, NewUser, Role, UserPatch } from './accounts.js';
