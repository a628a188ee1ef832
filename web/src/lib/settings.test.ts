import { describe, expect, it } from 'vitest';
import { changes, checkSettings, fieldOf, toForm, type Settings } from './settings';

const saved: Settings = { auto_publish: false, publish_threshold: 0.9, site: 'MLA', listing_type: 'gold_special', default_quantity: null };

describe('settings form', () => {
  it('shows the threshold in whole percent', () => {
    expect(toForm(saved).threshold).toBe(90);
    expect(toForm({ ...saved, publish_threshold: 0.855 }).threshold).toBe(86);
  });

  it('accepts the API\'s threshold range 50..100 % and nothing outside it', () => {
    const form = toForm(saved);
    expect(checkSettings({ ...form, threshold: 50 })).toEqual({});
    expect(checkSettings({ ...form, threshold: 100 })).toEqual({});
    expect(checkSettings({ ...form, threshold: 49 }).threshold?.params).toEqual({ min: 50, max: 100 });
    expect(checkSettings({ ...form, threshold: 101 }).threshold).toBeDefined();
    expect(checkSettings({ ...form, threshold: null }).threshold).toBeDefined();
  });

  it('checks the default quantity 1..99999 (or none), the site and the listing type', () => {
    const form = toForm(saved);
    expect(checkSettings({ ...form, default_quantity: 1 })).toEqual({});
    expect(checkSettings({ ...form, default_quantity: 99999 })).toEqual({});
    expect(checkSettings({ ...form, default_quantity: 0 }).default_quantity).toBeDefined();
    expect(checkSettings({ ...form, default_quantity: 100000 }).default_quantity).toBeDefined();
    expect(checkSettings({ ...form, default_quantity: 1.5 }).default_quantity).toBeDefined();
    expect(checkSettings({ ...form, site: 'XXX' }).site).toBeDefined();
    expect(checkSettings({ ...form, listing_type: 'platinum' }).listing_type).toBeDefined();
  });

  it('sends only what changed, the threshold as a ratio', () => {
    const form = toForm(saved);
    expect(changes(saved, form)).toBeNull();
    expect(changes(saved, { ...form, auto_publish: true, threshold: 75 })).toEqual({ auto_publish: true, publish_threshold: 0.75 });
    expect(changes(saved, { ...form, site: 'MLB', default_quantity: 3 })).toEqual({ site: 'MLB', default_quantity: 3 });
  });

  it('puts the API\'s field under the form\'s field', () => {
    expect(fieldOf('publish_threshold')).toBe('threshold');
    expect(fieldOf('site')).toBe('site');
    expect(fieldOf('body')).toBeNull();
  });
});
