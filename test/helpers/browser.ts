/**
 * A real headless browser for UI tests: Debian's chromium driven by playwright-core (which
 * downloads nothing). Each launch gets a fresh profile folder. Tests skip, saying why, when
 * chromium is not installed (`.ci/install-tools.sh` installs it in CI).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.MODELCTL_CHROMIUM ?? '/usr/bin/chromium';

/** True when the browser executable exists. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Launches headless chromium with a fresh profile (playwright passes it as --user-data-dir);
 * close() also removes the profile folder.
 */
export async function launchChromium(opts: { width?: number; height?: number } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'modelctl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
