import type { Logger } from 'pino';
import type { Clock } from '@flotilla/protocol';
import { HubStartError, HubStartErrorCodes } from '../http/errors.js';
import type { Storage } from '../storage/types.js';
import { HubCa } from './ca.js';
import { DeviceCertificates } from './device-certificates.js';
import { loadCertificateFiles, type CertificateFiles } from './files.js';
import { issueServerCertificate, serverNames } from './server-certificate.js';

/** What `--tls` resolves to (HubConfig.tls). */
export interface TlsConfig {
  /** Server certificate files; absent: the hub issues its own from its CA. */
  files: CertificateFiles | undefined;
  /** Extra names (DNS names or IP addresses) for the hub-issued server certificate. */
  names: readonly string[];
  /** Enrolled devices must present their client certificate. */
  requireClientCert: boolean;
  /** The listen host, added to the certificate's names unless it is a wildcard. */
  host: string;
}

/** Everything the hub serves TLS with. */
export interface HubTls {
  /** Server private key, PEM. */
  readonly key: string;
  /** Server certificate (and any chain from the file), PEM. */
  readonly cert: string;
  /**
   * PEM bundle that client certificates are verified against: the hub CA, plus the `--tls-ca`
   * file when given. `RunningHub.tls.ca`.
   */
  readonly ca: string;
  /**
   * What clients should trust to verify the hub (`GET /api/v1/tls/ca`, `welcome.ca`): the hub CA
   * when it issued the server certificate, the `--tls-ca` file otherwise, or undefined for a
   * certificate from files without one (clients use their system trust store).
   */
  readonly trust: string | undefined;
  readonly hubCa: HubCa;
  readonly certificates: DeviceCertificates;
  readonly requireClientCert: boolean;
}

function failed(what: string, err: unknown): HubStartError {
  return new HubStartError(HubStartErrorCodes.STORAGE_FAILED, `cannot ${what}: ${(err as Error).message}`, {
    cause: err,
  });
}

/** Loads (or creates) the hub CA and the server certificate. Startup errors are HubStartErrors. */
export async function setupHubTls(
  config: TlsConfig,
  deps: { storage: Pick<Storage, 'tls' | 'deviceIdentity'>; clock: Clock; logger: Logger },
): Promise<HubTls> {
  const { storage, clock, logger } = deps;
  const now = clock.now();
  // Files are checked before the CA is touched: a typo in a path should not create anything.
  const files = config.files && loadCertificateFiles(config.files, now);
  let hubCa: HubCa;
  try {
    hubCa = await HubCa.load(storage.tls, clock);
  } catch (err) {
    throw failed('load the hub CA', err);
  }
  logger.info({ fingerprint: hubCa.fingerprint, notAfter: hubCa.notAfter.toISOString() }, 'hub CA loaded');
  const certificates = new DeviceCertificates({
    ca: hubCa,
    store: storage.tls,
    credentials: storage.deviceIdentity,
    clock,
    logger: logger.child({ component: 'tls' }),
  });
  if (files) {
    return {
      key: files.key,
      cert: files.cert,
      ca: files.ca === undefined ? hubCa.certificatePem : hubCa.certificatePem + files.ca,
      trust: files.ca,
      hubCa,
      certificates,
      requireClientCert: config.requireClientCert,
    };
  }
  const names = serverNames({ host: config.host, extra: config.names });
  let server;
  try {
    server = await issueServerCertificate(hubCa, names, now);
  } catch (err) {
    throw failed('issue the server certificate', err);
  }
  logger.debug({ names }, 'server certificate issued by the hub CA');
  return {
    ...server,
    ca: hubCa.certificatePem,
    trust: hubCa.certificatePem,
    hubCa,
    certificates,
    requireClientCert: config.requireClientCert,
  };
}
