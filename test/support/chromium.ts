/**
 * A real Chromium for tests that open what Detonate writes (the HTML report): Debian's `chromium` driven by
 * playwright-core. Suites skip, naming the reason, when either is missing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { repoRoot } from './paths.js';

export const CHROMIUM_PATH = process.env.DETONATE_CHROMIUM ?? '/usr/bin/chromium';

function playwrightMissing(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return false;
  } catch {
    return true;
  }
}

/** Why browser tests cannot run here, or undefined when they can. */
export const chromiumSkipReason: string | undefined = !existsSync(CHROMIUM_PATH)
  ? `${CHROMIUM_PATH} not found: install Debian's chromium package (or set DETONATE_CHROMIUM)`
  : playwrightMissing()
    ? 'playwright-core is not installed'
    : undefined;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: tests may run as root, where Chromium refuses its own sandbox
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'], timeout: 60_000 });
}

/** What a page did that a test may want to assert never happened: console errors, uncaught errors, CSP violations, requests. */
export interface PageWatch {
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  /** CSP violations the page reported (directive and blocked URI), collected by an init script. */
  violations(): Promise<string[]>;
}

export async function watchPage(page: Page): Promise<PageWatch> {
  const watch = {
    consoleErrors: [] as string[],
    pageErrors: [] as string[],
    requests: [] as string[],
    violations: () => page.evaluate(() => (globalThis as unknown as { __cspViolations?: string[] }).__cspViolations ?? []),
  };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') watch.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => watch.pageErrors.push(String(e)));
  page.on('request', (r) => watch.requests.push(r.url()));
  // Init scripts run before the page's own and are not subject to its CSP.
  await page.addInitScript(() => {
    const g = globalThis as unknown as { __cspViolations: string[]; document: { addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void } };
    g.__cspViolations = [];
    g.document.addEventListener('securitypolicyviolation', (e) => g.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return watch;
}

/**
 * Bars an ECharts chart (SVG renderer) of the results site drew in `colour` (src/web/site/dashboard.tsx), by their
 * drawn size: a zero bar is a path of no size, and the legend's swatch of the same colour is 14 px tall.
 */
export function barsDrawn(page: Page, chart: string, colour: string): Promise<number> {
  return page.locator(`[data-chart="${chart}"] svg path[fill="${colour}"]`).evaluateAll((paths) =>
    paths.filter((p) => {
      const box = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
      return box.width > 1 && box.height > 16;
    }).length);
}

/** Builds the results site (src/web/site/, Vite) into `outDir`: what a test serves or exports, whatever dist/ holds. */
export async function buildSiteInto(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(repoRoot, 'src/web/site/vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'silent' });
}
