/** Stable error codes of discovery; docs/discovery.md lists them. */
export const DiscoveryErrorCodes = {
  /** `--mdns` names no IPv4 address of this machine (nor `on` or `off`). */
  INVALID_INTERFACE: 'invalid_interface',
  /** The mDNS socket could not be opened (port 5353 held without SO_REUSEADDR, no permission). */
  MDNS_UNAVAILABLE: 'mdns_unavailable',
  /** Browsing for `_flotilla._tcp` found no hub within the timeout. */
  NO_HUB_FOUND: 'no_hub_found',
  /** An advertised name or TXT value that DNS-SD cannot carry (too long, a dot in a label). */
  INVALID_ADVERT: 'invalid_advert',
} as const;

export type DiscoveryErrorCode = (typeof DiscoveryErrorCodes)[keyof typeof DiscoveryErrorCodes];

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
