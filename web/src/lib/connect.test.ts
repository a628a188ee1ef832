import { describe, expect, it } from 'vitest';
import { outcomeOf, returnPath } from './connect';

describe('connecting comes back to the page it started from', () => {
  it('the page is its path and query, without an earlier outcome or a hash', () => {
    expect(returnPath(new URL('http://panel/products/01ABC/publish'))).toBe('/products/01ABC/publish');
    expect(returnPath(new URL('http://panel/products?status=ready&ml=error&code=X#top'))).toBe('/products?status=ready');
    expect(returnPath(new URL('http://panel/settings?ml=connected'))).toBe('/settings');
  });

  it('reads the outcome the callback added', () => {
    expect(outcomeOf(new URL('http://panel/products?ml=connected'))).toEqual({ connected: true, code: null });
    expect(outcomeOf(new URL('http://panel/x?ml=error&code=CONNECT_DENIED'))).toEqual({ connected: false, code: 'CONNECT_DENIED' });
    expect(outcomeOf(new URL('http://panel/x?ml=error'))?.code).toBe('CONNECT_DENIED');
    expect(outcomeOf(new URL('http://panel/x?ml=other'))).toBeNull();
  });
});
