import type { Clock } from '@flotilla/protocol';
import { createKeyAndCsr, type KeyAndCsr } from './csr.js';
import type { AgentLogger } from './logger.js';
import { checkedCertificate, readCaFile, RENEW_BEFORE_MS, TlsFiles, type ClientCertificate } from './tls-files.js';

/**
 * The agent's side of TLS (docs/agent.md, "TLS"): which CAs verify the hub, the client
 * certificate it presents and the CSR that asks for a new one, and one clear log line for the
 * ways a TLS connection fails that an operator can fix.
 */

/** TLS errors that mean "this agent does not trust the hub's certificate". */
const UNTRUSTED_CERTIFICATE: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface ClientTlsOptions {
  id: string;
  /** The agent socket URL (ws:// or wss://). */
  url: string;
  stateDir: string | undefined;
  ca: string | undefined;
  caFile: string | undefined;
  clientCertificate: boolean;
  clock: Clock;
  logger: AgentLogger;
}

export class ClientTls {
  private readonly secure: boolean;
  /** Where key, certificate and CA are kept; undefined without client certificates (or TLS). */
  private readonly files: TlsFiles | undefined;
  private readonly extraCa: string | undefined;
  /** CAs to verify the hub with: the stored `ca.pem` and `ca`/`caFile`. Empty: the system's. */
  private trust: string[] = [];
  private certificate: ClientCertificate | undefined;
  /** A key and CSR sent in hello, waiting for the certificate in welcome. */
  private pending: KeyAndCsr | undefined;
  /** Failures already explained in the log (once per code, not once per retry). */
  private readonly explained = new Set<string>();

  /** Throws AgentError when `caFile` or a stored file cannot be read. */
  constructor(private readonly options: ClientTlsOptions) {
    this.secure = options.url.startsWith('wss:');
    this.extraCa = options.caFile !== undefined ? readCaFile(options.caFile) : options.ca;
    if (!this.secure) return;
    this.files = options.clientCertificate ? new TlsFiles(options.stateDir) : undefined;
    this.certificate = this.files?.loadCertificate(options.id);
    this.setTrust(this.files?.loadCa());
  }

  /** What the WebSocket needs: the CAs to trust and the client certificate to present. */
  socketOptions(): { ca?: string[]; key?: string; cert?: string } {
    if (!this.secure) return {};
    return {
      ...(this.trust.length > 0 && { ca: this.trust }),
      ...(this.certificate && { key: this.certificate.key, cert: this.certificate.cert }),
    };
  }

  /** The CSR for `hello` when there is no certificate or it expires within 30 days. */
  csr(): string | undefined {
    if (!this.files) return undefined;
    const current = this.certificate;
    if (current && current.notAfter - this.options.clock.now() >= RENEW_BEFORE_MS) return undefined;
    // One key per process until the hub answers: a new one per reconnect would only cost CPU.
    this.pending ??= createKeyAndCsr(this.options.id);
    return this.pending.csr;
  }

  /** `welcome` brought a certificate for our CSR and/or the hub's CA: keep them for every later connection. */
  welcomed(certificate: string | undefined, ca: string | undefined): void {
    const { id, logger } = this.options;
    if (!this.files) return;
    try {
      if (ca !== undefined) {
        this.files.saveCa(ca);
        this.setTrust(ca);
      }
      const pending = this.pending;
      if (certificate === undefined || !pending) return;
      const checked = checkedCertificate(id, pending.key, certificate);
      if (!checked) {
        logger.error({ device: id }, 'the hub sent a client certificate that does not match this device; ignored');
        return;
      }
      this.pending = undefined;
      this.certificate = checked;
      this.files.saveCertificate(checked);
      logger.info({ device: id, notAfter: new Date(checked.notAfter).toISOString() }, 'client certificate stored');
    } catch (err) {
      logger.error({ device: id, err: (err as Error).message }, 'cannot store the TLS files');
    }
  }

  /** The hub refused the certificate (replaced, or not this id's): connect without it and ask for a new one. */
  dropCertificate(): boolean {
    if (!this.certificate) return false;
    this.certificate = undefined;
    return true;
  }

  /** Logs, once per cause, what an operator can do about a socket error. */
  explain(err: Error & { code?: string }): void {
    const code = err.code ?? '';
    if (this.explained.has(code)) return;
    const { id, logger } = this.options;
    if (UNTRUSTED_CERTIFICATE.has(code)) {
      this.explained.add(code);
      logger.error(
        { device: id, code, reason: err.message },
        `the hub's TLS certificate is not trusted (${err.message}): give the agent the hub's CA with --ca FILE (the hub serves it at /api/v1/tls/ca)`,
      );
    } else if (!this.secure && code === 'ECONNRESET' && err.message === 'socket hang up') {
      // The upgrade request got no answer at all: what a TLS-only hub does with plain text.
      this.explained.add(code);
      logger.error(
        { device: id, code, reason: err.message },
        'the hub hung up on the WebSocket handshake: if it serves TLS (flotilla hub --tls), connect with https:// or wss://',
      );
    }
  }

  private setTrust(stored: string | undefined): void {
    this.trust = [stored, this.extraCa].filter((pem): pem is string => pem !== undefined && pem !== '');
  }
}
