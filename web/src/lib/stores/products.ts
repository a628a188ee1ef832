/**
 * The seller's products as the list shows them: filters that live in the URL (so reload and Back
 * keep them), cursor pages from GET /products, and the "needs your attention" view.
 */
import { get, writable } from 'svelte/store';
import { api, ApiError, type Schemas } from '$lib/api/client';

export type Product = Schemas['ProductOut'];
export type Status = Schemas['ProductStatus'];
export type Band = Schemas['Band'];

export const statuses: Status[] = ['uploading', 'processing', 'ready', 'publishing', 'published', 'failed'];
export const bands: Band[] = ['green', 'yellow', 'red'];
/** Where the bands meet (chalicelib/domain/confidence.py): green above `high`, red below `low`. */
export const BAND_EDGES = { high: 0.85, low: 0.7 } as const;
/** The API's limit on the search text (ProductFilters.q). */
export const SEARCH_MAX = 100;

export interface Filters {
  status: Status | null;
  confidence: Band | null;
  q: string;
  attention: boolean;
}

export const noFilters: Filters = { status: null, confidence: null, q: '', attention: false };

/** Read the filters from the address bar; anything the API would refuse is dropped, not sent. */
export function filtersFromQuery(params: URLSearchParams): Filters {
  const status = params.get('status');
  const confidence = params.get('confidence');
  return {
    status: statuses.includes(status as Status) ? (status as Status) : null,
    confidence: bands.includes(confidence as Band) ? (confidence as Band) : null,
    q: (params.get('q') ?? '').slice(0, SEARCH_MAX),
    attention: params.get('attention') === '1'
  };
}

/** The filters as a query string for the address bar ('' when none), always in the same order. */
export function filtersToQuery(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.attention) params.set('attention', '1');
  if (filters.status) params.set('status', filters.status);
  if (filters.confidence) params.set('confidence', filters.confidence);
  const q = filters.q.trim();
  if (q) params.set('q', q);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Statuses that change without the seller doing anything. */
export const working = (product: Product) =>
  product.status === 'uploading' || product.status === 'processing' || product.status === 'publishing';

export const hasFilters = (f: Filters) => Boolean(f.status || f.confidence || f.q.trim() || f.attention);

/**
 * What "needs your attention" means. The statuses say it:
 * - `failed`: the pipeline or MercadoLibre stopped; the seller must retry or fix something;
 * - any product carrying an `attention` reason (every photo rejected, auto-publish waiting for an
 *   account or a price...): the API says the seller must act;
 * - `ready` with a red confidence band: the listing waits for review and is likely wrong.
 * Ready listings in green or yellow are the normal review queue (the "ready" filter), and working
 * states (uploading, processing, publishing) need nobody, so they are not in this view.
 * The API has no filter for this, so the view filters pages of the plain list in the browser.
 */
export function needsAttention(product: Product): boolean {
  if (product.status === 'failed') return true;
  if (product.attention) return true;
  return product.status === 'ready' && product.confidence_band === 'red';
}

export interface ListState {
  filters: Filters;
  items: Product[];
  next: string | null;
  /** A page is on its way. */
  loading: boolean;
  /** At least one answer arrived for these filters (so "nothing" really means nothing). */
  loaded: boolean;
  error: ApiError | null;
}

export function createProductList(pageSize = 20) {
  const store = writable<ListState>({
    filters: noFilters,
    items: [],
    next: null,
    loading: false,
    loaded: false,
    error: null
  });
  let generation = 0;
  let controller: AbortController | null = null;

  /** One call to the API with the filters it understands (attention is the browser's). */
  function page(filters: Filters, cursor: string | null, limit: number, signal: AbortSignal) {
    return api.get<Schemas['ProductPage']>('/products', {
      query: {
        status: filters.status,
        confidence: filters.confidence,
        q: filters.q.trim() || null,
        limit,
        next: cursor
      },
      signal
    });
  }

  async function fetchMore(reset: boolean): Promise<void> {
    const state = get(store);
    if (!reset && (state.loading || !state.next)) return;
    const mine = ++generation;
    controller?.abort();
    controller = new AbortController();
    const { filters } = state;
    store.update((s) => ({ ...s, loading: true, error: null }));
    let cursor = reset ? null : state.next;
    const found: Product[] = [];
    try {
      // The attention view filters in the browser: read bigger pages, and a few of them, until a
      // screenful matched or the list ended (then "load more" carries on from the cursor).
      const limit = filters.attention ? Math.min(100, pageSize * 3) : pageSize;
      let reads = 0;
      do {
        const answer = await page(filters, cursor, limit, controller.signal);
        if (mine !== generation) return;
        found.push(...(filters.attention ? answer.items.filter(needsAttention) : answer.items));
        cursor = answer.next ?? null;
        reads += 1;
      } while (filters.attention && cursor && found.length < pageSize && reads < 5);
      store.update((s) => ({
        ...s,
        items: reset ? found : [...s.items, ...dropSeen(s.items, found)],
        next: cursor,
        loading: false,
        loaded: true
      }));
    } catch (error) {
      if (mine !== generation || (error as Error).name === 'AbortError') return;
      // Whatever was already shown stays; the error is said next to "load more" with a retry.
      store.update((s) => ({
        ...s,
        items: reset ? [] : s.items,
        next: reset ? null : s.next,
        loading: false,
        error: error instanceof ApiError ? error : new ApiError(0, 'UNKNOWN', String(error))
      }));
    }
  }

  return {
    subscribe: store.subscribe,
    /** New filters: start over from the first page. */
    load(filters: Filters): Promise<void> {
      store.update((s) => ({ ...s, filters, items: [], next: null, loaded: false, error: null }));
      return fetchMore(true);
    },
    /** The next page for the same filters (no-op while loading or at the end). */
    more(): Promise<void> {
      return fetchMore(false);
    },
    /**
     * Read again what is on screen (products still working change status by themselves): the first
     * page, as long as what is shown, replaces the items; nothing flickers while it loads.
     */
    async refresh(): Promise<void> {
      const state = get(store);
      if (state.loading || !state.loaded || state.error) return;
      const mine = ++generation;
      controller?.abort();
      controller = new AbortController();
      const limit = Math.min(100, Math.max(pageSize, state.items.length));
      try {
        const answer = await page(state.filters, null, state.filters.attention ? 100 : limit, controller.signal);
        if (mine !== generation) return;
        const items = state.filters.attention ? answer.items.filter(needsAttention) : answer.items;
        store.update((s) => ({ ...s, items, next: answer.next ?? null }));
      } catch {
        // A missed refresh is not the seller's problem: the next one, or any action, tries again.
      }
    },
    /** After an error: try the step that failed again. */
    retry(): Promise<void> {
      const state = get(store);
      return state.loaded && state.next ? fetchMore(false) : fetchMore(true);
    }
  };
}

/** A product created meanwhile can shift a page: never show the same card twice. */
function dropSeen(shown: Product[], found: Product[]): Product[] {
  const seen = new Set(shown.map((p) => p.product_id));
  return found.filter((p) => !seen.has(p.product_id));
}
