import { signal } from '@preact/signals';

/** The current location (path + query), updated on navigation and on back/forward. */
export const loc = signal({ path: location.pathname, search: location.search });

function sync() {
  loc.value = { path: location.pathname, search: location.search };
}
addEventListener('popstate', sync);

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  sync();
  if (!replace) scrollTo(0, 0);
}

/** Same-origin link clicks become client-side navigations, except to /api/* (the API
 * reference at /api/docs and the documents the API serves are pages of their own). */
export function onLinkClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
  if (a.pathname === '/api' || a.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}

export type Route =
  | { name: 'login' | 'register' | 'sites' | 'account' | 'notfound' }
  | { name: 'site' | 'settings'; id: number }
  | { name: 'share'; token: string };

export function match(path: string): Route {
  if (path === '/' || path === '/sites' || path === '/sites/') return { name: 'sites' };
  if (path === '/login') return { name: 'login' };
  if (path === '/register') return { name: 'register' };
  if (path === '/account') return { name: 'account' };
  let m = /^\/sites\/(\d{1,15})\/?$/.exec(path);
  if (m) return { name: 'site', id: Number(m[1]) };
  m = /^\/sites\/(\d{1,15})\/settings\/?$/.exec(path);
  if (m) return { name: 'settings', id: Number(m[1]) };
  m = /^\/share\/([A-Za-z0-9_-]{1,200})\/?$/.exec(path);
  if (m) return { name: 'share', token: m[1] };
  return { name: 'notfound' };
}
