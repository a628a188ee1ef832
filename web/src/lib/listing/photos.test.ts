import { describe, expect, it } from 'vitest';
import { moved, orderable, ordered, type Image } from './photos';

const image = (image_id: string, position: number, status: Image['status'] = 'accepted'): Image =>
  ({ image_id, position, status, file_name: `${image_id}.jpg`, is_main: false }) as Image;

describe('photo order', () => {
  it('moves a photo up or down, never off the list', () => {
    expect(moved(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moved(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moved(['a', 'b', 'c'], 2, 5)).toEqual(['a', 'b', 'c']);
  });

  it('orders by position, rejected photos last and out of the reorder', () => {
    const images = [image('c', 2), image('x', 0, 'rejected'), image('a', 1), image('b', 3)];
    expect(ordered(images).map((i) => i.image_id)).toEqual(['a', 'c', 'b', 'x']);
    expect(orderable(images)).toEqual(['a', 'c', 'b']);
  });
});
