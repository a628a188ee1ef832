/**
 * The technical sheet (a category's attributes) as the page edits it: which are required, which are
 * missing, the allowed values and units, and the values checked the way the API checks them
 * (chalicelib/domain/listing_rules.py normalise_value) so a mistake is said under the field before saving.
 */
import type { Schemas } from '$lib/api/client';
import { fold, type Problem } from './rules';

export interface SheetValue {
  id: string;
  name: string;
}

/** One attribute of the category, as ListingOut.sheet carries it. */
export interface SheetEntry {
  id: string;
  name: string;
  value_type: string;
  required: boolean;
  values: SheetValue[];
  allowed_units: string[];
}

/** What the seller has in one row: a chosen value id, or free text (a number with its unit). */
export interface AttributeInput {
  value_id: string | null;
  value_name: string;
}

export type Attribute = Schemas['ListingAttribute'];

/** ListingOut.sheet (untyped in the schema) read defensively. */
export function readSheet(sheet: Record<string, unknown>[] | null | undefined): SheetEntry[] {
  return (sheet ?? []).map((raw) => ({
    id: String(raw.id),
    name: String(raw.name ?? raw.id),
    value_type: String(raw.value_type ?? 'string'),
    required: Boolean(raw.required),
    values: Array.isArray(raw.values)
      ? (raw.values as Record<string, unknown>[]).map((v) => ({ id: String(v.id), name: String(v.name) }))
      : [],
    allowed_units: Array.isArray(raw.allowed_units) ? (raw.allowed_units as unknown[]).map(String) : []
  }));
}

/**
 * A category's attributes as MercadoLibre sends them (GET /ml/categories/{id}/attributes), turned
 * into the same sheet the API gives with a listing: hidden and read-only ones left out.
 */
export function sheetFromCategory(schema: Record<string, unknown>[]): SheetEntry[] {
  const sheet: SheetEntry[] = [];
  for (const definition of schema) {
    const tags = (definition.tags ?? {}) as Record<string, unknown>;
    if (tags.hidden || tags.read_only) continue;
    const values = (definition.values ?? []) as Record<string, unknown>[];
    const units = (definition.allowed_units ?? []) as Record<string, unknown>[];
    sheet.push({
      id: String(definition.id),
      name: String(definition.name ?? definition.id),
      value_type: String(definition.value_type ?? 'string'),
      required: Boolean(tags.required),
      values: values.map((v) => ({ id: String(v.id), name: String(v.name) })),
      allowed_units: units.map((u) => String(u.name ?? u.id))
    });
  }
  return sheet;
}

/** The inputs for every row of the sheet, from the listing's filled attributes. */
export function inputsFrom(sheet: SheetEntry[], attributes: Attribute[]): Record<string, AttributeInput> {
  const filled = new Map(attributes.map((a) => [a.id, a]));
  return Object.fromEntries(
    sheet.map((entry) => {
      const a = filled.get(entry.id);
      return [entry.id, { value_id: a?.value_id ?? null, value_name: a?.value_name ?? '' }];
    })
  );
}

export const hasValue = (input: AttributeInput | undefined) =>
  Boolean(input && (input.value_id || input.value_name.trim()));

/** Required attributes with no value, in sheet order. */
export function missingRequired(sheet: SheetEntry[], inputs: Record<string, AttributeInput>): string[] {
  return sheet.filter((entry) => entry.required && !hasValue(inputs[entry.id])).map((entry) => entry.id);
}

/** Is this attribute picked from a list (a <select>) rather than typed? */
export const isChoice = (entry: SheetEntry) =>
  (entry.value_type === 'list' || entry.value_type === 'boolean') && entry.values.length > 0;

export const isNumber = (entry: SheetEntry) => entry.value_type === 'number' || entry.value_type === 'number_unit';

const NUMBER = /^\s*(\d+(?:[.,]\d+)?)\s*([^\d\s].*)?$/;

/** A number_unit value split for the number input and the unit <select>. */
export function splitNumber(text: string): { number: string; unit: string } {
  const match = NUMBER.exec(text);
  return match ? { number: match[1], unit: (match[2] ?? '').trim() } : { number: text.trim(), unit: '' };
}

/** Why the API would refuse this value (an empty value is not a problem: it clears the attribute). */
export function valueProblem(entry: SheetEntry, input: AttributeInput): Problem | null {
  if (!hasValue(input)) return null;
  const params = { attribute: entry.id, name: entry.name };
  const name = input.value_name.trim();
  if (isChoice(entry)) {
    if (input.value_id && entry.values.some((v) => v.id === input.value_id)) return null;
    if (entry.values.some((v) => fold(v.name) === fold(name))) return null;
    return { field: entry.id, code: 'ATTRIBUTE_VALUE_NOT_ALLOWED', params: { ...params, value: name } };
  }
  if (isNumber(entry)) {
    const match = NUMBER.exec(name.replace(',', '.'));
    if (!match) return { field: entry.id, code: 'ATTRIBUTE_NOT_A_NUMBER', params };
    const unit = (match[2] ?? '').trim();
    // A missing unit takes the category's default unit on the API side, so only a wrong one is said.
    const units = entry.allowed_units;
    if (entry.value_type === 'number_unit' && unit && units.length && !units.some((u) => fold(u) === fold(unit))) {
      return { field: entry.id, code: 'ATTRIBUTE_UNIT_NOT_ALLOWED', params: { ...params, unit, units } };
    }
  }
  return null;
}

/**
 * The attribute values to send (ListingEdit.attributes): only rows the seller changed; an emptied row
 * is sent empty, which the API takes as "remove this value".
 */
export function changedAttributes(
  before: Record<string, AttributeInput>,
  after: Record<string, AttributeInput>
): Schemas['AttributeValueIn'][] {
  const changes: Schemas['AttributeValueIn'][] = [];
  for (const [id, now] of Object.entries(after)) {
    const was = before[id] ?? { value_id: null, value_name: '' };
    if ((was.value_id ?? null) === (now.value_id ?? null) && was.value_name.trim() === now.value_name.trim()) continue;
    changes.push({ id, value_id: now.value_id || null, value_name: now.value_name.trim() || null });
  }
  return changes;
}
