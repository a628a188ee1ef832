/**
 * The product page's editor: the listing version the seller opened, their unsaved draft over it, the
 * category's technical sheet and title limit, and what the last save said (saved, a conflict with
 * the other side's values, or the problems the API placed on the inputs).
 *
 * The page makes one for its lifetime; the field sections read it and change the draft in place.
 * Handlers are arrow functions so components can take them as callbacks (`onreset={editor.handBack}`).
 */
import { get } from 'svelte/store';
import { api, ApiError } from '$lib/api/client';
import { describe } from '$lib/errors';
import { t, tc } from '$lib/i18n';
import type { PageField } from '$lib/listing/causes';
import { changedFields, draftFrom, rebase, type Category, type Draft, type Field, type Listing, type Theirs } from '$lib/listing/draft';
import { DEFAULT_TITLE_LIMIT, titleLimitOf } from '$lib/listing/rules';
import { readSheet, sheetFromCategory, type SheetEntry } from '$lib/listing/sheet';
import { saveListing } from './product';

export interface EditorOptions {
  productId: () => string;
  /** A save went through; `rewrites` when the API writes the listing again (new category, a field handed back). */
  onsaved?: (rewrites: boolean) => void;
}

export class ListingEditor {
  listing = $state<Listing | null>(null);
  draft = $state<Draft | null>(null);
  sheet = $state<SheetEntry[]>([]);
  titleLimit = $state(DEFAULT_TITLE_LIMIT);
  /** The pipeline has not written the listing yet (LISTING_NOT_READY). */
  pending = $state(false);
  saving = $state(false);
  saveError = $state<string | null>(null);
  /** What the last save or restore said ("saved as version 4"). */
  saved = $state('');
  /** The other side's value of each field both changed (after a 409). */
  theirs = $state<Theirs[]>([]);
  /** What the API refused at the last save, per input. */
  problems = $state<Partial<Record<PageField, string[]>>>({});
  categoryError = $state<string | null>(null);
  /** The fields the seller changed and has not saved. */
  readonly changed = $derived(this.listing && this.draft ? changedFields(this.listing, this.draft) : []);

  readonly #options: EditorOptions;

  constructor(options: EditorOptions) {
    this.#options = options;
  }

  theirsOf = (field: Field): Theirs | undefined => this.theirs.find((x) => x.field === field);

  /** A version from the API becomes the one being edited, with `draft` over it. */
  #open(current: Listing, draft: Draft = draftFrom(current)) {
    this.listing = current;
    this.draft = draft;
    this.sheet = readSheet(current.sheet);
    this.titleLimit = titleLimitOf(current.category);
  }

  /** The current listing; the seller's unsaved edits are laid over it, never lost. */
  load = async () => {
    try {
      const current = await api.get<Listing>(`/products/${this.#options.productId()}/listing`);
      this.pending = false;
      const { listing, draft } = this;
      this.#open(current, listing && draft && changedFields(listing, draft).length ? rebase(listing, draft, current).draft : draftFrom(current));
    } catch (error) {
      if (error instanceof ApiError && error.code === 'LISTING_NOT_READY') this.pending = true;
      else throw error;
    }
  };

  save = async (reset: Field[] = []) => {
    if (!this.listing || !this.draft) return;
    this.saving = true;
    this.saveError = null;
    this.saved = '';
    this.problems = {};
    // A new category (with its sheet untouched) or a field handed back makes the API write again.
    const rewrites = reset.length > 0 || this.changed.includes('category');
    try {
      const result = await saveListing(this.#options.productId(), this.listing, this.draft, reset);
      if (result.kind === 'saved') {
        this.#open(result.listing);
        this.theirs = [];
        this.saved = get(t)('product.save.saved', { version: result.listing.version });
        this.#options.onsaved?.(rewrites);
      } else if (result.kind === 'conflict') {
        this.listing = result.current;
        this.draft = result.rebased.draft;
        this.sheet = readSheet(result.current.sheet);
        this.theirs = result.rebased.theirs;
        const { by, changed } = result.rebased;
        const fields = changed.map((field) => get(t)(`product.field.${field}`));
        this.saveError = get(t)(`product.save.conflict.${by}${fields.length ? '' : '_same'}`, { version: result.current.version, fields });
      } else if (result.kind === 'invalid') {
        const placed: Partial<Record<PageField, string[]>> = {};
        for (const problem of result.problems) {
          const text = get(tc)('errors', problem.code, problem.params, problem.message);
          if (problem.field) (placed[problem.field] ??= []).push(text);
          else this.saveError = text;
        }
        this.problems = placed;
        this.saveError ??= get(t)('product.save.invalid');
      }
    } catch (error) {
      this.saveError = get(describe)(error);
    } finally {
      this.saving = false;
    }
  };

  /** Hand a field back to the AI: the seller's unsaved text for it is dropped, the API writes it again. */
  handBack = (field: Field) => {
    if (!this.listing || !this.draft) return;
    const base = draftFrom(this.listing);
    if (field === 'attributes') this.draft.attributes = base.attributes;
    else if (field === 'category') {
      this.draft.category = base.category;
      this.sheet = readSheet(this.listing.sheet);
    } else if (field === 'condition') this.draft.condition = base.condition;
    else this.draft[field] = base[field];
    this.save([field]);
  };

  /** An earlier version is the current one again: it replaces the draft (the seller asked for it). */
  restored = (current: Listing, version: number) => {
    this.#open(current);
    this.theirs = [];
    this.problems = {};
    this.saved = get(t)('product.versions.restored', { version });
  };

  useTheirs = (field: Field) => {
    if (!this.listing || !this.draft) return;
    const server = draftFrom(this.listing);
    if (field === 'category') this.draft.category = server.category;
    else if (field === 'condition') this.draft.condition = server.condition;
    else if (field === 'title' || field === 'description') this.draft[field] = server[field];
    this.theirs = this.theirs.filter((x) => x.field !== field);
  };

  /** A category from the picker: its sheet replaces the old one, keeping the values typed for the same ids. */
  chooseCategory = async (category: Category) => {
    if (!this.draft) return;
    this.categoryError = null;
    try {
      const schema = await api.get<Record<string, unknown>[]>(`/ml/categories/${category.id}/attributes`);
      const next = sheetFromCategory(schema);
      const inputs = Object.fromEntries(next.map((e) => [e.id, this.draft!.attributes[e.id] ?? { value_id: null, value_name: '' }]));
      this.draft.category = category;
      this.draft.attributes = inputs;
      this.sheet = next;
      if (category.title_limit) this.titleLimit = category.title_limit;
    } catch (error) {
      this.categoryError = get(describe)(error);
    }
  };
}
