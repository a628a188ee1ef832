/**
 * Publishing: the site's currency, the seller's price as typed in their locale, and the final check
 * that lists what is still missing before MercadoLibre sees the listing.
 */
import rules from '$lib/api/listing_rules.json';
import type { PageField } from './causes';
import { descriptionProblems, titleProblems, type Problem } from './rules';
import { missingRequired, valueProblem, type SheetEntry } from './sheet';
import type { Draft } from './draft';

// The sites, the listing types, the conditions and the limits are the API's (listing_rules.json,
// written by `npm run api` from chalicelib/domain/sites.py and the PublishRequest model).
const SITES: Record<string, { currency: string; language: string }> = rules.sites;

/** The currency each MercadoLibre site sells in. */
export const SITE_CURRENCY: Record<string, string> = Object.fromEntries(
  Object.entries(SITES).map(([site, about]) => [site, about.currency])
);

export function currencyOf(site: string | null | undefined): string {
  // The seller's site is one of the table's (the API refuses any other); Argentina's while it loads.
  return SITE_CURRENCY[(site ?? '').toUpperCase()] ?? SITE_CURRENCY.MLA;
}

/** The language a site's listings are written in (Portuguese for Brazil, Spanish elsewhere). */
export function languageOf(site: string | null | undefined): string {
  return SITES[(site ?? '').toUpperCase()]?.language ?? SITES.MLA.language;
}

/** The listing types the publish request takes (PublishRequest.listing_type). */
export const LISTING_TYPES: readonly string[] = rules.publish.listing_types;
export const CONDITIONS: readonly string[] = rules.publish.conditions;
export const MAX_PRICE = rules.publish.max_price;
export const MAX_QUANTITY = rules.publish.max_quantity;

/**
 * A price typed the way the seller writes it: "1.234,56" (es/pt) or "1,234.56" (en), or plain
 * "1234.5". The last separator followed by one or two digits is the decimal one. NaN when unreadable.
 */
export function parsePrice(text: string): number {
  const number = text.trim().replace(/^(?:R\$|US\$|\$|[A-Z]{3})\s*/, '');
  if (!/^\d[\d.,\s]*$/.test(number)) return NaN;
  const cleaned = number.replace(/\s/g, '');
  const decimal = /[.,](\d{1,2})$/.exec(cleaned);
  const whole = (decimal ? cleaned.slice(0, -decimal[0].length) : cleaned).replace(/[.,]/g, '');
  const value = Number(`${whole || '0'}${decimal ? `.${decimal[1]}` : ''}`);
  return Number.isFinite(value) ? value : NaN;
}

export interface PublishForm {
  price: string;
  quantity: string;
  listing_type: string;
  condition: string;
}

/** One thing that keeps the listing from being published, pointing at the input that fixes it. */
export interface Missing {
  field: PageField;
  code: string;
  params: Record<string, unknown>;
}

const fromProblem = (problem: Problem, field: PageField): Missing => ({ field, code: problem.code, params: problem.params });

/** Everything still missing or wrong, in the order the page shows its inputs. Empty: ready to publish. */
export function finalCheck(draft: Draft, sheet: SheetEntry[], form: PublishForm, titleLimit: number): Missing[] {
  const found: Missing[] = [];
  for (const problem of titleProblems(draft.title, titleLimit)) found.push(fromProblem(problem, 'title'));
  if (!draft.category.id) found.push({ field: 'category', code: 'CATEGORY_MISSING', params: {} });
  const missing = missingRequired(sheet, draft.attributes);
  for (const id of missing) {
    const name = sheet.find((entry) => entry.id === id)?.name ?? id;
    found.push({ field: `attributes.${id}`, code: 'ATTRIBUTE_REQUIRED', params: { attribute: id, name } });
  }
  for (const entry of sheet) {
    const problem = valueProblem(entry, draft.attributes[entry.id] ?? { value_id: null, value_name: '' });
    if (problem) found.push(fromProblem(problem, `attributes.${entry.id}`));
  }
  for (const problem of descriptionProblems(draft.description)) found.push(fromProblem(problem, 'description'));
  const price = parsePrice(form.price);
  if (!form.price.trim()) found.push({ field: 'price', code: 'PRICE_MISSING', params: {} });
  else if (!(price > 0) || price > MAX_PRICE) found.push({ field: 'price', code: 'PRICE_INVALID', params: { max: MAX_PRICE } });
  const quantity = Number(form.quantity);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
    found.push({ field: 'quantity', code: 'QUANTITY_INVALID', params: { max: MAX_QUANTITY } });
  }
  if (!LISTING_TYPES.includes(form.listing_type)) {
    found.push({ field: 'listing_type', code: 'LISTING_TYPE_MISSING', params: {} });
  }
  if (!CONDITIONS.includes(form.condition)) {
    found.push({ field: 'condition', code: 'CONDITION_MISSING', params: {} });
  }
  return found;
}
