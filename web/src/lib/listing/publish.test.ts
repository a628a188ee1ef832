import { describe, expect, it } from 'vitest';
import { currencyOf, finalCheck, languageOf, parsePrice } from './publish';
import { draftFrom } from './draft';
import { readSheet } from './sheet';
import { listing } from './fixtures';

describe('money', () => {
  it('each site sells in its currency', () => {
    expect(currencyOf('MLA')).toBe('ARS');
    expect(currencyOf('MLB')).toBe('BRL');
    expect(currencyOf('mlm')).toBe('MXN');
    expect(currencyOf('MLV')).toBe('USD'); // Venezuela lists in dollars only (publica-productos)
    expect(currencyOf(null)).toBe('ARS'); // the seller's site not loaded yet
  });

  it("each site's listings are written in its language", () => {
    expect(languageOf('MLB')).toBe('pt');
    expect(languageOf('MLA')).toBe('es');
    expect(languageOf('MCO')).toBe('es');
  });

  it('reads prices the way sellers type them', () => {
    expect(parsePrice('1.234,56')).toBe(1234.56);
    expect(parsePrice('1,234.56')).toBe(1234.56);
    expect(parsePrice('15.000')).toBe(15000);
    expect(parsePrice('$ 2500')).toBe(2500);
    expect(parsePrice('R$ 99,9')).toBe(99.9);
    expect(parsePrice('12 500')).toBe(12500);
    expect(parsePrice('doce')).toBeNaN();
    expect(parsePrice('')).toBeNaN();
  });
});

describe('final check before publishing', () => {
  const form = { price: '15.000', quantity: '1', listing_type: 'gold_special', condition: 'new' };

  it('lists what is missing, each pointing at its input', () => {
    const l = listing();
    const missing = finalCheck(draftFrom(l), readSheet(l.sheet), { ...form, price: '' }, 60);
    expect(missing.map((m) => [m.field, m.code])).toEqual([
      ['attributes.GENDER', 'ATTRIBUTE_REQUIRED'],
      ['price', 'PRICE_MISSING']
    ]);
  });

  it('includes title rules, quantity and listing type', () => {
    const l = listing();
    const draft = draftFrom(l);
    draft.title = 'Zapatillas Nike Oferta';
    draft.attributes.GENDER = { value_id: '1', value_name: 'Hombre' };
    const missing = finalCheck(draft, readSheet(l.sheet), { ...form, quantity: '0', listing_type: '' }, 60);
    expect(missing.map((m) => m.code)).toEqual(['TITLE_FORBIDDEN_WORDS', 'QUANTITY_INVALID', 'LISTING_TYPE_MISSING']);
  });

  it('nothing when the listing is complete', () => {
    const l = listing();
    const draft = draftFrom(l);
    draft.attributes.GENDER = { value_id: '1', value_name: 'Hombre' };
    expect(finalCheck(draft, readSheet(l.sheet), form, 60)).toEqual([]);
  });
});
