/** A listing as the API answers it, for the tests. */
import type { Listing } from './draft';

export function listing(overrides: Partial<Listing> = {}): Listing {
  return {
    version: 3,
    revision: 2,
    source: 'generated',
    title: 'Zapatillas Nike Air Max 90',
    description: 'Zapatillas Nike Air Max 90 en caja original.',
    category: { id: 'MLA1276', name: 'Zapatillas', path: 'Ropa > Calzado > Zapatillas', title_limit: 60 },
    category_alternatives: [{ id: 'MLA109027', name: 'Zapatillas de running', path: 'Deportes > Running', title_limit: 60 }],
    other_titles: ['Zapatillas Nike Air Max 90 blancas'],
    attributes: [
      { id: 'BRAND', name: 'Marca', value_id: null, value_name: 'Nike', source: 'ocr', confidence: 0.9 },
      { id: 'SIZE', name: 'Talle', value_id: null, value_name: '42', source: 'seller', confidence: 1 }
    ],
    missing_required: ['GENDER'],
    condition: 'new',
    confidence: { overall: 0.78, band: 'yellow', parts: { title: 0.9 }, reasons: [] },
    edited: ['attributes'],
    provider: 'local',
    model: 'rapidocr',
    created_at: '2026-11-28T10:00:00Z',
    sheet: [
      { id: 'BRAND', name: 'Marca', value_type: 'string', required: true, values: [], allowed_units: [] },
      { id: 'GENDER', name: 'Género', value_type: 'list', required: true, values: [{ id: '1', name: 'Hombre' }], allowed_units: [] },
      { id: 'SIZE', name: 'Talle', value_type: 'string', required: false, values: [], allowed_units: [] }
    ],
    ...overrides
  };
}
