/**
 * The one way the panel talks to the API: `/api/v1` on the panel's own origin (the local proxy, or
 * CloudFront in AWS). Adds the access token, refreshes it once on a 401 (one refresh at a time, so
 * two requests never spend the same rotating refresh token), and turns every failure into an
 * ApiError carrying the API's machine code and details, which the panel translates.
 */
import type { components } from './schema';
import { session, type Tokens } from '$lib/stores/session';
import { get } from 'svelte/store';

export type Schemas = components['schemas'];

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly requestId?: string
  ) {
    super(message);
  }

  /** The request field the API blamed, e.g. `title` or `images.0.size`. */
  get field(): string | undefined {
    const field = this.details.field;
    return typeof field === 'string' ? field : undefined;
  }
}

/** The network itself failed (offline, DNS, the API is down): said as such, never as a 500. */
export const OFFLINE = 'OFFLINE';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Routes that take no token (login, register, refresh). */
  anonymous?: boolean;
}

export type Fetch = typeof fetch;
let fetcher: Fetch = (...args) => fetch(...args);
/** Tests hand in their own fetch. */
export function useFetch(replacement: Fetch): void {
  fetcher = replacement;
}

function url(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${API_BASE}${path}${search ? `?${search}` : ''}`;
}

async function send(method: string, path: string, options: RequestOptions, token?: string) {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetcher(url(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, OFFLINE, 'the API could not be reached');
  }
}

async function failure(response: Response): Promise<ApiError> {
  try {
    const { error } = (await response.json()) as Schemas['ErrorOut'];
    return new ApiError(response.status, error.code, error.message, error.details, error.request_id);
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, response.statusText);
  }
}

let refreshing: Promise<Tokens | null> | null = null;

/** Trade the refresh token for new tokens once, however many requests got a 401 meanwhile. */
export function refreshSession(): Promise<Tokens | null> {
  refreshing ??= (async () => {
    const current = get(session);
    if (!current) return null;
    const response = await send('POST', '/auth/refresh', {
      body: { refresh_token: current.refresh_token },
      anonymous: true
    });
    if (!response.ok) {
      session.end();
      return null;
    }
    const tokens = (await response.json()) as Schemas['TokensOut'];
    session.start(tokens);
    return get(session);
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** Call the API; the raw Response for callers that need headers (ETag, 304). */
export async function call(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.anonymous ? undefined : get(session)?.access_token;
  let response = await send(method, path, options, token);
  if (response.status === 401 && token) {
    const renewed = await refreshSession();
    if (renewed) response = await send(method, path, options, renewed.access_token);
  }
  if (!response.ok && response.status !== 304) throw await failure(response);
  return response;
}

/** Call the API and read its JSON answer (undefined for 204). */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await call(method, path, options);
  if (response.status === 204 || response.status === 304) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PUT', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options)
};
