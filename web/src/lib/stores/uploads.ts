/**
 * The photos of one product on their way to S3, each with its own small state machine:
 *
 *   queued -> uploading -> done
 *                 |
 *                 v
 *              failed -> queued (retry)  ... or uploading again directly
 *
 * A file that failed keeps its File, so a retry never asks the seller to pick it again. Moves the
 * machine does not allow throw: a bug shows up in tests, not as a bar stuck at 100 %.
 */
import { get, writable } from 'svelte/store';
import type { Schemas } from '$lib/api/client';

export type UploadState = 'queued' | 'uploading' | 'done' | 'failed';

export interface UploadProblem {
  code: string;
  params: Record<string, unknown>;
}

export interface UploadItem {
  /** The panel's own id for the file (stable across retries, unlike the API's image id). */
  key: string;
  file: File;
  state: UploadState;
  loaded: number;
  total: number;
  /** The declared image this file fills, and its presigned form. */
  imageId?: string;
  form?: Schemas['UploadForm'];
  /** When the form stops working, on this device's clock (upload.ts formDeadline). */
  deadline?: number;
  problem: UploadProblem | null;
  attempts: number;
}

const allowed: Record<UploadState, UploadState[]> = {
  queued: ['uploading', 'failed'],
  uploading: ['done', 'failed'],
  done: [],
  failed: ['queued', 'uploading']
};

export class IllegalUploadMove extends Error {}

export function canMove(from: UploadState, to: UploadState): boolean {
  return allowed[from].includes(to);
}

export function createUploads() {
  const store = writable<UploadItem[]>([]);

  function change(key: string, to: UploadState, patch: Partial<UploadItem> = {}): void {
    store.update((items) =>
      items.map((item) => {
        if (item.key !== key) return item;
        if (!canMove(item.state, to)) throw new IllegalUploadMove(`${item.key}: ${item.state} -> ${to}`);
        return { ...item, ...patch, state: to };
      })
    );
  }

  function find(key: string): UploadItem {
    const item = get(store).find((i) => i.key === key);
    if (!item) throw new Error(`no upload ${key}`);
    return item;
  }

  return {
    subscribe: store.subscribe,
    /** Files waiting for the product to be created (no form yet). */
    add(files: { key: string; file: File }[]): void {
      store.update((items) => [
        ...items,
        ...files.map(({ key, file }) => ({
          key,
          file,
          state: 'queued' as const,
          loaded: 0,
          total: file.size,
          problem: null,
          attempts: 0
        }))
      ]);
    },
    /** The API declared the image: this is where the file goes. */
    assign(key: string, imageId: string, form: Schemas['UploadForm'], deadline?: number): void {
      store.update((items) =>
        items.map((item) => (item.key === key ? { ...item, imageId, form, deadline } : item))
      );
    },
    start(key: string): void {
      if (!find(key).form) throw new IllegalUploadMove(`${key}: no upload form yet`);
      change(key, 'uploading', { loaded: 0, problem: null, attempts: find(key).attempts + 1 });
    },
    progress(key: string, loaded: number, total: number): void {
      store.update((items) =>
        items.map((item) =>
          item.key === key && item.state === 'uploading'
            ? { ...item, loaded: Math.min(loaded, total), total }
            : item
        )
      );
    },
    succeed(key: string): void {
      const item = find(key);
      change(key, 'done', { loaded: item.total, problem: null });
    },
    fail(key: string, problem: UploadProblem): void {
      change(key, 'failed', { problem });
    },
    /** Back in the queue for another try (the form may be replaced with `assign` first). */
    retry(key: string): void {
      change(key, 'queued', { problem: null, loaded: 0 });
    },
    /** Forget everything (a new product). */
    clear(): void {
      store.set([]);
    }
  };
}

export type Uploads = ReturnType<typeof createUploads>;

/** 0..1 over every byte of every file; finished files count whole. */
export function overallProgress(items: UploadItem[]): number {
  const total = items.reduce((sum, i) => sum + i.total, 0);
  if (!total) return 0;
  const loaded = items.reduce((sum, i) => sum + (i.state === 'done' ? i.total : i.loaded), 0);
  return loaded / total;
}

export const allDone = (items: UploadItem[]) => items.length > 0 && items.every((i) => i.state === 'done');

export interface Sending {
  done: Promise<void>;
  abort(): void;
}

export type Send = (item: UploadItem, onProgress: (loaded: number, total: number) => void) => Sending;

/**
 * Send every queued file that has its form, `concurrency` at a time (two keeps a phone's uplink busy
 * without starving each bar). Resolves when nothing is queued or running; failures stay `failed`
 * with their problem for the seller to retry.
 */
export function sendQueued(uploads: Uploads, send: Send, concurrency = 2) {
  const running = new Map<string, Sending>();
  const finished = new Promise<void>((resolve) => {
    const next = (): void => {
      const waiting = get(uploads).filter((i) => i.state === 'queued' && i.form && !running.has(i.key));
      if (!waiting.length && running.size === 0) return resolve();
      while (running.size < concurrency && waiting.length) {
        const item = waiting.shift() as UploadItem;
        uploads.start(item.key);
        let sending: Sending;
        try {
          sending = send(item, (loaded, total) => uploads.progress(item.key, loaded, total));
        } catch (error) {
          uploads.fail(item.key, problemOf(error));
          continue;
        }
        running.set(item.key, sending);
        sending.done
          .then(
            () => uploads.succeed(item.key),
            (error: unknown) => uploads.fail(item.key, problemOf(error))
          )
          .finally(() => {
            running.delete(item.key);
            next();
          });
      }
      if (running.size === 0) resolve();
    };
    next();
  });
  return { finished, abort: () => running.forEach((sending) => sending.abort()) };
}

/** Whatever went wrong, as a code and parameters the catalogues know (errors.<CODE>). */
export function problemOf(error: unknown): UploadProblem {
  const e = error as { code?: unknown; params?: unknown; details?: unknown };
  if (e && typeof e.code === 'string') {
    const params = (e.params ?? e.details ?? {}) as Record<string, unknown>;
    return { code: e.code, params };
  }
  return { code: 'UPLOAD_FAILED', params: {} };
}
