export { Agent, DEFAULT_AUTH_RETRY_MS } from './agent.js';
export { IdentityFileCredentials, writePrivateFile, type CredentialStore } from './credentials.js';
export type { AgentOptions, AgentStats } from './options.js';
export {
  AGENT_STATES,
  canTransition,
  IllegalTransitionError,
  type AgentState,
  type DisconnectReason,
  type StateEvent,
} from './state.js';
export { Backoff, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS, type BackoffOptions } from './backoff.js';
export {
  CommandRegistry,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type CommandArgs,
  type CommandContext,
  type CommandHandler,
} from './commands.js';
export { AgentError, AgentErrorCodes, CommandError, type AgentErrorCode } from './errors.js';
export { collectFacts, mergeFacts, mergeCapabilities, type Facts } from './facts.js';
export {
  resolveIdentity,
  defaultStateDir,
  generateDeviceId,
  IDENTITY_FILE,
  type IdentityFile,
  type ResolvedIdentity,
} from './identity.js';
export { SystemMetricsSampler, SystemMetricNames, cpuPercent, diskPercent } from './system-metrics.js';
export { ChangeFilter, type ChangeFilterOptions } from './change-filter.js';
export { createLogger, silentLogger, LOGGER_LEVELS, type AgentLogger, type LoggerLevel } from './logger.js';
export { parseAgentArgs, AGENT_USAGE, type AgentArgs, type ParsedAgentArgs } from './args.js';
export { agentSocketUrl } from './url.js';
export { startAgent, type StartedAgent } from './start.js';
export {
  registerDrivers,
  TelemetryProducers,
  type Driver,
  type TelemetryProducer,
  type TelemetryReading,
} from './drivers/driver.js';
export {
  shellDriver,
  SHELL_DEFAULTS,
  MAX_SHELL_OUTPUT_BYTES,
  type ShellCommandConfig,
  type ShellDriverConfig,
  type ShellResult,
} from './drivers/shell.js';
export { loadAgentConfig, configuredDrivers, AgentConfigSchema, type AgentConfig } from './drivers/config.js';
export { advertiseDevice, type DeviceAdvertising } from './advertise.js';
export { createKeyAndCsr, type KeyAndCsr } from './csr.js';
export { CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE, readCaFile } from './tls-files.js';
export { AGENT_VERSION } from './version.js';
export {
  DEFAULT_TELEMETRY_BUFFER_MB,
  DEFAULT_MEMORY_TELEMETRY_BUFFER_MB,
  TELEMETRY_DROPPED_EVENT,
  type AgentTelemetryStats,
} from './agent-telemetry.js';
export {
  MemoryTelemetryBuffer,
  timeBasedSeq,
  type TelemetryBuffer,
  type TelemetryBufferStats,
  type TelemetryDrop,
} from './telemetry-buffer.js';
export { DiskTelemetryBuffer, type DiskTelemetryBufferOptions } from './telemetry-segments.js';
export { shippingLogger, SHIP_LEVELS, type ShipLevel } from './log-shipping.js';
export {
  TeleoperationDetector,
  DETECTOR_DEFAULTS,
  type TeleoperationDetectorOptions,
  type TeleoperationSession,
} from './teleop/detector.js';
export type { TeleoperationIndicator, IndicatorReading, ObservedCommand } from './teleop/indicator.js';
export { CommandRateIndicator, COMMAND_RATE_DEFAULTS, type CommandRateOptions } from './teleop/command-rate.js';
export { OperatorSessionIndicator, type OperatorSessionOptions } from './teleop/operator-session.js';
export { createTeleoperationDetector, type TeleoperationOptions } from './teleop/options.js';
