import { FlotillaApiError, FlotillaConnectionError, SdkErrorCodes } from './errors.js';
import type {
  Device,
  DeviceFilter,
  DevicePatch,
  EventFilter,
  Health,
  Page,
  Readiness,
  RequestOptions,
  StoredEvent,
  LoginResult,
  Me,
  EnrollmentTokenRequest,
  CreatedEnrollmentToken,
  BroadcastItem,
  CommandRecord,
  DiscoveredDevices,
  CommandRequest,
  SendOptions,
  TelemetryQuery,
  TelemetrySeries,
  LatestTelemetry,
  SampleQuery,
  SampleSeries,
  FleetTelemetryQuery,
  FleetTelemetrySeries,
  Capability,
  TimeBound,
  FleetHealth,
  FleetHealthQuery,
  LogFilter,
  LogLine,
} from './types.js';
import type { Report, ReportRequest } from './report-types.js';
import { AlertsApi } from './alerts.js';
import { TokensApi, UsersApi } from './accounts.js';
import { cursorOf, page, paginate } from './paging.js';
import { apiUrl, deviceQuery, eventQuery, logQuery, timeParam } from './url.js';

/** The part of `fetch` the client uses, so tests and other runtimes can pass their own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface FlotillaClientOptions {
  /** The hub's URL, e.g. `http://localhost:8080` (a path prefix is kept). */
  baseUrl: string;
  /** API token or login token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Defaults to the global `fetch` (Node ≥ 18, browsers). */
  fetch?: FetchLike;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

/** One request, as the client's API groups (`client.alerts`) hand it to the client. */
export interface Call {
  query?: URLSearchParams;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Return the body as text instead of parsing JSON. */
  raw?: boolean;
  /** Return the body as bytes (a PDF) instead of parsing JSON. */
  bytes?: boolean;
  /** The Accept header, when not JSON (errors always come as JSON). */
  accept?: string;
}

/** Typed client of the hub's REST API (`/api/v1`). Safe to share; holds no connection state. */
export class FlotillaClient {
  readonly baseUrl: string;
  private token: string | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly headers: Record<string, string>;
  /** Alert rules and alerts (docs/alerts.md). */
  readonly alerts: AlertsApi = new AlertsApi(<T>(method: string, path: string, call: Call) =>
    this.call<T>(method, path, call),
  );

  /** Users (admins). */
  readonly users: UsersApi = new UsersApi(<T>(method: string, path: string, call: Call) =>
    this.call<T>(method, path, call),
  );
  /** API tokens: your own, or everyone's with `tokens:manage`. */
  readonly tokens: TokensApi = new TokensApi(<T>(method: string, path: string, call: Call) =>
    this.call<T>(method, path, call),
  );

  constructor(options: FlotillaClientOptions) {
    // Fail at construction, not at the first request, on a URL that can never work.
    const parsed = new URL(options.baseUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`baseUrl must be http(s), got ${JSON.stringify(options.baseUrl)}`);
    }
    this.baseUrl = options.baseUrl;
    this.token = options.token;
    this.fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.headers = { ...options.headers };
  }

  /**
   * Logs in with a username and password; later calls on this client send the access token it
   * returns. The refresh token is the caller's to keep (or not): the SDK never stores it.
   */
  async login(username: string, password: string, options: RequestOptions = {}): Promise<LoginResult> {
    const result = await this.call<LoginResult>('POST', 'api/v1/auth/login', {
      body: { username, password },
      signal: options.signal,
    });
    this.token = result.token;
    return result;
  }

  /**
   * Exchanges a refresh token for a new pair; later calls send the new access token. The refresh
   * token given is used up: keep the returned one, since presenting the old one again makes the
   * hub revoke every session of the user (it looks like a stolen token replayed).
   */
  async refresh(refreshToken: string, options: RequestOptions = {}): Promise<LoginResult> {
    const result = await this.call<LoginResult>('POST', 'api/v1/auth/refresh', {
      body: { refreshToken },
      signal: options.signal,
    });
    this.token = result.token;
    return result;
  }

  /**
   * Revokes this client's access token and, when given, the refresh token of the same session.
   * With an API token (`flt_…`) nothing is revoked: those are revoked at `/api/v1/tokens`.
   */
  async logout(refreshToken?: string, options: RequestOptions = {}): Promise<void> {
    await this.call<void>('POST', 'api/v1/auth/logout', {
      body: refreshToken === undefined ? {} : { refreshToken },
      signal: options.signal,
    });
  }

  /** Who this client's token stands for: user, actor and role. */
  async me(options: RequestOptions = {}): Promise<Me> {
    return this.call<Me>('GET', 'api/v1/auth/me', { signal: options.signal });
  }

  /** Creates an enrollment token for devices (`fle_…`, in this answer only). Needs `enrollment:manage`. */
  async createEnrollmentToken(
    request: EnrollmentTokenRequest = {},
    options: RequestOptions = {},
  ): Promise<CreatedEnrollmentToken> {
    return this.call<CreatedEnrollmentToken>('POST', 'api/v1/enrollment-tokens', {
      body: request,
      signal: options.signal,
    });
  }

  /**
   * The PEM certificate of the hub's own CA, which devices need to verify a hub serving TLS with
   * it (`GET /api/v1/tls/ca`, answered as `application/x-pem-file` text); null when the hub has
   * none (404: TLS off or from other files). Anything else (a proxy's HTML page) is `bad_response`.
   */
  async tlsCa(options: RequestOptions = {}): Promise<string | null> {
    let text: string;
    try {
      text = await this.call<string>('GET', 'api/v1/tls/ca', { signal: options.signal, raw: true });
    } catch (err) {
      if (err instanceof FlotillaApiError && err.status === 404) return null;
      throw err;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw new FlotillaApiError(
        200,
        SdkErrorCodes.BAD_RESPONSE,
        'GET /api/v1/tls/ca did not answer a PEM certificate',
      );
    return text.endsWith('\n') ? text : `${text}\n`;
  }

  /** One page of devices, ordered by id. */
  async listDevices(filter: DeviceFilter = {}, options: RequestOptions = {}): Promise<Page<Device>> {
    return page(
      await this.call<Page<Device>>('GET', 'api/v1/devices', { query: deviceQuery(filter), signal: options.signal }),
    );
  }

  /** Every device matching the filter, page after page (`filter.limit` is the page size). */
  iterateDevices(filter: DeviceFilter = {}, options: RequestOptions = {}): AsyncGenerator<Device, void, undefined> {
    return paginate((cursor) => this.listDevices(cursorOf(filter, cursor), options), filter.cursor);
  }

  async getDevice(id: string, options: RequestOptions = {}): Promise<Device> {
    return this.call<Device>('GET', devicePath(id), { signal: options.signal });
  }

  async updateDevice(id: string, patch: DevicePatch, options: RequestOptions = {}): Promise<Device> {
    return this.call<Device>('PATCH', devicePath(id), { body: patch, signal: options.signal });
  }

  /** Decommissions a device: it is disconnected and removed from the registry (the log keeps it). */
  async deleteDevice(id: string, options: RequestOptions = {}): Promise<void> {
    await this.call<void>('DELETE', devicePath(id), { signal: options.signal });
  }

  /**
   * Sends a command to a device and resolves with its record once the device answered, failed
   * or timed out (or once it is on its way, with `async`). Refusals (offline, capability not
   * declared, bad arguments…) reject with a FlotillaApiError carrying the hub's code.
   */
  async sendCommand(id: string, request: CommandRequest, options: SendOptions = {}): Promise<CommandRecord> {
    return this.call<CommandRecord>('POST', `${devicePath(id)}/commands`, {
      body: request,
      ...(options.async && { query: new URLSearchParams({ async: 'true' }) }),
      signal: options.signal,
    });
  }

  /** Sends a command to every device whose labels match `selector`; one item per matching device. */
  async broadcastCommand(
    selector: string,
    request: CommandRequest,
    options: SendOptions = {},
  ): Promise<BroadcastItem[]> {
    const answer = await this.call<{ items: BroadcastItem[] }>('POST', 'api/v1/commands', {
      body: { selector, ...request },
      ...(options.async && { query: new URLSearchParams({ async: 'true' }) }),
      signal: options.signal,
    });
    return answer.items;
  }

  /** Asks the device to stop a running command; the record changes when the device answers. */
  async cancelCommand(id: string, reason?: string, options: RequestOptions = {}): Promise<CommandRecord> {
    return this.call<CommandRecord>('POST', `api/v1/commands/${encodeURIComponent(id)}/cancel`, {
      body: reason === undefined ? {} : { reason },
      signal: options.signal,
    });
  }

  /** Long-running commands with their progress, newest first; `open` for only those still running. */
  async listJobs(
    filter: { open?: boolean; limit?: number } = {},
    options: RequestOptions = {},
  ): Promise<CommandRecord[]> {
    const query = new URLSearchParams();
    if (filter.open) query.set('open', 'true');
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    const answer = await this.call<{ items: CommandRecord[] }>('GET', 'api/v1/jobs', { query, signal: options.signal });
    return answer.items;
  }

  /** Devices seen on the hub's network over mDNS that it has not enrolled (docs/discovery.md). */
  async listDiscovered(options: RequestOptions = {}): Promise<DiscoveredDevices> {
    return this.call<DiscoveredDevices>('GET', 'api/v1/discovered', { signal: options.signal });
  }

  async getCommand(id: string, options: RequestOptions = {}): Promise<CommandRecord> {
    return this.call<CommandRecord>('GET', `api/v1/commands/${encodeURIComponent(id)}`, { signal: options.signal });
  }

  /** The device's latest commands, newest first. */
  async listCommands(deviceId: string, limit = 100, options: RequestOptions = {}): Promise<CommandRecord[]> {
    const answer = await this.call<{ items: CommandRecord[] }>('GET', `${devicePath(deviceId)}/commands`, {
      query: new URLSearchParams({ limit: String(limit) }),
      signal: options.signal,
    });
    return answer.items;
  }

  /** One metric of one device over a time range: raw points, or `bucket`s aggregated with `agg`. */
  async telemetry(id: string, query: TelemetryQuery, options: RequestOptions = {}): Promise<TelemetrySeries> {
    const params = new URLSearchParams({ metric: query.metric });
    if (query.from !== undefined) params.set('from', timeParam(query.from));
    if (query.to !== undefined) params.set('to', timeParam(query.to));
    if (query.bucket !== undefined) params.set('bucket', query.bucket);
    if (query.agg !== undefined) params.set('agg', query.agg);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return this.call<TelemetrySeries>('GET', `${devicePath(id)}/telemetry`, { query: params, signal: options.signal });
  }

  /** The newest value of every metric the device has sent. */
  async latestTelemetry(id: string, options: RequestOptions = {}): Promise<LatestTelemetry> {
    return this.call<LatestTelemetry>('GET', `${devicePath(id)}/telemetry/latest`, { signal: options.signal });
  }

  /** Structured samples (pose, servo arrays) of one name over a time range, oldest first. */
  async samples(id: string, query: SampleQuery, options: RequestOptions = {}): Promise<SampleSeries> {
    const params = new URLSearchParams({ name: query.name });
    if (query.from !== undefined) params.set('from', timeParam(query.from));
    if (query.to !== undefined) params.set('to', timeParam(query.to));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return this.call<SampleSeries>('GET', `${devicePath(id)}/telemetry/samples`, {
      query: params,
      signal: options.signal,
    });
  }

  /** One metric aggregated per bucket over the devices matching a selector and type. */
  async fleetTelemetry(query: FleetTelemetryQuery, options: RequestOptions = {}): Promise<FleetTelemetrySeries> {
    const params = new URLSearchParams({ metric: query.metric });
    if (query.selector !== undefined) params.set('selector', query.selector);
    if (query.type !== undefined) params.set('type', query.type);
    if (query.from !== undefined) params.set('from', timeParam(query.from));
    if (query.to !== undefined) params.set('to', timeParam(query.to));
    if (query.bucket !== undefined) params.set('bucket', query.bucket);
    if (query.agg !== undefined) params.set('agg', query.agg);
    return this.call<FleetTelemetrySeries>('GET', 'api/v1/telemetry', { query: params, signal: options.signal });
  }

  /** The fleet's online, offline and alerting counts over time, as the hub sampled them. */
  async fleetHealth(query: FleetHealthQuery = {}, options: RequestOptions = {}): Promise<FleetHealth> {
    const params = new URLSearchParams();
    if (query.from !== undefined) params.set('from', timeParam(query.from));
    if (query.to !== undefined) params.set('to', timeParam(query.to));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return this.call<FleetHealth>('GET', 'api/v1/fleet/health', { query: params, signal: options.signal });
  }

  /** The HAL catalogue: every capability with its commands' argument schemas, metrics and samples. */
  async schemas(options: RequestOptions = {}): Promise<Capability[]> {
    return (await this.call<{ items: Capability[] }>('GET', 'api/v1/schemas', { signal: options.signal })).items;
  }

  /** Asks for a report; it is generated in the background (`status: 'pending'`): see `waitForReport`. */
  async createReport(request: ReportRequest, options: RequestOptions = {}): Promise<Report> {
    const { from, to, ...rest } = request;
    return this.call<Report>('POST', 'api/v1/reports', {
      body: { ...rest, from: timeBody(from), ...(to !== undefined && { to: timeBody(to) }) },
      signal: options.signal,
    });
  }

  /**
   * One report with its statistics. With `waitSeconds` (up to 60) the hub answers as soon as a
   * pending report is generated, or after that long.
   */
  async getReport(id: string, options: RequestOptions & { waitSeconds?: number } = {}): Promise<Report> {
    return this.call<Report>('GET', reportPath(id), {
      ...(options.waitSeconds !== undefined && { query: new URLSearchParams({ wait: String(options.waitSeconds) }) }),
      signal: options.signal,
    });
  }

  /** The report once it is no longer pending (`ready` or `failed`), long-polling the hub. */
  async waitForReport(id: string, options: RequestOptions = {}): Promise<Report> {
    for (;;) {
      const report = await this.getReport(id, { waitSeconds: 30, signal: options.signal });
      if (report.status !== 'pending') return report;
    }
  }

  /** Reports, newest first, without statistics. */
  async listReports(limit = 100, options: RequestOptions = {}): Promise<Report[]> {
    const answer = await this.call<{ items: Report[] }>('GET', 'api/v1/reports', {
      query: new URLSearchParams({ limit: String(limit) }),
      signal: options.signal,
    });
    return answer.items;
  }

  /** A ready report as one self-contained HTML page. */
  async reportHtml(id: string, options: RequestOptions = {}): Promise<string> {
    return this.call<string>('GET', `${reportPath(id)}/html`, {
      raw: true,
      accept: 'text/html, application/json',
      signal: options.signal,
    });
  }

  /** A ready report as a PDF. */
  async reportPdf(id: string, options: RequestOptions = {}): Promise<Uint8Array> {
    return this.call<Uint8Array>('GET', `${reportPath(id)}/pdf`, {
      bytes: true,
      accept: 'application/pdf, application/json',
      signal: options.signal,
    });
  }

  /** Deletes a report (admins). */
  async deleteReport(id: string, options: RequestOptions = {}): Promise<void> {
    await this.call<void>('DELETE', reportPath(id), { signal: options.signal });
  }

  /** One page of a device's log lines (newest first unless `order: 'asc'`). The fleet filters (`device`, `selector`, `type`) do not apply. */
  async deviceLogs(id: string, filter: LogFilter = {}, options: RequestOptions = {}): Promise<Page<LogLine>> {
    const { device: _device, selector: _selector, type: _type, ...own } = filter;
    return page(
      await this.call<Page<LogLine>>('GET', `${devicePath(id)}/logs`, { query: logQuery(own), signal: options.signal }),
    );
  }

  /** One page of the fleet's log lines, or of the devices the filter names or selects. */
  async listLogs(filter: LogFilter = {}, options: RequestOptions = {}): Promise<Page<LogLine>> {
    return page(
      await this.call<Page<LogLine>>('GET', 'api/v1/logs', { query: logQuery(filter), signal: options.signal }),
    );
  }

  /** Every log line matching the filter, page after page. */
  iterateLogs(filter: LogFilter = {}, options: RequestOptions = {}): AsyncGenerator<LogLine, void, undefined> {
    return paginate((cursor) => this.listLogs(cursorOf(filter, cursor), options), filter.cursor);
  }

  /** One page of the event log. */
  async listEvents(filter: EventFilter = {}, options: RequestOptions = {}): Promise<Page<StoredEvent>> {
    return page(
      await this.call<Page<StoredEvent>>('GET', 'api/v1/events', { query: eventQuery(filter), signal: options.signal }),
    );
  }

  /** Every event matching the filter, page after page. */
  iterateEvents(filter: EventFilter = {}, options: RequestOptions = {}): AsyncGenerator<StoredEvent, void, undefined> {
    return paginate((cursor) => this.listEvents(cursorOf(filter, cursor), options), filter.cursor);
  }

  async health(options: RequestOptions = {}): Promise<Health> {
    return this.call<Health>('GET', 'api/v1/health', { signal: options.signal });
  }

  /** Whether the hub can serve requests (its storage is reachable). Never throws for 503. */
  async ready(options: RequestOptions = {}): Promise<Readiness> {
    try {
      await this.call<unknown>('GET', 'api/v1/ready', { signal: options.signal });
      return { ready: true };
    } catch (err) {
      if (err instanceof FlotillaApiError && err.status === 503)
        return { ready: false, code: err.code, message: err.message };
      throw err;
    }
  }

  private async call<T>(method: string, path: string, call: Call): Promise<T> {
    const url = apiUrl(this.baseUrl, path, call.query);
    const headers: Record<string, string> = {
      accept: call.accept ?? (call.raw ? 'application/x-pem-file, text/plain, application/json' : 'application/json'),
      ...this.headers,
    };
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(call.body);
    }
    if (call.signal) init.signal = call.signal;

    let status: number;
    let statusText: string;
    let body: Uint8Array;
    try {
      const res = await this.fetchImpl(url, init);
      status = res.status;
      statusText = res.statusText;
      body = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      // An abort is the caller's decision, not a connectivity problem: give it back unchanged.
      if (call.signal?.aborted) throw err;
      throw new FlotillaConnectionError(this.baseUrl, { cause: err });
    }

    if (status < 400 && call.bytes) return body as T;
    const text = new TextDecoder().decode(body);
    if (status >= 400) throw errorFrom(status, statusText, text);
    if (call.raw) return text as T;
    if (status === 204 || text.length === 0) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new FlotillaApiError(
        status,
        SdkErrorCodes.BAD_RESPONSE,
        `${method} ${url} answered ${status} with a body that is not JSON`,
        {
          cause: err,
        },
      );
    }
  }
}

function devicePath(id: string): string {
  return `api/v1/devices/${encodeURIComponent(id)}`;
}

function reportPath(id: string): string {
  return `api/v1/reports/${encodeURIComponent(id)}`;
}

/** A time bound in a JSON body: milliseconds, or the ISO string as given. */
function timeBody(bound: TimeBound): number | string {
  return bound instanceof Date ? bound.getTime() : bound;
}

function errorFrom(status: number, statusText: string, text: string): FlotillaApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = body.error?.code;
    const message = body.error?.message;
    if (typeof code === 'string' && typeof message === 'string') return new FlotillaApiError(status, code, message);
  } catch {
    // not the documented error body (a proxy's HTML page, say): described below by its status
  }
  return new FlotillaApiError(status, SdkErrorCodes.HTTP_ERROR, `HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
}
