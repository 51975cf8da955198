import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCodes, type Clock } from '@flotilla/protocol';
import type { DeviceIdentityStore } from '../storage/device-identity.js';
import type { TlsStore } from '../storage/tls.js';
import type { HubCa } from './ca.js';
import { normalizeSerial, x509 } from './x509.js';

/**
 * Device client certificates: issued by the hub CA for a CSR in `hello` (CN = the device id),
 * recorded by serial, and checked when a device presents one over TLS. The check goes to the
 * hub's records, not only the signature: a certificate counts only while it is recorded for that
 * device, not revoked, and issued for the device's current, live credential — so revoking the
 * credential (or enrolling the id again) makes every earlier certificate useless at once.
 */

/** Client certificates are valid this long; the agent asks for a new one when less than a tenth is left. */
export const DEVICE_CERT_VALIDITY_MS = 365 * 24 * 3600_000;

/** What the TLS layer says about a client certificate that verified against the hub CA. */
export interface PeerCertificate {
  /** The subject's common name: the device id it was issued to. */
  commonName: string | undefined;
  /** Hex serial number. */
  serial: string;
}

export interface CertificateRefusal {
  code: typeof ErrorCodes.CERTIFICATE_MISMATCH | typeof ErrorCodes.CERTIFICATE_REVOKED | typeof ErrorCodes.INVALID_CSR;
  message: string;
}

export interface DeviceCertificatesOptions {
  ca: HubCa;
  store: TlsStore;
  credentials: Pick<DeviceIdentityStore, 'getCredential'>;
  clock: Clock;
  logger: Logger;
}

export class DeviceCertificates {
  constructor(private readonly options: DeviceCertificatesOptions) {}

  /** The public key of a CSR whose signature checks out (proof the device holds the key), or a refusal. */
  async parseCsr(csrPem: string): Promise<x509.PublicKey | CertificateRefusal> {
    try {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) return { code: ErrorCodes.INVALID_CSR, message: 'the CSR signature does not verify' };
      const algorithm = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
      if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') {
        return { code: ErrorCodes.INVALID_CSR, message: 'the CSR key must be ECDSA P-256' };
      }
      return csr.publicKey;
    } catch {
      return { code: ErrorCodes.INVALID_CSR, message: 'the CSR is not a PKCS#10 request' };
    }
  }

  /** Issues and records a client certificate for `deviceId` (its CN); returns the PEM. */
  async issue(deviceId: string, publicKey: x509.PublicKey): Promise<string> {
    const now = this.options.clock.now();
    const certificate = await this.options.ca.issue({
      subject: `CN=${deviceId}, O=Flotilla device`,
      publicKey,
      notAfter: now + DEVICE_CERT_VALIDITY_MS,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    const der = Buffer.from(certificate.rawData);
    await this.options.store.recordCertificate({
      serial: normalizeSerial(certificate.serialNumber),
      deviceId,
      fingerprint: createHash('sha256').update(der).digest('hex'),
      notAfter: certificate.notAfter.getTime(),
      created: now,
    });
    this.options.logger.info(
      { device: deviceId, serial: normalizeSerial(certificate.serialNumber) },
      'device certificate issued',
    );
    return certificate.toString('pem');
  }

  /**
   * Undefined when `peer` may speak for `deviceId`: issued to it, recorded, not revoked, and not
   * older than the device's live credential.
   */
  async check(deviceId: string, peer: PeerCertificate): Promise<CertificateRefusal | undefined> {
    if (peer.commonName !== deviceId) {
      return {
        code: ErrorCodes.CERTIFICATE_MISMATCH,
        message: `the client certificate was issued to '${peer.commonName ?? ''}', not '${deviceId}'`,
      };
    }
    const revoked: CertificateRefusal = {
      code: ErrorCodes.CERTIFICATE_REVOKED,
      message: 'the client certificate is revoked or was replaced: enroll the device again',
    };
    const row = await this.options.store.getCertificate(normalizeSerial(peer.serial));
    if (!row || row.deviceId !== deviceId || row.revokedAt !== null) return revoked;
    const credential = await this.options.credentials.getCredential(deviceId);
    if (!credential || credential.revokedAt !== null || row.created < credential.created) return revoked;
    return undefined;
  }

  /** Marks the device's certificates revoked in the records (its credential was revoked). */
  async revoke(deviceId: string): Promise<void> {
    const count = await this.options.store.revokeCertificates(deviceId, this.options.clock.now());
    if (count > 0) this.options.logger.info({ device: deviceId, count }, 'device certificates revoked');
  }
}
