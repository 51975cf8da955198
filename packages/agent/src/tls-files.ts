import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from './credentials.js';
import { AgentError, AgentErrorCodes } from './errors.js';
import { defaultStateDir } from './identity.js';

/**
 * The agent's TLS files in its state directory, beside `identity.json`: its client key
 * (`tls-key.pem`, mode 0600) and certificate (`tls-cert.pem`) from the hub CA, and the CA it
 * verifies the hub with (`ca.pem`), all from its enrollment over `wss://` (docs/agent.md).
 */

export const TLS_KEY_FILE = 'tls-key.pem';
export const TLS_CERT_FILE = 'tls-cert.pem';
export const CA_FILE = 'ca.pem';

/** Ask the hub for a new client certificate when less than this is left of the current one. */
export const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

export interface ClientCertificate {
  key: string;
  cert: string;
  /** Epoch ms. */
  notAfter: number;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError(AgentErrorCodes.IDENTITY_UNREADABLE, `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The CA file given with `--ca` (FLOTILLA_CA): PEM certificates, checked now rather than at every connection. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AgentError(AgentErrorCodes.CA_UNREADABLE, `cannot read the CA file ${path}: ${why}`, { cause: err });
  }
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
  try {
    if (first === undefined) throw new Error('no PEM certificate');
    new X509Certificate(first);
  } catch (err) {
    throw new AgentError(AgentErrorCodes.CA_UNREADABLE, `the CA file ${path} holds no PEM certificate`, { cause: err });
  }
  return text;
}

export class TlsFiles {
  private readonly dir: string;

  constructor(stateDir: string | undefined) {
    this.dir = stateDir ?? defaultStateDir();
  }

  /** The stored client certificate, when there is one for `deviceId` whose key matches it. */
  loadCertificate(deviceId: string): ClientCertificate | undefined {
    const key = readOptional(join(this.dir, TLS_KEY_FILE));
    const cert = readOptional(join(this.dir, TLS_CERT_FILE));
    if (key === undefined || cert === undefined) return undefined;
    return checkedCertificate(deviceId, key, cert);
  }

  loadCa(): string | undefined {
    return readOptional(join(this.dir, CA_FILE));
  }

  saveCertificate(certificate: ClientCertificate): void {
    this.write(TLS_KEY_FILE, certificate.key);
    this.write(TLS_CERT_FILE, certificate.cert);
  }

  saveCa(ca: string): void {
    this.write(CA_FILE, ca);
  }

  private write(name: string, content: string): void {
    const path = join(this.dir, name);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writePrivateFile(path, content);
    } catch (err) {
      throw new AgentError(AgentErrorCodes.IDENTITY_UNWRITABLE, `cannot write ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** `cert` with its expiry, when it is a certificate for `deviceId` (CN) and `key` is its key; else undefined. */
export function checkedCertificate(deviceId: string, key: string, cert: string): ClientCertificate | undefined {
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (!x509.subject.split('\n').includes(`CN=${deviceId}`)) return undefined;
    return { key, cert, notAfter: Date.parse(x509.validTo) };
  } catch {
    return undefined;
  }
}
