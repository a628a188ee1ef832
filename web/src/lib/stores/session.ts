/**
 * Who is logged in. Tokens are kept in localStorage so a reload or a new tab keeps the session;
 * the refresh token rotates on every use and the API revokes the whole session if an old one is
 * replayed. (The panel runs under a strict CSP with no inline scripts, which is what keeps
 * injected code away from storage.)
 */
import { writable } from 'svelte/store';
import type { components } from '$lib/api/schema';

type TokensOut = components['schemas']['TokensOut'];
export type User = components['schemas']['UserOut'];

export interface Tokens {
  access_token: string;
  refresh_token: string;
  /** Epoch milliseconds after which the access token is refreshed before use. */
  expires_at: number;
  user: User;
}

const STORAGE_KEY = 'intellipost.session';

function load(): Tokens | null {
  if (typeof window === 'undefined') return null;
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    return saved ? (JSON.parse(saved) as Tokens) : null;
  } catch {
    return null;
  }
}

function save(value: Tokens | null): void {
  if (typeof window === 'undefined') return;
  if (value) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  else window.localStorage.removeItem(STORAGE_KEY);
}

function createSession() {
  const store = writable<Tokens | null>(load());
  store.subscribe(save);
  return {
    subscribe: store.subscribe,
    start(tokens: TokensOut, now = Date.now()): void {
      store.set({
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at: now + tokens.expires_in * 1000,
        user: tokens.user
      });
    },
    /** The seller changed settings: keep the tokens, update who they are. */
    updateUser(user: User): void {
      store.update((current) => (current ? { ...current, user } : current));
    },
    end(): void {
      store.set(null);
    }
  };
}

export const session = createSession();
