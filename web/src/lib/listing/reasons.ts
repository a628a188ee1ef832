/**
 * The API's reasons (confidence, the main picture, a photo's findings) in the seller's words: an
 * attribute is named as the category's sheet names it ("Marca", never BRAND), a percentage follows
 * the locale ("12 %" in es-AR, "12%" in pt-BR), and each reason points at the input that fixes it.
 */
import { derived } from 'svelte/store';
import { formats, tc, type Params } from '$lib/i18n';
import { inputIdOf, type PageField } from './causes';
import type { SheetEntry } from './sheet';

export interface Reason {
  part?: string;
  code: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "LINE_NAME" -> "Line name": only when the sheet does not name the attribute (it always should). */
function spoken(id: string): string {
  const words = id.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The values a reason's message is filled with: attribute names from the sheet, locale percentages. */
export function reasonParams(params: Record<string, unknown> | undefined, sheet: SheetEntry[], percent: (ratio: number) => string): Params {
  const out: Params = { ...(params ?? {}) };
  if (Array.isArray(out.attributes)) {
    out.attributes = out.attributes.map((id) => sheet.find((entry) => entry.id === String(id))?.name ?? spoken(String(id)));
  }
  if (typeof out.fill_percent === 'number') out.fill = percent(out.fill_percent / 100);
  return out;
}

/** The input a confidence reason sends the seller to: the first missing attribute, else the part's input. */
export function reasonTarget(reason: Reason): string | null {
  const parts: Record<string, PageField | 'main_image'> = {
    title: 'title', category: 'category', description: 'description', attributes: 'attributes', main_image: 'main_image'
  };
  const part = parts[reason.part ?? ''];
  if (!part) return null;
  if (part === 'main_image') return 'main-picture';
  const first = Array.isArray(reason.params?.attributes) ? reason.params.attributes[0] : undefined;
  if (part === 'attributes' && first !== undefined) return inputIdOf(`attributes.${String(first)}`);
  return inputIdOf(part);
}

/** `$reasonText(reason, sheet)`: the reason in the seller's language. */
export const reasonText = derived([tc, formats], ([$tc, $formats]) => (reason: Reason, sheet: SheetEntry[] = []) =>
  $tc('reasons', reason.code, reasonParams(reason.params, sheet, $formats.percent), reason.message)
);
