/** A fake API for the tests: `useFetch` answered from a queue, every request recorded. */
import { useFetch } from './client';

export interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A fake API: answers from a queue of functions, records every request. */
export function fakeApi(answers: ((seen: Seen) => Response)[]) {
  const seen: Seen[] = [];
  useFetch(async (input, init) => {
    const request: Seen = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined
    };
    seen.push(request);
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected request ${request.method} ${request.url}`);
    return answer(request);
  });
  return seen;
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
