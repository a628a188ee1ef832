/**
 * The seller's whole loop in the browser, against the real local stack: sign up, connect
 * MercadoLibre through the sandbox's authorization page, a product from real photos, its progress
 * until it is ready, an edited title, photos reordered (which reprocesses it by itself), publish
 * with price, quantity, listing type and condition, and the permalink. Runs once per project:
 * Spanish on a desktop, Portuguese on a phone. Screenshots of each main screen are kept.
 */
import type { Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { Effort, expect, expectFocusInSight, limits, newSeller, pattern, photos, press, SMALL_PHOTO, test, within, words, writeEffort, type Language } from './support';

type Site = 'MLA' | 'MLB';
/** The seller's MercadoLibre site: the listing is written in its language, whatever the panel's. */
const SITES: Record<Language, { site: Site; host: RegExp; price: RegExp }> = {
  es: { site: 'MLA', host: /^https:\/\/articulo\.mercadolibre\.com\.ar\//, price: /^\$\s2\.500(,00)?$/ },
  pt: { site: 'MLB', host: /^https:\/\/produto\.mercadolivre\.com\.br\//, price: /^R\$\s2\.500,00$/ }
};
const PIPELINE = 150_000; // one pass of the local pipeline, with room for a busy CPU
const YOGHURT = 'Valio-Vanilla-Yoghurt';

async function signUp(page: Page, language: Language, email: string, password: string) {
  await page.goto('/signup');
  await page.getByLabel(pattern(language, 'auth.email')).fill(email);
  await page.getByLabel(pattern(language, 'auth.password')).fill(password);
  await page.getByRole('button', { name: pattern(language, 'signup.submit') }).click();
  await expect(page).toHaveURL(/\/products$/);
}

/** The sandbox's sign-in page speaks the browser's language (infra/local/mercadolibre/server.py). */
const SANDBOX_WORDS: Record<Language, { nickname: string; site: string; submit: string }> = {
  es: { nickname: 'Apodo', site: 'País', submit: 'Ingresar y autorizar' },
  pt: { nickname: 'Apelido', site: 'País', submit: 'Entrar e autorizar' }
};

/** The sandbox's own sign-in page (not ours), then back through the API's callback to `back`. */
async function authorizeOnSandbox(tab: Page, language: Language, nickname: string, site: Site, back: RegExp) {
  const words = SANDBOX_WORDS[language];
  await expect(tab).toHaveURL(new RegExp(`^${process.env.SANDBOX_URL}/authorization\\?`));
  // Usable on a phone: nothing wider than the screen.
  const [scrollWidth, innerWidth] = await tab.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
  await tab.getByLabel(words.nickname).fill(nickname);
  await tab.getByLabel(words.site).selectOption(site);
  await tab.getByRole('button', { name: words.submit }).click();
  await expect(tab).toHaveURL(back);
}

/** The page the sandbox opens in: a new tab, or this one. */
async function opening(page: Page, click: () => Promise<void>): Promise<Page> {
  const sandbox = process.env.SANDBOX_URL!;
  const popup = page.waitForEvent('popup').catch(() => null);
  const here = page.waitForURL((url) => url.origin === sandbox).then(() => page, () => null);
  await click();
  const tab = await Promise.race([popup, here]);
  if (!tab) throw new Error('the authorization page did not open');
  return tab;
}

test('a seller lists a product from photos to a published item', async ({ page, language, t, shot, browserErrors }, testInfo) => {
  const seller = newSeller(testInfo);
  await signUp(page, language, seller.email, seller.password);
  await expect(page.getByRole('heading', { level: 1, name: t('products.title') })).toBeVisible();
  await shot('products-empty');

  // Settings: the seller's site, then MercadoLibre through the sandbox's authorization page.
  const { site, host, price } = SITES[language];
  await page.getByRole('link', { name: t('nav.settings') }).click();
  const siteChoice = page.getByLabel(t('settings.site'));
  if ((await siteChoice.inputValue()) !== site) {
    await siteChoice.selectOption(site);
    await page.getByRole('button', { name: t('common.save') }).click();
    await expect(page.getByText(t('settings.saved'))).toBeVisible();
  }
  const nickname = `TIENDA_${language.toUpperCase()}_${Date.now().toString(36).toUpperCase()}`;
  // The authorization page opens in a new tab (the panel's tab watches for the account), or in
  // this one when a new tab cannot open; either way the callback lands on the settings page.
  const tab = await opening(page, () => page.getByRole('button', { name: t('settings.ml_connect') }).click());
  await authorizeOnSandbox(tab, language, nickname, site, /\/settings(\?|$)/); // the page reads ?ml=connected, then tidies the address
  await expect(tab.getByText(t('settings.ml_connected_now', { nickname }))).toBeVisible();
  if (tab !== page) await tab.close();
  await expect(page.getByText(words(language, 'settings.ml_state.connected'), { exact: true })).toBeVisible({ timeout: 10_000 });
  await expect(page.getByText(nickname, { exact: true })).toBeVisible();
  await shot('settings-connected');

  // A new product: a photo too small is refused here, in the API's words, before anything is sent.
  await page.getByRole('link', { name: t('nav.new') }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: t('new.title') })).toBeVisible();
  const files = page.getByLabel(t('new.choose'));
  await files.setInputFiles(SMALL_PHOTO);
  const small = words(language, 'errors.IMAGE_TOO_SMALL', {
    name: SMALL_PHOTO.split('/').pop()!,
    width: 348,
    height: 348,
    min_width: limits.min_width,
    min_height: limits.min_height
  });
  await expect(page.getByText(small, { exact: true })).toBeVisible();
  await shot('new-too-small');
  await page.getByRole('button', { name: t('new.remove', { name: SMALL_PHOTO.split('/').pop()! }) }).click();

  // A text file named .jpg is "not a JPG or PNG" by its first bytes, as the server says; not "damaged".
  const notPhoto = testInfo.outputPath('lista-de-precios.jpg');
  writeFileSync(notPhoto, 'Yogur 1 kg: $2500\n');
  await files.setInputFiles(notPhoto);
  await expect(page.getByText(words(language, 'errors.IMAGE_FORMAT_UNSUPPORTED', { name: 'lista-de-precios.jpg' }), { exact: true })).toBeVisible();
  await expect(page.getByText(within(language, 'errors.IMAGE_CORRUPT'))).toHaveCount(0);
  await shot('new-not-a-photo');
  await page.getByRole('button', { name: t('new.remove', { name: 'lista-de-precios.jpg' }) }).click();

  const chosen = photos(YOGHURT, ['001', '002', '003']);
  await files.setInputFiles(chosen);
  await expect(page.getByTestId('chosen-photo')).toHaveCount(3);
  await page.getByLabel(t('new.prompt_label')).fill(language === 'es' ? 'Yogur de vainilla Valio 1 kg' : 'Iogurte de baunilha Valio 1 kg');
  await shot('new-product');
  await page.getByRole('button', { name: t('new.create') }).click();

  // Straight on to the product page once the photos are up; the pipeline's progress shows.
  await expect(page).toHaveURL(/\/products\/[0-9A-Z]{26}$/, { timeout: 60_000 });
  const productUrl = page.url();
  await expect(page.getByRole('heading', { name: t('product.progress.title') })).toBeVisible();
  await shot('product-in-progress');

  const publishLink = page.getByRole('link', { name: t('product.publish') });
  await expect(publishLink).toBeVisible({ timeout: PIPELINE });
  const title = page.getByRole('textbox', { name: t('product.field.title') });
  await expect(title).not.toHaveValue('');
  await shot('product-ready');

  // Ordered by what the seller decides: what to review and the preview come before the fields;
  // the confidence chip leads to what to review; the title shows whole; no reason shows a code.
  const review = page.locator('#review');
  const top = async (selector: string) => (await page.locator(selector).boundingBox())!.y;
  expect(await top('#review')).toBeLessThan(await top('#field-title'));
  expect(await top('#preview-title')).toBeLessThan(await top('#field-title'));
  await page.locator('header.top a.chip').click();
  await expect(review).toBeFocused();
  await expect(review).toBeInViewport();
  expect(await review.locator('li').allInnerTexts()).not.toContainEqual(expect.stringMatching(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\bBRAND\b/));
  const whole = await title.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1);
  expect(whole, 'the title field shows all of the title').toBe(true);

  // Other titles are on offer under the field: one click puts one in it, to save or change.
  const offered = page.getByRole('group', { name: t('product.title_options') }).getByRole('button').first();
  const option = await offered.innerText();
  expect(option).toMatch(/Valio/);
  await offered.click();
  await expect(title).toHaveValue(option);

  // The seller writes the title; the save is confirmed.
  const mine = language === 'es' ? 'Yogur Valio Vainilla Cremoso 1 Kg' : 'Iogurte Valio Baunilha Cremoso 1 Kg';
  await title.fill(mine);
  await press(page, page.getByRole('button', { name: t('common.save') })); // in the bar stuck to the bottom
  await expect(page.getByText(t('product.save.saved'))).toBeVisible();

  // Reorder: the first photo goes down one place; the product reprocesses by itself.
  const [first, second] = chosen.map((path) => path.split('/').pop()!);
  const photosFold = page.locator('details#photos');
  if (!(await photosFold.evaluate((fold) => (fold as HTMLDetailsElement).open))) await photosFold.locator('summary').click(); // folded on a phone
  const grid = page.getByRole('list', { name: t('product.photos.list') });
  await expect(grid.getByRole('img').first()).toHaveAccessibleName(t('product.photos.alt', { name: first, position: 1 }));
  await page.getByRole('button', { name: t('product.photos.down', { name: first }) }).click();
  await expect(grid.getByRole('img').first()).toHaveAccessibleName(t('product.photos.alt', { name: second, position: 1 }));
  await expect(publishLink).toBeHidden(); // working again
  await expect(page.getByRole('heading', { name: t('product.progress.title') })).toBeVisible();
  await expect(publishLink).toBeVisible({ timeout: PIPELINE });
  await expect(title).toHaveValue(mine); // the seller's title survives the AI's second pass

  // Restoring an earlier version while a change is unsaved asks first; cancelling keeps the change.
  await title.fill(`${mine} 2`);
  await page.getByText(t('product.versions.show')).click();
  await page.getByRole('button', { name: t('product.versions.restore_label', { version: 1 }) }).click();
  const replacing = page.getByRole('dialog', { name: t('product.versions.replace_title', { version: 1 }) });
  await expect(replacing).toBeVisible();
  await replacing.getByRole('button', { name: t('common.cancel') }).click();
  await expect(replacing).toBeHidden();
  await expect(title).toHaveValue(`${mine} 2`);
  await title.fill(mine);

  // Publish: price, quantity, listing type, condition, the final check, then the permalink.
  await publishLink.click();
  await expect(page.getByRole('heading', { level: 1, name: t('publish.title') })).toBeVisible();
  // The preview asks for the price here, where it is chosen (not "chosen when publishing").
  await expect(page.getByText(t('publish.preview_no_price'))).toBeVisible();
  await expect(page.getByText(t('product.preview.no_price'))).toHaveCount(0);
  // The reason the button is disabled is said beside it, and leads to the input.
  await expect(page.locator('#submit-why')).toHaveText(words(language, 'errors.PRICE_MISSING'));
  // A tap that lands while the page still settles (the account arrives after the form) can miss, as a
  // finger's can: tapped again then. What is proven is that the reason leads to the input.
  await expect(async () => {
    await page.locator('#submit-why a').click();
    await expect(page.getByLabel(t('publish.price'))).toBeFocused({ timeout: 2000 });
  }).toPass({ timeout: 15000 });
  await expectFocusInSight(page, 'the price');
  await page.getByLabel(t('publish.price')).fill('2500');
  await expect(page.locator('#submit-why')).toHaveCount(0);
  await page.getByLabel(t('publish.quantity')).fill('4');
  await page.getByLabel(t('publish.listing_type')).selectOption({ label: words(language, 'publish.listing_type.gold_special') });
  await page.getByRole('radio', { name: t('product.condition.new') }).check();
  await expectFocusInSight(page, 'the condition');
  await expect(page.getByText(t('publish.check.ok'))).toBeVisible();
  await expect(page.getByText(price)).toBeVisible(); // the preview, in the site's currency
  await shot('publish');
  await press(page, page.getByRole('button', { name: t('publish.submit') })); // the bar's button, pressed as a person does
  await expect(page.getByRole('heading', { name: t('publish.published.title') })).toBeVisible({ timeout: PIPELINE });
  const permalink = page.getByRole('link', { name: t('publish.published.open') });
  await expect(permalink).toHaveAttribute('href', host);
  await shot('published');

  // The published item's page has no bar with nothing to do in it.
  await page.goto(productUrl);
  await expect(page.getByRole('link', { name: t('publish.published.open') })).toBeVisible();
  await expect(page.locator('[data-bar]')).toHaveCount(0);
  await shot('product-published');

  // The list shows it published, with its picture.
  await page.getByRole('link', { name: t('nav.products') }).first().click();
  // The list, once the panel has left the product's page (its title is there three times).
  await expect(page).toHaveURL(/\/products\/?$/);
  await expect(page.getByRole('heading', { level: 1, name: t('products.title') })).toBeVisible();
  await expect(page.getByText(mine)).toBeVisible();
  await shot('products');
  expect(browserErrors).toEqual([]);
});

/**
 * The seller's effort on a phone, counted from the tap on "new listing" to the published item:
 * once accepting the listing as generated, once fixing the title first. The counts go to
 * BENCHMARKS.md; the targets (25 s and 40 s at 2 s a tap and 0.3 s a character) must hold.
 * Also: the first empty list says to connect first, and connecting from it comes back to it.
 */
test('the seller\'s effort from "new listing" to "published", on a phone', async ({ page, language, t, shot }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone-pt', 'measured on the phone (360x800)');
  test.setTimeout(480_000);
  const seller = newSeller(testInfo);
  await signUp(page, language, seller.email, seller.password);

  // The first empty list says what to do first: connect MercadoLibre; MercadoLibre brings the seller back here.
  await expect(page.getByRole('heading', { name: t('products.empty_connect_title') })).toBeVisible();
  await shot('products-empty-connect-first');
  const { site } = SITES[language];
  const nickname = `EFFORT_${Date.now().toString(36).toUpperCase()}`;
  const tab = await opening(page, () => page.getByRole('button', { name: t('settings.ml_connect') }).click());
  await authorizeOnSandbox(tab, language, nickname, site, /\/products\?ml=connected$/);
  await expect(tab.getByText(t('products.connected_now'))).toBeVisible();
  if (tab !== page) await tab.close();
  await expect(page.getByRole('heading', { name: t('products.empty_title') })).toBeVisible();
  // The seller's site (where the listing's category comes from), as a seller sets it once: not counted.
  await page.getByRole('link', { name: t('nav.settings') }).click();
  await page.getByLabel(t('settings.site')).selectOption(site);
  await page.getByRole('button', { name: t('common.save') }).click();
  await expect(page.getByText(t('settings.saved'))).toBeVisible();

  const prompt = language === 'es' ? 'Yogur de vainilla Valio 1 kg' : 'Iogurte de baunilha Valio 1 kg';
  const fixedTitle = language === 'es' ? 'Yogur Valio de vainilla cremoso 1 kg' : 'Iogurte Valio de baunilha cremoso 1 kg';

  /** From the tap on "new listing" to the product page (the photos up, the pipeline started). */
  async function create(effort: Effort, shots: string[]) {
    await effort.tap(page.getByRole('link', { name: t('nav.new') }).first());
    await effort.pick(page.getByLabel(t('new.choose')), photos(YOGHURT, shots));
    await expect(page.getByTestId('chosen-photo')).toHaveCount(shots.length);
    await effort.type(page.getByLabel(t('new.prompt_label')), prompt, 'prompt');
    await effort.tap(page.getByRole('button', { name: t('new.create') }));
    await expect(page).toHaveURL(/\/products\/[0-9A-Z]{26}$/, { timeout: 60_000 });
    return page.url();
  }

  /** From the ready product page to the published item: the price is all the publish page needs. */
  async function publish(effort: Effort, fixTitle: boolean) {
    const publishLink = page.getByRole('link', { name: t(fixTitle ? 'product.save_and_publish' : 'product.publish') });
    if (fixTitle) {
      const title = page.getByRole('textbox', { name: t('product.field.title') });
      await expect(title).not.toHaveValue('', { timeout: PIPELINE });
      await effort.type(title, fixedTitle, 'title');
    }
    await effort.tap(publishLink);
    await expect(page.getByRole('heading', { level: 1, name: t('publish.title') })).toBeVisible();
    await effort.type(page.getByLabel(t('publish.price')), '2500', 'price');
    await expect(page.getByText(t('publish.check.ok'))).toBeVisible();
    await effort.tap(page.getByRole('button', { name: t('publish.submit') }));
    await expect(page.getByRole('heading', { name: t('publish.published.title') })).toBeVisible({ timeout: PIPELINE });
  }

  const accepted = new Effort(page);
  const fixed = new Effort(page);
  // Both products are created first, so their pipelines run side by side; each flow keeps its own count.
  const first = await create(accepted, ['001', '002', '003']);
  const second = await create(fixed, ['001', '002', '003']);
  await page.goto(first);
  await expect(page.getByRole('link', { name: t('product.publish') })).toBeVisible({ timeout: PIPELINE });
  await publish(accepted, false);
  await page.goto(second);
  await expect(page.getByRole('link', { name: t('product.publish') })).toBeVisible({ timeout: PIPELINE });
  await publish(fixed, true);

  const viewport = page.viewportSize()!;
  writeEffort(
    [
      { flow: 'accept the listing as generated', effort: accepted, target: 25 },
      { flow: 'fix the title, then publish', effort: fixed, target: 40 }
    ],
    `a ${viewport.width}x${viewport.height} phone (${language}, touch)`
  );
  expect(accepted.seconds, `accepting as generated: ${accepted.taps} taps, ${accepted.chars} characters`).toBeLessThanOrEqual(25);
  expect(fixed.seconds, `with one title fix: ${fixed.taps} taps, ${fixed.chars} characters`).toBeLessThanOrEqual(40);
});
