/** Turn an API error (code + details) into the seller's words, in their language. */
import { ApiError } from '$lib/api/client';
import { formats, language, translateCode, type Params } from '$lib/i18n';
import { derived, get } from 'svelte/store';

/** Sizes in details arrive as bytes: give the catalogues readable `{size}`/`{max}` too. */
function paramsOf(error: ApiError, extra: Params): Params {
  const details = error.details as Params;
  const fmt = get(formats);
  const params: Params = { ...details, ...extra };
  if (typeof details.bytes === 'number') params.size = fmt.size(details.bytes);
  if (typeof details.actual === 'number' && details.actual > 1024) params.size = fmt.size(details.actual);
  if (typeof details.limit === 'number' && details.limit > 1024) params.max = fmt.size(details.limit);
  params.message ??= error.message;
  params.field ??= details.field ?? '';
  return params;
}

export const describe = derived(language, (lang) => (error: unknown, extra: Params = {}): string => {
  if (error instanceof ApiError) {
    return translateCode(lang, 'errors', error.code, paramsOf(error, extra), error.message);
  }
  return translateCode(lang, 'errors', 'UNKNOWN', { code: (error as Error)?.name ?? 'Error' });
});
