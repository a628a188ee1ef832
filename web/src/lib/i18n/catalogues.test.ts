import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'svelte/compiler';
import { catalogues, format, languages, pickLanguage, translate, translateCode } from './index';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)[,}]/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('every language has every key', () => {
    const all = new Set(languages.flatMap((lang) => Object.keys(catalogues[lang])));
    for (const lang of languages) {
      const missing = [...all].filter((key) => !(key in catalogues[lang]));
      expect(missing, `missing in ${lang}.json`).toEqual([]);
    }
  });

  it('every translation uses the same placeholders as Spanish', () => {
    for (const [key, spanish] of Object.entries(catalogues.es)) {
      for (const lang of languages) {
        expect(placeholders(catalogues[lang][key]), `${lang}.json ${key}`).toEqual(placeholders(spanish));
      }
    }
  });

  it('no percentage is typed into a message: the locale writes it ("90 %" in es-AR, "90%" in pt-BR)', () => {
    for (const lang of languages) {
      const typed = Object.entries(catalogues[lang]).filter(([, text]) => /\d\s?%|\}\s?%/.test(text));
      expect(typed.map(([key]) => key), lang).toEqual([]);
    }
  });

  it('one word for each thing: the prompt is "your line", the description is the listing\'s; nobody else edits', () => {
    const clashing = { es: /descripci[oó]n corta|alguien/i, pt: /descri[cç][aã]o curta|algu[eé]m/i, en: /short description|someone/i };
    for (const lang of languages) {
      const found = Object.entries(catalogues[lang]).filter(([, text]) => clashing[lang].test(text));
      expect(found.map(([key]) => key), lang).toEqual([]);
    }
  });

  it('no translation is empty', () => {
    for (const lang of languages) {
      for (const [key, text] of Object.entries(catalogues[lang])) expect(text.trim(), `${lang} ${key}`).not.toBe('');
    }
  });
});

describe('choosing the language', () => {
  it('follows the browser, Spanish when it speaks none of ours', () => {
    expect(pickLanguage(['pt-BR', 'en'])).toBe('pt');
    expect(pickLanguage(['fr-FR', 'en-US'])).toBe('en');
    expect(pickLanguage(['de'])).toBe('es');
  });

  it('fills placeholders and formats numbers for the locale', () => {
    expect(translate('es', 'errors.TOO_MANY_IMAGES', { limit: 8, actual: 9 })).toContain('8');
    expect(translate('es', 'common.request_id', { id: 'r-1' })).toBe('Código de soporte: r-1');
  });

  it('chooses the plural form the language needs', () => {
    const template = '{count, plural, =0 {ninguna} one {# foto} other {# fotos}} de {name}';
    expect(format(template, { count: 1, name: 'Ana' }, 'es')).toBe('1 foto de Ana');
    expect(format(template, { count: 1200, name: 'Ana' }, 'es')).toBe('1200 fotos de Ana'.replace('1200', new Intl.NumberFormat('es-AR').format(1200)));
    expect(format(template, { count: 0, name: 'Ana' }, 'es')).toBe('ninguna de Ana');
  });

  it('an unknown code falls back to the words the API sent', () => {
    expect(translateCode('pt', 'errors', 'NEVER_SEEN', {}, 'the API said so')).toBe('the API said so');
    expect(translateCode('en', 'errors', 'NEVER_SEEN')).toContain('NEVER_SEEN');
  });
});

/** Visible words in a component come from the catalogues, never typed into the markup. */
describe('components have no hard-coded words', () => {
  const root = join(import.meta.dirname, '..', '..');
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name: string) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.svelte') ? [path] : [];
    });
  // Text that is not a word: punctuation, numbers, symbols, and the product's own name.
  const allowed = /^[\s\d.,:;·•/|()[\]{}<>+\-–—×%#*!?¡¿"'’“”…→←↑↓✓✕×@&=_]*$|^IntelliPost$/u;
  const attributes = new Set(['placeholder', 'title', 'alt', 'aria-label', 'label']);

  for (const file of files(root)) {
    it(file.slice(root.length + 1), () => {
      const ast = parse(readFileSync(file, 'utf8'), { modern: true });
      const found: string[] = [];
      const walk = (node: unknown): void => {
        if (!node || typeof node !== 'object') return;
        const n = node as Record<string, unknown>;
        if (n.type === 'Text' && typeof n.data === 'string' && !allowed.test(n.data.trim())) {
          found.push(n.data.trim());
        }
        if (n.type === 'Attribute') {
          // Only attributes a person reads; class names, hrefs and roles are not words.
          if (attributes.has(n.name as string) && Array.isArray(n.value)) {
            for (const part of n.value as Record<string, unknown>[]) {
              if (part.type === 'Text' && !allowed.test(String(part.data).trim())) found.push(String(part.data));
            }
          }
          return;
        }
        for (const [key, value] of Object.entries(n)) {
          if (key === 'parent' || key === 'metadata') continue;
          if (Array.isArray(value)) value.forEach(walk);
          else if (value && typeof value === 'object') walk(value);
        }
      };
      walk(ast.fragment);
      expect(found, 'use $t(...) and a catalogue key').toEqual([]);
    });
  }
});
