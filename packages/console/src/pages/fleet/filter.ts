import type { Device } from '@flotilla/sdk';

export type StatusFilter = 'all' | 'online' | 'offline' | 'alerting';

export interface FleetFilter {
  text: string;
  type: string;
  status: StatusFilter;
  /** `key=value` or `key` (has the label); several separated by commas, all must hold. */
  label: string;
}

export const EMPTY_FILTER: FleetFilter = { text: '', type: '', status: 'all', label: '' };

type LabelTest = (labels: Record<string, string>) => boolean;

function labelTests(label: string): LabelTest[] {
  return label
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return (labels) => part in labels;
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      return (labels) => labels[key] === value;
    });
}

/** A predicate for the filter, built once per change of the filter rather than per device. */
export function deviceMatcher(filter: FleetFilter, openAlerts: (id: string) => number): (device: Device) => boolean {
  const text = filter.text.trim().toLowerCase();
  const tests = labelTests(filter.label);
  return (device) => {
    if (filter.type && device.type !== filter.type) return false;
    if (filter.status === 'online' && !device.status.online) return false;
    if (filter.status === 'offline' && device.status.online) return false;
    if (filter.status === 'alerting' && openAlerts(device.id) === 0) return false;
    if (tests.length > 0 && !tests.every((test) => test(device.labels))) return false;
    if (text) {
      const haystack = `${device.id} ${device.name} ${device.network.hostname ?? ''} ${device.hardware.serial ?? ''} ${device.model ?? ''}`;
      if (!haystack.toLowerCase().includes(text)) return false;
    }
    return true;
  };
}
