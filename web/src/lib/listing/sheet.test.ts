import { describe, expect, it } from 'vitest';
import {
  changedAttributes,
  inputsFrom,
  isChoice,
  missingRequired,
  readSheet,
  sheetFromCategory,
  splitNumber,
  valueProblem,
  type SheetEntry
} from './sheet';

const sheet: SheetEntry[] = readSheet([
  { id: 'BRAND', name: 'Marca', value_type: 'string', required: true, values: [], allowed_units: [] },
  { id: 'GENDER', name: 'Género', value_type: 'list', required: true, values: [{ id: '1', name: 'Hombre' }, { id: '2', name: 'Mujer' }], allowed_units: [] },
  { id: 'WEIGHT', name: 'Peso', value_type: 'number_unit', required: false, values: [], allowed_units: ['g', 'kg'] },
  { id: 'PACK', name: 'Unidades', value_type: 'number', required: false, values: [], allowed_units: [] }
]);

describe('technical sheet', () => {
  it('reads MercadoLibre attributes like the API: hidden and read-only left out, required from tags', () => {
    const entries = sheetFromCategory([
      { id: 'BRAND', name: 'Marca', value_type: 'string', tags: { required: true } },
      { id: 'SELLER_SKU', name: 'SKU', tags: { hidden: true, required: true } },
      { id: 'ITEM_CONDITION', name: 'Condición', tags: { read_only: true } },
      { id: 'WEIGHT', name: 'Peso', value_type: 'number_unit', allowed_units: [{ id: 'g', name: 'g' }, { id: 'kg', name: 'kg' }], tags: {} },
      { id: 'COLOR', name: 'Color', value_type: 'list', values: [{ id: '52049', name: 'Negro' }] }
    ]);
    expect(entries.map((e) => [e.id, e.required])).toEqual([['BRAND', true], ['WEIGHT', false], ['COLOR', false]]);
    expect(entries[1].allowed_units).toEqual(['g', 'kg']);
    expect(isChoice(entries[2])).toBe(true);
  });

  it('marks the required attributes that have no value', () => {
    const inputs = inputsFrom(sheet, [{ id: 'BRAND', name: 'Marca', value_id: null, value_name: 'Nike', source: 'ocr', confidence: 0.9 }]);
    expect(missingRequired(sheet, inputs)).toEqual(['GENDER']);
    inputs.BRAND = { value_id: null, value_name: '   ' };
    expect(missingRequired(sheet, inputs)).toEqual(['BRAND', 'GENDER']);
    inputs.BRAND.value_name = 'Nike';
    inputs.GENDER = { value_id: '2', value_name: 'Mujer' };
    expect(missingRequired(sheet, inputs)).toEqual([]);
  });

  it('checks values like the API: allowed values, numbers, units', () => {
    const [, gender, weight, pack] = sheet;
    expect(valueProblem(gender, { value_id: '9', value_name: 'Otro' })?.code).toBe('ATTRIBUTE_VALUE_NOT_ALLOWED');
    expect(valueProblem(gender, { value_id: null, value_name: 'mujer' })).toBeNull();
    expect(valueProblem(weight, { value_id: null, value_name: 'pesado' })?.code).toBe('ATTRIBUTE_NOT_A_NUMBER');
    expect(valueProblem(weight, { value_id: null, value_name: '2,5 lb' })).toMatchObject({ code: 'ATTRIBUTE_UNIT_NOT_ALLOWED', params: { unit: 'lb' } });
    expect(valueProblem(weight, { value_id: null, value_name: '2,5 KG' })).toBeNull();
    expect(valueProblem(pack, { value_id: null, value_name: '12' })).toBeNull();
    expect(valueProblem(pack, { value_id: null, value_name: 'doce' })?.code).toBe('ATTRIBUTE_NOT_A_NUMBER');
    expect(valueProblem(pack, { value_id: null, value_name: '' })).toBeNull();
  });

  it('splits a number and its unit for the inputs', () => {
    expect(splitNumber('2.5 kg')).toEqual({ number: '2.5', unit: 'kg' });
    expect(splitNumber('300')).toEqual({ number: '300', unit: '' });
  });

  it('sends only the rows the seller changed, an emptied one as empty', () => {
    const before = { BRAND: { value_id: null, value_name: 'Nike' }, GENDER: { value_id: '1', value_name: 'Hombre' }, PACK: { value_id: null, value_name: '' } };
    const after = { BRAND: { value_id: null, value_name: 'Nike ' }, GENDER: { value_id: null, value_name: '' }, PACK: { value_id: null, value_name: '2' } };
    expect(changedAttributes(before, after)).toEqual([
      { id: 'GENDER', value_id: null, value_name: null },
      { id: 'PACK', value_id: null, value_name: '2' }
    ]);
  });
});
