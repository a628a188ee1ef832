import { describe, expect, it } from 'vitest';
import { ApiError } from '$lib/api/client';
import { checkCredentials, problemsFromError, safeNext } from './auth';

describe('credentials checked before asking', () => {
  it('a good email and an 8-character password pass', () => {
    expect(checkCredentials('ana@example.com', '12345678')).toEqual({});
  });

  it('the password is 8..128 characters', () => {
    expect(checkCredentials('ana@example.com', '1234567').password).toEqual({ key: 'auth.password.too_short', params: { limit: 8 } });
    expect(checkCredentials('ana@example.com', 'x'.repeat(128))).toEqual({});
    expect(checkCredentials('ana@example.com', 'x'.repeat(129)).password?.key).toBe('auth.password.too_long');
    expect(checkCredentials('ana@example.com', '').password?.key).toBe('auth.password.missing');
  });

  it('the email needs an @ and a dot, at most 254 characters', () => {
    expect(checkCredentials('', '12345678').email?.key).toBe('auth.email.missing');
    expect(checkCredentials('ana@example', '12345678').email?.key).toBe('auth.email.invalid');
    expect(checkCredentials(`${'a'.repeat(250)}@b.co`, '12345678').email?.key).toBe('auth.email.too_long');
  });
});

describe('the API\'s answers go under the field they concern', () => {
  const error = (status: number, code: string, details: Record<string, unknown> = {}) =>
    new ApiError(status, code, code, details, 'req');

  it('wrong credentials under the password, a taken email under the email', () => {
    expect(Object.keys(problemsFromError(error(401, 'INVALID_CREDENTIALS')))).toEqual(['password']);
    expect(Object.keys(problemsFromError(error(409, 'EMAIL_TAKEN')))).toEqual(['email']);
  });

  it('too many attempts: next to the button, with the seconds to wait', () => {
    expect(problemsFromError(error(429, 'RATE_LIMITED', { retry_after: 32 })).form).toEqual({
      key: 'errors.RATE_LIMITED',
      params: { retry_after: 32 }
    });
  });

  it('a validation error names the field and its limit', () => {
    const problems = problemsFromError(
      error(422, 'VALIDATION_ERROR', {
        field: 'password',
        limit: 8,
        problems: [{ field: 'password', type: 'string_too_short', limit: 8 }, { field: 'email', type: 'string_pattern_mismatch', limit: '^...$' }]
      })
    );
    expect(problems.password).toEqual({ key: 'auth.password.too_short', params: { limit: 8 } });
    expect(problems.email?.key).toBe('auth.email.invalid');
  });

  it('offline and the rest: next to the button, in the API\'s words', () => {
    const offline = error(0, 'OFFLINE');
    expect(problemsFromError(offline).form?.error).toBe(offline);
  });
});

describe('where to go after logging in', () => {
  it('only to a page of the panel', () => {
    expect(safeNext('/products/123?tab=photos')).toBe('/products/123?tab=photos');
    expect(safeNext(null)).toBe('/products');
    expect(safeNext('https://evil.example')).toBe('/products');
    expect(safeNext('//evil.example')).toBe('/products');
    expect(safeNext('/\\evil.example')).toBe('/products');
    expect(safeNext('/login')).toBe('/products');
  });
});
