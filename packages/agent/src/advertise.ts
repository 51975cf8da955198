import { DEVICE_SERVICE, Mdns, deviceTxt, type Advertisement, type MdnsSetting } from '@flotilla/discovery';
import type { Clock } from '@flotilla/protocol';
import type { Agent } from './agent.js';
import type { AgentLogger } from './logger.js';
import { AGENT_VERSION } from './version.js';

export interface DeviceAdvertising {
  /** Withdraws the advertisement (goodbye) and closes mDNS. */
  close(): Promise<void>;
}

/**
 * Advertises the agent's device as `_flotilla-device._tcp` with its id, type and enrollment
 * state, so a hub on the network lists it at `GET /api/v1/discovered` until it enrolls. The TXT
 * follows the agent: it says `enrolled` from the session the hub hands it a credential. The
 * SRV port is 0: an agent listens on nothing, it dials out to its hub.
 */
export async function advertiseDevice(
  agent: Agent,
  options: { setting: MdnsSetting; type?: string; clock?: Clock; logger: AgentLogger },
): Promise<DeviceAdvertising> {
  const { setting, logger } = options;
  if (setting === 'off') return { close: async () => {} };
  let mdns: Mdns;
  try {
    mdns = await Mdns.open({
      ...(setting !== 'on' && { interface: setting.address }),
      ...(options.clock && { clock: options.clock }),
    });
  } catch (err) {
    // Not being listed as discoverable costs nothing once the device has its hub's URL.
    logger.warn({ device: agent.id, err }, 'mDNS is unavailable: this device is not advertised');
    return { close: async () => {} };
  }
  const txt = () =>
    deviceTxt({
      id: agent.id,
      ...(options.type !== undefined && { type: options.type }),
      enrollment: agent.hasCredential ? 'enrolled' : 'unenrolled',
      version: AGENT_VERSION,
    });
  let advertised: Advertisement = mdns.advertise({ instance: agent.id, type: DEVICE_SERVICE, port: 0, txt: txt() });
  let enrolled = agent.hasCredential;
  const onState = (): void => {
    if (agent.hasCredential === enrolled) return;
    enrolled = agent.hasCredential;
    advertised.updateTxt(txt());
  };
  agent.on('state', onState);
  logger.info({ device: agent.id, service: DEVICE_SERVICE, enrolled }, 'device advertised on mDNS');
  return {
    close: async () => {
      agent.off('state', onState);
      advertised.stop();
      advertised = { fqdn: advertised.fqdn, updateTxt: () => {}, stop: () => {} };
      await mdns.close();
    },
  };
}
