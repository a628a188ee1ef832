/**
 * The panel end to end: Debian's Chromium (never Playwright's downloaded browsers) against the whole
 * local stack, started once by e2e/global-setup.ts on free ports with a throwaway state folder.
 * The same flow runs in Spanish on a desktop and in Portuguese on a phone; elements are found by
 * role and by the accessible names in src/lib/i18n/{es,pt}.json, so the tests never hard-code
 * either language.
 */
import { defineConfig, devices } from '@playwright/test';

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium calls home on start, and the closed network
// refuses it; a fresh profile per context is Playwright's default.
const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  globalSetup: './e2e/global-setup.ts',
  // The pipeline runs real models on the CPU: a product takes 10-30 s per pass.
  timeout: 240_000,
  expect: { timeout: 15_000 },
  // One worker per project: the two flows share the stack, and the CPU with the pipeline.
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    // Set by the global setup; read in each worker, which starts after it.
    baseURL: process.env.PANEL_URL,
    headless: true,
    launchOptions: { executablePath, args },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000
  },
  projects: [
    {
      name: 'desktop-es',
      use: { ...devices['Desktop Chrome'], channel: undefined, locale: 'es-AR', timezoneId: 'America/Argentina/Buenos_Aires' }
    },
    {
      name: 'phone-pt',
      use: {
        viewport: { width: 360, height: 800 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        locale: 'pt-BR',
        timezoneId: 'America/Sao_Paulo'
      }
    }
  ]
});
