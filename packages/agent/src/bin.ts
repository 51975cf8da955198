#!/usr/bin/env node
import { Agent } from './agent.js';
import { AGENT_USAGE, parseAgentArgs } from './args.js';
import { AgentError } from './errors.js';
import { defaultStateDir } from './identity.js';
import { createLogger } from './logger.js';

const parsed = parseAgentArgs(process.argv.slice(2), process.env);
if (!parsed.ok) {
  process.stderr.write(`flotilla-agent: ${parsed.error} (see --help)\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(AGENT_USAGE);
  process.exit(0);
}
const { logLevel, ...options } = parsed.options;
const logger = createLogger(logLevel ?? process.env['FLOTILLA_LOG_LEVEL'] ?? 'info');

let agent: Agent;
try {
  // Always a state directory (the default one too): the telemetry buffer lives on disk there.
  agent = new Agent({ ...options, stateDir: options.stateDir ?? defaultStateDir(), logger });
} catch (err) {
  if (!(err instanceof AgentError)) throw err;
  process.stderr.write(`flotilla-agent: ${err.message}\n`);
  process.exit(1);
}
logger.info({ device: agent.id, hub: options.hubUrl }, 'agent starting');
agent.start();

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ device: agent.id, signal }, 'agent stopping');
  void agent.stop().then(() => process.exit(0));
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
