import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { language } from '$lib/i18n';
import { reasonParams, reasonTarget, reasonText } from './reasons';
import type { SheetEntry } from './sheet';

const entry = (id: string, name: string): SheetEntry => ({ id, name, value_type: 'string', required: true, values: [], allowed_units: [] });
const sheet = [entry('BRAND', 'Marca'), entry('NET_WEIGHT', 'Peso neto')];
const missing = { part: 'attributes', code: 'REQUIRED_ATTRIBUTES_MISSING', message: '1 required attribute(s) missing: BRAND', params: { count: 1, attributes: ['BRAND'] } };

describe('reasons in the seller\'s words', () => {
  it('names an attribute as the category\'s sheet does, never by its code', () => {
    language.set('es');
    expect(get(reasonText)(missing, sheet)).toBe('Falta 1 dato obligatorio: Marca.');
    const two = { ...missing, params: { count: 2, attributes: ['BRAND', 'NET_WEIGHT'] } };
    expect(get(reasonText)(two, sheet)).toBe('Faltan 2 datos obligatorios: Marca y Peso neto.');
    language.set('pt');
    expect(get(reasonText)(two, sheet)).toBe('Faltam 2 dados obrigatórios: Marca e Peso neto.');
    // Without the sheet (it always comes with the listing) still no raw code.
    expect(reasonParams({ attributes: ['LINE_NAME'] }, [], String).attributes).toEqual(['Line name']);
  });

  it('writes a percentage by the locale\'s rules', () => {
    const small = { code: 'PRODUCT_TOO_SMALL', params: { fill_percent: 12 } };
    for (const [lang, locale] of [['es', 'es-AR'], ['pt', 'pt-BR'], ['en', 'en-US']] as const) {
      language.set(lang);
      expect(get(reasonText)(small)).toContain(`(${new Intl.NumberFormat(locale, { style: 'percent' }).format(0.12)})`);
    }
    language.set('es');
  });

  it('leads to the input that fixes it', () => {
    expect(reasonTarget(missing)).toBe('attribute-BRAND');
    expect(reasonTarget({ part: 'title', code: 'TITLE_RULES' })).toBe('field-title');
    expect(reasonTarget({ part: 'description', code: 'DESCRIPTION_TEMPLATE' })).toBe('field-description');
    expect(reasonTarget({ part: 'main_image', code: 'MAIN_PHOTO_WEAK' })).toBe('main-picture');
    expect(reasonTarget({ code: 'BEST_SCORE' })).toBeNull();
  });
});
