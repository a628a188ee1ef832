// Add or change messages in all three catalogues at once, keys kept sorted:
//   node scripts/messages.mjs fragment.json    (fragment: {"es": {...}, "pt": {...}, "en": {...}})
// Every language must get every key of the fragment, so a catalogue never falls behind.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const languages = ['es', 'pt', 'en'];
const fragment = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const keys = new Set(languages.flatMap((lang) => Object.keys(fragment[lang] ?? {})));
for (const lang of languages) {
  const missing = [...keys].filter((key) => !(key in (fragment[lang] ?? {})));
  if (missing.length) throw new Error(`${lang} lacks ${missing.join(', ')}`);
}
for (const lang of languages) {
  const path = new URL(`../src/lib/i18n/${lang}.json`, import.meta.url);
  const merged = { ...JSON.parse(readFileSync(path, 'utf8')), ...fragment[lang] };
  const sorted = Object.fromEntries(Object.keys(merged).sort().map((key) => [key, merged[key]]));
  writeFileSync(`${path.pathname}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(`${path.pathname}.tmp`, path); // atomic: a concurrent reader never sees half a file
}
console.log(`${keys.size} message(s) in ${languages.join(', ')}`);
