import { generateKeyPairSync, sign } from 'node:crypto';

/**
 * A key pair and a PKCS#10 certificate signing request (RFC 2986) for the device's client
 * certificate: ECDSA P-256, signed with SHA-256, subject `CN=<device id>`. Encoded here with
 * node:crypto alone (the structure is fixed and small) so the agent needs no X.509 library.
 */

export interface KeyAndCsr {
  /** PKCS#8 PEM: stays on the device (`tls-key.pem`, mode 0600). */
  key: string;
  /** PEM, sent in `hello.csr`. */
  csr: string;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: tag, length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OID = 0x06;
const UTF8_STRING = 0x0c;
/** [0] IMPLICIT, constructed: the (empty) attributes of the request. */
const ATTRIBUTES = 0xa0;
/** 2.5.4.3, commonName. */
const COMMON_NAME = Buffer.from([0x55, 0x04, 0x03]);
/** 1.2.840.10045.4.3.2, ecdsa-with-SHA256. */
const ECDSA_WITH_SHA256 = Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);

export function pem(label: string, bytes: Buffer): string {
  const body = bytes
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export function createKeyAndCsr(commonName: string): KeyAndCsr {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = der(
    SEQUENCE,
    der(SET, der(SEQUENCE, der(OID, COMMON_NAME), der(UTF8_STRING, Buffer.from(commonName)))),
  );
  const info = der(
    SEQUENCE,
    der(INTEGER, Buffer.from([0])),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(ATTRIBUTES),
  );
  // node signs ECDSA as a DER SEQUENCE {r, s} by default: what X.509 expects inside the BIT STRING.
  const signature = sign('sha256', info, privateKey);
  const request = der(
    SEQUENCE,
    info,
    der(SEQUENCE, der(OID, ECDSA_WITH_SHA256)),
    der(BIT_STRING, Buffer.from([0]), signature),
  );
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    csr: pem('CERTIFICATE REQUEST', request),
  };
}
