import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, signIn, type TestBrowser } from './testing/browser.js';
import { startFleetHub, type FleetHub } from './testing/fleet-hub.js';

/**
 * The console in Debian's Chromium against a real hub with simulated robots: what a person does
 * with it, through the page (labels, roles and buttons), not through the API. One hub and one
 * browser for the whole file; each test gets a fresh browser context (its own session).
 */
const COUNT = 6;
let fleet: FleetHub;
let chromium: TestBrowser;
const contexts: BrowserContext[] = [];

before(async () => {
  // Both started together; whichever started is kept even if the other failed, so `after` stops
  // it (a hub left running would keep the test process alive until the runner's timeout).
  const [hub, browser] = await Promise.allSettled([
    startFleetHub({
      count: COUNT,
      // No rollup pass during the tests: every test sees the hub as in its first half minute,
      // when only raw points are stored (what the fleet averages must cope with).
      telemetry: { maintenanceIntervalMs: 3_600_000 },
    }),
    launchBrowser(),
  ]);
  if (hub.status === 'fulfilled') fleet = hub.value;
  if (browser.status === 'fulfilled') chromium = browser.value;
  if (hub.status === 'rejected') throw hub.reason;
  if (browser.status === 'rejected') throw browser.reason;
});
after(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await chromium?.close();
  await fleet?.stop();
});

async function newPage(width = 1280, height = 860): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport: { width, height } });
  contexts.push(context);
  const page = await context.newPage();
  // A script error in the page fails the test that caused it rather than passing unseen.
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}

test('a wrong password is a message on the sign-in form, not a blank page', async () => {
  const page = await newPage();
  await page.goto(fleet.url);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /Sign-in failed: .*invalid_credentials/);
  await screenshot(page, 'sign-in');
});

test('signed in, the overview shows every robot online, live, and filters them', async () => {
  const page = await newPage();
  const history = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/fleet/health');
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page
    .getByTestId('count-online')
    .filter({ hasText: String(COUNT) })
    .waitFor();
  // The counts chart starts from the hub's samples (it sampled as it started), not from nothing.
  const sampled = (await (await history).json()) as { points: unknown[] };
  assert.ok(sampled.points.length >= 1, 'the hub sampled the fleet as it started');
  const countsChart = page.getByRole('img', { name: 'Devices online and alerting over the last 1h' });
  await until(
    'the hub samples on the counts chart',
    async () => Number(await countsChart.getAttribute('data-points')) >= sampled.points.length,
  );
  assert.equal(await page.getByTestId('count-total').innerText(), String(COUNT));
  const rows = page.getByRole('table', { name: 'Devices' }).getByRole('row');
  assert.equal(await rows.count(), COUNT + 1, 'a header and a row per robot');
  await page
    .getByRole('status', { name: 'Live connection' })
    .filter({ hasText: /^● live$/ })
    .waitFor();
  await screenshot(page, 'overview');

  await page.getByLabel('Type').selectOption('tonypi');
  const tonypis = fleet.sim.devices.filter((id) => id.startsWith('tonypi')).length;
  await page.getByText(`${tonypis} of ${COUNT} shown`).waitFor();
  await page.getByLabel('Type').selectOption('');
  await page.getByLabel('Search').fill('lekiwi-0001');
  await page.getByText(`1 of ${COUNT} shown`).waitFor();

  // A robot going offline is seen without reloading: the hub pushes its status.
  await page.getByLabel('Search').fill('');
  await fleet.admin.deleteDevice(fleet.sim.devices.at(-1) as string).catch(() => undefined);
  await page
    .getByTestId('count-total')
    .filter({ hasText: String(COUNT - 1) })
    .waitFor();
});

test('the fleet averages show the first raw points before the hub has rolled any up', async () => {
  const since = Date.now() - 3600_000;
  // What the page meets: no 1 min rollups yet, but raw points from the simulated robots.
  await until('raw battery points at the hub', async () => {
    const raw = await fleet.admin.fleetTelemetry({ metric: 'battery.soc', from: since, bucket: '10s' });
    return raw.points.length > 0;
  });
  const rolled = await fleet.admin.fleetTelemetry({ metric: 'battery.soc', from: since, bucket: '1m' });
  assert.deepEqual(rolled.points, [], 'no rollups yet');
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  const chart = page.getByRole('img', { name: 'Fleet average battery, temperature and CPU' });
  await until('points on the fleet averages chart', async () => Number(await chart.getAttribute('data-points')) > 0);
});

test('the theme switch changes the page between light and dark, and is remembered', async () => {
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  const theme = () => page.evaluate(() => document.documentElement.dataset['theme']);
  const before = await theme();
  await page.getByRole('button', { name: /Switch to (dark|light) theme/ }).click();
  const after = await theme();
  assert.notEqual(after, before);
  await page.reload();
  await page.getByRole('heading', { name: 'Fleet', exact: true }).waitFor();
  assert.equal(await theme(), after, 'a reload keeps the theme and the session');
  if (after === 'dark') await screenshot(page, 'overview-dark');
});

test('at tablet width the navigation and the device table still fit', async () => {
  const page = await newPage(820, 1180);
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await screenshot(page, 'overview-tablet');
  // On a page shorter than the screen the top bar keeps its own height (it once took half the rest).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('heading', { name: 'Reports', exact: true }).waitFor();
  const bar = await page.locator('header.sidebar').boundingBox();
  assert.ok(bar && bar.height < 160, `the top bar is ${bar?.height}px high`);
});

/** Waits until `probe` holds, polling the page (bounded): for values that change with live data. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test("a robot's page shows its facts, a live chart that moves, and a command with its result", async () => {
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page.getByRole('link', { name: 'lekiwi-0001', exact: true }).click();
  await page.getByRole('heading', { name: /lekiwi-0001/ }).waitFor();
  assert.match(await page.getByRole('region', { name: 'Facts' }).innerText(), /hal\.v1\.motor\.differential/);

  const chart = page.getByRole('img', { name: /^battery: .*, live$/ });
  await chart.waitFor();
  const points = async () => Number(await chart.getAttribute('data-points'));
  const first = await points();
  await until('the live battery chart to gain points', async () => (await points()) > first);

  await page.getByLabel('Capability', { exact: true }).selectOption('hal.v1.motor.differential');
  await page.getByLabel('Command', { exact: true }).selectOption('drive');
  await page.getByLabel('left', { exact: true }).fill('0.2');
  await page.getByLabel('right', { exact: true }).fill('0.2');
  await page.getByRole('button', { name: 'Send drive' }).click();
  const result = page.getByRole('status', { name: 'Command result' });
  await result.filter({ hasText: 'hal.v1.motor.differential.drive: succeeded' }).waitFor();
  // The jobs panel lists it, refreshed by the hub's command events.
  await page.getByRole('table', { name: 'Commands and jobs' }).getByText('succeeded').first().waitFor();
  await screenshot(page, 'device');

  // Arguments the schema refuses are the hub's message in the page.
  await page.getByLabel('left', { exact: true }).fill('50');
  await page.getByRole('button', { name: 'Send drive' }).click();
  assert.match(await page.getByRole('alert').innerText(), /Not sent: .*left.*\(bad_args\)/);

  // The e-stop engages, the robot's own estop metric says so, and it releases.
  await page.getByRole('button', { name: 'Emergency stop' }).click();
  await page.getByText('E-STOP ENGAGED').waitFor();
  await page.getByRole('button', { name: 'Release e-stop' }).click();
  await page.getByRole('button', { name: 'Emergency stop' }).waitFor();
});

test('a TonyPi shows its IMU and servos', async () => {
  const id = fleet.sim.devices.find((d) => d.startsWith('tonypi')) as string;
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page.goto(`${fleet.url}/devices/${id}`);
  await page.getByRole('region', { name: 'IMU' }).waitFor();
  await page.getByRole('list', { name: 'Servos' }).getByRole('listitem').first().waitFor();
  await screenshot(page, 'device-tonypi');
});

test('an alert rule made in the console fires, is seen live and is acknowledged', async () => {
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor();
  await page.getByRole('button', { name: 'New rule' }).click();
  const form = page.getByRole('form', { name: 'New rule' });
  await form.getByLabel('Name').fill('battery watch');
  await form.getByLabel('Severity').selectOption('critical');
  await form.getByLabel('Selector').fill('kind=lekiwi');
  await form.getByLabel(/^Condition/).fill('{"type":"threshold","metric":"battery.soc","op":">","value":-1}');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('region', { name: 'Alert rules' }).getByText('battery watch').waitFor();

  const open = page.getByRole('region', { name: 'Open alerts' });
  const ack = open.getByRole('button', { name: /^Acknowledge battery watch on lekiwi-/ }).first();
  await ack.waitFor();
  await screenshot(page, 'alerts');
  await ack.click();
  await open
    .getByText(/ack by user:admin/)
    .first()
    .waitFor();
  const stored = await fleet.admin.alerts.list({ status: ['acknowledged'] });
  assert.ok(stored.items.some((a) => a.ruleName === 'battery watch' && a.acknowledgedBy === 'user:admin'));
});

// After the alert test: the viewer finds its alerts open, with no button to act on them.
test('a viewer sees the robots but no command, e-stop or acknowledge button', async () => {
  await fleet.admin.users.create({ username: 'vera', password: 'vera-password', role: 'viewer' });
  const page = await newPage();
  await signIn(page, fleet.url, 'vera', 'vera-password');
  await page.goto(`${fleet.url}/devices/lekiwi-0001`);
  await page.getByText('can watch this robot but not command it').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Emergency stop' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /^Send/ }).count(), 0);
  await page.goto(`${fleet.url}/alerts`);
  await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor();
  await page.getByRole('region', { name: 'Open alerts' }).getByRole('row').nth(1).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Acknowledge|^Resolve/ }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'New rule' }).count(), 0);
  await screenshot(page, 'viewer-device');
});

test('the events, reports and users pages work for an admin', async () => {
  const page = await newPage();
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  const nav = page.getByRole('navigation', { name: 'Main' });

  await nav.getByRole('link', { name: 'Events' }).click();
  const log = page.getByRole('region', { name: 'Event log' });
  await log.getByText('DeviceConnected').first().waitFor();
  // A device's events link to its page; a user's (the sign-in) are not a device to open.
  await log
    .getByRole('link', { name: fleet.sim.devices[0] as string, exact: true })
    .first()
    .waitFor();
  await log.getByText('user:admin', { exact: true }).first().waitFor();
  assert.equal(await log.getByRole('link', { name: 'user:admin' }).count(), 0);
  await screenshot(page, 'events');

  await nav.getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('button', { name: 'Generate report' }).click();
  await page.getByRole('region', { name: 'Open report' }).getByTitle('Report').waitFor();
  await screenshot(page, 'reports');

  await nav.getByRole('link', { name: 'Users & tokens' }).click();
  await page.getByRole('region', { name: 'Users' }).getByRole('cell', { name: 'vera', exact: true }).waitFor();
  const tokenForm = page.getByRole('form', { name: 'New API token' });
  await tokenForm.getByLabel('Name').fill('ci');
  await tokenForm.getByRole('button', { name: 'Create token' }).click();
  assert.match(await page.getByRole('status').filter({ hasText: 'Copy it now' }).innerText(), /flt_/);
  await screenshot(page, 'users');
});
