import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

// `npm run dev` talks to a running `make run` API; the built panel is served by infra/local/panel.py.
const api = process.env.API_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [sveltekit()],
  server: { proxy: { '/api': api } },
  test: { include: ['src/**/*.test.ts'], environment: 'node' }
});
