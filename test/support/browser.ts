/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (/usr/bin/chromium; `.ci/run` installs it),
 * driven by playwright-core. Never a browser Playwright downloads itself: this machine and CI reach only the package
 * registries. Each launch gets a fresh profile directory, removed on close.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

export const CHROMIUM = process.env.STREAMLANE_CHROMIUM ?? '/usr/bin/chromium'

/** Flags for a closed network: no background connections (update checks, sync, QUIC probes) that would be refused. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

export interface TestBrowser {
  context: BrowserContext
  close(): Promise<void>
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser tests need Debian's chromium package (apt-get install -y chromium, as .ci/run does), or STREAMLANE_CHROMIUM naming another Chromium`
    )
  }
  const profile = mkdtempSync(join(tmpdir(), 'streamlane-chromium-'))
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS
    })
    return {
      context,
      async close() {
        await context.close()
        rmSync(profile, { recursive: true, force: true })
      }
    }
  } catch (error) {
    rmSync(profile, { recursive: true, force: true })
    throw error
  }
}
