/**
 * The seller's settings as the form edits them, checked like the API's SettingsUpdate model, and
 * turned into the smallest update (only what changed).
 */
import type { Schemas } from '$lib/api/client';
import rules from '$lib/api/listing_rules.json';

export type Settings = Schemas['SettingsOut'];
export type SettingsUpdate = Schemas['SettingsUpdate'];
export type Site = NonNullable<SettingsUpdate['site']>;
export type ListingType = NonNullable<SettingsUpdate['listing_type']>;

/** SettingsUpdate in openapi.json. */
export const THRESHOLD_MIN = 50;
export const THRESHOLD_MAX = 100;
export const QUANTITY_MIN = 1;
export const QUANTITY_MAX = 99999;
/** The sites IntelliPost publishes on: the API's one table (chalicelib/domain/sites.py, via listing_rules.json). */
export const sites = Object.keys(rules.sites) as Site[];
export const listingTypes: ListingType[] = ['gold_special', 'gold_pro', 'free'];

/** The form's own values: the threshold in whole percent, the quantity as typed. */
export interface SettingsForm {
  auto_publish: boolean;
  threshold: number | null;
  site: string;
  listing_type: string;
  default_quantity: number | null;
}

export type SettingsField = 'threshold' | 'site' | 'listing_type' | 'default_quantity';
export type SettingsProblems = Partial<Record<SettingsField, { key: string; params: Record<string, unknown> }>>;

export function toForm(settings: Settings): SettingsForm {
  return {
    auto_publish: settings.auto_publish,
    threshold: Math.round(settings.publish_threshold * 100),
    site: settings.site,
    listing_type: settings.listing_type,
    default_quantity: settings.default_quantity ?? null
  };
}

export function checkSettings(form: SettingsForm): SettingsProblems {
  const problems: SettingsProblems = {};
  const t = form.threshold;
  if (t === null || !Number.isFinite(t) || t < THRESHOLD_MIN || t > THRESHOLD_MAX) {
    problems.threshold = { key: 'settings.threshold_range', params: { min: THRESHOLD_MIN, max: THRESHOLD_MAX } };
  }
  if (!sites.includes(form.site as Site)) problems.site = { key: 'settings.site_invalid', params: {} };
  if (!listingTypes.includes(form.listing_type as ListingType)) {
    problems.listing_type = { key: 'settings.listing_type_invalid', params: {} };
  }
  const q = form.default_quantity;
  if (q !== null && (!Number.isInteger(q) || q < QUANTITY_MIN || q > QUANTITY_MAX)) {
    problems.default_quantity = { key: 'settings.quantity_range', params: { min: QUANTITY_MIN, max: QUANTITY_MAX } };
  }
  return problems;
}

/** Only what changed (the API takes null as "leave it"); null when nothing did. */
export function changes(before: Settings, form: SettingsForm): Partial<SettingsUpdate> | null {
  const update: Partial<SettingsUpdate> = {};
  if (form.auto_publish !== before.auto_publish) update.auto_publish = form.auto_publish;
  const threshold = (form.threshold ?? 0) / 100;
  if (Math.round(before.publish_threshold * 100) !== form.threshold) update.publish_threshold = threshold;
  if (form.site !== before.site) update.site = form.site as Site;
  if (form.listing_type !== before.listing_type) update.listing_type = form.listing_type as ListingType;
  if (form.default_quantity !== null && form.default_quantity !== (before.default_quantity ?? null)) {
    update.default_quantity = form.default_quantity;
  }
  return Object.keys(update).length ? update : null;
}

/** The API blamed a field (`publish_threshold`, ...): the form's field it belongs under. */
export function fieldOf(apiField: string | undefined): SettingsField | null {
  switch (apiField) {
    case 'publish_threshold':
      return 'threshold';
    case 'site':
    case 'listing_type':
    case 'default_quantity':
      return apiField;
    default:
      return null;
  }
}
