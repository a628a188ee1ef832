/**
 * The seller's whole loop in the browser, against the real local stack: sign up, connect
 * MercadoLibre through the sandbox's authorization page, a product from real photos, its progress
 * until it is ready, an edited title, photos reordered (which reprocesses it by itself), publish
 * with price, quantity, listing type and condition, and the permalink. Runs once per project:
 * Spanish on a desktop, Portuguese on a phone. Screenshots of each main screen are kept.
 */
import type { Page } from '@playwright/test';
import { expect, limits, newSeller, pattern, photos, SMALL_PHOTO, test, words, type Language } from './support';

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

/** The sandbox's own sign-in page (English, not ours), then back through the API's callback. */
async function authorizeOnSandbox(tab: Page, nickname: string, site: Site) {
  await expect(tab).toHaveURL(new RegExp(`^${process.env.SANDBOX_URL}/authorization\\?`));
  await tab.getByLabel('Nickname').fill(nickname);
  await tab.getByLabel('Site').selectOption(site);
  await tab.getByRole('button', { name: 'Sign in and authorize' }).click();
  await expect(tab).toHaveURL(/\/settings(\?|$)/); // the page reads ?ml=connected, then tidies the address
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
  await authorizeOnSandbox(tab, nickname, site);
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

  // The seller writes the title; the save is confirmed.
  const mine = language === 'es' ? 'Yogur Valio Vainilla Cremoso 1 Kg' : 'Iogurte Valio Baunilha Cremoso 1 Kg';
  await title.fill(mine);
  await page.getByRole('button', { name: t('common.save') }).click();
  await expect(page.getByText(t('product.save.saved'))).toBeVisible();

  // Reorder: the first photo goes down one place; the product reprocesses by itself.
  const [first, second] = chosen.map((path) => path.split('/').pop()!);
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
  await page.getByLabel(t('publish.price')).fill('2500');
  await page.getByLabel(t('publish.quantity')).fill('4');
  await page.getByLabel(t('publish.listing_type')).selectOption({ label: words(language, 'publish.listing_type.gold_special') });
  await page.getByRole('radio', { name: t('product.condition.new') }).check();
  await expect(page.getByText(t('publish.check.ok'))).toBeVisible();
  await expect(page.getByText(price)).toBeVisible(); // the preview, in the site's currency
  await shot('publish');
  await page.getByRole('button', { name: t('publish.submit') }).click();
  await expect(page.getByRole('heading', { name: t('publish.published.title') })).toBeVisible({ timeout: PIPELINE });
  const permalink = page.getByRole('link', { name: t('publish.published.open') });
  await expect(permalink).toHaveAttribute('href', host);
  await shot('published');

  // The list shows it published, with its picture.
  await page.getByRole('link', { name: t('nav.products') }).first().click();
  await expect(page.getByText(mine)).toBeVisible();
  await shot('products');
  expect(page.url()).not.toBe(productUrl);
  expect(browserErrors).toEqual([]);
});
