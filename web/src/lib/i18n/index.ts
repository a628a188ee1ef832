/**
 * The seller's language. Spanish (es-AR) first, Portuguese (pt-BR) and English available.
 * Every string the panel shows lives in a catalogue (one JSON file per language); components call
 * `$t('key', { params })`. The choice follows the browser until the seller picks one in settings,
 * and is remembered in localStorage.
 */
import { derived, writable, type Readable } from 'svelte/store';
import es from './es.json';
import pt from './pt.json';
import en from './en.json';

export type Language = 'es' | 'pt' | 'en';
export type Params = Record<string, unknown>;
export type Catalogue = Record<string, string>;

export const catalogues: Record<Language, Catalogue> = { es, pt, en };
export const languages: Language[] = ['es', 'pt', 'en'];
/** The locale each language formats numbers, prices and dates with. */
export const locales: Record<Language, string> = { es: 'es-AR', pt: 'pt-BR', en: 'en-US' };

const STORAGE_KEY = 'intellipost.language';

/** The first of the browser's languages we speak, else Spanish. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if ((languages as string[]).includes(base)) return base as Language;
  }
  return 'es';
}

function initialLanguage(): Language {
  if (typeof window === 'undefined') return 'es';
  const saved = window.localStorage.getItem(STORAGE_KEY);
  if (saved && (languages as string[]).includes(saved)) return saved as Language;
  return pickLanguage(window.navigator.languages ?? [window.navigator.language]);
}

export const language = writable<Language>(initialLanguage());

/** The seller chose a language in settings: use it now and next time. */
export function chooseLanguage(choice: Language): void {
  language.set(choice);
  if (typeof window !== 'undefined') window.localStorage.setItem(STORAGE_KEY, choice);
}

if (typeof document !== 'undefined') {
  language.subscribe((value) => (document.documentElement.lang = locales[value]));
}

// `{count, plural, one {# foto} other {# fotos}}`: the ICU plural form, `#` being the number.
const PLURAL = /\{(\w+),\s*plural,((?:\s*=?\w+\s*\{[^{}]*\})+)\s*\}/g;

/** Fill `{name}` placeholders and plural forms; numbers are formatted for the locale. */
export function format(template: string, params: Params, lang: Language): string {
  const plurals = template.replace(PLURAL, (whole, name: string, cases: string) => {
    const count = Number(params[name]);
    if (params[name] === undefined || Number.isNaN(count)) return whole;
    const forms = Object.fromEntries([...cases.matchAll(/(=?\w+)\s*\{([^{}]*)\}/g)].map((m) => [m[1], m[2]]));
    const form = forms[`=${count}`] ?? forms[new Intl.PluralRules(locales[lang]).select(count)] ?? forms.other;
    return form === undefined ? whole : form.replace(/#/g, new Intl.NumberFormat(locales[lang]).format(count));
  });
  return plurals.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined || value === null) return whole;
    if (typeof value === 'number') return new Intl.NumberFormat(locales[lang]).format(value);
    if (Array.isArray(value)) return new Intl.ListFormat(locales[lang]).format(value.map(String));
    return String(value);
  });
}

/** Look a key up; a missing key shows itself (and a test fails long before a seller sees it). */
export function translate(lang: Language, key: string, params: Params = {}): string {
  const template = catalogues[lang][key] ?? catalogues.es[key];
  return template === undefined ? key : format(template, params, lang);
}

export const t: Readable<(key: string, params?: Params) => string> = derived(
  language,
  (lang) => (key: string, params: Params = {}) => translate(lang, key, params)
);

/** A translated message for a machine code (API error, rejection, reason), or the fallback words. */
export function translateCode(
  lang: Language,
  prefix: string,
  code: string,
  params: Params = {},
  fallback?: string
): string {
  const key = `${prefix}.${code}`;
  if (catalogues[lang][key] !== undefined || catalogues.es[key] !== undefined)
    return translate(lang, key, params);
  return fallback ?? translate(lang, `${prefix}.UNKNOWN`, { code });
}

export const tc = derived(
  language,
  (lang) => (prefix: string, code: string, params: Params = {}, fallback?: string) =>
    translateCode(lang, prefix, code, params, fallback)
);

/** Prices, numbers, sizes and dates in the seller's locale. */
export const formats = derived(language, (lang) => {
  const locale = locales[lang];
  return {
    number: (value: number, digits = 0) =>
      new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value),
    percent: (ratio: number) =>
      new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(ratio),
    money: (amount: number, currency: string) =>
      new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount),
    /** A file's size as a person reads it: KB under a megabyte, MB with one decimal above. */
    size: (bytes: number) =>
      bytes < 1048576
        ? `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(Math.max(1, bytes / 1024))} KB`
        : `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / 1048576)} MB`,
    date: (iso: string) =>
      new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'numeric', year: 'numeric' }).format(
        new Date(iso)
      ),
    dateTime: (iso: string) =>
      new Intl.DateTimeFormat(locale, {
        day: 'numeric',
        month: 'numeric',
        hour: '2-digit',
        minute: '2-digit'
      }).format(new Date(iso))
  };
});
