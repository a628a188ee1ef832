/**
 * What every end-to-end test shares: the seller's language (from the project's locale), the words
 * the panel shows for a catalogue key (so a test finds "Iniciar sesión" or "Entrar" by the same
 * key), screenshots as artefacts, and the sample photos.
 */
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Language = 'es' | 'pt';
type Catalogue = Record<string, string>;

const I18N = resolve(import.meta.dirname, '..', 'src', 'lib', 'i18n');
const SCREENSHOTS = resolve(import.meta.dirname, '..', 'test-results', 'screenshots');
/** The originals in the repository: 348x348, below the upload minimum (for the rejection test). */
export const SMALL_PHOTO = resolve(
  import.meta.dirname,
  '..',
  '..',
  'tests/data/photos/grocery/Valio-Vanilla-Yoghurt/Valio-Vanilla-Yoghurt_004.jpg'
);

/** The API's upload limits, as the panel reads them. */
export const limits: { min_width: number; min_height: number; max_images: number } = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '..', 'src', 'lib', 'api', 'limits.json'), 'utf8')
);

// Read at run time: the catalogues grow while the panel is written.
const catalogues: Record<Language, Catalogue> = {
  es: JSON.parse(readFileSync(join(I18N, 'es.json'), 'utf8')),
  pt: JSON.parse(readFileSync(join(I18N, 'pt.json'), 'utf8'))
};

/** A key showing instead of its words: `product.photos.alt`, `errors.IMAGE_TOO_SMALL`... */
const UNTRANSLATED = new RegExp(
  `\\b(${[...new Set(Object.keys(catalogues.es).map((key) => key.split('.')[0]))].join('|')})\\.[A-Za-z_]+(\\.[A-Za-z_]+)*\\b`,
  'g'
);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The raw message for a key in a language; a missing key fails the test right here. */
export function message(language: Language, key: string): string {
  const found = catalogues[language][key];
  if (found === undefined) throw new Error(`no message ${key} in ${language}.json`);
  return found;
}

/** The message filled in, as the panel formats it (numbers in the locale's style). */
export function words(language: Language, key: string, params: Record<string, string | number> = {}): string {
  const locale = language === 'es' ? 'es-AR' : 'pt-BR';
  return message(language, key).replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : value;
  });
}

/** A pattern for a message: exact words, any value where a placeholder was not given. */
export function pattern(language: Language, key: string, params: Record<string, string | number> = {}): RegExp {
  const filled = words(language, key, params);
  const parts = filled.split(/\{\w+\}/).map(escape);
  return new RegExp(`^\\s*${parts.join('.+?')}\\s*$`);
}

/** The same, anywhere in a longer text (a status line that also carries a count, say). */
export function within(language: Language, key: string, params: Record<string, string | number> = {}): RegExp {
  const filled = words(language, key, params);
  return new RegExp(filled.split(/\{\w+\}/).map(escape).join('.+?'));
}

export interface Seller {
  email: string;
  password: string;
}

interface Fixtures {
  language: Language;
  t: (key: string, params?: Record<string, string | number>) => RegExp;
  shot: (name: string) => Promise<void>;
  browserErrors: string[];
}

export const test = base.extend<Fixtures>({
  // The browser's own errors, for every test: a failing test shows them next to its own message.
  browserErrors: [
    async ({ page }, use, testInfo) => {
      const errors = watchConsole(page);
      await use(errors);
      if (errors.length && testInfo.status !== testInfo.expectedStatus)
        await testInfo.attach('browser errors', { body: errors.join('\n'), contentType: 'text/plain' });
    },
    { auto: true }
  ],
  language: async ({ locale }, use) => {
    await use(locale?.startsWith('pt') ? 'pt' : 'es');
  },
  t: async ({ language }, use) => {
    await use((key, params) => pattern(language, key, params));
  },
  // Screenshots of the main screens, per language and viewport, kept as artefacts to look at; each
  // screen is also checked for what a screenshot shows a person: a catalogue key instead of words,
  // and content wider than the screen (the panel must work at 360 px).
  shot: async ({ page }, use, testInfo: TestInfo) => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await use(async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${testInfo.project.name}-${name}.png`), fullPage: true });
      const text = await page.locator('body').innerText();
      expect.soft(text.match(UNTRANSLATED) ?? [], `untranslated keys on ${name}`).toEqual([]);
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      expect.soft(widths[0], `${name} is wider than the screen`).toBeLessThanOrEqual(widths[1]);
      // Accessibility basics by axe-core (WCAG 2.1 A and AA): labels, names, contrast, landmarks.
      const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      const serious = violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      expect.soft(serious, `accessibility problems on ${name}`).toEqual([]);
    });
  }
});

export { expect };

let counter = 0;
export function newSeller(testInfo: TestInfo): Seller {
  counter += 1;
  const tag = `${testInfo.project.name}-${Date.now().toString(36)}-${counter}`;
  return { email: `seller-${tag}@example.com`, password: 'una contraseña larga 123' };
}

/** The photos prepared by the global setup (upscaled copies of the samples, 1044x1044). */
export function photos(product: string, shots: string[]): string[] {
  const folder = process.env.E2E_PHOTOS;
  if (!folder) throw new Error('E2E_PHOTOS is not set: the global setup did not run');
  return shots.map((shot) => join(folder, `${product}_${shot}.jpg`));
}

/** Fail on the browser's own complaints: CSP violations, uncaught errors, failed scripts. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (entry) => {
    if (entry.type() === 'error' && /Content Security Policy|Refused to/.test(entry.text()))
      problems.push(`console: ${entry.text()}`);
  });
  return problems;
}
