// Headless Chromium (Debian's /usr/bin/chromium) with a fake camera and microphone, driven
// by playwright-core, for the browser end-to-end scenarios (scenarios.mjs).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = process.env.STRATUS_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = process.env.STRATUS_SCREENSHOT_DIR ?? 'target/browser-screenshots';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // This machine's network is closed: no background fetches to Google's hosts.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // A fake camera (a moving test pattern) and microphone (a beep), permission granted.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      // Extra flags from the test, e.g. --unsafely-treat-insecure-origin-as-secure=<origin>
      // for a page served on a non-loopback address (hosts in network namespaces).
      ...(process.env.STRATUS_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean),
    ],
  });
}

/** A page whose console errors and page errors are kept (printed if the scenario fails). */
export async function open(context, url, label) {
  const page = await context.newPage();
  page.log = [];
  page.on('console', (m) => page.log.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.log.push(`[${label}] pageerror: ${e.message}`));
  await page.goto(url);
  return page;
}

/** Polls `fn` (in node) until it returns a truthy value, or fails with `what`. */
export async function until(what, fn, { timeoutMs = 20000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, name);
  return page.screenshot({ path }).then(() => path);
}
