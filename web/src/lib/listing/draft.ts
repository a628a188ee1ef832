/**
 * The seller's unsaved edits (the draft) against the listing version they opened: which fields the AI
 * wrote and which the seller edited, what a save sends (only what changed, with the version for the
 * optimistic lock), and how a 409 is resolved without losing what the seller typed.
 */
import type { Schemas } from '$lib/api/client';
import { changedAttributes, inputsFrom, readSheet, type AttributeInput } from './sheet';

export type Listing = Schemas['ListingOut'];
/** The PUT body: fields left out stay as they are (the generated type lists every field). */
export type ListingEdit = Partial<Schemas['ListingEdit']> & Pick<Schemas['ListingEdit'], 'version'>;

/** The listing's fields as the API names them in `edited` and `reset`. */
export const FIELDS = ['title', 'category', 'attributes', 'description', 'condition'] as const;
export type Field = (typeof FIELDS)[number];

export interface Category {
  id: string;
  name: string;
  path?: string;
  title_limit?: number;
}

export interface Draft {
  title: string;
  description: string;
  category: Category;
  condition: string | null;
  attributes: Record<string, AttributeInput>;
}

/** Who wrote a field: the AI (the generator), or the seller (edited, or a version they restored). */
export type Origin = 'ai' | 'seller';

export function originOf(listing: Pick<Listing, 'edited'>, field: Field): Origin {
  return listing.edited.includes(field) ? 'seller' : 'ai';
}

/** One attribute's origin: values the seller typed carry source `seller`; any other source is the AI's. */
export function attributeOrigin(attribute: { source?: string } | undefined): Origin | null {
  if (!attribute) return null;
  return attribute.source === 'seller' ? 'seller' : 'ai';
}

export function categoryOf(listing: Pick<Listing, 'category'>): Category {
  const c = listing.category;
  return {
    id: String(c.id ?? ''),
    name: String(c.name ?? c.id ?? ''),
    path: typeof c.path === 'string' ? c.path : undefined,
    title_limit: typeof c.title_limit === 'number' ? c.title_limit : undefined
  };
}

export function draftFrom(listing: Listing): Draft {
  return {
    title: listing.title,
    description: listing.description,
    category: categoryOf(listing),
    condition: listing.condition ?? null,
    attributes: inputsFrom(readSheet(listing.sheet), listing.attributes)
  };
}

const sameText = (a: string, b: string) => a.trim() === b.trim();

function differs(before: Draft, after: Draft, field: Field): boolean {
  switch (field) {
    case 'title':
      return !sameText(before.title, after.title);
    case 'description':
      return before.description !== after.description;
    case 'category':
      return before.category.id !== after.category.id;
    case 'condition':
      return (before.condition ?? null) !== (after.condition ?? null);
    case 'attributes':
      return changedAttributes(before.attributes, after.attributes).length > 0;
  }
}

/** The fields the seller changed in this draft (not saved yet). */
export function changedFields(listing: Listing, draft: Draft): Field[] {
  const base = draftFrom(listing);
  return FIELDS.filter((field) => differs(base, draft, field));
}

/** The PUT body: only what changed, on the version the seller was looking at; null when nothing did. */
export function editOf(listing: Listing, draft: Draft, reset: Field[] = []): ListingEdit | null {
  const changed = changedFields(listing, draft);
  if (!changed.length && !reset.length) return null;
  const edit: ListingEdit = { version: listing.version, reset };
  const base = draftFrom(listing);
  if (changed.includes('title')) edit.title = draft.title.trim();
  if (changed.includes('description')) edit.description = draft.description;
  if (changed.includes('category')) edit.category_id = draft.category.id;
  if (changed.includes('condition') && draft.condition) edit.condition = draft.condition as 'new' | 'used';
  if (changed.includes('attributes')) edit.attributes = changedAttributes(base.attributes, draft.attributes);
  return edit;
}

/**
 * Who wrote a version: the AI (a generated version: new photos, a new prompt, a field handed back),
 * or the seller themself (saved or restored in another tab or on another device). The panel has one
 * seller per account, so "someone else" is never the right word.
 */
export function authorOf(listing: Pick<Listing, 'source'>): Origin {
  return listing.source === 'generated' ? 'ai' : 'seller';
}

/** The other side's value for a field the seller also changed: shown next to the seller's text. */
export interface Theirs {
  field: Field;
  /** The server's value, in words (the title, the description, the category name, the condition). */
  value: string;
  /** Who wrote it. */
  by: Origin;
}

export interface Rebased {
  /** The seller's edits laid over the current version: fields they did not touch follow the server. */
  draft: Draft;
  /** Fields both sides changed; the seller's text stays in the field, the server's is shown beside it. */
  theirs: Theirs[];
  /** What changed on the server since the seller opened the page, and who changed it. */
  changed: Field[];
  by: Origin;
}

/**
 * A save answered 409 CONFLICT with the current version: keep every field the seller changed (their
 * typing is never lost), take the server's value for every other field, and list the fields that
 * both changed so the seller can choose.
 */
export function rebase(opened: Listing, draft: Draft, current: Listing): Rebased {
  const mine = changedFields(opened, draft);
  const before = draftFrom(opened);
  const server = draftFrom(current);
  const next: Draft = { ...server, attributes: { ...server.attributes } };
  const theirs: Theirs[] = [];
  const by = authorOf(current);
  for (const field of mine) {
    const serverChanged = differs(before, server, field);
    if (field === 'attributes') {
      const names = new Map(readSheet(current.sheet).map((entry) => [entry.id, entry.name]));
      for (const change of changedAttributes(before.attributes, draft.attributes)) {
        next.attributes[change.id] = draft.attributes[change.id];
        const was = before.attributes[change.id];
        const theirsNow = server.attributes[change.id];
        const row = (input: AttributeInput | undefined) => ({ [change.id]: input ?? { value_id: null, value_name: '' } });
        // Both changed this row, differently: the seller's value stays, the other is shown.
        if (changedAttributes(row(was), row(theirsNow)).length && changedAttributes(row(theirsNow), row(draft.attributes[change.id])).length) {
          theirs.push({ field, value: `${names.get(change.id) ?? change.id}: ${theirsNow?.value_name || '—'}`, by });
        }
      }
    } else if (field === 'category') {
      next.category = draft.category;
    } else if (field === 'condition') {
      next.condition = draft.condition;
    } else {
      next[field] = draft[field];
    }
    if (serverChanged && field !== 'attributes') {
      const value =
        field === 'category' ? server.category.name : field === 'condition' ? (server.condition ?? '') : server[field];
      if (differs(server, draft, field)) theirs.push({ field, value, by });
    }
  }
  return { draft: next, theirs, changed: FIELDS.filter((field) => differs(before, server, field)), by };
}
