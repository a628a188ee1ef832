/**
 * A photo goes straight to S3 through the presigned POST form the API handed out: every form field
 * first, the file last as `file` (S3 ignores fields after the file). XMLHttpRequest, not fetch,
 * because only XHR reports upload progress. Abortable, and every failure comes back as a code the
 * catalogues translate (errors.<CODE>).
 */
import type { Schemas } from '$lib/api/client';

export type UploadForm = Schemas['UploadForm'];

export class UploadError extends Error {
  constructor(
    readonly code: string,
    readonly status = 0,
    readonly params: Record<string, unknown> = {}
  ) {
    super(code);
  }
}

export interface Upload {
  done: Promise<void>;
  abort(): void;
}

/**
 * When, on this device's clock, the form stops working: its lifetime as the server counted it
 * (expires_at minus the server's time when it signed it), from the moment it arrived. A phone
 * whose clock is off by minutes would otherwise think every fresh form had expired, or none.
 */
export function formDeadline(form: UploadForm, serverNow: string, receivedAt = Date.now()): number {
  const lifetime = Date.parse(form.expires_at) - Date.parse(serverNow);
  return receivedAt + (Number.isFinite(lifetime) ? Math.max(0, lifetime) : 0);
}

/** Is the form past its deadline? A minute of margin by default: the upload itself takes time. */
export function formExpired(deadline: number, now = Date.now(), marginMs = 60_000): boolean {
  return deadline - marginMs <= now;
}

/** S3 answers errors as XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
export function s3Problem(status: number, body: string): UploadError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? '';
  const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1] ?? '';
  if (code === 'EntityTooLarge') return new UploadError('IMAGE_TOO_LARGE', status);
  // An expired policy is AccessDenied "Invalid according to Policy: Policy expired."
  if (code === 'AccessDenied' && /expired/i.test(message)) return new UploadError('UPLOAD_EXPIRED', status);
  if (code === 'AccessDenied' || status === 403) return new UploadError('UPLOAD_REFUSED', status);
  return new UploadError('UPLOAD_FAILED', status, { status });
}

export type MakeRequest = () => XMLHttpRequest;

export function uploadToS3(
  form: UploadForm,
  file: Blob,
  onProgress: (loaded: number, total: number) => void,
  makeRequest: MakeRequest = () => new XMLHttpRequest(),
  /** From formDeadline: a form past it is not even tried. */
  deadline?: number
): Upload {
  const xhr = makeRequest();
  const done = new Promise<void>((resolve, reject) => {
    if (deadline !== undefined && formExpired(deadline, Date.now(), 0)) {
      reject(new UploadError('UPLOAD_EXPIRED'));
      return;
    }
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append('file', file);
    xhr.upload.onprogress = (event: ProgressEvent) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else reject(s3Problem(xhr.status, String(xhr.responseText ?? '')));
    };
    // A network failure (offline, connection dropped): said as OFFLINE, like the API client does.
    xhr.onerror = () => reject(new UploadError('OFFLINE'));
    xhr.ontimeout = () => reject(new UploadError('OFFLINE'));
    xhr.onabort = () => reject(new UploadError('UPLOAD_CANCELLED'));
    xhr.open('POST', form.url);
    xhr.send(body);
  });
  return { done, abort: () => xhr.abort() };
}
