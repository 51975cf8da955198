/**
 * `@flotilla/hub`: the control plane. `startHub` runs one in this process; everything else here
 * is what callers of it need (options and their defaults, error codes, endpoint paths).
 */
export { startHub, type HubTlsMaterial, type RunningHub } from './hub.js';
export {
  HUB_DEFAULTS,
  HUB_VERSION,
  MIN_HEARTBEAT_INTERVAL_MS,
  resolveHubConfig,
  type HubConfig,
  type HubOptions,
} from './config.js';
export {
  ApiErrors,
  ClientWsErrors,
  HubStartError,
  HubStartErrorCodes,
  type ApiErrorCode,
  type HubStartErrorCode,
} from './http/errors.js';
export { CLIENT_WS_PATH } from './client-ws/endpoint.js';
export type { AggregatedTelemetry, MetricSummary } from './client-ws/throttle.js';
export { AGENT_WS_PATH } from './gateway/ws-agent.js';
export type { CreateTokenRequest, CreatedEnrollmentToken, EnrollmentTokenInfo } from './enrollment/service.js';
export { DEVICE_SECRET_PREFIX, ENROLLMENT_TOKEN_PREFIX } from './enrollment/secrets.js';
export { DisconnectReasons, type DisconnectReason } from './registry/projection.js';
