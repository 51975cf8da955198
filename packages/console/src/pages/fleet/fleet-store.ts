import type { Alert, Device } from '@flotilla/sdk';

/**
 * The fleet as the overview shows it: every device by id and the open alerts of each. Live
 * updates are queued and applied once per animation frame, so a thousand status messages in a
 * frame cost one render; the `version` number tells React something changed.
 */
export class FleetStore {
  readonly devices = new Map<string, Device>();
  /** Open (firing or acknowledged) alerts by device, by alert id. */
  readonly alerts = new Map<string, Map<string, Alert>>();
  /** Ids in order; rebuilt only when devices come or go. */
  ids: string[] = [];
  version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly pendingDevices = new Map<string, Device | null>();
  private readonly pendingAlerts: Alert[] = [];
  private frame: number | undefined;

  constructor(
    private readonly requestFrame: (flush: () => void) => number = (f) => requestAnimationFrame(f),
    private readonly cancelFrame: (id: number) => void = (id) => cancelAnimationFrame(id),
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Replaces everything with what the API listed. */
  reset(devices: Iterable<Device>, alerts: Iterable<Alert>): void {
    this.devices.clear();
    this.alerts.clear();
    for (const device of devices) this.devices.set(device.id, device);
    for (const alert of alerts) this.putAlert(alert);
    this.ids = [...this.devices.keys()].sort();
    this.bump();
  }

  /** A `flotilla.<id>.status` message: the device, or `{id, decommissioned: true}`. */
  status(data: unknown): void {
    const value = data as (Device & { decommissioned?: boolean }) | null;
    if (!value || typeof value.id !== 'string') return;
    this.pendingDevices.set(value.id, value.decommissioned ? null : value);
    this.schedule();
  }

  alert(alert: Alert): void {
    this.pendingAlerts.push(alert);
    this.schedule();
  }

  openAlerts(id: string): number {
    return this.alerts.get(id)?.size ?? 0;
  }

  close(): void {
    if (this.frame !== undefined) this.cancelFrame(this.frame);
    this.frame = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.frame === undefined) this.frame = this.requestFrame(() => this.flush());
  }

  /** Applies what arrived since the last frame. Public for tests and benchmarks. */
  flush(): void {
    this.frame = undefined;
    let membership = false;
    for (const [id, device] of this.pendingDevices) {
      if (device === null) {
        membership ||= this.devices.delete(id);
        this.alerts.delete(id);
      } else {
        membership ||= !this.devices.has(id);
        this.devices.set(id, device);
      }
    }
    this.pendingDevices.clear();
    for (const alert of this.pendingAlerts) this.putAlert(alert);
    this.pendingAlerts.length = 0;
    if (membership) this.ids = [...this.devices.keys()].sort();
    this.bump();
  }

  private putAlert(alert: Alert): void {
    let open = this.alerts.get(alert.device);
    if (alert.status === 'resolved') {
      open?.delete(alert.id);
      if (open?.size === 0) this.alerts.delete(alert.device);
      return;
    }
    if (!open) this.alerts.set(alert.device, (open = new Map()));
    open.set(alert.id, alert);
  }

  private bump(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }
}
