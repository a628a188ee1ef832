/**
 * What every end-to-end test shares: the seller's language (from the project's locale), the words
 * the panel shows for a catalogue key (so a test finds "Iniciar sesión" or "Entrar" by the same
 * key), screenshots as artefacts, and the sample photos.
 */
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
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
  // content wider than the screen (the panel must work at 360 px), and targets too small to tap.
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
      expect.soft(await smallTargets(page), `targets under 24x24 px on ${name}`).toEqual([]);
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

/**
 * Every visible target smaller than 24x24 px (WCAG 2.2, 2.5.8 Target Size (Minimum)): links,
 * buttons, fields, the labels that stand for hidden file inputs, folded sections' headings. A link
 * inside a sentence is exempt, as the rule says (its size is the text's).
 */
export async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const targets = document.querySelectorAll<HTMLElement>(
      'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label[for]'
    );
    const small: string[] = [];
    for (const element of targets) {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (box.width <= 1 || box.height <= 1 || style.visibility === 'hidden') continue; // not shown (visually hidden inputs)
      if (element.closest('.visually-hidden')) continue;
      if (element.tagName === 'LABEL' && !(document.getElementById((element as HTMLLabelElement).htmlFor) as HTMLInputElement | null)?.matches('.visually-hidden')) continue;
      const parent = element.parentElement;
      const inline = element.tagName === 'A' && parent && (parent.textContent ?? '').trim().length > (element.textContent ?? '').trim().length + 2 && style.display === 'inline';
      if (inline) continue;
      if (box.width < 23.95 || box.height < 23.95) {
        const name = (element.getAttribute('aria-label') ?? element.textContent ?? '').trim().slice(0, 40);
        small.push(`${element.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
    return small;
  });
}

/** The element in focus is wholly in sight: no bar stuck to the bottom covers it, nor the screen's edge. */
export async function expectFocusInSight(page: Page, what: string): Promise<void> {
  const covered = await page.evaluate(() => {
    const field = document.activeElement?.getBoundingClientRect();
    if (!field) return 'nothing in focus';
    const bars = [...document.querySelectorAll('[data-bar]')].map((bar) => bar.getBoundingClientRect()).filter((b) => b.height > 0);
    const over = bars.find((bar) => field.bottom > bar.top + 0.5 && field.top < bar.bottom);
    if (over) return `a bar (${Math.round(over.top)}-${Math.round(over.bottom)}) covers it (${Math.round(field.top)}-${Math.round(field.bottom)})`;
    if (field.bottom > window.innerHeight + 0.5 || field.top < -0.5) return `off screen (${Math.round(field.top)}-${Math.round(field.bottom)})`;
    return null;
  });
  expect(covered, `${what} in focus`).toBeNull();
}

/**
 * A press as a person makes it: the pointer goes down, a few frames pass, then it comes up where it
 * went down. Playwright's click sends both at once; a page that moves between them (a focus handler
 * scrolling the pressed button away) loses a person's press, and this one with it.
 */
export async function press(page: Page, target: Locator): Promise<void> {
  await target.scrollIntoViewIfNeeded();
  const box = await target.boundingBox();
  if (!box) throw new Error('nothing to press: the target is not on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(done)))));
  await page.mouse.up();
}

/**
 * The seller's effort, counted as the test acts for them: a tap is 2 s, a typed character 0.3 s
 * (the yardstick). Typing into a field is one tap to reach it plus its characters. Picking
 * photos is one tap on our button; the phone's own picker is counted apart (`picked`), the same in
 * any app. A swipe is counted when the next target was out of sight (Playwright scrolls to it).
 */
export class Effort {
  taps = 0;
  chars = 0;
  swipes = 0;
  picked = 0;
  readonly fields = new Set<string>();

  constructor(private readonly page: Page) {}

  get seconds(): number {
    return Math.round((this.taps * 2 + this.chars * 0.3) * 10) / 10;
  }

  private async reach(target: Locator) {
    const inSight = await target.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    });
    if (!inSight) this.swipes += 1;
  }

  async tap(target: Locator) {
    await target.waitFor();
    await this.reach(target);
    await target.click();
    this.taps += 1;
  }

  /** Reach a field, then type into it (a fill replaces what it held, as select-all then typing). */
  async type(target: Locator, text: string, name: string) {
    await target.waitFor();
    await this.reach(target);
    await target.click();
    this.taps += 1;
    await expectFocusInSight(this.page, name);
    await target.fill(text);
    this.chars += [...text].length;
    this.fields.add(name);
  }

  async pick(input: Locator, files: string[]) {
    await input.setInputFiles(files);
    this.taps += 1;
    this.picked += files.length;
  }
}

const BENCHMARKS = resolve(import.meta.dirname, '..', '..', 'BENCHMARKS.md');

/** Writes (or replaces) the seller-effort section of BENCHMARKS.md. */
export function writeEffort(rows: { flow: string; effort: Effort; target: number }[], device: string): void {
  const now = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const section = [
    '## Seller effort (make e2e-browser)',
    '',
    `Measured ${now} UTC on ${cpus()[0]?.model.trim() ?? 'a CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version},`,
    `by \`web/e2e/main-flow.spec.ts\` in Chromium on ${device}, from the tap on "new listing" to the item published.`,
    'Counted as the test acts for the seller: a tap is 2 s, a typed character 0.3 s; reaching a field to type is a tap. Picking the photos is one tap',
    'on the panel\'s button; the photos chosen in the phone\'s own picker are listed apart (the same in any app). Waiting for the pipeline is not effort.',
    '',
    '| flow | taps | fields typed | characters | swipes | photos picked | effort (target) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(({ flow, effort, target }) =>
      `| ${flow} | ${effort.taps} | ${effort.fields.size} (${[...effort.fields].join(', ')}) | ${effort.chars} | ${effort.swipes} | ${effort.picked} | **${effort.seconds} s** (at most ${target} s) |`
    ),
    ''
  ].join('\n');
  const text = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf('## Seller effort (make e2e-browser)');
  const end = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
  const next = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${end < 0 ? '' : text.slice(end + 1)}`;
  writeFileSync(BENCHMARKS, next.endsWith('\n') ? next : `${next}\n`);
}
