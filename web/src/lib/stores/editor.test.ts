import { describe, expect, it } from 'vitest';
import { fakeApi, json } from '$lib/api/fake';
import { translate } from '$lib/i18n';
import { listing } from '$lib/listing/fixtures';
import { ListingEditor } from './editor.svelte';

async function opened(rewrites: boolean[] = []) {
  fakeApi([() => json(listing())]);
  const editor = new ListingEditor({ productId: () => 'p1', onsaved: (rewrite) => rewrites.push(rewrite) });
  await editor.load();
  return editor;
}

const apiError = (status: number, code: string, details: Record<string, unknown> = {}) =>
  json({ error: { code, message: code, details, request_id: 'r' } }, status);

describe('the product page editor', () => {
  it('opens the current listing with its sheet and title limit; nothing is changed yet', async () => {
    const editor = await opened();
    expect(editor.draft?.title).toBe('Zapatillas Nike Air Max 90');
    expect(editor.sheet.map((e) => e.id)).toEqual(['BRAND', 'GENDER', 'SIZE']);
    expect(editor.titleLimit).toBe(60);
    expect(editor.changed).toEqual([]);
  });

  it('waits while the listing is being written', async () => {
    fakeApi([() => apiError(404, 'LISTING_NOT_READY')]);
    const editor = new ListingEditor({ productId: () => 'p1' });
    await editor.load();
    expect(editor.pending).toBe(true);
    expect(editor.listing).toBeNull();
  });

  it('a newer version is laid under the unsaved edits', async () => {
    const editor = await opened();
    editor.draft!.title = 'Mi título';
    fakeApi([() => json(listing({ version: 4, description: 'Otra descripción' }))]);
    await editor.load();
    expect(editor.listing?.version).toBe(4);
    expect(editor.draft).toMatchObject({ title: 'Mi título', description: 'Otra descripción' });
    expect(editor.changed).toEqual(['title']);
  });

  it('a save that goes through opens the new version', async () => {
    const rewrites: boolean[] = [];
    const editor = await opened(rewrites);
    editor.draft!.title = 'Nuevo título';
    const seen = fakeApi([() => json(listing({ version: 4, title: 'Nuevo título', edited: ['title'] }))]);
    await editor.save();
    expect(seen[0].body).toEqual({ version: 3, reset: [], title: 'Nuevo título' });
    expect(editor.listing?.version).toBe(4);
    expect(editor.changed).toEqual([]);
    expect(editor.saved).toBe(translate('es', 'product.save.saved', { version: 4 }));
    expect(rewrites).toEqual([false]);
  });

  it('a conflict keeps the typing and shows the other value beside it', async () => {
    const editor = await opened();
    editor.draft!.title = 'Mi título';
    const current = listing({ version: 5, title: 'Otro título' });
    fakeApi([() => apiError(409, 'CONFLICT', { current }), () => json(current)]);
    await editor.save();
    expect(editor.draft?.title).toBe('Mi título');
    expect(editor.theirsOf('title')).toEqual({ field: 'title', value: 'Otro título', by: 'ai' });
    // What changed and by whom: the AI wrote version 5 and changed the title (never "someone").
    expect(editor.saveError).toBe(translate('es', 'product.save.conflict.ai', { version: 5, fields: ['Título'] }));
    expect(editor.saveError).toMatch(/IA.*5.*Título/);
    editor.useTheirs('title');
    expect(editor.draft?.title).toBe('Otro título');
    expect(editor.theirs).toEqual([]);
  });

  it("the API's refusals are placed on their inputs", async () => {
    const editor = await opened();
    editor.draft!.description = '<b>hola</b>';
    const problems = [{ field: 'description', code: 'DESCRIPTION_HTML', message: 'no HTML', params: {} }];
    fakeApi([() => apiError(422, 'VALIDATION_ERROR', { problems })]);
    await editor.save();
    expect(editor.problems).toEqual({ description: [translate('es', 'errors.DESCRIPTION_HTML')] });
    expect(editor.saveError).toBe(translate('es', 'product.save.invalid'));
  });

  it('handing a field back drops the typing and asks the API to write it again', async () => {
    const rewrites: boolean[] = [];
    const editor = await opened(rewrites);
    editor.draft!.title = 'Mi título';
    const seen = fakeApi([() => json(listing({ version: 4 }))]);
    editor.handBack('title');
    expect(editor.draft?.title).toBe('Zapatillas Nike Air Max 90');
    await new Promise((wake) => setTimeout(wake, 0)); // the save it started
    expect(seen[0].body).toEqual({ version: 3, reset: ['title'] });
    expect(rewrites).toEqual([true]);
  });

  it('a new category brings its sheet, keeping the values of the same attributes', async () => {
    const editor = await opened();
    fakeApi([() => json([{ id: 'BRAND', name: 'Marca', value_type: 'string' }, { id: 'MODEL', name: 'Modelo', value_type: 'string' }])]);
    await editor.chooseCategory({ id: 'MLA2', name: 'Running', title_limit: 80 });
    expect(editor.sheet.map((e) => e.id)).toEqual(['BRAND', 'MODEL']);
    expect(editor.draft?.attributes.BRAND.value_name).toBe('Nike');
    expect(editor.titleLimit).toBe(80);
    expect(editor.changed).toContain('category');
  });

  it('a restored version replaces the draft', async () => {
    const editor = await opened();
    editor.draft!.title = 'Mi título';
    editor.restored(listing({ version: 7, title: 'Zapatillas' }), 1);
    expect(editor.draft?.title).toBe('Zapatillas');
    expect(editor.changed).toEqual([]);
    expect(editor.saved).toBe(translate('es', 'product.versions.restored', { version: 1 }));
  });
});
