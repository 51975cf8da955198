/**
 * Time bounds in queries: milliseconds since the epoch, or an ISO 8601 date-time. Only the ISO
 * shapes are accepted (not everything `Date.parse` guesses at, such as `May 1` or `1/2/3`), and a
 * date-time without a zone is refused: the hub and the caller may not share one.
 */
const isoRe = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

export function parseTime(value: string): number | undefined {
  if (/^\d{1,16}$/.test(value)) {
    const ms = Number(value);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!isoRe.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
