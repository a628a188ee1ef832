/** The product's photos as the page orders them. */
import type { Schemas } from '$lib/api/client';

export type Image = Schemas['ImageOut'];

/** Photos in their order; rejected ones last (they take no part in the listing). */
export function ordered(images: Image[] | null | undefined): Image[] {
  return [...(images ?? [])].sort(
    (a, b) => Number(a.status === 'rejected') - Number(b.status === 'rejected') || a.position - b.position
  );
}

/** The ids in a new order after moving one photo from `from` to `to` (both clamped to the list). */
export function moved(ids: string[], from: number, to: number): string[] {
  const target = Math.max(0, Math.min(ids.length - 1, to));
  if (from < 0 || from >= ids.length || from === target) return ids;
  const next = [...ids];
  const [item] = next.splice(from, 1);
  next.splice(target, 0, item);
  return next;
}

/** The ids the reorder route wants: every photo that is not rejected, exactly once. */
export function orderable(images: Image[] | null | undefined): string[] {
  return ordered(images).filter((i) => i.status !== 'rejected').map((i) => i.image_id);
}
