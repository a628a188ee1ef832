import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { useFetch } from '$lib/api/client';
import { fakeApi, json } from '$lib/api/fake';
import { eventsPoller, percentOf, saveListing, type Event } from './product';
import { draftFrom } from '$lib/listing/draft';
import { listing } from '$lib/listing/fixtures';

const event = (code: string, at: string, percent: number | null = null): Event => ({ at, stage: 'images', code, message: code, params: {}, percent });

describe('events poller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the ETag back, asks only for newer events, and stops in an end state', async () => {
    const seen = fakeApi([
      () => json({ events: [event('ANALYSING_PHOTOS', 't1', 20)], status: 'processing' }, 200, { ETag: '"a"' }),
      () => new Response(null, { status: 304, headers: { ETag: '"a"' } }),
      () => json({ events: [event('LISTING_READY', 't2', 100)], status: 'ready' }, 200, { ETag: '"b"' }),
      () => json({ events: [], status: 'ready' })
    ]);
    const changes: string[] = [];
    const poller = eventsPoller('p1', [], { interval: 1000, isHidden: () => false, onChange: (t) => changes.push(String(t.status)) });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(get(poller)).toMatchObject({ status: 'processing', percent: 20, polling: true });
    expect(seen[0].headers['If-None-Match']).toBeUndefined();

    await vi.advanceTimersByTimeAsync(1000);
    expect(seen[1].headers['If-None-Match']).toBe('"a"');
    expect(seen[1].url).toContain('after=t1');

    await vi.advanceTimersByTimeAsync(1250); // one quiet answer: a little slower
    expect(seen).toHaveLength(3);
    expect(get(poller)).toMatchObject({ status: 'ready', percent: 100, polling: false });
    expect(get(poller).events.map((e) => e.code)).toEqual(['ANALYSING_PHOTOS', 'LISTING_READY']);
    expect(changes).toEqual(['processing', 'ready']);

    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toHaveLength(3); // stopped: no more requests
    poller.stop();
  });

  it('slows down while nothing changes and while the tab is hidden', async () => {
    const quiet = () => new Response(null, { status: 304 });
    const seen = fakeApi([() => json({ events: [], status: 'processing' }, 200, { ETag: '"x"' }), quiet, quiet, quiet, quiet]);
    let hidden = false;
    const poller = eventsPoller('p1', [], { interval: 1000, hiddenInterval: 20_000, maxInterval: 10_000, isHidden: () => hidden });
    poller.start();
    await vi.advanceTimersByTimeAsync(0); // answer 1 (the first status): 1000 ms next
    await vi.advanceTimersByTimeAsync(1000); // answer 2 (304): 1250 ms next
    expect(seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1150);
    expect(seen).toHaveLength(2); // not yet: backing off
    hidden = true;
    await vi.advanceTimersByTimeAsync(100); // answer 3 (304) while hidden: 20 s next
    expect(seen).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen).toHaveLength(4);
    poller.stop();
  });

  it('says when the network fails, backs off, and recovers', async () => {
    const seen: string[] = [];
    let fail = true;
    useFetch(async (input) => {
      seen.push(String(input));
      if (fail) throw new TypeError('Failed to fetch');
      return json({ events: [event('PUBLISHED', 't9', 100)], status: 'published' });
    });
    const poller = eventsPoller('p1', [], { interval: 1000, isHidden: () => false });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(get(poller).error?.code).toBe('OFFLINE');
    await vi.advanceTimersByTimeAsync(1999);
    expect(seen).toHaveLength(1); // failing: twice as slow
    fail = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(get(poller)).toMatchObject({ error: null, status: 'published', polling: false });
  });

  it('after the seller starts work it polls again even if the status still reads ready', async () => {
    const seen = fakeApi([
      () => json({ events: [], status: 'ready' }, 200, { ETag: '"r"' }),
      () => new Response(null, { status: 304 }),
      () => json({ events: [event('PHOTOS_REORDERED', 't3')], status: 'processing' })
    ]);
    const poller = eventsPoller('p1', [event('LISTING_READY', 't2', 100)], { interval: 1000, isHidden: () => false });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(get(poller).polling).toBe(false);
    poller.poke();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1250);
    expect(seen).toHaveLength(3);
    expect(get(poller)).toMatchObject({ status: 'processing', polling: true });
    expect(seen[2].url).toContain('after=t2');
    poller.stop();
  });

  it('shows the newest percent', () => {
    expect(percentOf([event('A', '1', 40), event('PHOTO_REMOVED', '2')])).toBe(40);
    expect(percentOf([])).toBeNull();
  });
});

describe('saving with the optimistic lock', () => {
  it('sends the version the seller opened and only what changed', async () => {
    const opened = listing();
    const saved = listing({ version: 4, title: 'Nuevo título', edited: ['attributes', 'title'] });
    const seen = fakeApi([() => json(saved)]);
    const draft = draftFrom(opened);
    draft.title = 'Nuevo título';
    const result = await saveListing('p1', opened, draft);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/api/v1/products/p1/listing', body: { version: 3, title: 'Nuevo título', reset: [] } });
    expect(result).toEqual({ kind: 'saved', listing: saved });
  });

  it('on 409 it loads the current version and keeps what the seller typed', async () => {
    const opened = listing();
    const current = listing({ version: 6, title: 'Otro título', description: 'Otra descripción' });
    const seen = fakeApi([
      () => json({ error: { code: 'CONFLICT', message: 'changed', details: { current: { ...current, sheet: null } }, request_id: 'r' } }, 409),
      () => json(current)
    ]);
    const draft = draftFrom(opened);
    draft.title = 'Mi título';
    const result = await saveListing('p1', opened, draft);
    expect(seen.map((s) => s.method)).toEqual(['PUT', 'GET']);
    if (result.kind !== 'conflict') throw new Error(`expected a conflict, got ${result.kind}`);
    expect(result.current.version).toBe(6);
    // The full current version (the 409 carries it without its sheet): the sheet's rows survive.
    expect(result.current.sheet).not.toBeNull();
    expect(result.rebased.draft.attributes.BRAND).toEqual({ value_id: null, value_name: 'Nike' });
    expect(result.rebased.draft.title).toBe('Mi título');
    expect(result.rebased.draft.description).toBe('Otra descripción');
    expect(result.rebased.theirs).toEqual([{ field: 'title', value: 'Otro título', by: 'ai' }]);
  });

  it('a refused value comes back placed on its input', async () => {
    fakeApi([
      () =>
        json(
          {
            error: {
              code: 'VALIDATION_ERROR',
              message: 'no HTML',
              details: { field: 'description', reason: 'DESCRIPTION_HTML', problems: [{ field: 'description', code: 'DESCRIPTION_HTML', message: 'no HTML', params: {} }, { field: 'GENDER', code: 'ATTRIBUTE_VALUE_NOT_ALLOWED', message: 'x', params: { value: 'Otro' } }] },
              request_id: 'r'
            }
          },
          422
        )
    ]);
    const opened = listing();
    const draft = draftFrom(opened);
    draft.description = '<b>hola</b>';
    const result = await saveListing('p1', opened, draft);
    if (result.kind !== 'invalid') throw new Error(`expected invalid, got ${result.kind}`);
    expect(result.problems.map((p) => [p.field, p.code])).toEqual([
      ['description', 'DESCRIPTION_HTML'],
      ['attributes.GENDER', 'ATTRIBUTE_VALUE_NOT_ALLOWED']
    ]);
  });

  it('nothing is sent when nothing changed', async () => {
    const seen = fakeApi([]);
    const opened = listing();
    expect(await saveListing('p1', opened, draftFrom(opened))).toEqual({ kind: 'unchanged' });
    expect(seen).toHaveLength(0);
  });
});
