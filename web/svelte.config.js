import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** The panel is a single-page app: S3 + CloudFront in AWS, the local proxy on a laptop. */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // SvelteKit boots from one inline script; hash mode puts its hash in a CSP <meta> tag, so the
    // panel runs with no 'unsafe-inline' scripts (CloudFront adds frame-ancestors and HSTS).
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        // Svelte writes style attributes (style="width: {x}%", transitions, app.html's wrapper) and
        // hashes cannot cover attributes; without this the meta policy's default-src blocks them.
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:', 'http:', 'https:'],
        'connect-src': ['self', 'http:', 'https:'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self']
      }
    }
  }
};
