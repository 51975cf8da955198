import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = process.env['FLOTILLA_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps dialling
 * Google's hosts, which this machine refuses, many at a time.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go: git-ignored, kept by CI as artifacts. */
export const SCREENSHOTS = join(new URL('../../../../..', import.meta.url).pathname, 'artifacts', 'screenshots');

export interface TestBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * One headless Chromium, shared by the tests of a file (each test opens its own context).
 * Playwright gives every launch a fresh, empty profile directory of its own and removes it on close.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  return { browser, close: () => browser.close() };
}

/** Saves a screenshot of the window as artifacts/screenshots/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The top of the page, as a person arriving sees it, whatever the test scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Signs in through the form, as a person would, and waits for the fleet page. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Fleet', exact: true }).waitFor();
}
