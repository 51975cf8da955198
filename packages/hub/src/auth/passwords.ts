import * as crypto from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Password hashing. argon2id (node:crypto, Node ≥ 24.7) when the runtime has it, scrypt
 * otherwise; either way the result is a PHC-style string naming the algorithm and its
 * parameters, so a hash made by one runtime verifies on the other as long as it has the
 * algorithm, and parameters can be raised later without invalidating stored hashes.
 *
 *   $argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>   (OWASP's minimum argon2id profile)
 *   $scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>
 */

type Argon2 = (
  algorithm: 'argon2id',
  parameters: {
    message: string;
    nonce: Buffer;
    parallelism: number;
    tagLength: number;
    memory: number;
    passes: number;
  },
  callback: (err: Error | null, key: Buffer) => void,
) => void;

const argon2Fn = (crypto as unknown as { argon2?: Argon2 }).argon2;
const argon2 = argon2Fn ? promisify(argon2Fn) : undefined;
const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

const ARGON2 = { memory: 19456, passes: 2, parallelism: 1 };
const SCRYPT_LOG_N = 15;
const KEY_LENGTH = 32;

export const passwordAlgorithm: 'argon2id' | 'scrypt' = argon2 ? 'argon2id' : 'scrypt';

const b64 = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '');

async function derive(
  algorithm: string,
  params: Record<string, number>,
  password: string,
  salt: Buffer,
  length: number,
): Promise<Buffer | undefined> {
  if (algorithm === 'argon2id') {
    if (!argon2) return undefined;
    const { m, t, p } = params;
    if (m === undefined || t === undefined || p === undefined) return undefined;
    return argon2('argon2id', {
      message: password,
      nonce: salt,
      parallelism: p,
      tagLength: length,
      memory: m,
      passes: t,
    });
  }
  if (algorithm === 'scrypt') {
    const { ln, r, p } = params;
    if (ln === undefined || r === undefined || p === undefined || ln > 20) return undefined;
    const N = 2 ** ln;
    return scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  }
  return undefined;
}

export async function hashPassword(password: string, algorithm = passwordAlgorithm): Promise<string> {
  const salt = crypto.randomBytes(16);
  if (algorithm === 'argon2id') {
    const params = { m: ARGON2.memory, t: ARGON2.passes, p: ARGON2.parallelism };
    const key = await derive('argon2id', params, password, salt, KEY_LENGTH);
    if (!key) throw new Error('argon2id is not available in this Node.js');
    return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${b64(salt)}$${b64(key)}`;
  }
  const params = { ln: SCRYPT_LOG_N, r: 8, p: 1 };
  const key = (await derive('scrypt', params, password, salt, KEY_LENGTH)) as Buffer;
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

function parseParams(text: string): Record<string, number> {
  const params: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (key && value && /^\d+$/.test(value)) params[key] = Number(value);
  }
  return params;
}

/** True when `password` matches `encoded`; false for a wrong password or an unreadable hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  // ['', alg, (v=19,) params, salt, hash]
  const algorithm = parts[1];
  const rest = algorithm === 'argon2id' ? parts.slice(3) : parts.slice(2);
  const [paramText, saltText, hashText] = rest;
  if (!algorithm || !paramText || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, 'base64');
  if (expected.length < 16) return false;
  const key = await derive(
    algorithm,
    parseParams(paramText),
    password,
    Buffer.from(saltText, 'base64'),
    expected.length,
  );
  return key !== undefined && crypto.timingSafeEqual(key, expected);
}
