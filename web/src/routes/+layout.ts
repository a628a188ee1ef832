// A single-page app: every page renders in the browser, the API holds the data.
export const ssr = false;
export const prerender = false;
