import { describe, expect, it } from 'vitest';
import { PATTERNS, descriptionProblems, titleCounter, titleLimitOf, titleProblems } from './rules';
import samples from './pattern-samples.json';

const codes = (problems: { code: string }[]) => problems.map((p) => p.code);

describe('title rules (the same as the API)', () => {
  it('counts characters against the category limit', () => {
    expect(titleCounter('Zapatillas Nike Air Max 90', 60)).toMatchObject({ used: 26, limit: 60, left: 34, over: false, near: false });
    expect(titleCounter('x'.repeat(61), 60)).toMatchObject({ left: -1, over: true, near: false });
    expect(titleCounter('x'.repeat(55), 60)).toMatchObject({ left: 5, near: true });
    // An emoji is one character, as MercadoLibre counts.
    expect(titleCounter('😀', 60).used).toBe(1);
  });

  it('takes the limit from the category, 60 when it has none', () => {
    expect(titleLimitOf({ id: 'MLA1', title_limit: 120 })).toBe(120);
    expect(titleLimitOf({ id: 'MLA1' })).toBe(60);
    expect(titleLimitOf(null)).toBe(60);
  });

  it('says when the title is too long, with the numbers', () => {
    expect(titleProblems('a'.repeat(61), 60)).toContainEqual({ field: 'title', code: 'TITLE_TOO_LONG', params: { limit: 60, actual: 61 } });
    expect(codes(titleProblems('a'.repeat(60), 60))).not.toContain('TITLE_TOO_LONG');
  });

  it('keeps condition, price, shipping and offers out, accents or not', () => {
    expect(titleProblems('Zapatillas Nike Nuevas Envío Gratis')[0]).toMatchObject({
      code: 'TITLE_FORBIDDEN_WORDS',
      params: { words: 'Envío, Gratis, Nuevas' }
    });
    expect(codes(titleProblems('Celular Samsung A54 $ 250.000'))).toContain('TITLE_FORBIDDEN_WORDS');
    expect(codes(titleProblems('Zapatillas Nike Air Max 90 Talle 42'))).toEqual([]);
  });

  it('asks for normal case instead of capitals, but model codes are fine', () => {
    expect(codes(titleProblems('ZAPATILLAS NIKE RUNNING'))).toContain('TITLE_ALL_CAPS');
    expect(codes(titleProblems('Auriculares JBL Tune 510BT'))).not.toContain('TITLE_ALL_CAPS');
  });

  it('an empty title is a problem', () => {
    expect(codes(titleProblems('   '))).toEqual(['TITLE_EMPTY']);
  });
});

describe('description rules', () => {
  it('plain text only: no HTML, contact data or prices', () => {
    expect(codes(descriptionProblems('<b>Hola</b> linda remera'))).toEqual(['DESCRIPTION_HTML']);
    expect(codes(descriptionProblems('Escribime a ventas@tienda.com'))).toEqual(['DESCRIPTION_CONTACT']);
    expect(codes(descriptionProblems('Llamá al +54 11 4444-5555'))).toEqual(['DESCRIPTION_CONTACT']);
    expect(codes(descriptionProblems('Visitá www.tienda.com'))).toEqual(['DESCRIPTION_CONTACT']);
    expect(codes(descriptionProblems('Sale $ 15.000'))).toEqual(['DESCRIPTION_PRICE']);
    expect(codes(descriptionProblems(''))).toEqual(['DESCRIPTION_EMPTY']);
    expect(codes(descriptionProblems('Remera de algodón, talle M.\nLavar en frío.'))).toEqual([]);
  });
});

describe("the API's patterns (listing_rules.json, written from the Python)", () => {
  // tests/unit/test_panel_contract.py checks the same texts against the Python patterns: each set
  // holds texts where the Python source read as a plain JS RegExp would answer otherwise.
  const names = Object.keys(PATTERNS) as (keyof typeof PATTERNS)[];

  it.each(names)('%s answers as the API does', (name) => {
    const { match, miss } = samples[name];
    expect(match.filter((text) => !PATTERNS[name].test(text))).toEqual([]);
    expect(miss.filter((text) => PATTERNS[name].test(text))).toEqual([]);
  });

  it('every pattern has samples', () => {
    expect(Object.keys(samples).filter((key) => !key.startsWith('_')).sort()).toEqual([...names].sort());
  });
});
