// The API reference at /api/docs: Swagger UI (swagger-ui-dist, pinned in package.json)
// rendering /api/openapi.json from this origin. This file is the page's only script of
// ours (the CSP has no 'unsafe-inline'); Swagger UI's own bundle is copied verbatim into
// dist by Vite (`?url`) and loaded from this origin, never from another host.
import 'swagger-ui-dist/swagger-ui.css';
import './docs.css';
import bundleUrl from 'swagger-ui-dist/swagger-ui-bundle.js?url';

type SwaggerUIBundle = ((options: Record<string, unknown>) => unknown) & {
  presets: { apis: unknown };
  plugins: Record<string, unknown>;
};
declare global {
  interface Window {
    SwaggerUIBundle?: SwaggerUIBundle;
  }
}

const root = document.getElementById('swagger-ui') as HTMLElement;

function failed() {
  root.removeAttribute('aria-busy');
  root.textContent = 'The API reference could not be loaded. The document itself is at ';
  const a = document.createElement('a');
  a.href = '/api/openapi.json';
  a.textContent = '/api/openapi.json';
  root.append(a, '.');
}

function start(SwaggerUI: SwaggerUIBundle) {
  SwaggerUI({
    domNode: root,
    url: '/api/openapi.json',
    presets: [SwaggerUI.presets.apis],
    layout: 'BaseLayout',
    // The default would send the document to an online validator on another host.
    validatorUrl: null,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    tryItOutEnabled: false,
    // "Authorize" keeps the bearer token in this tab only, not in localStorage.
    persistAuthorization: false,
    onComplete: () => root.removeAttribute('aria-busy'),
  });
}

const script = document.createElement('script');
script.src = bundleUrl;
script.onload = () => (window.SwaggerUIBundle ? start(window.SwaggerUIBundle) : failed());
script.onerror = failed;
document.head.append(script);
