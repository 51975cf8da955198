import type { FastifyInstance } from 'fastify';
import type { Clock, Device } from '@flotilla/protocol';
import type { Registry } from '../../registry/registry.js';
import type { Storage } from '../../storage/types.js';
import { escapeHtml } from '../escape.js';

export interface HomeDeps {
  registry: Registry;
  storage: Storage;
  clock: Clock;
  version: string;
  startedAt: number;
}

/** Devices shown in the landing page's table; the API pages through the rest. */
const SHOWN = 50;

const esc = escapeHtml;

function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function uptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min ${Math.floor(seconds % 60)} s`;
}

function deviceRow(d: Device, now: number): string {
  const labels = Object.entries(d.labels)
    .map(([k, v]) => `<code>${esc(k)}=${esc(v)}</code>`)
    .join(' ');
  const state = d.status.online ? '<span class="on">● online</span>' : '<span class="off">○ offline</span>';
  return (
    `<tr><td><a href="/api/v1/devices/${encodeURIComponent(d.id)}">${esc(d.id)}</a></td><td>${esc(d.name)}</td>` +
    `<td>${esc(d.type)}</td><td>${state}</td><td>${esc(ago(d.status.lastSeen, now))}</td><td>${labels}</td></tr>`
  );
}

export interface HomeView {
  version: string;
  uptimeSeconds: number;
  storage: string;
  total: number;
  online: number;
  devices: Device[];
  now: number;
  /** How the browser reached the hub, for the copy-paste commands. */
  url: string;
}

/** The page itself, separate from the route so it is a pure function of what it shows. */
export function renderHome(view: HomeView): string {
  const offline = view.total - view.online;
  const rows = view.devices.map((d) => deviceRow(d, view.now)).join('\n');
  const more =
    view.total > view.devices.length
      ? `<p class="muted">Showing the first ${view.devices.length} of ${view.total} devices by id — the full list is at <a href="/api/v1/devices">/api/v1/devices</a> (paged with <code>cursor</code>).</p>`
      : '';
  const table =
    view.total === 0
      ? `<p>No device has connected yet. Start one with <code>flotilla agent --hub ${esc(view.url)} --id robot-1</code> or a simulated fleet with <code>flotilla sim --hub ${esc(view.url)} --count 12</code>.</p>`
      : `<table><thead><tr><th>id</th><th>name</th><th>type</th><th>state</th><th>last seen</th><th>labels</th></tr></thead><tbody>\n${rows}\n</tbody></table>${more}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flotilla hub</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2330; }
  h1 { margin-bottom: 0; } .muted { color: #667; }
  .stats { display: flex; gap: 1rem; margin: 1.5rem 0; }
  .stat { border: 1px solid #d8dce6; border-radius: 8px; padding: .75rem 1.25rem; min-width: 7rem; }
  .stat b { display: block; font-size: 1.8rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eceef3; }
  .on { color: #16803c; } .off { color: #8a8f9c; }
  code { background: #f3f4f7; padding: 0 .25rem; border-radius: 3px; }
  ul.links li { margin: .2rem 0; }
</style>
</head>
<body>
<h1>Flotilla hub</h1>
<p class="muted">version ${esc(view.version)} · up ${esc(uptime(view.uptimeSeconds))} · storage ${esc(view.storage)}</p>
<div class="stats">
  <div class="stat"><b>${view.total}</b>devices</div>
  <div class="stat"><b class="on">${view.online}</b>online</div>
  <div class="stat"><b class="off">${offline}</b>offline</div>
</div>
<h2>API</h2>
<ul class="links">
  <li><a href="/api/docs">/api/docs</a> — interactive API reference (OpenAPI document at <a href="/api/docs/json">/api/docs/json</a>)</li>
  <li><a href="/api/v1/devices">/api/v1/devices</a> — the registry; filters <code>online</code>, <code>type</code>, <code>label</code>, <code>q</code> (<a href="/api/v1/devices?online=true">online only</a>)</li>
  <li><a href="/api/v1/events?order=desc&amp;limit=50">/api/v1/events</a> — the event log, newest first</li>
  <li><a href="/api/v1/health">/api/v1/health</a> · <a href="/api/v1/ready">/api/v1/ready</a> — liveness and readiness</li>
  <li><a href="/metrics">/metrics</a> — Prometheus metrics</li>
  <li><code>/ws/agent</code> — where devices connect · <code>/ws/client</code> — live subscriptions (<code>{"type":"subscribe","subjects":["flotilla.*.status"]}</code>)</li>
</ul>
<h2>Devices</h2>
${table}
</body>
</html>
`;
}

/** `/`: what this hub is and how to reach everything it serves, until the console replaces it. */
export function registerHomeRoute(app: FastifyInstance, deps: HomeDeps): void {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const now = deps.clock.now();
    const counts = deps.registry.counts();
    const page = deps.registry.query({ limit: SHOWN });
    const html = renderHome({
      version: deps.version,
      uptimeSeconds: (now - deps.startedAt) / 1000,
      storage: `${deps.storage.engine} (${deps.storage.location})`,
      total: counts.online + counts.offline,
      online: counts.online,
      devices: page.items,
      now,
      url: `${request.protocol}://${request.host}`,
    });
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
