import { describe, expect, it } from 'vitest';
import { checkContent, checkPhoto, checkPrompt, checkSet, limits, sniff } from './photos';

const MB = 1024 * 1024;
const photo = (over: Partial<Parameters<typeof checkPhoto>[0]> = {}) => ({
  name: 'zapa.jpg',
  type: 'image/jpeg',
  size: 2 * MB,
  width: 1200,
  height: 900,
  ...over
});

describe('the limits are the API\'s', () => {
  it('match chalicelib/domain/limits.py as written to limits.json', () => {
    expect(limits).toMatchObject({
      content_types: ['image/jpeg', 'image/png'],
      max_image_bytes: 10 * MB,
      max_images: 8,
      max_total_bytes: 50 * MB,
      min_width: 800,
      min_height: 600,
      prompt_max_chars: 500
    });
  });
});

describe('one photo', () => {
  it('a JPG and a PNG of good size pass', () => {
    expect(checkPhoto(photo())).toBeNull();
    expect(checkPhoto(photo({ type: 'image/png', name: 'caja.png' }))).toBeNull();
  });

  it('refuses other formats, naming what it got', () => {
    expect(checkPhoto(photo({ type: 'image/heic', name: 'a.heic' }))).toEqual({
      code: 'IMAGE_FORMAT_UNSUPPORTED',
      params: { detected: 'image/heic' }
    });
    // A browser that cannot tell the type: the name says what it is.
    expect(checkPhoto(photo({ type: '', name: 'scan.tiff' }))?.params).toEqual({ detected: 'scan.tiff' });
    expect(checkPhoto(photo({ type: 'image/webp' }))?.code).toBe('IMAGE_FORMAT_UNSUPPORTED');
  });

  it('refuses an empty file', () => {
    expect(checkPhoto(photo({ size: 0 }))?.code).toBe('IMAGE_EMPTY');
  });

  it('10 MB exactly passes, one byte more does not', () => {
    expect(checkPhoto(photo({ size: 10 * MB }))).toBeNull();
    expect(checkPhoto(photo({ size: 10 * MB + 1 }))).toEqual({
      code: 'IMAGE_TOO_LARGE',
      params: { bytes: 10 * MB + 1, limit: 10 * MB }
    });
  });

  it('800x600 exactly passes; 799x600 and 800x599 do not', () => {
    expect(checkPhoto(photo({ width: 800, height: 600 }))).toBeNull();
    expect(checkPhoto(photo({ width: 799, height: 600 }))).toEqual({
      code: 'IMAGE_TOO_SMALL',
      params: { width: 799, height: 600, min_width: 800, min_height: 600 }
    });
    expect(checkPhoto(photo({ width: 800, height: 599 }))?.code).toBe('IMAGE_TOO_SMALL');
  });

  it('an upright photo is measured upright: 600x800 passes, 600x799 is told 600x800', () => {
    expect(checkPhoto(photo({ width: 600, height: 800 }))).toBeNull();
    expect(checkPhoto(photo({ width: 600, height: 799 }))).toEqual({
      code: 'IMAGE_TOO_SMALL',
      params: { width: 600, height: 799, min_width: 600, min_height: 800 }
    });
    expect(checkPhoto(photo({ width: 599, height: 800 }))?.code).toBe('IMAGE_TOO_SMALL');
  });

  it('refuses more pixels than the API decodes', () => {
    const side = Math.ceil(Math.sqrt(limits.max_pixels)) + 1;
    expect(checkPhoto(photo({ width: side, height: side }))?.code).toBe('IMAGE_TOO_MANY_PIXELS');
    expect(checkPhoto(photo({ width: limits.max_pixels / 10000, height: 10000 }))).toBeNull();
  });

  it('before the dimensions are known, checks the rest', () => {
    expect(checkPhoto(photo({ width: undefined, height: undefined }))).toBeNull();
    expect(checkPhoto(photo({ width: undefined, height: undefined, size: 11 * MB }))?.code).toBe('IMAGE_TOO_LARGE');
  });
});

describe('the photos together', () => {
  const sizes = (n: number, size = MB) => Array.from({ length: n }, () => size);

  it('8 photos pass, 9 do not (counting the ones the product has)', () => {
    expect(checkSet([], sizes(8))).toBeNull();
    expect(checkSet([], sizes(9))).toEqual({ code: 'TOO_MANY_IMAGES', params: { limit: 8, actual: 9 } });
    expect(checkSet(sizes(5), sizes(3))).toBeNull();
    expect(checkSet(sizes(5), sizes(4))?.params).toEqual({ limit: 8, actual: 9 });
  });

  it('50 MB in total passes, one byte more does not', () => {
    expect(checkSet([], [10 * MB, 10 * MB, 10 * MB, 10 * MB, 10 * MB])).toBeNull();
    expect(checkSet([10 * MB, 10 * MB], [10 * MB, 10 * MB, 10 * MB, 1])).toEqual({
      code: 'UPLOAD_TOO_LARGE',
      params: { limit: 50 * MB, actual: 50 * MB + 1 }
    });
  });

  it('says the count before the size', () => {
    expect(checkSet([], sizes(9, 10 * MB))?.code).toBe('TOO_MANY_IMAGES');
  });
});

describe('the prompt', () => {
  it('500 characters pass, 501 do not', () => {
    expect(checkPrompt('a'.repeat(500))).toBeNull();
    expect(checkPrompt('a'.repeat(501))).toEqual({ code: 'PROMPT_TOO_LONG', params: { limit: 500, actual: 501 } });
  });

  it('counts characters as people see them, after trimming', () => {
    expect(checkPrompt(`  ${'ñ'.repeat(500)}  `)).toBeNull();
    expect(checkPrompt('👟'.repeat(500))).toBeNull(); // two UTF-16 units each, one character
    expect(checkPrompt('👟'.repeat(501))?.params).toEqual({ limit: 500, actual: 501 });
  });
});

describe('what a file is, by its first bytes (as the server decides)', () => {
  const bytes = (...values: number[]) => new Uint8Array([...values, ...new Array(12).fill(0)].slice(0, 12));
  const text = new TextEncoder().encode('hello, this is not a photo');
  const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0);
  const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

  it('knows JPEG, PNG and the formats sellers send by mistake', () => {
    expect(sniff(JPEG)).toBe('image/jpeg');
    expect(sniff(PNG)).toBe('image/png');
    expect(sniff(new TextEncoder().encode('GIF89a......'))).toBe('image/gif');
    expect(sniff(new TextEncoder().encode('RIFF\0\0\0\0WEBP'))).toBe('image/webp');
    expect(sniff(new TextEncoder().encode('\0\0\0\x18ftypheic'))).toBe('image/heic');
    expect(sniff(text)).toBeNull();
  });

  it('a text file named .jpg is "not a JPG or PNG", not "damaged"', () => {
    expect(checkContent('foto.jpg', text, false)).toEqual({ code: 'IMAGE_FORMAT_UNSUPPORTED', params: { detected: 'foto.jpg' } });
    expect(checkContent('foto.jpg', new TextEncoder().encode('GIF89a......'), true)?.params).toEqual({ detected: 'image/gif' });
  });

  it('a real JPEG or PNG that does not decode is damaged; one that decodes passes', () => {
    expect(checkContent('a.jpg', JPEG, false)).toEqual({ code: 'IMAGE_CORRUPT', params: {} });
    expect(checkContent('a.png', PNG, false)?.code).toBe('IMAGE_CORRUPT');
    expect(checkContent('a.jpg', JPEG, true)).toBeNull();
    expect(checkContent('a.png', PNG, true)).toBeNull();
  });
});
