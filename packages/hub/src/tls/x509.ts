// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API at
// import time: the polyfill must be evaluated before the library (ES modules evaluate imports in
// order), so every hub module takes the library from here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

export type CryptoKey = webcrypto.CryptoKey;

/** ECDSA on P-256 with SHA-256: the only key and signature algorithm the hub CA uses. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A random positive serial number (16 bytes, hex, no leading zero) as RFC 5280 §4.1.2.2 asks. */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

/** Serial numbers as the hub records them: lower-case hex without leading zeros. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}
