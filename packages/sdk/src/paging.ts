import { FlotillaApiError, SdkErrorCodes } from './errors.js';
import type { Page } from './types.js';

/** Cursor pagination shared by every listing of the client. */

export function cursorOf<F extends { cursor?: string }>(filter: F, cursor: string | undefined): F {
  const next = { ...filter };
  if (cursor === undefined) delete next.cursor;
  else next.cursor = cursor;
  return next;
}

/** Checks the one shape pagination depends on; everything else is the hub's contract. */
export function page<T>(value: Page<T>): Page<T> {
  const v = value as unknown as { items?: unknown; nextCursor?: unknown } | null;
  if (!v || !Array.isArray(v.items) || (v.nextCursor !== null && typeof v.nextCursor !== 'string')) {
    throw new FlotillaApiError(200, SdkErrorCodes.BAD_RESPONSE, 'expected {"items": [...], "nextCursor": string|null}');
  }
  return value;
}

export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  first: string | undefined,
): AsyncGenerator<T, void, undefined> {
  let cursor = first;
  for (;;) {
    const { items, nextCursor } = await fetchPage(cursor);
    yield* items;
    if (nextCursor === null) return;
    // A hub that hands back the same cursor would otherwise be followed forever.
    if (nextCursor === cursor)
      throw new FlotillaApiError(200, SdkErrorCodes.BAD_RESPONSE, 'pagination cursor did not advance');
    cursor = nextCursor;
  }
}
