/**
 * Sign-up and log-in rules the browser checks before asking (the API's Credentials model), and the
 * API's answers turned into the field they concern. Kept out of the page so tests can hold them.
 */
import { ApiError } from '$lib/api/client';

/** Credentials in openapi.json: email <= 254 with an @ and a dot; password 8..128. */
export const EMAIL_MAX = 254;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export type Field = 'email' | 'password';

export interface FieldProblem {
  /** A catalogue key and its parameters. */
  key: string;
  params: Record<string, unknown>;
  /** Said with $describe (the API's own code and details) instead of `key`. */
  error?: ApiError;
}

export type Problems = Partial<Record<Field | 'form', FieldProblem>>;

export function checkCredentials(email: string, password: string): Problems {
  const problems: Problems = {};
  if (!email.trim()) problems.email = { key: 'auth.email.missing', params: {} };
  else if (email.length > EMAIL_MAX) problems.email = { key: 'auth.email.too_long', params: { limit: EMAIL_MAX } };
  else if (!EMAIL_PATTERN.test(email.trim())) problems.email = { key: 'auth.email.invalid', params: {} };
  if (!password) problems.password = { key: 'auth.password.missing', params: {} };
  else if (password.length < PASSWORD_MIN)
    problems.password = { key: 'auth.password.too_short', params: { limit: PASSWORD_MIN } };
  else if (password.length > PASSWORD_MAX)
    problems.password = { key: 'auth.password.too_long', params: { limit: PASSWORD_MAX } };
  return problems;
}

/** Pydantic's problem types on one field -> our words for it. */
const byType: Record<string, string> = {
  string_too_short: 'too_short',
  string_too_long: 'too_long',
  string_pattern_mismatch: 'invalid',
  missing: 'missing'
};

/** Where an API refusal goes: under the email, under the password, or next to the button. */
export function problemsFromError(error: unknown): Problems {
  if (!(error instanceof ApiError)) return { form: { key: 'errors.UNKNOWN', params: { code: String(error) } } };
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return { password: { key: 'errors.INVALID_CREDENTIALS', params: {} } };
    case 'EMAIL_TAKEN':
      return { email: { key: 'errors.EMAIL_TAKEN', params: {} } };
    case 'RATE_LIMITED':
      return { form: { key: 'errors.RATE_LIMITED', params: { retry_after: Number(error.details.retry_after ?? 60) } } };
    case 'VALIDATION_ERROR': {
      const problems: Problems = {};
      const list = Array.isArray(error.details.problems)
        ? (error.details.problems as { field?: string; type?: string; limit?: unknown }[])
        : [{ field: error.field, type: '', limit: error.details.limit }];
      for (const problem of list) {
        const field = problem.field === 'email' || problem.field === 'password' ? problem.field : null;
        if (!field || problems[field]) continue;
        const kind = byType[problem.type ?? ''] ?? 'invalid';
        problems[field] = { key: `auth.${field}.${kind}`, params: { limit: problem.limit } };
      }
      return Object.keys(problems).length ? problems : { form: { key: '', params: {}, error } };
    }
    default:
      // OFFLINE, INTERNAL_ERROR, ...: next to the button, which is also the retry.
      return { form: { key: '', params: {}, error } };
  }
}

/** Only a path on this panel: `next` never sends the seller to another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/products';
  if (next.startsWith('/login') || next.startsWith('/signup')) return '/products';
  return next;
}
