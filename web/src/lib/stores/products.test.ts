import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { useFetch } from '$lib/api/client';
import { session } from '$lib/stores/session';
import {
  createProductList,
  filtersFromQuery,
  filtersToQuery,
  hasFilters,
  needsAttention,
  noFilters,
  type Product
} from './products';

const product = (id: string, over: Partial<Product> = {}): Product =>
  ({
  product_id: id,
  attention: null,
  current_version: 1,
  events: null,
  images: null,
  item: null,
  main_image_id: null,
  main_picture: null,
  paused: false,
  thumbnail_url: null,
  title: null,
  status: 'ready',
  prompt: `producto ${id}`,
  revision: 1,
  created_at: '2026-11-28T10:00:00Z',
  updated_at: '2026-11-28T10:00:00Z',
  confidence: 0.9,
  confidence_band: 'green',
  ...over
  }) as Product;

describe('filters in the address bar', () => {
  it('round-trip, in a fixed order', () => {
    const filters = { status: 'failed' as const, confidence: 'red' as const, q: 'nike 42', attention: true };
    const query = filtersToQuery(filters);
    expect(query).toBe('?attention=1&status=failed&confidence=red&q=nike+42');
    expect(filtersFromQuery(new URLSearchParams(query))).toEqual(filters);
  });

  it('no filters is no query', () => {
    expect(filtersToQuery(noFilters)).toBe('');
    expect(filtersToQuery({ ...noFilters, q: '   ' })).toBe('');
    expect(hasFilters(noFilters)).toBe(false);
    expect(hasFilters({ ...noFilters, confidence: 'yellow' })).toBe(true);
  });

  it('drops values the API would refuse instead of sending them', () => {
    const read = filtersFromQuery(new URLSearchParams('status=lost&confidence=blue&attention=yes&q=' + 'x'.repeat(150)));
    expect(read).toEqual({ status: null, confidence: null, q: 'x'.repeat(100), attention: false });
  });
});

describe('needs your attention', () => {
  it('failed, a reason from the API, or ready in red', () => {
    expect(needsAttention(product('1', { status: 'failed', confidence: null, confidence_band: null }))).toBe(true);
    expect(
      needsAttention(product('2', { status: 'uploading', attention: { code: 'ALL_PHOTOS_REJECTED', message: 'm', params: {} } }))
    ).toBe(true);
    expect(needsAttention(product('3', { confidence: 0.5, confidence_band: 'red' }))).toBe(true);
  });

  it('not the normal review queue, nor work in progress, nor what is published', () => {
    expect(needsAttention(product('4', { confidence_band: 'yellow' }))).toBe(false);
    expect(needsAttention(product('5'))).toBe(false);
    expect(needsAttention(product('6', { status: 'processing', confidence: null, confidence_band: null }))).toBe(false);
    expect(needsAttention(product('7', { status: 'published', confidence_band: 'red' }))).toBe(false);
  });
});

describe('the list', () => {
  let calls: URL[];
  let pages: Record<string, { items: Product[]; next?: string | null }>;
  let fail: Error | null;

  beforeEach(() => {
    session.start({ access_token: 'a', refresh_token: 'r', expires_in: 900, token_type: 'Bearer', user: {} as never });
    calls = [];
    fail = null;
    pages = {};
    useFetch(async (input) => {
      const address = new URL(String(input), 'http://panel.local');
      calls.push(address);
      if (fail) throw fail;
      const page = pages[address.searchParams.get('next') ?? 'first'];
      return new Response(JSON.stringify(page), { status: 200 });
    });
  });
  afterEach(() => session.end());

  it('loads the first page with the filters and follows the cursor', async () => {
    pages = {
      first: { items: [product('9'), product('8')], next: 'c1' },
      c1: { items: [product('7')], next: null }
    };
    const list = createProductList(2);
    await list.load({ status: 'ready', confidence: 'green', q: ' nike ', attention: false });
    expect(Object.fromEntries(calls[0].searchParams)).toEqual({
      status: 'ready',
      confidence: 'green',
      q: 'nike',
      limit: '2'
    });
    expect(get(list)).toMatchObject({ next: 'c1', loading: false, loaded: true, error: null });
    await list.more();
    expect(calls[1].searchParams.get('next')).toBe('c1');
    expect(get(list).items.map((p) => p.product_id)).toEqual(['9', '8', '7']);
    expect(get(list).next).toBeNull();
    await list.more(); // the end: nothing more is asked
    expect(calls).toHaveLength(2);
  });

  it('never shows the same product twice when pages shift', async () => {
    pages = { first: { items: [product('9'), product('8')], next: 'c1' }, c1: { items: [product('8'), product('7')] } };
    const list = createProductList(2);
    await list.load(noFilters);
    await list.more();
    expect(get(list).items.map((p) => p.product_id)).toEqual(['9', '8', '7']);
  });

  it('new filters start over from the first page, and a stale answer is dropped', async () => {
    pages = { first: { items: [product('1')], next: 'c1' } };
    const list = createProductList(1);
    const first = list.load({ ...noFilters, q: 'old' });
    const second = list.load({ ...noFilters, q: 'new' });
    await Promise.all([first, second]);
    expect(get(list).filters.q).toBe('new');
    expect(get(list).items).toHaveLength(1);
    expect(calls.at(-1)?.searchParams.get('q')).toBe('new');
    expect(calls.at(-1)?.searchParams.get('next')).toBeNull();
  });

  it('the attention view reads pages until a screenful matched, keeping the cursor', async () => {
    pages = {
      first: { items: [product('9'), product('8', { status: 'failed' })], next: 'c1' },
      c1: { items: [product('7'), product('6', { confidence_band: 'red' })], next: 'c2' },
      c2: { items: [product('5', { status: 'failed' })], next: null }
    };
    const list = createProductList(2);
    await list.load({ ...noFilters, attention: true });
    expect(calls[0].searchParams.get('attention')).toBeNull(); // the API does not know it
    expect(get(list).items.map((p) => p.product_id)).toEqual(['8', '6']);
    expect(get(list).next).toBe('c2');
    await list.more();
    expect(get(list).items.map((p) => p.product_id)).toEqual(['8', '6', '5']);
  });

  it('keeps what it showed when a page fails, says OFFLINE, and retries that page', async () => {
    pages = { first: { items: [product('9')], next: 'c1' }, c1: { items: [product('8')] } };
    const list = createProductList(1);
    await list.load(noFilters);
    fail = new TypeError('Failed to fetch');
    await list.more();
    expect(get(list).error?.code).toBe('OFFLINE');
    expect(get(list).items.map((p) => p.product_id)).toEqual(['9']);
    expect(get(list).next).toBe('c1');
    fail = null;
    await list.retry();
    expect(calls.at(-1)?.searchParams.get('next')).toBe('c1');
    expect(get(list).items.map((p) => p.product_id)).toEqual(['9', '8']);
    expect(get(list).error).toBeNull();
  });

  it('a first page that fails is retried from the start', async () => {
    fail = new TypeError('Failed to fetch');
    const list = createProductList(1);
    await list.load(noFilters);
    expect(get(list)).toMatchObject({ loaded: false, error: { code: 'OFFLINE' } });
    fail = null;
    pages = { first: { items: [product('9')] } };
    await list.retry();
    expect(get(list)).toMatchObject({ loaded: true, error: null });
    expect(get(list).items).toHaveLength(1);
  });
});

describe('refreshing what is on screen', () => {
  let calls: URL[];
  let answer: { items: Product[]; next?: string | null };
  beforeEach(() => {
    session.start({ access_token: 'a', refresh_token: 'r', expires_in: 900, token_type: 'Bearer', user: {} as never });
    calls = [];
    useFetch(async (input) => {
      const address = new URL(String(input), 'http://panel.local');
      calls.push(address);
      return new Response(JSON.stringify(answer), { status: 200 });
    });
  });
  afterEach(() => session.end());

  it('reads the first page as long as what is shown and replaces it', async () => {
    answer = { items: [product('9', { status: 'processing' })], next: 'c1' };
    const list = createProductList(1);
    await list.load(noFilters);
    answer = { items: [product('8')], next: null };
    await list.more();
    answer = { items: [product('9', { status: 'ready' }), product('8')], next: 'c2' };
    await list.refresh();
    expect(calls.at(-1)?.searchParams.get('limit')).toBe('2');
    expect(calls.at(-1)?.searchParams.get('next')).toBeNull();
    expect(get(list).items.map((p) => p.status)).toEqual(['ready', 'ready']);
    expect(get(list).next).toBe('c2');
  });

  it('does nothing before the first answer', async () => {
    const list = createProductList(1);
    await list.refresh();
    expect(calls).toHaveLength(0);
  });
});
