import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from './debounce';

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls once, with the last value, after a quiet pause', () => {
    const seen: string[] = [];
    const search = debounce((q: string) => seen.push(q), 350);
    search('n');
    vi.advanceTimersByTime(200);
    search('ni');
    vi.advanceTimersByTime(200);
    search('nike');
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(349);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['nike']);
  });

  it('can be cancelled (the page was left)', () => {
    const seen: string[] = [];
    const search = debounce((q: string) => seen.push(q), 350);
    search('nike');
    search.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([]);
  });
});
