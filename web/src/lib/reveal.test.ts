import { describe, expect, it } from 'vitest';
import { coverage } from './reveal';

describe('a bar at the bottom never covers the field in focus', () => {
  const bar = { top: 700, bottom: 780 };
  it('a field under the bar scrolls up until it clears the bar', () => {
    expect(coverage({ top: 690, bottom: 734 }, [bar], 780)).toBe(34 + 8);
  });
  it('a field above the bar stays put', () => {
    expect(coverage({ top: 100, bottom: 144 }, [bar], 780)).toBe(0);
  });
  it('the keyboard counts as a bar: the field clears the visible part of the screen', () => {
    expect(coverage({ top: 400, bottom: 444 }, [bar], 420)).toBe(24 + 8);
  });
  it('a bar beside the field, not over it, does not move it', () => {
    expect(coverage({ top: 100, bottom: 144 }, [{ top: 200, bottom: 260 }], 780)).toBe(0);
  });
});
