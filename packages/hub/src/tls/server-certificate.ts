import { isIP } from 'node:net';
import os from 'node:os';
import { webcrypto } from 'node:crypto';
import type { HubCa } from './ca.js';
import { pem } from './pem.js';
import { EC_P256, x509 } from './x509.js';

/**
 * The hub's server certificate when no certificate files are given: a fresh key at every start,
 * signed by the hub CA, so clients that trust the CA (agents with `ca.pem`, `--ca`) reach the
 * hub under any of the names below without a warning.
 */

/** Validity of the server certificate; it is issued again at every start. */
export const SERVER_CERT_VALIDITY_MS = 397 * 24 * 3600_000;

/** localhost, the loopback addresses, this machine's host name, the listen host (unless a wildcard) and `extra`. */
export function serverNames(options: { host?: string; extra?: readonly string[]; hostname?: string } = {}): string[] {
  const names = ['localhost', '127.0.0.1', '::1', options.hostname ?? os.hostname()];
  if (options.host && options.host !== '0.0.0.0' && options.host !== '::') names.push(options.host);
  names.push(...(options.extra ?? []));
  return [...new Set(names.filter((n) => n !== ''))];
}

export interface ServerKeyPair {
  /** PKCS#8 PEM. */
  key: string;
  /** PEM. */
  cert: string;
}

export async function issueServerCertificate(ca: HubCa, names: readonly string[], now: number): Promise<ServerKeyPair> {
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const san = names.map((value) => ({ type: isIP(value) ? ('ip' as const) : ('dns' as const), value }));
  const certificate = await ca.issue({
    subject: `CN=${names[0] ?? 'localhost'}, O=Flotilla`,
    publicKey: keys.publicKey,
    notAfter: now + SERVER_CERT_VALIDITY_MS,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(san),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { key: pem('PRIVATE KEY', pkcs8), cert: certificate.toString('pem') };
}
