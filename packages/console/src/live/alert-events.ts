import type { Alert, LiveMessage } from '@flotilla/sdk';

/** Alert transitions as published on `flotilla.<device>.event.Alert*` (docs/alerts.md). */
export const ALERT_SUBJECTS = [
  'flotilla.*.event.AlertFired',
  'flotilla.*.event.AlertAcknowledged',
  'flotilla.*.event.AlertResolved',
];

/** The alert a transition event carries (its `data.alert`), or undefined for anything else. */
export function alertOf(message: LiveMessage): Alert | undefined {
  const event = message.data as { data?: { alert?: Alert } } | null;
  const alert = event?.data?.alert;
  return alert && typeof alert.id === 'string' ? alert : undefined;
}
