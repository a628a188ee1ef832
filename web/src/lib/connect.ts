/**
 * Connecting MercadoLibre from any page of the panel: the API's callback sends the browser back to
 * the page it started from (GET /ml/connect?return_to=), with `?ml=connected` or `?ml=error&code=`.
 */
import { api, type Schemas } from '$lib/api/client';

/** The outcome the callback adds to the page's address; the page reads it once, then drops it. */
const OUTCOME = ['ml', 'code'];

/** The page to come back to: this path and its query, without an earlier outcome (and no #hash). */
export function returnPath(url: URL): string {
  const query = new URLSearchParams(url.search);
  for (const name of OUTCOME) query.delete(name);
  const search = query.toString();
  return `${url.pathname}${search ? `?${search}` : ''}`;
}

/** What the callback said, if this address carries it. */
export function outcomeOf(url: URL): { connected: boolean; code: string | null } | null {
  const ml = url.searchParams.get('ml');
  if (ml !== 'connected' && ml !== 'error') return null;
  return { connected: ml === 'connected', code: ml === 'error' ? (url.searchParams.get('code') ?? 'CONNECT_DENIED') : null };
}

/** Off to MercadoLibre's authorization page in this tab, to come back to `url`. */
export async function connectMercadoLibre(url: URL): Promise<void> {
  const { authorization_url } = await api.get<Schemas['ConnectOut']>('/ml/connect', { query: { return_to: returnPath(url) } });
  window.location.assign(authorization_url);
}
