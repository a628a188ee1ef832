import { describe, expect, it } from 'vitest';
import { causesOf, fieldOf, inputIdOf, placeCauses } from './causes';

describe("MercadoLibre's causes next to the fields they concern", () => {
  it('maps references to the page inputs', () => {
    expect(fieldOf('item.title')).toBe('title');
    expect(fieldOf('item.price')).toBe('price');
    expect(fieldOf('item.currency_id')).toBe('price');
    expect(fieldOf('item.available_quantity')).toBe('quantity');
    expect(fieldOf('item.listing_type_id')).toBe('listing_type');
    expect(fieldOf('item.condition')).toBe('condition');
    expect(fieldOf('item.category_id')).toBe('category');
    expect(fieldOf('item.pictures[0]')).toBe('pictures');
    expect(fieldOf('item.attributes')).toBe('attributes');
    expect(fieldOf('attributes.BRAND')).toBe('attributes.BRAND');
    expect(fieldOf('item.attributes[BRAND]')).toBe('attributes.BRAND');
    expect(fieldOf('plain_text')).toBe('description');
    // The API's own 422 fields.
    expect(fieldOf('title')).toBe('title');
    expect(fieldOf('category_id')).toBe('category');
    expect(fieldOf('GENDER')).toBe('attributes.GENDER');
    expect(fieldOf('item.shipping.mode')).toBeNull();
  });

  it('places each cause under every field it names, the rest in the general alert', () => {
    const placed = placeCauses([
      { code: 'item.title.length.invalid', message: 'too long', fields: ['item.title'] },
      { code: 'item.site_id.invalid', message: 'site', fields: ['item.site_id', 'item.price'] },
      { code: 'seller.unable_to_list', message: 'blocked', fields: [] },
      { code: 'item.shipping.invalid', message: 'shipping', fields: ['item.shipping.mode'] }
    ]);
    expect(placed.byField.title?.map((c) => c.code)).toEqual(['item.title.length.invalid']);
    expect(placed.byField.category?.map((c) => c.code)).toEqual(['item.site_id.invalid']);
    expect(placed.byField.price?.map((c) => c.code)).toEqual(['item.site_id.invalid']);
    expect(placed.general.map((c) => c.code)).toEqual(['seller.unable_to_list', 'item.shipping.invalid']);
  });

  it("reads the causes from a failed product's attention", () => {
    expect(
      causesOf({ params: { causes: [{ code: 'item.price.invalid', message: 'bad price', fields: ['item.price'] }], status: 400 } })
    ).toEqual([{ code: 'item.price.invalid', message: 'bad price', fields: ['item.price'] }]);
    expect(causesOf(null)).toEqual([]);
    expect(causesOf({ params: { causes: 'nope' } })).toEqual([]);
  });

  it('gives each field the id of its input', () => {
    expect(inputIdOf('title')).toBe('field-title');
    expect(inputIdOf('attributes.BRAND')).toBe('attribute-BRAND');
  });
});
