/**
 * Taking the seller to an input: open the folded sections around it (phones fold the long ones),
 * focus it, and bring it into sight above any bar stuck to the bottom of the screen.
 */

export interface Box {
  top: number;
  bottom: number;
}

/**
 * How far the page must scroll up so a field is wholly above every bar that would cover it, and
 * above the bottom of what is visible (`visibleBottom`: the visual viewport, which the phone's
 * keyboard shortens). 0 when nothing covers it.
 */
export function coverage(field: Box, bars: Box[], visibleBottom: number, margin = 8): number {
  const covering = bars.filter((bar) => field.bottom > bar.top && field.top < bar.bottom).map((bar) => bar.top);
  const limit = Math.min(visibleBottom, ...covering);
  return field.bottom > limit ? field.bottom - limit + margin : 0;
}

/**
 * The bars stuck to the bottom of the screen (marked `data-bar`) that are showing now, but for the
 * one holding `element`: its own bar never covers it. (Counting it scrolled a pressed button away
 * between the pointer's down and up, and the press was lost.)
 */
function barsOver(element: Element): Box[] {
  return [...document.querySelectorAll<HTMLElement>('[data-bar]')]
    .filter((bar) => !bar.contains(element))
    .map((bar) => bar.getBoundingClientRect())
    .filter((box) => box.height > 0);
}

/** Scroll so that no bar and no keyboard covers the element. */
export function keepInSight(element: Element | null): void {
  if (!element || element === document.body) return;
  const viewport = window.visualViewport;
  const visibleBottom = viewport ? viewport.offsetTop + viewport.height : window.innerHeight;
  const by = coverage(element.getBoundingClientRect(), barsOver(element), visibleBottom);
  if (by > 0) window.scrollBy({ top: by });
}

/** Open, focus and show the element with this id; false when the page has no such element. */
export function reveal(id: string): boolean {
  const element = document.getElementById(id);
  if (!element) return false;
  for (let fold = element.closest('details'); fold; fold = fold.parentElement?.closest('details') ?? null) fold.open = true;
  // A folded section is reached through its heading line (a <details> itself takes no focus).
  const target = element instanceof HTMLDetailsElement ? (element.querySelector('summary') ?? element) : element;
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: 'center' });
  keepInSight(target);
  return true;
}
