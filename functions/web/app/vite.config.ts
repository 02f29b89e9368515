import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

// Output goes to ../dist (committed, embedded by the web crate's build.rs).
// No inline script anywhere: the CSP is `script-src 'self'`.
// Two pages: the dashboard (index.html) and the API reference (api/docs/index.html, served
// at /api/docs); the reference's files (Swagger UI's bundle and CSS, its initializer) go to
// dist/api/docs/assets/, so everything it serves lives under /api/docs/.
const page = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const docsAsset = (names: readonly string[]) => names.some((n) => n.startsWith('docs') || n.startsWith('swagger-ui'));

// Swagger UI is Apache-2.0: its license, notice and the bundle's third-party licenses
// (which the bundle's header comment points to) are served beside it.
const swaggerLicenses = (): Plugin => ({
  name: 'swagger-ui-licenses',
  generateBundle() {
    const dist = (f: string) => readFileSync(fileURLToPath(new URL(`./node_modules/swagger-ui-dist/${f}`, import.meta.url)), 'utf8');
    const source = ['LICENSE', 'NOTICE', 'swagger-ui-bundle.js.LICENSE.txt']
      .map((f) => `==== swagger-ui-dist/${f} ====\n\n${dist(f)}`)
      .join('\n\n');
    this.emitFile({ type: 'asset', fileName: 'api/docs/assets/swagger-ui-LICENSES.txt', source });
  },
});

export default defineConfig({
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false }), swaggerLicenses()],
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2020',
    reportCompressedSize: false,
    // Swagger UI's bundle (1.7 MB, copied as is) is over Vite's warning limit by design.
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: { index: page('./index.html'), docs: page('./api/docs/index.html') },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'docs' ? 'api/docs/assets/[name]-[hash].js' : 'assets/[name]-[hash].js'),
        assetFileNames: (asset) => (docsAsset(asset.names) ? 'api/docs/assets/[name]-[hash][extname]' : 'assets/[name]-[hash][extname]'),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
