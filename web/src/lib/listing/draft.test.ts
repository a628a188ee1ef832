import { describe, expect, it } from 'vitest';
import { attributeOrigin, changedFields, draftFrom, editOf, originOf, rebase } from './draft';
import { listing } from './fixtures';

describe('who wrote each field', () => {
  it('the seller for edited fields, the AI for the rest', () => {
    const l = listing({ edited: ['title', 'attributes'] });
    expect(originOf(l, 'title')).toBe('seller');
    expect(originOf(l, 'attributes')).toBe('seller');
    expect(originOf(l, 'description')).toBe('ai');
    expect(originOf(l, 'category')).toBe('ai');
  });

  it('per attribute, from its source', () => {
    const [brand, size] = listing().attributes;
    expect(attributeOrigin(brand)).toBe('ai');
    expect(attributeOrigin(size)).toBe('seller');
    expect(attributeOrigin(undefined)).toBeNull();
  });
});

describe('what a save sends', () => {
  it('nothing when nothing changed', () => {
    const l = listing();
    expect(changedFields(l, draftFrom(l))).toEqual([]);
    expect(editOf(l, draftFrom(l))).toBeNull();
  });

  it('only the changed fields, with the version the seller opened', () => {
    const l = listing();
    const draft = draftFrom(l);
    draft.title = '  Zapatillas Nike Air Max 90 Blancas ';
    draft.attributes.GENDER = { value_id: '1', value_name: 'Hombre' };
    expect(changedFields(l, draft)).toEqual(['title', 'attributes']);
    expect(editOf(l, draft)).toEqual({
      version: 3,
      reset: [],
      title: 'Zapatillas Nike Air Max 90 Blancas',
      attributes: [{ id: 'GENDER', value_id: '1', value_name: 'Hombre' }]
    });
  });

  it('a category change sends its id; handing a field back sends reset alone', () => {
    const l = listing();
    const draft = draftFrom(l);
    draft.category = { id: 'MLA109027', name: 'Zapatillas de running' };
    expect(editOf(l, draft)).toEqual({ version: 3, reset: [], category_id: 'MLA109027' });
    expect(editOf(l, draftFrom(l), ['title'])).toEqual({ version: 3, reset: ['title'] });
  });
});

describe('a conflict keeps what the seller typed', () => {
  it('says what changed on the server and who changed it: the AI, or the seller in another tab', () => {
    const opened = listing();
    const draft = draftFrom(opened);
    draft.title = 'Mi título';
    const rewritten = rebase(opened, draft, listing({ version: 4, source: 'generated', title: 'Otro', description: 'Otra' }));
    expect(rewritten).toMatchObject({ by: 'ai', changed: ['title', 'description'] });
    const elsewhere = rebase(opened, draft, listing({ version: 4, source: 'seller', condition: 'used' }));
    expect(elsewhere).toMatchObject({ by: 'seller', changed: ['condition'] });
    expect(rebase(opened, draft, listing({ version: 4, source: 'restored' })).by).toBe('seller');
  });

  it('their fields stay, the others follow the server, and both-changed fields show the server value', () => {
    const opened = listing();
    const draft = draftFrom(opened);
    draft.title = 'Mi título';
    draft.description = 'Mi descripción';
    const current = listing({
      version: 5,
      title: 'Título de otra pestaña',
      description: opened.description,
      condition: 'used',
      attributes: [...opened.attributes, { id: 'GENDER', name: 'Género', value_id: '1', value_name: 'Hombre', source: 'seller', confidence: 1 }]
    });
    const { draft: next, theirs } = rebase(opened, draft, current);
    expect(next.title).toBe('Mi título');
    expect(next.description).toBe('Mi descripción');
    expect(next.condition).toBe('used'); // untouched by the seller: the server's
    expect(next.attributes.GENDER).toEqual({ value_id: '1', value_name: 'Hombre' });
    expect(theirs).toEqual([{ field: 'title', value: 'Título de otra pestaña', by: 'ai' }]);
    // Saved again, it goes on the current version with only the seller's changes.
    expect(editOf(current, next)).toEqual({ version: 5, reset: [], title: 'Mi título', description: 'Mi descripción' });
  });

  it('the seller\'s attribute rows win over the server\'s, the rest follow the server', () => {
    const opened = listing();
    const draft = draftFrom(opened);
    draft.attributes.BRAND = { value_id: null, value_name: 'Adidas' };
    const current = listing({
      version: 4,
      attributes: [
        { id: 'BRAND', name: 'Marca', value_id: null, value_name: 'Puma', source: 'seller', confidence: 1 },
        { id: 'SIZE', name: 'Talle', value_id: null, value_name: '43', source: 'seller', confidence: 1 }
      ]
    });
    const { draft: next, theirs } = rebase(opened, draft, current);
    expect(next.attributes.BRAND.value_name).toBe('Adidas');
    expect(next.attributes.SIZE.value_name).toBe('43');
    // Both changed the brand: the other value is shown next to the seller's.
    expect(theirs).toEqual([{ field: 'attributes', value: 'Marca: Puma', by: 'ai' }]);
  });
});
