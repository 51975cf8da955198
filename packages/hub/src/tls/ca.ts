import { createHash, webcrypto } from 'node:crypto';
import type { Clock } from '@flotilla/protocol';
import type { HubCaRow, TlsStore } from '../storage/tls.js';
import { pem } from './pem.js';
import { EC_P256, randomSerial, x509, type CryptoKey } from './x509.js';

/**
 * The hub's own certificate authority: an ECDSA P-256 key and a self-signed certificate made on
 * the first start with TLS and kept in storage (`hub_ca`), so restarts and replicas sharing one
 * PostgreSQL sign with the same CA and devices keep trusting it. It signs the hub's server
 * certificate (unless certificate files are given) and every device client certificate.
 *
 * The private key stays inside this object (a non-extractable CryptoKey after loading) and in
 * the database row; it is never logged, put in an event or returned by the API.
 */

/** The CA certificate is valid this long from its creation (rotation: docs/security.md). */
export const CA_VALIDITY_MS = 10 * 365 * 24 * 3600_000;
/** Certificates start this much before "now", for peers whose clocks run a little behind. */
export const BACKDATE_MS = 3600_000;

export interface IssueRequest {
  subject: string;
  publicKey: CryptoKey | x509.PublicKey;
  notAfter: number;
  extensions: x509.Extension[];
}

type X509Key = Extract<
  Parameters<typeof x509.X509CertificateGenerator.create>[0],
  { signingKey: unknown }
>['signingKey'];

export class HubCa {
  private constructor(
    /** The CA certificate, PEM: what peers trust. */
    readonly certificatePem: string,
    private readonly certificate: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
    private readonly clock: Clock,
  ) {}

  /** Loads the CA from storage, creating it when this is the first hub to need one. */
  static async load(store: TlsStore, clock: Clock): Promise<HubCa> {
    const row = await store.ca(() => create(clock));
    const certificate = new x509.X509Certificate(row.certificate);
    const der = Buffer.from(row.privateKey.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const signingKey = await webcrypto.subtle.importKey('pkcs8', der, EC_P256, false, ['sign']);
    return new HubCa(certificate.toString('pem'), certificate, signingKey, clock);
  }

  /** SHA-256 of the CA certificate's DER, hex: a short way to tell CAs apart in logs and docs. */
  get fingerprint(): string {
    return createHash('sha256').update(Buffer.from(this.certificate.rawData)).digest('hex');
  }

  get notAfter(): Date {
    return this.certificate.notAfter;
  }

  /** Signs a certificate for `publicKey`; never past the CA's own expiry. */
  async issue(request: IssueRequest): Promise<x509.X509Certificate> {
    const now = this.clock.now();
    return x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: request.subject,
      issuer: this.certificate.subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(Math.min(request.notAfter, this.certificate.notAfter.getTime())),
      signingAlgorithm: EC_P256,
      publicKey: request.publicKey as x509.PublicKeyType,
      signingKey: this.signingKey as unknown as X509Key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.certificate, false),
        ...request.extensions,
      ],
    });
  }
}

async function create(clock: Clock): Promise<HubCaRow> {
  const now = clock.now();
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  // A random suffix tells two hubs' CAs apart in a trust store.
  const suffix = randomSerial().slice(0, 8);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Flotilla hub CA ${suffix}, O=Flotilla`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    signingAlgorithm: EC_P256,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const privateKey = pem('PRIVATE KEY', Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
  return { certificate: certificate.toString('pem'), privateKey, created: now };
}
