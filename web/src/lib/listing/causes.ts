/**
 * MercadoLibre's reasons for refusing a listing, placed next to the inputs they concern.
 *
 * A failed publish leaves `attention` {code: MERCADOLIBRE_VALIDATION, params: {causes: [{code,
 * message, fields}]}} on the product (chalicelib/publisher.py); `fields` are MercadoLibre's
 * references (`item.title`, `item.price`, `item.attributes`, `item.pictures[0]`, `plain_text`...).
 * The API's own 422s name a field in `details.field` / `details.problems[].field`.
 */

/** The page's inputs a reason can point at. Attributes are `attributes.<ID>` or `attributes`. */
export type PageField =
  | 'title'
  | 'description'
  | 'category'
  | 'attributes'
  | 'condition'
  | 'price'
  | 'quantity'
  | 'listing_type'
  | 'pictures'
  | `attributes.${string}`;

export interface Cause {
  code: string;
  message: string;
  fields?: string[];
}

// MercadoLibre's item fields -> the input on the page that changes them.
const ITEM_FIELDS: Record<string, PageField> = {
  title: 'title',
  price: 'price',
  currency_id: 'price',
  available_quantity: 'quantity',
  listing_type_id: 'listing_type',
  condition: 'condition',
  category_id: 'category',
  site_id: 'category',
  pictures: 'pictures',
  attributes: 'attributes',
  description: 'description',
  descriptions: 'description',
  plain_text: 'description',
  file: 'pictures',
  // The API's own request fields (422 details.field).
  quantity: 'quantity',
  listing_type: 'listing_type',
  image_ids: 'pictures'
};

/**
 * The page field a reference points at, or null when it concerns no single input (it then goes in
 * the general alert). `item.attributes.BRAND` and `attributes[BRAND]` point at that attribute's row.
 */
export function fieldOf(reference: string): PageField | null {
  const path = reference.trim().replace(/^(item|body)\./, '');
  const [head, ...rest] = path.split('.');
  const name = head.replace(/\[.*$/, '');
  const bracket = /^\w+\[([A-Z0-9_]+)\]/.exec(head)?.[1];
  if (name === 'attributes' || name === 'attribute') {
    const id = bracket && !/^\d+$/.test(bracket) ? bracket : rest.find((part) => /^[A-Z0-9_]+$/.test(part) && /[A-Z]/.test(part));
    return id ? `attributes.${id}` : 'attributes';
  }
  // The API names an attribute by its id alone in problems (e.g. BRAND).
  if (/^[A-Z][A-Z0-9_]+$/.test(name) && !rest.length) return `attributes.${name}`;
  return ITEM_FIELDS[name] ?? null;
}

export interface PlacedCauses {
  byField: Partial<Record<PageField, Cause[]>>;
  /** Causes that name no input on the page: one alert at the top. */
  general: Cause[];
}

/** Each cause under every input it names; the rest in the general alert. */
export function placeCauses(causes: Cause[]): PlacedCauses {
  const placed: PlacedCauses = { byField: {}, general: [] };
  for (const cause of causes) {
    const fields = [...new Set((cause.fields ?? []).map(fieldOf).filter((f): f is PageField => f !== null))];
    if (!fields.length) {
      placed.general.push(cause);
      continue;
    }
    for (const field of fields) (placed.byField[field] ??= []).push(cause);
  }
  return placed;
}

/** The causes carried by a product's `attention` (a failed publish), if any. */
export function causesOf(attention: { params?: Record<string, unknown> } | null | undefined): Cause[] {
  const causes = attention?.params?.causes;
  if (!Array.isArray(causes)) return [];
  return causes
    .filter((c): c is Record<string, unknown> => Boolean(c) && typeof c === 'object')
    .map((c) => ({
      code: String(c.code ?? 'UNKNOWN'),
      message: String(c.message ?? ''),
      fields: Array.isArray(c.fields) ? c.fields.map(String) : []
    }));
}

/** The attribute rows of the sheet that a placed cause concerns, for highlighting. */
export function causesForAttribute(placed: PlacedCauses, id: string): Cause[] {
  return placed.byField[`attributes.${id}`] ?? [];
}

/** The element id of a page field's input, so a final-check link or a cause can focus it. */
export function inputIdOf(field: PageField): string {
  return field.startsWith('attributes.') ? `attribute-${field.slice('attributes.'.length)}` : `field-${field}`;
}
