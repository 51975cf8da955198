import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { HubStartError, HubStartErrorCodes } from '../http/errors.js';

/**
 * A server certificate from files (`--tls-cert`, `--tls-key`, optional `--tls-ca`), checked at
 * start so that a wrong path or a key of another certificate is one clear line instead of a
 * TLS handshake that fails for every client later. Key contents never reach a message.
 */

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  /** The CA that issued the certificate, served to clients that need to trust it. */
  caFile?: string;
}

export interface LoadedCertificateFiles {
  cert: string;
  key: string;
  ca: string | undefined;
}

function invalid(message: string, cause?: unknown): HubStartError {
  return new HubStartError(HubStartErrorCodes.TLS_INVALID, message, { cause });
}

function read(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw invalid(`cannot read the TLS ${what} file ${path}: ${why}`, err);
  }
}

function certificates(what: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw invalid(`the TLS ${what} file ${path} holds no PEM certificate`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (err) {
    throw invalid(`the TLS ${what} file ${path} holds a certificate that cannot be parsed`, err);
  }
}

export function loadCertificateFiles(files: CertificateFiles, now: number): LoadedCertificateFiles {
  const cert = read('certificate', files.certFile);
  const key = read('key', files.keyFile);
  const ca = files.caFile === undefined ? undefined : read('CA', files.caFile);
  const [leaf] = certificates('certificate', files.certFile, cert);
  if (ca !== undefined) certificates('CA', files.caFile!, ca);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw invalid(`the TLS key file ${files.keyFile} holds no private key the hub can read (PEM, unencrypted)`, err);
  }
  if (!leaf!.checkPrivateKey(privateKey)) {
    throw invalid(`the TLS key file ${files.keyFile} does not match the certificate in ${files.certFile}`);
  }
  if (Date.parse(leaf!.validTo) <= now) {
    throw invalid(`the TLS certificate in ${files.certFile} expired on ${new Date(leaf!.validTo).toISOString()}`);
  }
  try {
    createSecureContext({ cert, key, ...(ca !== undefined && { ca }) });
  } catch (err) {
    throw invalid(`cannot use the TLS certificate files: ${(err as Error).message}`, err);
  }
  return { cert, key, ca };
}
