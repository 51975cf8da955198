import type { Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import type { Io } from '../io.js';

/**
 * `flotilla agent` is the agent's own command line (`flotilla-agent`): the same parser and
 * help from @flotilla/agent, so the two cannot drift apart.
 */
async function run(argv: readonly string[], io: Io): Promise<number> {
  const { AgentError, AGENT_USAGE, createLogger, parseAgentArgs, startAgent } = await import('@flotilla/agent');
  const parsed = parseAgentArgs(argv, io.env);
  if (!parsed.ok) throw new UsageError(parsed.error);
  if (parsed.help) {
    io.stdout.write(AGENT_USAGE.replace('Usage: flotilla-agent', 'Usage: flotilla agent'));
    return ExitCodes.OK;
  }
  const { logLevel, ...options } = parsed.options;
  const logger = createLogger(logLevel ?? io.env['FLOTILLA_LOG_LEVEL'] ?? 'info', io.stderr);
  let stopRequested = (): void => {};
  const stop = new Promise<void>((resolve) => (stopRequested = resolve));
  const dispose = io.onSignal(() => stopRequested());
  let started;
  try {
    started = await startAgent(options, logger);
  } catch (err) {
    dispose();
    if (err instanceof AgentError)
      throw new CliError(CliErrorCodes.FAILED, err.message, ExitCodes.FAILURE, { cause: err });
    throw err;
  }
  try {
    await stop;
    logger.info({ device: started.agent.id }, 'agent stopping');
    await started.stop();
    return ExitCodes.OK;
  } finally {
    dispose();
  }
}

export const agentCommand: Command = { name: 'agent', summary: 'Connect this machine to a hub as a device', run };
