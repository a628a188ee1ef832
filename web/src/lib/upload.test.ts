import { describe, expect, it } from 'vitest';
import { formDeadline, formExpired, s3Problem, uploadToS3, UploadError } from './upload';

const form = {
  url: 'http://127.0.0.1:4566/uploads-bucket',
  fields: { key: 'uploads/u/p/i.jpg', 'Content-Type': 'image/jpeg', policy: 'p', 'x-amz-signature': 's' },
  expires_at: new Date(Date.now() + 15 * 60_000).toISOString()
};

/** Just enough of XMLHttpRequest: the test plays the network. */
class FakeXhr {
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = '';
  opened: [string, string] | null = null;
  sent: FormData | null = null;
  open(method: string, url: string) {
    this.opened = [method, url];
  }
  send(body: FormData) {
    this.sent = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, text = '') {
    this.status = status;
    this.responseText = text;
    this.onload?.();
  }
}

function start(file = new Blob([new Uint8Array(1000)], { type: 'image/jpeg' }), deadline?: number) {
  const xhr = new FakeXhr();
  const progress: [number, number][] = [];
  const upload = uploadToS3(form, file, (l, t) => progress.push([l, t]), () => xhr as unknown as XMLHttpRequest, deadline);
  return { xhr, progress, upload };
}

describe('uploading a photo to S3', () => {
  it('posts every form field first and the file last as `file`', async () => {
    const { xhr, upload } = start();
    expect(xhr.opened).toEqual(['POST', form.url]);
    const names = [...(xhr.sent as FormData).keys()];
    expect(names).toEqual([...Object.keys(form.fields), 'file']);
    expect((xhr.sent as FormData).get('key')).toBe('uploads/u/p/i.jpg');
    xhr.answer(204);
    await expect(upload.done).resolves.toBeUndefined();
  });

  it('reports progress, and the whole file at the end', async () => {
    const { xhr, progress, upload } = start();
    xhr.upload.onprogress?.({ loaded: 400, total: 1200, lengthComputable: true } as ProgressEvent);
    xhr.upload.onprogress?.({ loaded: 500, total: 0, lengthComputable: false } as ProgressEvent);
    xhr.answer(201);
    await upload.done;
    expect(progress).toEqual([
      [400, 1200],
      [500, 1000],
      [1000, 1000]
    ]);
  });

  it('says OFFLINE when the network drops', async () => {
    const { xhr, upload } = start();
    xhr.onerror?.();
    await expect(upload.done).rejects.toMatchObject({ code: 'OFFLINE' });
  });

  it('can be cancelled', async () => {
    const { upload } = start();
    upload.abort();
    await expect(upload.done).rejects.toMatchObject({ code: 'UPLOAD_CANCELLED' });
  });

  it('turns S3\'s XML errors into codes', async () => {
    const { xhr, upload } = start();
    xhr.answer(400, '<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>');
    await expect(upload.done).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', status: 400 });
    expect(s3Problem(403, '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>').code).toBe('UPLOAD_EXPIRED');
    expect(s3Problem(403, '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>').code).toBe('UPLOAD_REFUSED');
    expect(s3Problem(500, 'oops')).toMatchObject({ code: 'UPLOAD_FAILED', params: { status: 500 } });
  });

  it('does not even try with a form past its deadline', async () => {
    const { xhr, upload } = start(undefined, Date.now() - 1000);
    await expect(upload.done).rejects.toBeInstanceOf(UploadError);
    await expect(upload.done).rejects.toMatchObject({ code: 'UPLOAD_EXPIRED' });
    expect(xhr.sent).toBeNull();
  });

  it('treats a form about to expire as expired (the upload takes time)', () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    expect(formExpired(now + 30_000, now)).toBe(true);
    expect(formExpired(now + 5 * 60_000, now)).toBe(false);
    expect(formExpired(now + 30_000, now, 0)).toBe(false);
  });

  it('counts the form\'s life on this device\'s clock, whatever the clock says', () => {
    const signed = { ...form, expires_at: '2026-11-28T10:15:00Z' };
    // The server signed it at 10:00 for 15 minutes; this phone's clock is 20 minutes ahead.
    const phoneNow = Date.parse('2026-11-28T10:20:00Z');
    const deadline = formDeadline(signed, '2026-11-28T10:00:00Z', phoneNow);
    expect(deadline).toBe(phoneNow + 15 * 60_000);
    expect(formExpired(deadline, phoneNow + 10 * 60_000)).toBe(false);
    expect(formExpired(deadline, phoneNow + 15 * 60_000)).toBe(true);
  });
});
