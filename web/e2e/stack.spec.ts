/**
 * The wiring under the screens: the panel and the API on one origin, the page's CSP, and a photo
 * going from the browser straight to (emulated) S3 through a presigned form, which is another
 * origin (moto answers the preflight with CORS headers; an upload with progress events always
 * sends one).
 */
import { readFileSync } from 'node:fs';
import { expect, newSeller, photos, test } from './support';

test('the panel is served with the API on its origin, under its CSP', async ({ page, browserErrors }) => {
  const answer = await page.goto('/products');
  expect(answer?.headers()['content-security-policy']).toBe("frame-ancestors 'none'");
  expect(answer?.headers()['x-content-type-options']).toBe('nosniff');
  // Logged out: the layout sends the seller to the login page, keeping where they were going.
  await expect(page).toHaveURL(/\/login\?next=%2Fproducts$/);
  const health = await page.evaluate(async () => (await fetch('/api/v1/health')).json());
  expect(health).toEqual({ status: 'ok', stage: 'local' });
  expect(browserErrors).toEqual([]);
});

test('a photo goes from the browser straight to S3 with upload progress', async ({ page }, testInfo) => {
  await page.goto('/login');
  const seller = newSeller(testInfo);
  const [path] = photos('Valio-Vanilla-Yoghurt', ['001']);
  const photo = readFileSync(path).toString('base64');
  const sent = await page.evaluate(
    async ({ seller, photo }) => {
      const json = { 'Content-Type': 'application/json' };
      const tokens = await (await fetch('/api/v1/auth/register', { method: 'POST', headers: json, body: JSON.stringify(seller) })).json();
      const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
      const created = await fetch('/api/v1/products', {
        method: 'POST',
        headers: { ...json, Authorization: `Bearer ${tokens.access_token}` },
        body: JSON.stringify({ prompt: 'yogur de vainilla', images: [{ file_name: 'a.jpg', content_type: 'image/jpeg', size: bytes.length }] })
      });
      const form = (await created.json()).images[0].upload as { url: string; fields: Record<string, string> };
      const data = new FormData();
      for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
      data.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'a.jpg');
      return await new Promise<{ status: number; loaded: number; origin: string }>((done) => {
        const xhr = new XMLHttpRequest();
        let loaded = 0;
        xhr.upload.onprogress = (event) => (loaded = event.loaded);
        xhr.onloadend = () => done({ status: xhr.status, loaded, origin: new URL(form.url).origin });
        xhr.open('POST', form.url);
        xhr.send(data);
      });
    },
    { seller, photo }
  );
  expect(sent.origin).not.toBe(new URL(page.url()).origin);
  expect(sent.status).toBe(204); // 0 would be a CORS refusal
  expect(sent.loaded).toBeGreaterThan(100_000);
});
