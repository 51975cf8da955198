import { DiscoveryError, findHub } from '@flotilla/discovery';
import { advertiseDevice } from './advertise.js';
import { Agent } from './agent.js';
import type { AgentArgs } from './args.js';
import { configuredDrivers, loadAgentConfig } from './drivers/config.js';
import { AgentError, AgentErrorCodes } from './errors.js';
import { defaultStateDir } from './identity.js';
import type { AgentLogger } from './logger.js';

export interface StartedAgent {
  readonly agent: Agent;
  /** The hub URL connected to (the one found, with `--hub auto`). */
  readonly hubUrl: string;
  /** Withdraws the mDNS advertisement and stops the agent. */
  stop(): Promise<void>;
}

/**
 * What `flotilla-agent` and `flotilla agent` both do with their parsed flags: find the hub when
 * asked to (`--hub auto`), start the agent with its state directory, and advertise the device
 * on mDNS. Failures are AgentErrors with a one-line message (`no_hub_found` among them).
 */
export async function startAgent(args: Omit<AgentArgs, 'logLevel'>, logger: AgentLogger): Promise<StartedAgent> {
  const { mdns, discoveryTimeoutMs, hubId, configFile, ...options } = args;
  // The configuration first: a mistake in it is reported before anything is looked for.
  const drivers = configFile === undefined ? [] : configuredDrivers(loadAgentConfig(configFile));
  let hubUrl = options.hubUrl;
  if (hubUrl === 'auto') {
    try {
      const found = await findHub({
        ...(mdns !== 'on' && mdns !== 'off' && { interface: mdns.address }),
        timeoutMs: discoveryTimeoutMs,
        ...(hubId !== undefined && { hubId }),
      });
      hubUrl = found.url;
      logger.info({ hub: hubUrl, hubId: found.hub.id, version: found.hub.version }, 'found a hub on mDNS');
    } catch (err) {
      if (err instanceof DiscoveryError)
        throw new AgentError(AgentErrorCodes.NO_HUB_FOUND, err.message, { cause: err });
      throw err;
    }
  }
  // Always a state directory (the default one too): the telemetry buffer lives on disk there.
  const agent = new Agent({
    ...options,
    hubUrl,
    stateDir: options.stateDir ?? defaultStateDir(),
    logger,
    ...(drivers.length > 0 && { drivers }),
  });
  logger.info({ device: agent.id, hub: hubUrl }, 'agent starting');
  agent.start();
  const advertising = await advertiseDevice(agent, { setting: mdns, logger });
  return {
    agent,
    hubUrl,
    stop: async () => {
      await advertising.close();
      await agent.stop();
    },
  };
}
