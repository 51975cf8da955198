import type { Capability, HelloPayload } from '@flotilla/protocol';
import type { CredentialStore } from './credentials.js';
import { mergeCapabilities, type Facts } from './facts.js';
import type { AgentLogger } from './logger.js';

/**
 * The device's side of hello/welcome (docs/agent.md): what `hello` presents, and what the agent
 * keeps from a `welcome` that enrolled it.
 */

export interface HelloParts {
  facts: Facts;
  /** Capabilities of the registered command handlers, declared beside the facts' own. */
  handled: readonly Capability[] | undefined;
  uptime: number;
  /** The device's credential once enrolled, else the enrollment token. Never logged. */
  token: string | undefined;
  /** A certificate request, when the agent wants a client certificate. */
  csr: string | undefined;
}

export function helloPayload({ facts, handled, uptime, token, csr }: HelloParts): HelloPayload {
  const capabilities = mergeCapabilities(facts.capabilities, handled);
  const hello: HelloPayload = { ...facts, uptime };
  if (capabilities) hello.capabilities = capabilities;
  if (token !== undefined) hello.token = token;
  if (csr !== undefined) hello.csr = csr;
  return hello;
}

/** The hub enrolled this device: store its credential (never logged) for later runs. */
export function storeCredential(store: CredentialStore, device: string, secret: string, logger: AgentLogger): void {
  try {
    store.save(device, secret);
    logger.info({ device }, 'enrolled with the hub; device credential stored');
  } catch (err) {
    // Still usable for this process; a restart will need a new enrollment token.
    logger.error({ device, err: (err as Error).message }, 'enrolled, but cannot store the device credential');
  }
}
