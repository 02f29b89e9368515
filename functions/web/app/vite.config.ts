import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Output goes to ../dist (committed, embedded by the web crate's build.rs).
// No inline script anywhere: the CSP is `script-src 'self'`.
export default defineConfig({
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2020',
    reportCompressedSize: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
