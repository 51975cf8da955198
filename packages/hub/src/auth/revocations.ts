import type { Principal } from './principal.js';

/**
 * What was just revoked, for what holds a principal beyond one request: a `/ws/client`
 * connection authenticated once, at its upgrade, must not outlive the token it used.
 */
export type Revocation =
  /** An API token (`DELETE /api/v1/tokens/{id}`). */
  | { kind: 'api_token'; tokenId: string }
  /** One access token (logout). */
  | { kind: 'access_token'; jti: string }
  /** Everything a user holds: deleted, disabled, or their role or password changed. */
  | { kind: 'user'; userId: string };

export function revokes(revocation: Revocation, principal: Principal): boolean {
  switch (revocation.kind) {
    case 'api_token':
      return principal.tokenId === revocation.tokenId;
    case 'access_token':
      return principal.access?.jti === revocation.jti;
    case 'user':
      return principal.userId === revocation.userId;
  }
}

type Listener = (revocation: Revocation) => void;

/** In-process notification of revocations; storage is the truth, this only cuts live connections short. */
export class Revocations {
  readonly #listeners = new Set<Listener>();

  /** Returns the function that stops listening. */
  onRevoked(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  revoked(revocation: Revocation): void {
    for (const listener of this.#listeners) listener(revocation);
  }
}
