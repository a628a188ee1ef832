/**
 * A product page's live state: the events timeline polled while the pipeline works, and saving the
 * seller's edits with the optimistic lock.
 */
import { writable, type Readable } from 'svelte/store';
import { ApiError, api, call, type Schemas } from '$lib/api/client';
import { rebase, editOf, type Draft, type Field, type Listing, type Rebased } from '$lib/listing/draft';
import { fieldOf, type PageField } from '$lib/listing/causes';

export type Event = Schemas['EventOut'];
export type Status = Schemas['ProductOut']['status'];

/** States the pipeline stays in until the seller does something: polling stops there. */
export const END_STATES: readonly Status[] = ['ready', 'published', 'failed'];
export const isWorking = (status: Status | null | undefined) => Boolean(status) && !END_STATES.includes(status!);

export interface Timeline {
  events: Event[];
  status: Status | null;
  /** The last step's percent while working; null when the steps have none. */
  percent: number | null;
  latest: Event | null;
  /** The last poll failed (offline, the API is down): said on the page, polling goes on slower. */
  error: ApiError | null;
  polling: boolean;
}

export interface PollerOptions {
  /** While working and visible. */
  interval?: number;
  /** While the tab is hidden. */
  hiddenInterval?: number;
  /** The slowest a quiet (304) or failing timeline is polled. */
  maxInterval?: number;
  isHidden?: () => boolean;
  /** Called after every answer that brought something new (events or a status change). */
  onChange?: (timeline: Timeline, fresh: Event[]) => void;
}

/** The events route answers at most this many per call (chalicelib/timeline.py): more waiting. */
const PAGE = 100;
/** After the seller starts work, a few polls happen even if the old status still reads "ready". */
const GRACE_POLLS = 4;

const browserHidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden';

/** The percent to show: the newest event that carries one (edits and receipts carry none). */
export function percentOf(events: Event[]): number | null {
  for (let i = events.length - 1; i >= 0; i--) {
    if (events[i].percent !== null && events[i].percent !== undefined) return events[i].percent;
  }
  return null;
}

/**
 * Poll GET /products/{id}/events with If-None-Match (a 304 costs nothing), asking only for events
 * after the last one seen. Every 1.5 s while the pipeline works; slower while nothing changes, while
 * the tab is hidden or the network fails; stops in an end state until `poke()`.
 */
export function eventsPoller(productId: string, initial: Event[] = [], options: PollerOptions = {}) {
  const interval = options.interval ?? 1500;
  const hiddenInterval = options.hiddenInterval ?? 15_000;
  const maxInterval = options.maxInterval ?? 10_000;
  const isHidden = options.isHidden ?? browserHidden;
  const state = writable<Timeline>({
    events: initial,
    status: null,
    percent: percentOf(initial),
    latest: initial.at(-1) ?? null,
    error: null,
    polling: false
  });
  let current: Timeline;
  state.subscribe((value) => (current = value));

  let etag: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay = interval;
  let grace = 0;
  let running = false;
  let inFlight: AbortController | null = null;

  function schedule(ms: number) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
  }

  function nextDelay(base: number) {
    return isHidden() ? Math.max(base, hiddenInterval) : base;
  }

  async function tick(): Promise<void> {
    timer = null;
    if (!running) return;
    const after = current.events.at(-1)?.at;
    inFlight = new AbortController();
    let response: Response;
    try {
      response = await call('GET', `/products/${productId}/events`, {
        query: { after },
        headers: etag ? { 'If-None-Match': etag } : {},
        signal: inFlight.signal
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError' || !running) return;
      // Back off while failing; the page says why (offline, or the API's own error).
      delay = Math.min(maxInterval * 3, delay * 2);
      state.update((s) => ({ ...s, error: error instanceof ApiError ? error : new ApiError(0, 'UNKNOWN', String(error)) }));
      schedule(nextDelay(delay));
      return;
    } finally {
      inFlight = null;
    }
    if (!running) return;
    etag = response.headers.get('ETag') ?? etag;
    if (response.status === 304) {
      delay = Math.min(maxInterval, Math.round(delay * 1.25)); // quiet: slow down a little each time
      if (current.error) state.update((s) => ({ ...s, error: null }));
      grace = Math.max(0, grace - 1);
      afterAnswer(false, []);
      return;
    }
    const body = (await response.json()) as Schemas['EventsOut'];
    const fresh = body.events;
    const changed = fresh.length > 0 || body.status !== current.status;
    const events = [...current.events, ...fresh];
    state.set({
      events,
      status: body.status,
      percent: percentOf(events),
      latest: events.at(-1) ?? null,
      error: null,
      polling: true
    });
    if (fresh.length) grace = 0;
    else grace = Math.max(0, grace - 1);
    delay = changed ? interval : Math.min(maxInterval, Math.round(delay * 1.25));
    if (changed) options.onChange?.(current, fresh);
    afterAnswer(changed, fresh, fresh.length >= PAGE);
  }

  function afterAnswer(changed: boolean, fresh: Event[], more = false) {
    if (more) return schedule(0); // a long timeline: fetch the rest right away
    if (!isWorking(current.status) && grace === 0) return stop();
    schedule(nextDelay(changed ? interval : delay));
  }

  function onVisibility() {
    if (running && !isHidden()) schedule(0); // back in front: catch up now
  }

  function start() {
    if (running) return;
    running = true;
    delay = interval;
    state.update((s) => ({ ...s, polling: true }));
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);
    schedule(0);
  }

  function stop() {
    running = false;
    if (timer) clearTimeout(timer);
    timer = null;
    inFlight?.abort();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
    state.update((s) => ({ ...s, polling: false }));
  }

  /** The seller started work (edit, photos, publish): poll again at full speed. */
  function poke() {
    grace = GRACE_POLLS;
    delay = interval;
    if (running) schedule(0);
    else start();
  }

  return { subscribe: state.subscribe as Readable<Timeline>['subscribe'], start, stop, poke };
}

// -- saving -------------------------------------------------------------------------------------------

export type SaveResult =
  | { kind: 'unchanged' }
  | { kind: 'saved'; listing: Listing }
  /** Somebody saved first: the current version, and the seller's draft laid over it. */
  | { kind: 'conflict'; current: Listing; rebased: Rebased }
  /** The API refused a value: its problems, placed on the page's inputs. */
  | { kind: 'invalid'; problems: Placed[]; error: ApiError };

export interface Placed {
  field: PageField | null;
  code: string;
  message: string;
  params: Record<string, unknown>;
}

/** The API's 422 problems (details.problems, or details.field alone) on the page's inputs. */
export function problemsOf(error: ApiError): Placed[] {
  const raw = error.details.problems;
  const list = Array.isArray(raw) && raw.length
    ? (raw as Record<string, unknown>[])
    : [{ field: error.field, code: error.details.reason ?? error.code, message: error.message, params: {} }];
  return list.map((p) => ({
    field: typeof p.field === 'string' ? fieldOf(p.field) : null,
    code: String(p.code ?? error.code),
    message: String(p.message ?? error.message),
    params: (p.params as Record<string, unknown>) ?? {}
  }));
}

/**
 * PUT the listing with the version the seller opened. On 409 CONFLICT the API carries the current
 * version (without its sheet), so the full one is read again and the draft rebased on it: the
 * seller's typing stays, the server's value of each field they both changed is shown beside it.
 */
export async function saveListing(productId: string, opened: Listing, draft: Draft, reset: Field[] = []): Promise<SaveResult> {
  const edit = editOf(opened, draft, reset);
  if (!edit) return { kind: 'unchanged' };
  try {
    return { kind: 'saved', listing: await api.put<Listing>(`/products/${productId}/listing`, edit) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409 && error.code === 'CONFLICT') {
      let current: Listing;
      try {
        current = await api.get<Listing>(`/products/${productId}/listing`);
      } catch {
        const carried = error.details.current as Listing | undefined;
        if (!carried) throw error;
        current = { ...carried, sheet: carried.sheet ?? opened.sheet };
      }
      return { kind: 'conflict', current, rebased: rebase(opened, draft, current) };
    }
    if (error.status === 422 && error.code === 'VALIDATION_ERROR') return { kind: 'invalid', problems: problemsOf(error), error };
    throw error;
  }
}
