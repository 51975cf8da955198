import { randomUUID } from 'node:crypto';
import type { FoundService, ServiceBrowser } from './browser.js';

/**
 * Tests advertise and browse on the loopback interface only (multicast never leaves the machine)
 * and give every instance a name of its own, so parallel tests, and anything else on UDP 5353
 * here, cannot be mistaken for each other. Tests only.
 */
export const LOOPBACK = '127.0.0.1';

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The next `event` of the browser for `instance` (other instances on the machine are ignored); bounded. */
export function nextEvent(
  browser: ServiceBrowser,
  event: 'up' | 'update' | 'down',
  instance: string,
  timeoutMs = 10_000,
): Promise<FoundService> {
  return new Promise((resolve, reject) => {
    const listener = (service: FoundService): void => {
      if (service.instance !== instance) return;
      clearTimeout(timer);
      browser.off(event, listener);
      resolve(service);
    };
    const timer = setTimeout(() => {
      browser.off(event, listener);
      reject(new Error(`no ${event} for ${instance} within ${timeoutMs} ms`));
    }, timeoutMs);
    browser.on(event, listener);
  });
}
