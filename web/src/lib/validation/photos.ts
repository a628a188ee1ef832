/**
 * The photo checks the API and ingest make, made in the browser before anything is uploaded, with
 * the same limits (limits.json is written from chalicelib/domain/limits.py) and the same codes, so
 * the panel shows the same message whichever side caught the problem.
 */
import limits from '$lib/api/limits.json';

export { limits };

export interface Problem {
  code: string;
  params: Record<string, unknown>;
}

export interface PhotoFacts {
  name: string;
  type: string;
  size: number;
  /** Unknown until the browser has read the picture's header. */
  width?: number;
  height?: number;
}

/** One photo alone: format, emptiness, size, and (once known) its dimensions. */
export function checkPhoto(photo: PhotoFacts): Problem | null {
  if (!limits.content_types.includes(photo.type)) {
    return { code: 'IMAGE_FORMAT_UNSUPPORTED', params: { detected: photo.type || photo.name } };
  }
  if (photo.size <= 0) return { code: 'IMAGE_EMPTY', params: { bytes: 0 } };
  if (photo.size > limits.max_image_bytes) {
    return { code: 'IMAGE_TOO_LARGE', params: { bytes: photo.size, limit: limits.max_image_bytes } };
  }
  if (photo.width !== undefined && photo.height !== undefined) {
    const { width, height } = photo;
    if (width * height > limits.max_pixels) {
      return { code: 'IMAGE_TOO_MANY_PIXELS', params: { width, height, limit: limits.max_pixels } };
    }
    const long = Math.max(width, height);
    const short = Math.min(width, height);
    if (long < limits.min_width || short < limits.min_height) {
      // Said in the photo's own orientation, as the API does: an upright photo is told 600x800.
      const upright = height > width;
      return {
        code: 'IMAGE_TOO_SMALL',
        params: {
          width,
          height,
          min_width: upright ? limits.min_height : limits.min_width,
          min_height: upright ? limits.min_width : limits.min_height
        }
      };
    }
  }
  return null;
}

/** The photos together with the ones the product already has: count, then total size. */
export function checkSet(existingSizes: number[], newSizes: number[]): Problem | null {
  const count = existingSizes.length + newSizes.length;
  if (count > limits.max_images) {
    return { code: 'TOO_MANY_IMAGES', params: { limit: limits.max_images, actual: count } };
  }
  const total = [...existingSizes, ...newSizes].reduce((sum, size) => sum + size, 0);
  if (total > limits.max_total_bytes) {
    return { code: 'UPLOAD_TOO_LARGE', params: { limit: limits.max_total_bytes, actual: total } };
  }
  return null;
}

/** The prompt: trimmed length against the limit (the live counter shows the same number). */
export function checkPrompt(prompt: string): Problem | null {
  const length = [...prompt.trim()].length;
  if (length > limits.prompt_max_chars) {
    return { code: 'PROMPT_TOO_LONG', params: { limit: limits.prompt_max_chars, actual: length } };
  }
  return null;
}

// The first bytes of each format, as the server reads them (chalicelib/domain/photos.py decides on
// the content, never on the name or the browser's guess). JPEG and PNG are taken; the others are
// named so the seller hears what the file really is.
const SIGNATURES: [string, (b: Uint8Array) => boolean][] = [
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/png', (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)],
  ['image/gif', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['image/webp', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP'],
  ['image/heic', (b) => ascii(b, 4, 8) === 'ftyp'],
  ['image/bmp', (b) => ascii(b, 0, 2) === 'BM'],
  ['image/tiff', (b) => ['II*\0', 'MM\0*'].includes(ascii(b, 0, 4))],
  ['application/pdf', (b) => ascii(b, 0, 5) === '%PDF-']
];
/** How many bytes `sniff` needs. */
export const SNIFF_BYTES = 12;

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.slice(start, end));
}

/** What a file really is by its first bytes: a MIME type, or null when it is no format we know. */
export function sniff(bytes: Uint8Array): string | null {
  return SIGNATURES.find(([, matches]) => matches(bytes))?.[0] ?? null;
}

/**
 * The verdict on a file's content, the server's way round: bytes that are not a JPEG or PNG are
 * "not a JPG or PNG" (whatever the name says); a JPEG or PNG that the browser cannot decode
 * (`decoded` false) is damaged.
 */
export function checkContent(name: string, bytes: Uint8Array, decoded: boolean): Problem | null {
  const detected = sniff(bytes);
  if (!detected || !limits.content_types.includes(detected)) {
    return { code: 'IMAGE_FORMAT_UNSUPPORTED', params: { detected: detected ?? name } };
  }
  return decoded ? null : { code: 'IMAGE_CORRUPT', params: {} };
}
