import { ErrorCodes } from '@flotilla/protocol';
import type { HelloAuthRequest, HelloAuthResult } from '../enrollment/service.js';
import type { HubTls } from './hub-tls.js';
import { x509 } from './x509.js';

type Authenticate = (request: HelloAuthRequest) => Promise<HelloAuthResult>;

/**
 * The hello rule with TLS client certificates on top of the token rule (docs/security.md):
 *
 * 1. A `csr` that does not parse or verify refuses the hello (`invalid_csr`) before the token is
 *    looked at, so a bad request never uses up an enrollment.
 * 2. A verified client certificate issued to another id refuses it (`certificate_mismatch`): a
 *    certificate speaks for one device only.
 * 3. The token decides as before (credential, or enrollment token).
 * 4. A certificate presented with an accepted credential must be in the hub's records for the
 *    device's current credential (`certificate_revoked`). A hello that just enrolled the device
 *    again ignores the old one: it is replaced below.
 * 5. With `requireClientCert`, a device that was enrolled already must present one
 *    (`certificate_required`); enrolling still works without.
 * 6. Accepted with a `csr`: a client certificate is issued and sent in `welcome` with the CA.
 */
export function authenticateWithCertificates(authenticate: Authenticate, tls: HubTls): Authenticate {
  return async (request) => {
    let publicKey: x509.PublicKey | undefined;
    if (request.csr !== undefined) {
      const parsed = await tls.certificates.parseCsr(request.csr);
      if (!(parsed instanceof x509.PublicKey)) return { ok: false, ...parsed };
      publicKey = parsed;
    }
    const peer = request.certificate;
    if (peer && peer.commonName !== request.device) {
      const refusal = await tls.certificates.check(request.device, peer);
      if (refusal) return { ok: false, ...refusal };
    }
    const result = await authenticate(request);
    if (!result.ok) return result;
    const enrolledNow = result.credential !== undefined;
    if (peer && !enrolledNow) {
      const refusal = await tls.certificates.check(request.device, peer);
      if (refusal) return { ok: false, ...refusal };
    }
    if (tls.requireClientCert && !peer && !enrolledNow) {
      return {
        ok: false,
        code: ErrorCodes.CERTIFICATE_REQUIRED,
        message: 'this hub requires enrolled devices to present their client certificate',
      };
    }
    if (!publicKey) return result;
    const certificate = await tls.certificates.issue(request.device, publicKey);
    return { ...result, certificate, ...(tls.trust !== undefined && { ca: tls.trust }) };
  };
}
