/**
 * Sign up, log out, a refused log-in shown under the field it concerns (with the seller's input
 * kept), log in again; an email already registered shown under the email.
 */
import { expect, newSeller, test } from './support';

test('a seller signs up, logs out, mistypes the password and logs in', async ({ page, t, shot, browserErrors }, testInfo) => {
  const seller = newSeller(testInfo);

  await page.goto('/signup');
  await expect(page.getByRole('heading', { level: 1, name: t('signup.title') })).toBeVisible();
  await page.getByLabel(t('auth.email')).fill(seller.email);
  await page.getByLabel(t('auth.password')).fill(seller.password);
  await shot('signup');
  await page.getByRole('button', { name: t('signup.submit') }).click();
  await expect(page).toHaveURL(/\/products$/);

  await page.getByRole('button', { name: t('nav.logout') }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('heading', { level: 1, name: t('login.title') })).toBeVisible();

  // The API refuses the password: its words under the password field, the email kept.
  const email = page.getByLabel(t('auth.email'));
  const password = page.getByLabel(t('auth.password'));
  await email.fill(seller.email);
  await password.fill('not the password');
  await page.getByRole('button', { name: t('login.submit') }).click();
  await expect(password).toHaveAccessibleDescription(t('errors.INVALID_CREDENTIALS'));
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(email).toHaveValue(seller.email);
  await shot('login-refused');

  await password.fill(seller.password);
  await page.getByRole('button', { name: t('login.submit') }).click();
  await expect(page).toHaveURL(/\/products$/);
  expect(browserErrors).toEqual([]);
});

test('signing up twice with one email says so under the email', async ({ page, t }, testInfo) => {
  const seller = newSeller(testInfo);
  const registered = await page.request.post('/api/v1/auth/register', { data: seller });
  expect(registered.status()).toBe(201);

  await page.goto('/signup');
  const email = page.getByLabel(t('auth.email'));
  await email.fill(seller.email);
  await page.getByLabel(t('auth.password')).fill(seller.password);
  await page.getByRole('button', { name: t('signup.submit') }).click();
  await expect(email).toHaveAccessibleDescription(t('errors.EMAIL_TAKEN'));
  await expect(page).toHaveURL(/\/signup$/);
});
