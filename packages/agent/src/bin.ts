#!/usr/bin/env node
import { AGENT_USAGE, parseAgentArgs } from './args.js';
import { AgentError } from './errors.js';
import { createLogger } from './logger.js';
import { startAgent, type StartedAgent } from './start.js';

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

let started: StartedAgent;
try {
  started = await startAgent(options, logger);
} catch (err) {
  if (!(err instanceof AgentError)) throw err;
  process.stderr.write(`flotilla-agent: ${err.message}\n`);
  process.exit(1);
}

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ device: started.agent.id, signal }, 'agent stopping');
  void started.stop().then(() => process.exit(0));
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
