import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import {
  allDone,
  canMove,
  createUploads,
  IllegalUploadMove,
  overallProgress,
  problemOf,
  sendQueued,
  type Sending,
  type UploadItem
} from './uploads';
import { UploadError } from '$lib/upload';

const form = { url: 'http://s3.local/bucket', fields: { key: 'k' }, expires_at: '2099-01-01T00:00:00Z' };
const file = (name: string, size: number) => new File([new Uint8Array(size)], name, { type: 'image/jpeg' });

function twoFiles() {
  const uploads = createUploads();
  uploads.add([
    { key: 'a', file: file('a.jpg', 100) },
    { key: 'b', file: file('b.jpg', 300) }
  ]);
  return uploads;
}
const item = (uploads: ReturnType<typeof createUploads>, key: string) =>
  get(uploads).find((i) => i.key === key) as UploadItem;

describe('one file\'s state machine', () => {
  it('allows exactly queued -> uploading -> done, failed -> queued/uploading', () => {
    expect(canMove('queued', 'uploading')).toBe(true);
    expect(canMove('uploading', 'done')).toBe(true);
    expect(canMove('uploading', 'failed')).toBe(true);
    expect(canMove('failed', 'queued')).toBe(true);
    expect(canMove('failed', 'uploading')).toBe(true);
    expect(canMove('queued', 'done')).toBe(false);
    expect(canMove('done', 'uploading')).toBe(false);
    expect(canMove('done', 'failed')).toBe(false);
    expect(canMove('failed', 'done')).toBe(false);
  });

  it('starts only with a form, and walks to done with its progress', () => {
    const uploads = twoFiles();
    expect(item(uploads, 'a')).toMatchObject({ state: 'queued', loaded: 0, total: 100, attempts: 0 });
    expect(() => uploads.start('a')).toThrow(IllegalUploadMove);
    uploads.assign('a', 'img-1', form);
    uploads.start('a');
    uploads.progress('a', 40, 100);
    expect(item(uploads, 'a')).toMatchObject({ state: 'uploading', loaded: 40, imageId: 'img-1', attempts: 1 });
    uploads.progress('a', 500, 100); // never more than the whole
    expect(item(uploads, 'a').loaded).toBe(100);
    uploads.succeed('a');
    expect(item(uploads, 'a')).toMatchObject({ state: 'done', loaded: 100 });
    expect(() => uploads.fail('a', { code: 'OFFLINE', params: {} })).toThrow(IllegalUploadMove);
  });

  it('a failed file keeps its File and problem, and goes back to the queue on retry', () => {
    const uploads = twoFiles();
    uploads.assign('b', 'img-2', form);
    uploads.start('b');
    uploads.progress('b', 150, 300);
    uploads.fail('b', { code: 'OFFLINE', params: {} });
    expect(item(uploads, 'b')).toMatchObject({ state: 'failed', problem: { code: 'OFFLINE' } });
    expect(item(uploads, 'b').file.name).toBe('b.jpg');
    uploads.retry('b');
    expect(item(uploads, 'b')).toMatchObject({ state: 'queued', problem: null, loaded: 0 });
    uploads.start('b');
    expect(item(uploads, 'b').attempts).toBe(2);
  });

  it('ignores progress for a file that is not uploading (a late event after a failure)', () => {
    const uploads = twoFiles();
    uploads.assign('a', 'img-1', form);
    uploads.start('a');
    uploads.fail('a', { code: 'OFFLINE', params: {} });
    uploads.progress('a', 90, 100);
    expect(item(uploads, 'a').loaded).toBe(0);
  });

  it('adds up the progress of every byte', () => {
    const uploads = twoFiles();
    expect(overallProgress(get(uploads))).toBe(0);
    uploads.assign('a', 'i', form);
    uploads.assign('b', 'j', form);
    uploads.start('a');
    uploads.succeed('a');
    uploads.start('b');
    uploads.progress('b', 100, 300);
    expect(overallProgress(get(uploads))).toBeCloseTo(200 / 400);
    expect(allDone(get(uploads))).toBe(false);
    uploads.succeed('b');
    expect(allDone(get(uploads))).toBe(true);
    expect(allDone([])).toBe(false);
  });
});

describe('sending the queue', () => {
  /** A fake sender: each file's upload is settled by the test. */
  function fakeSender() {
    const pending = new Map<string, { resolve: () => void; reject: (e: unknown) => void; progress: (l: number, t: number) => void }>();
    let aborted = 0;
    const send = (it: UploadItem, onProgress: (l: number, t: number) => void): Sending => {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      pending.set(it.key, { resolve, reject, progress: onProgress });
      return { done, abort: () => (aborted += 1) };
    };
    return { send, pending, aborted: () => aborted };
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('sends at most `concurrency` at a time, then the rest, and finishes when all settled', async () => {
    const uploads = createUploads();
    uploads.add(['a', 'b', 'c'].map((key) => ({ key, file: file(`${key}.jpg`, 10) })));
    for (const key of ['a', 'b', 'c']) uploads.assign(key, `img-${key}`, form);
    const sender = fakeSender();
    const run = sendQueued(uploads, sender.send, 2);
    expect([...sender.pending.keys()]).toEqual(['a', 'b']);
    expect(item(uploads, 'c').state).toBe('queued');
    sender.pending.get('a')?.progress(5, 10);
    expect(item(uploads, 'a').loaded).toBe(5);
    sender.pending.get('a')?.resolve();
    await tick();
    expect([...sender.pending.keys()]).toEqual(['a', 'b', 'c']);
    sender.pending.get('b')?.reject(new UploadError('UPLOAD_EXPIRED'));
    sender.pending.get('c')?.resolve();
    await run.finished;
    expect(get(uploads).map((i) => i.state)).toEqual(['done', 'failed', 'done']);
    expect(item(uploads, 'b').problem).toEqual({ code: 'UPLOAD_EXPIRED', params: {} });
  });

  it('leaves files without a form (not declared yet) alone', async () => {
    const uploads = twoFiles();
    uploads.assign('a', 'img-1', form);
    const sender = fakeSender();
    const run = sendQueued(uploads, sender.send);
    expect([...sender.pending.keys()]).toEqual(['a']);
    sender.pending.get('a')?.resolve();
    await run.finished;
    expect(item(uploads, 'b').state).toBe('queued');
  });

  it('aborts what is running', () => {
    const uploads = twoFiles();
    uploads.assign('a', 'i', form);
    uploads.assign('b', 'j', form);
    const sender = fakeSender();
    sendQueued(uploads, sender.send).abort();
    expect(sender.aborted()).toBe(2);
  });

  it('says every failure as a code', () => {
    expect(problemOf(new UploadError('OFFLINE'))).toEqual({ code: 'OFFLINE', params: {} });
    expect(problemOf({ code: 'VALIDATION_ERROR', details: { field: 'images' } })).toEqual({
      code: 'VALIDATION_ERROR',
      params: { field: 'images' }
    });
    expect(problemOf(new Error('boom'))).toEqual({ code: 'UPLOAD_FAILED', params: {} });
  });
});
