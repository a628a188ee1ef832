import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { api, ApiError, OFFLINE, useFetch } from './client';
import { session } from '$lib/stores/session';

const user = {
  user_id: 'u1',
  email: 'ana@example.com',
  created_at: '2026-11-28T10:00:00Z',
  settings: { auto_publish: false, publish_threshold: 0.9, site: 'MLA', listing_type: 'gold_special', default_quantity: null }
};
const tokens = (n: number) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  expires_in: 900,
  token_type: 'Bearer' as const,
  user
});
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const problem = (status: number, code: string, details: Record<string, unknown> = {}) =>
  json(status, { error: { code, message: `said ${code}`, details, request_id: 'req-1' } });

interface Call {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
}

/** A fake API: `route` answers each call; every call is recorded. */
function fakeApi(route: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  useFetch(async (input, init) => {
    const headers = new Headers(init?.headers);
    const call: Call = {
      method: init?.method ?? 'GET',
      path: String(input),
      auth: headers.get('Authorization'),
      body: init?.body ? JSON.parse(String(init.body)) : undefined
    };
    calls.push(call);
    return route(call);
  });
  return calls;
}

beforeEach(() => session.start(tokens(1)));
afterEach(() => session.end());

describe('api client', () => {
  it('sends the access token and reads the JSON answer', async () => {
    const calls = fakeApi(() => json(200, user));
    expect(await api.get('/me')).toEqual(user);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/api/v1/me', auth: 'Bearer access-1' });
  });

  it('puts only the query values that are set into the address', async () => {
    const calls = fakeApi(() => json(200, { items: [] }));
    await api.get('/products', { query: { status: 'ready', q: '', confidence: null, limit: 20, next: undefined } });
    expect(calls[0].path).toBe('/api/v1/products?status=ready&limit=20');
  });

  it('refreshes once for concurrent 401s and repeats every request with the new token', async () => {
    let refreshes = 0;
    const calls = fakeApi(async (call) => {
      if (call.path.endsWith('/auth/refresh')) {
        refreshes += 1;
        expect(call.body).toEqual({ refresh_token: 'refresh-1' });
        expect(call.auth).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 10)); // the others 401 meanwhile
        return json(200, tokens(2));
      }
      return call.auth === 'Bearer access-2' ? json(200, { ok: call.path }) : problem(401, 'UNAUTHORIZED');
    });
    const answers = await Promise.all([api.get('/me'), api.get('/products'), api.get('/ml/account')]);
    expect(refreshes).toBe(1);
    expect(answers).toEqual([{ ok: '/api/v1/me' }, { ok: '/api/v1/products' }, { ok: '/api/v1/ml/account' }]);
    expect(get(session)?.access_token).toBe('access-2');
    expect(get(session)?.refresh_token).toBe('refresh-2');
    const retried = calls.filter((c) => c.auth === 'Bearer access-2').map((c) => c.path);
    expect(retried.sort()).toEqual(['/api/v1/me', '/api/v1/ml/account', '/api/v1/products']);
  });

  it('ends the session when the refresh is refused, and says why', async () => {
    fakeApi((call) =>
      call.path.endsWith('/auth/refresh') ? problem(401, 'SESSION_REVOKED') : problem(401, 'UNAUTHORIZED')
    );
    const error = await api.get('/me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(get(session)).toBeNull();
  });

  it('does not refresh for an anonymous call (a wrong password is not an expired session)', async () => {
    const calls = fakeApi(() => problem(401, 'INVALID_CREDENTIALS'));
    const error = (await api
      .post('/auth/login', { email: 'a@b.co', password: 'x' }, { anonymous: true })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('INVALID_CREDENTIALS');
    expect(calls).toHaveLength(1);
    expect(calls[0].auth).toBeNull();
    expect(get(session)).not.toBeNull();
  });

  it('says OFFLINE when the network fails, not a server error', async () => {
    useFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const error = (await api.get('/me').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(OFFLINE);
    expect(error.status).toBe(0);
  });

  it('lets an abort through as an abort (a newer search replaced it)', async () => {
    useFetch(() => Promise.reject(new DOMException('aborted', 'AbortError')));
    const error = (await api.get('/products').catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('AbortError');
  });

  it('reads the API error body: code, message, details, field, request id', async () => {
    fakeApi(() =>
      problem(422, 'VALIDATION_ERROR', { field: 'password', limit: 8, problems: [{ field: 'password' }] })
    );
    const error = (await api.post('/auth/register', {}, { anonymous: true }).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(422);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toBe('said VALIDATION_ERROR');
    expect(error.field).toBe('password');
    expect(error.details.limit).toBe(8);
    expect(error.requestId).toBe('req-1');
  });

  it('turns an answer that is not the API error shape into HTTP_<status>', async () => {
    fakeApi(() => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const error = (await api.get('/me').catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('HTTP_502');
    expect(error.status).toBe(502);
  });

  it('answers undefined for 204', async () => {
    fakeApi(() => new Response(null, { status: 204 }));
    expect(await api.delete('/ml/account')).toBeUndefined();
  });
});

describe('session store', () => {
  it('keeps the tokens with their expiry and the user', () => {
    session.start(tokens(5), 1_000);
    expect(get(session)).toEqual({
      access_token: 'access-5',
      refresh_token: 'refresh-5',
      expires_at: 1_000 + 900_000,
      user
    });
  });

  it('updates the user and keeps the tokens', () => {
    session.updateUser({ ...user, email: 'new@example.com' });
    expect(get(session)?.user.email).toBe('new@example.com');
    expect(get(session)?.access_token).toBe('access-1');
  });

  it('ends', () => {
    session.end();
    expect(get(session)).toBeNull();
    session.updateUser(user); // nobody to update: stays logged out
    expect(get(session)).toBeNull();
  });
});
