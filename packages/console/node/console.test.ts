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
  [fleet, chromium] = await Promise.all([startFleetHub({ count: COUNT }), launchBrowser()]);
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
  await signIn(page, fleet.url, 'admin', fleet.adminPassword);
  await page
    .getByTestId('count-online')
    .filter({ hasText: String(COUNT) })
    .waitFor();
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
});
