/**
 * MercadoLibre's listing rules for the title and the description, the same ones the API checks
 * (chalicelib/domain/listing_rules.py), so the seller sees a problem while typing instead of after saving.
 * The API stays the judge: these only hint, and its VALIDATION_ERROR codes are the same.
 *
 * The words, limits and patterns come from listing_rules.json, written from the Python by
 * `npm run api` (infra/local/openapi.py, which also says how each Python pattern becomes a JS one);
 * tests/unit/test_panel_contract.py fails when the committed copy drifts.
 */
import rules from '$lib/api/listing_rules.json';

/** The limit when a category does not say its own (`category.title_limit`). */
export const DEFAULT_TITLE_LIMIT = rules.default_title_limit;
/** MercadoLibre's plain-text description cap (ListingEdit.description max_length). */
export const DESCRIPTION_LIMIT = rules.description_max_chars;

// Words kept out of titles: condition, price, shipping, promotion (folded: no accents, lower case).
const BANNED_TITLE_WORDS = new Set(rules.banned_title_words);

const compile = ({ source, flags }: { source: string; flags: string }) => new RegExp(source, flags);

/** The API's patterns for prices, links, e-mails, phone numbers and HTML tags, as JS RegExps. */
export const PATTERNS = {
  price: compile(rules.patterns.price),
  url: compile(rules.patterns.url),
  email: compile(rules.patterns.email),
  phone: compile(rules.patterns.phone),
  tag: compile(rules.patterns.tag)
};
const { price: PRICE, url: URL, email: EMAIL, phone: PHONE, tag: TAG } = PATTERNS;

export interface Problem {
  /** The field it concerns: `title`, `description`, or an attribute id. */
  field: string;
  /** The API's code (`TITLE_TOO_LONG`, `DESCRIPTION_HTML`...), translated under `reasons.`/`errors.`. */
  code: string;
  params: Record<string, unknown>;
}

/** Lower case without accents, as the API compares words. */
export function fold(word: string): string {
  return word.normalize('NFKD').toLowerCase().replace(/\p{M}/gu, '');
}

/** Characters as MercadoLibre counts them (code points, so an emoji is one). */
export function length(text: string): number {
  return [...text].length;
}

const isUpper = (word: string) => word === word.toUpperCase() && word !== word.toLowerCase();

function isShouting(words: string[]): boolean {
  const lettered = words.filter((w) => [...w].filter((c) => /\p{L}/u.test(c)).length > 3);
  return lettered.length > 0 && lettered.filter(isUpper).length / lettered.length > 0.5;
}

export function titleProblems(title: string, limit = DEFAULT_TITLE_LIMIT): Problem[] {
  const problems: Problem[] = [];
  const stripped = title.trim();
  if (!stripped) problems.push({ field: 'title', code: 'TITLE_EMPTY', params: {} });
  const actual = length(stripped);
  if (actual > limit) problems.push({ field: 'title', code: 'TITLE_TOO_LONG', params: { limit, actual } });
  // title_problems' inline `[\w$%]+` (not generated), with \w as infra/local/openapi.py translates it.
  const words = stripped.match(/[\p{L}\p{N}_$%]+/gu) ?? [];
  const banned = [...new Set(words.filter((w) => BANNED_TITLE_WORDS.has(fold(w))))].sort();
  if (banned.length || PRICE.test(stripped)) {
    problems.push({ field: 'title', code: 'TITLE_FORBIDDEN_WORDS', params: { words: banned.join(', ') } });
  }
  if (isShouting(stripped.split(/\s+/).filter(Boolean))) {
    problems.push({ field: 'title', code: 'TITLE_ALL_CAPS', params: {} });
  }
  return problems;
}

export interface TitleCounter {
  used: number;
  limit: number;
  /** Negative when over the limit. */
  left: number;
  over: boolean;
  /** Within the last tenth of the limit: the counter turns to a warning colour before it is too late. */
  near: boolean;
}

export function titleCounter(title: string, limit = DEFAULT_TITLE_LIMIT): TitleCounter {
  const used = length(title.trim());
  const left = limit - used;
  return { used, limit, left, over: left < 0, near: left >= 0 && left <= Math.ceil(limit / 10) };
}

/** The category's title limit, from the listing's category (`title_limit`), else MercadoLibre's usual 60. */
export function titleLimitOf(category: Record<string, unknown> | null | undefined): number {
  const limit = Number(category?.title_limit);
  return Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_TITLE_LIMIT;
}

export function descriptionProblems(text: string): Problem[] {
  const problems: Problem[] = [];
  const field = 'description';
  if (!text.trim()) problems.push({ field, code: 'DESCRIPTION_EMPTY', params: {} });
  if (TAG.test(text)) problems.push({ field, code: 'DESCRIPTION_HTML', params: {} });
  if (URL.test(text) || EMAIL.test(text) || PHONE.test(text)) {
    problems.push({ field, code: 'DESCRIPTION_CONTACT', params: {} });
  }
  if (PRICE.test(text)) problems.push({ field, code: 'DESCRIPTION_PRICE', params: {} });
  if (length(text) > DESCRIPTION_LIMIT) {
    problems.push({ field, code: 'DESCRIPTION_TOO_LONG', params: { limit: DESCRIPTION_LIMIT, actual: length(text) } });
  }
  return problems;
}
